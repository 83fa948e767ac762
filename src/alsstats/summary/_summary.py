"""Reported-summary files: what a trial's publications reported, figure by figure, with sources.

A reported summary is a YAML file (format ``alsstats.reported-summary``, versions 1 and 2; see
``docs/summary-format.md``) holding every published figure of a survival trial (arm sizes,
follow-up, events, survival landmarks, medians, event shares, hazard ratios overall / in
subgroups / as model terms, p values of other comparisons, interactions, modifier and covariate
summaries) with the source it comes from, where in that source, the arithmetic of a derived
figure and a status (reported, derived, conflicting, superseded). Version 2 keeps each number as
printed ("0.60", "<0.001"; see :func:`alsstats.summary.parse_printed`).
:func:`load_reported_summary` reads and validates such a file; a malformed file raises
:class:`~alsstats.errors.SummaryError` naming the file, the field path and the problem.

This module holds :class:`ReportedSummary` and the loaders; the figure classes and the
validating parser live in their own modules of :mod:`alsstats.summary`.

Examples
--------
>>> from alsstats import data_path
>>> s = load_reported_summary(data_path("mirocals", "reported.yaml"))
>>> s.treatment_arm.id, s.arm("placebo").n.value
('il2ld', 110)
>>> s.hazard_ratio("low_pnfh").ci
(0.3, 0.89)
"""

from __future__ import annotations

import hashlib
import html
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..errors import SummaryError
from ._figures import (
    ALL_ARMS,
    Arm,
    ArmComparison,
    Assumption,
    Biomarker,
    CovariateSummary,
    DigitisedCurve,
    EligibilityRange,
    EventCount,
    EventShare,
    Figure,
    HazardRatio,
    Interaction,
    Median,
    Modifier,
    Source,
    Statement,
    SurvivalLandmark,
)
from ._schema import _Parser

__all__ = [
    "ReportedSummary",
    "as_reported_summary",
    "load_reported_summary",
    "parse_reported_summary",
    "summary_from_dict",
]


# --------------------------------------------------------------------------- the summary
def _whole(figure: Any) -> bool:
    return getattr(getattr(figure, "population", None), "kind", "all") == "all"


