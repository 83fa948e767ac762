"""A trial's reanalysis end to end, and the report folder that `alsstats reproduce` writes.

:func:`reanalyse` runs the whole chain on a reported-summary file (checks -> rebuilt cohort ->
interaction model -> HR curve, Johnson-Neyman region, HR = 1 crossing, subgroups). Names,
cut-offs, units and the modifier come from the summary: the modifier is the biomarker of the
summary's model-term or biomarker-range hazard ratios, its cut-offs the bounds of those ranges.
A summary without a biomarker gets the overall analysis only. :func:`write_report` turns the
result into a folder with ``index.html``, PNG figures and CSV tables, written atomically.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..checks import CheckReport, check_summary
from ..errors import HazardRatioAtUnobservedValueWarning, ReconstructionError
from ..interaction import (
    FiellerInterval,
    JohnsonNeymanRegion,
    SubgroupAnalysis,
    TreatmentInteraction,
)
from ..paths import data_path
from ..reconstruct import Bounds, Reconstruction, bounds, rebuild_cohort
from ..summary import ReportedSummary, load_reported_summary
from ..survival import CoxModel
from . import _tables as fmt

__all__ = ["MIROCALS_SEED", "Modifier", "Reanalysis", "reanalyse"]

#: Seed of the shipped MIROCALS cohort (data/mirocals/cohort.csv).
MIROCALS_SEED = 2025
#: Percentiles of the rebuilt cohort's modifier at which the report gives the treatment HR,
#: besides the reported model terms' reference values, the LOQ and the cut-offs.
REPORT_PERCENTILES = (10, 50, 90)
# The report's search for the range of the HR = 1 crossing over compatible cohorts: short, so
# that the report stays a minute's work; its ends are inner bounds (``alsstats bounds`` runs
# longer searches and says whether the ends were stable).
REPORT_BOUNDS_SEARCH = {"starts": 2, "steps": 150}
#: Cohort columns that are never the modifier (the rebuild's bookkeeping and outcome).
_NOT_MODIFIER = {"id", "arm", "treatment", "time", "death", "event", "status"}


@dataclass(frozen=True)
class Modifier:
    """The biomarker that modifies the treatment effect, as the summary names it.

    ``id`` and ``label``/``unit`` come from the summary's ``biomarkers``; ``cutoffs`` are the
    finite bounds of its reported ranges (groups are ``lower < value <= upper``); ``reported_at``
    the values at which model terms were reported (e.g. 0 for "the treatment HR at biomarker =
    0"); ``column`` is the rebuilt cohort's column holding it.
    """

    id: str
    label: str
    unit: str
    cutoffs: tuple[float, ...]
    reported_at: tuple[float, ...]
    column: str

    @property
    def short(self) -> str:
        """A name short enough for a table row: the label when brief, else the id."""
        return self.label if len(self.label) <= 24 else self.id

    @property
    def axis_label(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label


@dataclass
class Reanalysis:
    """Everything the report shows, as Python objects.

    ``modifier`` is None when the summary names no biomarker; then ``analysis``, ``hr_table``,
    ``johnson_neyman``, ``crossing``, ``subgroups`` and ``interaction_tests`` are None too, and
    the report says the sections do not apply. ``subgroups`` is None when there is no cut-off.
    ``overall`` is the rebuilt cohort's Cox fit of treatment alone (hr, lower, upper, p).
    """

    summary: ReportedSummary
    checks: CheckReport
    reconstruction: Reconstruction
    data: pd.DataFrame
    overall: pd.Series
    modifier: Modifier | None = None
    analysis: TreatmentInteraction | None = None
    hr_table: pd.DataFrame | None = None
    johnson_neyman: JohnsonNeymanRegion | None = None
    crossing: FiellerInterval | None = None
    subgroups: SubgroupAnalysis | None = None
    interaction_tests: pd.DataFrame | None = None
    limit_of_quantification: float | None = None
    guard_messages: list[str] = field(default_factory=list)
    shipped_cohort_identical: bool | None = None
    bounds: Bounds | None = None
    bounds_note: str = ""

    # ------------------------------------------------------------------ what the text names
    @property
    def time_unit(self) -> str:
        return str((self.summary.trial.get("endpoint") or {}).get("time_unit", "days"))

    @property
    def treated_label(self) -> str:
        return self.summary.treatment_arm.label or self.summary.treatment_arm.id

    @property
    def control_label(self) -> str:
        return self.summary.control_arm.label or self.summary.control_arm.id

    def regions_named(self) -> list[tuple[float, float]]:
        """Every modifier range the report's text names: where the CI excludes 1 (within the
        observed range) and the finite parts of the HR = 1 confidence set, with its estimate."""
        if self.johnson_neyman is None or self.crossing is None:
            return []
        out = [(float(a), float(b)) for a, b in self.johnson_neyman.within_observed]
        for a, b in self.crossing.intervals:
            lo = a if np.isfinite(a) else b
            hi = b if np.isfinite(b) else a
            if np.isfinite(lo) and np.isfinite(hi):
                out.append((float(lo), float(hi)))
        est = float(self.crossing.estimate)
        lo, hi = self.johnson_neyman.observed_range
        if np.isfinite(est) and lo <= est <= hi:  # beyond the data the text says "not drawn"
            out.append((est, est))
        return out

    def value_notes(self) -> dict[float, str]:
        """Why each modifier value of ``hr_table`` is there."""
        m = self.modifier
        if m is None or self.hr_table is None:
            return {}
        notes: dict[float, list[str]] = {}
        x = self.data[m.id].to_numpy(float)
        for q in REPORT_PERCENTILES:
            name = "median" if q == 50 else f"{q}th percentile"
            notes.setdefault(float(np.percentile(x, q)), []).append(f"cohort {name}")
        for c in m.cutoffs:
            notes.setdefault(c, []).append("reported cut-off")
        if self.limit_of_quantification is not None:
            notes.setdefault(self.limit_of_quantification, []).append("assumed LOQ")
        lo = float(self.analysis.observed_range_[0]) if self.analysis is not None else -np.inf
        for a in m.reported_at:
            words = "reference value of the reported treatment term"
            if self.limit_of_quantification is not None and a < self.limit_of_quantification:
                words += ", below the assumed LOQ"
            elif a < lo:
                words += ", below every observed value"
            notes.setdefault(a, []).append(words)
        return {k: "; ".join(v) for k, v in notes.items()}

    def headline(self) -> pd.DataFrame:
        """The summary table printed by ``alsstats reproduce`` (columns quantity, value, note)."""
        mt = self.reconstruction.match_table()
        checks = self.checks.to_frame()
        failed = checks[checks["verdict"] == "fail"]
        # the figures every failed check involves: the culprit when there is one
        inputs = [set(str(i).split(", ")) for i in failed["inputs"]]
        common = set.intersection(*inputs) if inputs else set()
        culprit = f"all involve {', '.join(sorted(common))}" if common else ""
        o = self.overall
        rows = [
            ("reported figures checked", f"{len(checks)}", ""),
            ("checks failed", f"{len(failed)}", culprit),
            ("reconstructed rows agreeing", f"{int(mt['agrees'].sum())} of {len(mt)}", ""),
            (
                "overall HR, treatment alone (rebuilt cohort)",
                fmt.ratio_ci(o["hr"], o["lower"], o["upper"]),
                f"p = {fmt.p_value(o['p'])}",
            ),
        ]
        m = self.modifier
        if m is None or self.hr_table is None:
            rows.append(("treatment x biomarker", "not applicable", "the summary names none"))
            return pd.DataFrame(rows, columns=["quantity", "value", "note"])
        notes = self.value_notes()
        unit = f" {m.unit}" if m.unit else ""
        for _, row in self.hr_table.iterrows():
            x = float(row["value"])
            label = f"HR at {m.short} = {fmt.quantity(x)}{unit}"
            if x in m.reported_at:
                label += " (exp of the treatment coefficient)"
            rows.append((label, fmt.ratio_ci(row["hr"], row["lower"], row["upper"]), notes[x]))
        rows.append(
            (
                "HR = 1 at (Fieller 95% set)",
                crossing_text(self.crossing, m.unit, self.johnson_neyman.observed_range),
                "this cohort: one example",
            )
        )
        if self.bounds is not None and "crossing" in self.bounds.quantities:
            q = self.bounds.quantities["crossing"]
            rows.append(
                (
                    "HR = 1 over the compatible cohorts found",
                    f"{fmt.quantity(q.lower)} to {fmt.quantity(q.upper)}{unit}",
                    "the figures allow at least this range",
                )
            )
        elif self.bounds_note:
            rows.append(("HR = 1 over the compatible cohorts", "not computed", self.bounds_note))
        rows.append(("95% CI excludes 1 where", region_text(self.johnson_neyman, m.unit), ""))
        return pd.DataFrame(rows, columns=["quantity", "value", "note"])


def crossing_text(
    c: FiellerInterval | None, unit: str = "", observed: tuple[float, float] | None = None
) -> str:
    """``4,155 pg/mL (2,465 to 8,956)``: the HR = 1 estimate and its Fieller set; an estimate
    outside the ``observed`` range says so."""
    if c is None:
        return fmt.DASH
    u = f" {unit}" if unit else ""
    parts = ", ".join(fmt.span(a, b) for a, b in c.intervals) or "empty"
    est = fmt.quantity(c.estimate) + u if np.isfinite(c.estimate) else "nowhere"
    if observed is not None and np.isfinite(c.estimate):
        if not observed[0] <= c.estimate <= observed[1]:
            est += ", outside the observed range and not drawn"
    return f"{est} ({parts})"


def region_text(r: JohnsonNeymanRegion | None, unit: str = "") -> str:
    """Where the CI excludes 1, within the observed range."""
    if r is None:
        return fmt.DASH
    inside = r.within_observed
    return ", ".join(fmt.span(a, b, unit) for a, b in inside) if inside else "nowhere"


# ------------------------------------------------------------------------------ the modifier


def _in_use(items):
    return [i for i in items if getattr(i, "status", "reported") != "superseded"]


def modifier_of(summary: ReportedSummary) -> tuple[str, tuple[float, ...], tuple[float, ...]]:
    """The modifier's biomarker id, its cut-offs and its reported reference values.

    The biomarker of the model-term hazard ratios if any, else the one most biomarker-range
    hazard ratios are defined on; ``("", (), ())`` when the summary names none.
    """
    hrs = _in_use(summary.hazard_ratios)
    terms = [h.population for h in hrs if h.population.kind == "model_term"]
    ranges = [h.population for h in hrs if h.population.kind == "biomarker_range"]
    named = [p.modifier for p in terms if p.modifier] or [p.biomarker for p in ranges]
    if not named:
        return "", (), ()
    ident = Counter(named).most_common(1)[0][0]
    cuts = sorted(
        {
            float(b)
            for p in ranges
            if p.biomarker == ident
            for b in (p.lower, p.upper)
            if b is not None and np.isfinite(b)
        }
    )
    at = sorted({float(p.at) for p in terms if p.modifier == ident and p.at is not None})
    return ident, tuple(cuts), tuple(at)


def _modifier_column(cohort: pd.DataFrame, ident: str, summary: ReportedSummary) -> str:
    """The cohort column holding the biomarker: its id, else the one numeric column that no
    covariate of the summary and no bookkeeping column explains."""
    if ident in cohort.columns:
        return ident
    known = _NOT_MODIFIER | {c.name for c in summary.covariates}
    candidates = [
        c for c in cohort.columns if c not in known and pd.api.types.is_numeric_dtype(cohort[c])
    ]
    if len(candidates) != 1:
        raise ReconstructionError(
            f"{summary.path}: the rebuilt cohort has no column for biomarker {ident!r} "
            f"(columns: {', '.join(cohort.columns)})"
        )
    return candidates[0]


def _loq(summary: ReportedSummary) -> float | None:
    for a in summary.assumptions:
        if a.id == "limit_of_quantification":
            value = a.value.get("value") if isinstance(a.value, dict) else a.value
            return None if value is None else float(value)
    return None


def _ties(summary: ReportedSummary) -> str:
    for a in summary.assumptions:
        if a.id == "ties" and isinstance(a.value, str):
            return a.value
    return "efron"


def analysis_frame(r: Reconstruction, summary: ReportedSummary) -> tuple[pd.DataFrame, str]:
    """The rebuilt cohort with columns time, event, treatment (1 = treated), arm, and the
    modifier under the summary's biomarker id; returns (frame, event column name). With more
    than two arms, the rows of the primary comparison (``trial.treatment_arm`` vs
    ``trial.control_arm``): the models below compare two arms."""
    df = r.cohort.copy()
    event = "death" if "death" in df.columns else "event"
    if len(summary.arms) > 2:
        trt, ctl = summary.treatment_arm.id, summary.control_arm.id
        df = df[df["arm"].astype(str).isin([trt, ctl])].reset_index(drop=True)
        df["treatment"] = (df["arm"].astype(str) == trt).astype(int)
    if "treatment" not in df.columns:
        df["treatment"] = (df["arm"] == summary.treatment_arm.id).astype(int)
    return df, event


# ------------------------------------------------------------------------------ the chain


def reanalyse(
    summary_path: str | Path | None = None,
    *,
    seed: int = MIROCALS_SEED,
    progress: bool = False,
    bounds_search: dict[str, int] | None = REPORT_BOUNDS_SEARCH,
    max_seconds: float = 60.0,
) -> Reanalysis:
    """Run the reanalysis: checks, rebuilt cohort, interaction model and its readings.

    Parameters
    ----------
    summary_path
        A reported-summary file; default the shipped MIROCALS one.
    seed
        Seed of the reconstruction (the shipped cohort uses 2025).
    progress
        Show a progress bar during the reconstruction search.
    bounds_search
        Budget (``starts``, ``steps``) of the search for the range of the HR = 1 crossing over
        cohorts that reproduce every figure (:func:`alsstats.reconstruct.bounds`), run when
        the summary reports a treatment x biomarker model; None skips it.
    max_seconds
        Safety cap of the reconstruction search (wall clock); reached first, the reanalysis
        stops with "not found in the time given".

    Raises
    ------
    ReconstructionError
        When no cohort meets every figure: the figures are infeasible (the proof is named)
        or no cohort was found in the time given (the closest one's residuals and a hint).

    Returns
    -------
    Reanalysis
        The checks, the rebuilt cohort and, when the summary names a biomarker modifier, the
        treatment x biomarker Cox model with its HR table, Johnson-Neyman region, HR = 1
        crossing and cut-off subgroups.
    """
    shipped_path = data_path("mirocals", "reported.yaml")
    path = Path(summary_path) if summary_path is not None else shipped_path
    summary = load_reported_summary(path)
    checks = check_summary(summary)
    reconstruction = rebuild_cohort(summary, seed=seed, progress=progress, max_seconds=max_seconds)
    if not reconstruction.feasible:
        # infeasible (a proof) and not found in the time given (a hint) read differently
        raise ReconstructionError(f"{path}: {reconstruction.message()}")
    data, event = analysis_frame(reconstruction, summary)
    ties = _ties(summary)
    model = CoxModel("treatment", ties=ties).fit(data, "time", event, source=str(path))
    s = model.summary.iloc[0]
    overall = pd.Series(
        {
            "hr": s["exp(coef)"],
            "lower": s["exp(coef) lower 95%"],
            "upper": s["exp(coef) upper 95%"],
            "p": s["p"],
        }
    )
    shipped = None
    if path.resolve() == shipped_path.resolve() and seed == MIROCALS_SEED:
        shipped_csv = data_path("mirocals", "cohort.csv").read_bytes()
        shipped = shipped_csv == reconstruction.to_csv().encode("utf-8")
    result = Reanalysis(
        summary=summary,
        checks=checks,
        reconstruction=reconstruction,
        data=data,
        overall=overall,
        shipped_cohort_identical=shipped,
    )
    ident, cuts, at = modifier_of(summary)
    if not ident:
        return result
    column = _modifier_column(data, ident, summary)
    # the model and its tables speak the summary's name for the biomarker
    name = ident if ident.isidentifier() else "biomarker"
    if column != name:
        data = data.drop(columns=[name], errors="ignore").rename(columns={column: name})
    result.data = data
    spec = next((b for b in summary.biomarkers if b.id == ident), None)
    label = (spec.label if spec is not None and spec.label else ident).strip()
    unit = spec.unit if spec is not None and spec.unit else ""
    result.modifier = Modifier(name, label, unit, cuts, at, column)
    loq = _loq(summary)
    result.limit_of_quantification = loq
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HazardRatioAtUnobservedValueWarning)
        analysis = TreatmentInteraction(
            f"treatment * {name}", "treatment", name, limit_of_quantification=loq, ties=ties
        ).fit(data, "time", event, source=str(path))
    result.guard_messages = [
        str(w.message)
        for w in caught
        if issubclass(w.category, HazardRatioAtUnobservedValueWarning)
    ]
    for w in caught:  # anything else is not ours to swallow
        if not issubclass(w.category, HazardRatioAtUnobservedValueWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    x = data[name].to_numpy(float)
    values = {*at, *cuts, *(float(np.percentile(x, q)) for q in REPORT_PERCENTILES)}
    if loq is not None:
        values.add(loq)
    result.analysis = analysis
    result.hr_table = analysis.hazard_ratio_at(sorted(values))
    result.johnson_neyman = analysis.johnson_neyman()
    result.crossing = analysis.hr_equals_one()
    result.interaction_tests = analysis.interaction_tests()
    if cuts:
        result.subgroups = analysis.subgroups(cuts)
    if bounds_search is None:
        result.bounds_note = "skipped (bounds_search=None)"
    elif not at:
        result.bounds_note = "the summary reports no treatment x biomarker model to constrain it"
    else:
        found = bounds(summary, "crossing", seed=seed, progress=progress, **bounds_search)
        if found.feasible and found.quantities:
            result.bounds = found
        else:
            result.bounds_note = "no compatible cohort found by the short search"
    return result
