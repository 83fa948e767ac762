"""One row per trial: endpoint, arms, the headline hazard ratio as printed, the checks, what is
missing, the figures in disagreement and (on request) whether a cohort can be rebuilt."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..checks import check_summary
from ..errors import AlsstatsError, ReconstructionError
from ..paths import data_path
from ..reconstruct import (
    NoFollowUpLength,
    count_conflicts,
    follow_up_horizon,
    rebuild_cohort,
    targets_from_summary,
    verify_cohort,
)
from ._entries import TrialEntry, trial_entries

__all__ = [
    "Catalogue",
    "CatalogueRow",
    "build_catalogue",
    "headline_hazard_ratio",
    "rebuild_status",
]

# What a rebuild raises on a summary it cannot take yet (a field it expects, a shape it does not
# handle): reported in the row, never a crash of the whole catalogue.
_REBUILD_GAPS = (AlsstatsError, LookupError, TypeError, ValueError, AttributeError, ArithmeticError)

# Sections of a summary that hold figures with a status.
_FIGURE_SECTIONS = (
    "events",
    "survival",
    "event_shares",
    "hazard_ratios",
    "medians",
    "comparisons",
    "interactions",
)


@dataclass
class CatalogueRow:
    """One trial's line of the catalogue (see :class:`Catalogue` for the columns)."""

    trial: str
    name: str = ""
    endpoint: str = ""
    registration: str = ""
    arms: str = ""
    headline_hr: str = ""
    headline_figure: str = ""
    checks_passed: int = 0
    checks_failed: int = 0
    checks_not_checkable: int = 0
    failing_checks: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    cohort: str = ""
    rebuild: str = ""
    error: str = ""


def _text(value: Any) -> str:
    """A number as text: a printed form's own text, else the number."""
    if value is None:
        return ""
    text = getattr(value, "text", None)  # a summary.Printed (format version 2)
    if isinstance(text, str):
        return text
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _printed(fig: Any, name: str) -> Any:
    """``fig.<name>`` as printed (format version 2 keeps the printed form; version 1 a float)."""
    form = getattr(fig, "printed_form", None)
    if form is not None:
        try:
            return form(name)
        except (KeyError, IndexError, TypeError, AttributeError):
            return None
    obj: Any = fig
    for part in name.replace("]", "").split("["):
        obj = obj[int(part)] if isinstance(obj, tuple | list) else getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _status(fig: Any) -> str:
    return getattr(fig, "status", None) or "reported"


def _is_adjusted(hr: Any) -> bool:
    model = hr.model if isinstance(hr.model, dict) else vars(hr.model)
    return bool(model.get("adjusted", False))


def headline_hazard_ratio(summary: Any) -> Any | None:
    """The trial's headline HR: whole population, primary comparison, unadjusted, reported
    (not conflicting or superseded), the first such in the file; None when there is none."""
    primary = (summary.treatment_arm.id, summary.control_arm.id)
    candidates = [
        h
        for h in summary.hazard_ratios
        if _status(h) == "reported"
        and getattr(h.population, "kind", "all") == "all"
        and (h.comparison.get("treatment"), h.comparison.get("control")) == primary
    ]
    unadjusted = [h for h in candidates if not _is_adjusted(h)]
    pick = unadjusted or candidates
    if not pick:  # only subgroup HRs (methylcobalamin): the primary comparison's first
        reported = [h for h in summary.hazard_ratios if _status(h) == "reported"]
        pick = [
            h
            for h in reported
            if (h.comparison.get("treatment"), h.comparison.get("control")) == primary
        ] or reported
    return pick[0] if pick else None


def _format_hr(hr: Any) -> str:
    text = _text(_printed(hr, "value"))
    if getattr(hr, "ci", None):
        text += f" ({_text(_printed(hr, 'ci[0]'))}-{_text(_printed(hr, 'ci[1]'))})"
    p = _printed(hr, "p") if getattr(hr, "p", None) is not None else None
    if p is not None:
        test = getattr(hr, "test", None)
        text += f", p {_text(p)}" + (f" ({test})" if test and test != "unknown" else "")
    return text


def _missing(summary: Any, headline: Any) -> list[str]:
    out = []
    survival_figures = any(
        getattr(summary, s, None) for s in ("hazard_ratios", "events", "survival", "medians")
    )
    if not survival_figures:
        return ["no survival figure (no HR, events, landmark survival or median)"]
    if headline is None:
        out.append("no hazard ratio")
    else:
        if not getattr(headline, "ci", None):
            out.append("no CI")
        if getattr(headline, "p", None) is None:
            out.append("no p")
    if not summary.events:
        out.append("no events")
    if not getattr(summary, "km_curves", None):
        out.append("no curves")
    if any(getattr(a, "n", None) is None for a in summary.arms):
        out.append("no arm sizes")
    return out