@dataclass(frozen=True)
class ReportedSummary:
    """Every figure a trial's publications reported, with provenance (see module docstring)."""

    path: str
    sha256: str
    trial: dict[str, Any]
    sources: dict[str, Source]
    arms: list[Arm]
    follow_up: dict[str, Figure]
    events: list[EventCount]
    survival: list[SurvivalLandmark]
    event_shares: list[EventShare]
    hazard_ratios: list[HazardRatio]
    biomarkers: list[Biomarker]
    covariates: list[CovariateSummary]
    eligibility: dict[str, EligibilityRange]
    statements: list[Statement]
    assumptions: list[Assumption]
    km_curves: list[DigitisedCurve] = field(default_factory=list)
    format_version: int = 1
    time_unit: str | None = None  # days, weeks, months or years; every time is in this unit
    modifiers: list[Modifier] = field(default_factory=list)
    medians: list[Median] = field(default_factory=list)
    comparisons: list[ArmComparison] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.trial.get("name", Path(self.path).stem))

    def resolve(self, relative: str) -> Path:
        """A path written in the file (e.g. a curve CSV), resolved against the file's folder."""
        return Path(self.path).parent / relative

    @property
    def treatment_arm(self) -> Arm:
        """The treatment arm of the primary comparison (``trial.treatment_arm`` if named)."""
        named = self.trial.get("treatment_arm")
        return next(a for a in self.arms if a.role == "treatment" and named in (None, a.id))

    @property
    def control_arm(self) -> Arm:
        """The control arm of the primary comparison (``trial.control_arm`` if named)."""
        named = self.trial.get("control_arm")
        return next(a for a in self.arms if a.role == "control" and named in (None, a.id))

    @property
    def alpha(self) -> float:
        """The significance level "NS" refers to (``trial.alpha``, default 0.05)."""
        return float(self.trial.get("alpha", 0.05))

    @property
    def n_total(self) -> int:
        """Number randomised in both arms."""
        return sum(a.n.value for a in self.arms)

    def _lookup(self, items: Iterable[Any], ident: str, what: str, attr: str = "id") -> Any:
        for item in items:
            if getattr(item, attr) == ident:
                return item
        known = ", ".join(getattr(i, attr) for i in items)
        raise SummaryError(self.path, what, f"no entry with id {ident!r} (known: {known})")

    def arm(self, id: str) -> Arm:
        """The arm with this id."""
        return self._lookup(self.arms, id, "arms")

    def hazard_ratio(self, id: str) -> HazardRatio:
        """The hazard ratio with this id."""
        return self._lookup(self.hazard_ratios, id, "hazard_ratios")

    def assumption(self, id: str) -> Assumption:
        """The assumption with this id."""
        return self._lookup(self.assumptions, id, "assumptions")

    def events_in(self, arm: str) -> list[EventCount]:
        """Event counts reported for one arm (or ``"all"``)."""
        # a subgroup's events (one category of the arm) are not the arm's
        return [e for e in self.events if e.arm == arm and _whole(e)]

    def figures(self) -> pd.DataFrame:
        """Every reported figure, one row per number, with its provenance.

        Columns: id, section, quantity, arm, value, ci, p, unit, source, citation, locator,
        derived, status, note. (id, quantity) identifies a row.
        """
        rows: list[dict[str, Any]] = []

        def add(ident, section, quantity, value, fig, arm=None, unit=None, ci=None, p=None):
            rows.append({
                "id": ident, "section": section, "quantity": quantity, "arm": arm,
                "value": value, "ci": ci, "p": p, "unit": unit, "source": fig.source,
                "citation": self.sources[fig.source].citation, "locator": fig.locator,
                "derived": getattr(fig, "derived", None),
                "status": getattr(fig, "status", "reported"),
                "note": fig.note,
            })  # fmt: skip

        for a in self.arms:
            add(f"arms.{a.id}.n", "arms", "randomised", a.n.value, a.n, arm=a.id)
        for name, f in self.follow_up.items():
            add(f"follow_up.{name}", "follow_up", name, f.value, f, unit=f.unit)
        for e in self.events:
            add(e.id, "events", e.event or "events", e.value, e, arm=e.arm)
        for s in self.survival:
            if s.proportion is not None:
                add(s.id, "survival", f"proportion alive at {s.time:g}", s.proportion, s, s.arm)
            if s.count is not None:
                add(s.id, "survival", f"number alive at {s.time:g}", s.count, s, s.arm)
        for es in self.event_shares:
            for arm, share in es.shares.items():
                add(es.id, "event_shares", f"share of {es.event}", share, es, arm=arm)
            if es.total is not None:
                add(es.id, "event_shares", f"total {es.event}", es.total, es, arm=ALL_ARMS)
        for h in self.hazard_ratios:
            what = "ratio of hazard ratios" if h.population.is_interaction_term else "hazard ratio"
            add(h.id, "hazard_ratios", what, h.value, h, ci=h.ci, p=h.p)
            if h.population.share is not None:
                add(h.id, "hazard_ratios", "population share", h.population.share, h)
        for md in self.medians:
            add(md.id, "medians", "median time", md.value, md, arm=md.arm, unit=md.unit, ci=md.ci)
        for c in self.comparisons:
            add(c.id, "comparisons", f"p ({c.test})", c.p, c, p=c.p)
        for i in self.interactions:
            add(i.id, "interactions", f"interaction with {i.modifier}", i.value, i, ci=i.ci, p=i.p)
        for mo in self.modifiers:
            for key in ("median", "limit_of_quantification"):
                if getattr(mo, key) is not None:
                    add(mo.id, "modifiers", key, getattr(mo, key), mo, unit=mo.unit)
            for key, share in mo.shares.items():
                add(mo.id, "modifiers", f"share {key}", share, mo)
        for b in self.biomarkers:
            if b.value is not None:
                add(b.id, "biomarkers", b.label or b.id, b.value, b, unit=b.unit)
        for c in self.covariates:
            ident = f"covariates.{c.name}.{c.statistic}"
            add(ident, "covariates", f"{c.statistic} {c.name}", c.value, c, arm=c.arm, unit=c.unit)
        for name, r in self.eligibility.items():
            for bound in ("lower", "upper"):
                value = getattr(r, bound)
                if value is not None:
                    add(f"eligibility.{name}", "eligibility", bound, value, r, unit=r.unit)
        return pd.DataFrame(rows, columns=[
            "id", "section", "quantity", "arm", "value", "ci", "p", "unit", "source", "citation",
            "locator", "derived", "status", "note",
        ])  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"<ReportedSummary {self.name}: {len(self.hazard_ratios)} hazard ratios, "
            f"{len(self.sources)} sources, {len(self.assumptions)} assumptions; {self.path}>"
        )

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>{html.escape(self.name)}</b>: {html.escape(self.treatment_arm.label)} "
            f"(n={self.treatment_arm.n.value}) vs {html.escape(self.control_arm.label)} "
            f"(n={self.control_arm.n.value}). File {html.escape(self.path)}, "
            f"sha256 {self.sha256[:12]}.</p>"
        )
        table = self.figures().drop(columns=["citation"]).to_html(index=False, na_rep="")
        return head + table


def summary_from_dict(doc: object, name: str = "<dict>") -> ReportedSummary:
    """Validate an already-parsed document (what ``yaml.safe_load`` returns).

    ``sha256`` is empty: there are no file bytes to hash.

    Raises
    ------
    SummaryError
        When the document does not follow the format.
    """
    return ReportedSummary(path=name, sha256="", **_Parser(name).document(doc))


def parse_reported_summary(text: str | bytes, name: str = "<string>") -> ReportedSummary:
    """Validate a reported summary given as YAML text; ``name`` is used in error messages.

    Raises
    ------
    SummaryError
        When the text is not valid YAML or does not follow the format.
    """
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SummaryError(name, f"byte {exc.start}", "the file is not UTF-8 text") from None
    try:
        doc = yaml.safe_load(decoded)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise SummaryError(name, where, f"YAML syntax error: {problem}") from None
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        # PyYAML can raise plain errors on exotic input (e.g. an unhashable mapping key)
        raise SummaryError(name, "", f"YAML syntax error: {exc}") from None
    parts = _Parser(name).document(doc)
    return ReportedSummary(path=name, sha256=hashlib.sha256(raw).hexdigest(), **parts)


def load_reported_summary(path: str | Path) -> ReportedSummary:
    """Read and validate a reported-summary YAML file.

    Parameters
    ----------
    path
        The file; error messages name it as given.

    Returns
    -------
    ReportedSummary
        Frozen dataclasses; ``sha256`` is the hash of the file's bytes.

    Raises
    ------
    SummaryError
        File missing or unreadable, YAML syntax error, or a field that breaks the format, with
        the field path and the problem, e.g. ``hazard_ratios[2].ci: lower 0.9 is above the
        estimate 0.8``.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SummaryError(str(path), "", f"cannot read the file ({exc.strerror})") from None
    summary = parse_reported_summary(raw, str(path))
    for i, curve in enumerate(summary.km_curves):
        for key in ("curve", "at_risk"):
            target = summary.resolve(getattr(curve, key))
            if not target.is_file():
                raise SummaryError(str(path), f"km_curves[{i}].{key}", f"file not found: {target}")
    return summary


def as_reported_summary(summary: ReportedSummary | str | os.PathLike[str]) -> ReportedSummary:
    """A loaded summary as it is; a path (``str`` or path-like) loaded from its file."""
    if isinstance(summary, str) or hasattr(summary, "__fspath__"):
        return load_reported_summary(summary)
    return summary