def _disagreements(summary: Any) -> list[str]:
    ids = []
    for section in _FIGURE_SECTIONS:
        for fig in getattr(summary, section, None) or ():
            if _status(fig) == "conflicting":
                ids.append(fig.id)
    for name, fig in (summary.follow_up or {}).items():
        if _status(fig) == "conflicting":
            ids.append(f"follow_up.{name}")
    return ids


def _registration(summary: Any) -> str:
    """Registry ids and the registry's status, as the summary records them."""
    reg = summary.trial.get("registration") or {}
    if not isinstance(reg, dict):
        return str(reg)
    parts = [f"{k} {v}" for k, v in reg.items() if k not in ("note", "status", "results_posted")]
    if reg.get("status"):
        parts.append(f"status {reg['status']}")
    if reg.get("results_posted"):
        parts.append(f"results posted {reg['results_posted']}")
    return "; ".join(parts) if parts else str(reg.get("note", ""))


def _arms(summary: Any) -> str:
    parts = []
    for a in summary.arms:
        n = getattr(a, "n", None)
        parts.append(f"{a.label or a.id} {_text(n.value) if n is not None else 'n not located'}")
    return "; ".join(parts)


def rebuild_status(entry: TrialEntry, *, max_seconds: float = 20.0, seed: int = 0) -> str:
    """Whether a cohort can be rebuilt from the entry's figures, in words.

    "feasible: ..." (a shipped cohort meets every figure, or a rebuild did), "infeasible: ..."
    naming the conflicting figures, "not enough figures: ..." or "not attempted: ..." (the
    rebuild cannot take this summary yet, with the reason).
    """
    summary = entry.summary
    if summary is None:
        return "not attempted: the summary does not load"
    if entry.cohort_path is not None:
        check = verify_cohort(entry.cohort_path, summary)
        if check.passed:
            return f"feasible: shipped cohort meets {check.counts['met']} figures"
        return "infeasible: shipped cohort misses " + ", ".join(check.failures)
    if any(getattr(a, "n", None) is None for a in summary.arms):
        return "not enough figures: arm sizes not located"
    has_hr = bool(summary.hazard_ratios)
    if not (has_hr or summary.events or summary.survival):
        return "not enough figures: no survival figure"
    try:
        follow_up_horizon(summary)
    except NoFollowUpLength as exc:
        # say every gap the figures leave, not only the first the rebuild meets
        gaps = [str(exc)]
        if not _deaths_or_medians(summary):
            gaps.append("deaths per arm not printed and no median to choose them from")
        return "; and ".join(gaps)
    try:
        targets = targets_from_summary(summary)
        conflicts, _ = count_conflicts(summary, targets)
        if conflicts:
            return "infeasible: " + ", ".join(conflicts)
        result = rebuild_cohort(summary, seed=seed, max_seconds=max_seconds)
    except ReconstructionError as exc:
        if str(exc).startswith("not enough figures"):
            return str(exc)  # no follow-up length, no deaths and no medians, ...
        return f"not attempted: {exc}"
    except _REBUILD_GAPS as exc:
        # the generic rebuild does not take every summary the format describes yet
        if isinstance(exc, KeyError):
            why = f"the rebuild looks for {exc.args[0]!r}, which this summary does not give"
        else:
            why = f"{type(exc).__name__}: {exc}"
        return f"not attempted: {why}"
    if result.feasible:
        return f"feasible: rebuilt in {result.seconds:.1f} s (seed {seed})"
    if getattr(result, "outcome_", "infeasible") != "infeasible":
        # a search cut short is not a proof (the figures may still be met jointly)
        return f"{result.outcome_} ({max_seconds:g} s): closest misses " + ", ".join(
            result.conflicts
        )
    # the proofs' figures and reasons, not whatever the closest cohort also missed
    proofs = getattr(result, "proofs_", None) or ()
    if proofs:
        return "infeasible: " + "; ".join(str(p) for p in proofs)
    return "infeasible: " + ", ".join(result.conflicts)


def _deaths_or_medians(summary: Any) -> bool:
    """Every arm prints its deaths or a median (what a rebuild chooses deaths per arm from)."""
    live = [
        f
        for f in [*summary.events, *summary.medians]
        if _status(f) != "superseded"
        and getattr(getattr(f, "population", None), "kind", "all") == "all"
    ]
    printed = {getattr(f, "arm", None) for f in live}
    return "all" in printed or {a.id for a in summary.arms} <= printed


def _relative(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` (the data folder), so output is the same in any checkout."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def _row(entry: TrialEntry, rebuild: bool, max_seconds: float, base: Path) -> CatalogueRow:
    row = CatalogueRow(trial=entry.id)
    if entry.cohort_path is not None:
        row.cohort = _relative(entry.cohort_path, base)
    if entry.summary is None:
        where = str(entry.summary_path)
        row.error = entry.error.replace(where, _relative(entry.summary_path, base))
        if rebuild:
            row.rebuild = rebuild_status(entry)
        return row
    s = entry.summary
    row.name = s.name
    endpoint = s.trial.get("endpoint") or {}
    row.endpoint = str(endpoint.get("name", "")) if isinstance(endpoint, dict) else str(endpoint)
    row.registration = _registration(s)
    row.arms = _arms(s)
    headline = headline_hazard_ratio(s)
    if headline is not None:
        row.headline_hr, row.headline_figure = _format_hr(headline), headline.id
    try:
        report = check_summary(s)
    except AlsstatsError as exc:
        row.error = f"checks: {exc}"
    else:
        verdicts = [r.verdict for r in report.results]
        row.checks_passed = verdicts.count("pass")
        row.checks_failed = verdicts.count("fail")
        row.checks_not_checkable = verdicts.count("not checkable")
        row.failing_checks = [f"{r.check}({', '.join(r.inputs)})" for r in report.failures]
    row.missing = _missing(s, headline)
    row.disagreements = _disagreements(s)
    if rebuild:
        row.rebuild = rebuild_status(entry, max_seconds=max_seconds)
    return row


class Catalogue:
    """The trial catalogue: one :class:`CatalogueRow` per trial.

    Columns: trial (folder id), name, endpoint, registration (registry ids and status), arms
    (label and n), headline_hr (as printed, with CI, p and its test), headline_figure (its
    id), checks_passed / checks_failed / checks_not_checkable, failing_checks (check and the
    figures it compared), missing (no CI, no events, no curves, ...), disagreements (figures
    kept with status "conflicting"), cohort (a shipped rebuilt cohort), rebuild (with
    ``rebuild=True``), error (a summary that does not load, with the loader's message).
    """

    def __init__(self, rows: Iterable[CatalogueRow]) -> None:
        self.rows = list(rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def summary(self) -> pd.DataFrame:
        table = pd.DataFrame([asdict(r) for r in self.rows])
        for col in ("failing_checks", "missing", "disagreements"):
            if col in table:
                table[col] = table[col].map("; ".join)
        return table

    def to_frame(self) -> pd.DataFrame:
        return self.summary

    def to_json(self) -> str:
        """Deterministic JSON: a list of rows (lists stay lists)."""
        return json.dumps({"trials": [asdict(r) for r in self.rows]}, indent=2, sort_keys=True)

    def to_text(self) -> str:
        cols = ["trial", "endpoint", "arms", "headline_hr", "checks", "missing"]
        table = self.summary.assign(
            checks=[
                f"{r.checks_passed} pass, {r.checks_failed} fail, {r.checks_not_checkable} n/c"
                if not r.error
                else "does not load"
                for r in self.rows
            ]
        )
        if any(r.rebuild for r in self.rows):
            cols.append("rebuild")
        lines = [table[cols].to_string(index=False)]
        details = []
        for r in self.rows:
            if r.error:
                details.append(f"{r.trial}: {r.error}")
            if r.failing_checks:
                details.append(f"{r.trial}: failed checks: {', '.join(r.failing_checks)}")
            if r.disagreements:
                details.append(f"{r.trial}: figures in disagreement: {', '.join(r.disagreements)}")
        if details:
            lines += ["", *details]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.summary.to_html(index=False)


def build_catalogue(
    root: str | Path | None = None, *, rebuild: bool = False, max_seconds: float = 20.0
) -> Catalogue:
    """The catalogue of the trials under ``root`` (default: the shipped ``data/trials``).

    Parameters
    ----------
    root
        A folder of trial folders (each with ``reported.yaml`` or ``link.yaml``).
    rebuild
        Also say whether a cohort can be rebuilt (verifies shipped cohorts; otherwise tries a
        rebuild of at most ``max_seconds`` per trial).
    """
    entries = trial_entries(root)
    base = (Path(root) if root is not None else data_path("trials")).parent
    return Catalogue(_row(e, rebuild, max_seconds, base) for e in entries)
