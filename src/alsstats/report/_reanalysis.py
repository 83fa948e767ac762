"""The MIROCALS reanalysis end to end, and the report folder that `alsstats reproduce` writes.

:func:`reanalyse` runs the whole chain on a reported-summary file (checks -> rebuilt cohort ->
interaction model -> HR curve, Johnson-Neyman region, HR = 1 crossing, subgroups);
:func:`write_report` turns the result into a folder with ``index.html``, PNG figures and CSV
tables, written atomically.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..checks import CheckReport, check_summary
from ..errors import HazardRatioAtUnobservedValueWarning, ReconstructionError
from ..interaction import (
    EvenGrid,
    FiellerInterval,
    JohnsonNeymanRegion,
    SubgroupAnalysis,
    TreatmentInteraction,
)
from ..io import atomic_write_dir
from ..paths import data_path
from ..reconstruct import Reconstruction, rebuild_cohort
from ..summary import ReportedSummary, load_reported_summary
from ..version import __version__

__all__ = ["Reanalysis", "reanalyse", "write_report"]

#: Seed of the shipped MIROCALS cohort (data/mirocals/cohort.csv).
MIROCALS_SEED = 2025
#: pNFH values (pg/mL) at which the report evaluates the treatment HR, besides the LOQ and the
#: observed median: 0 (where the "main effect" applies), the cut-offs, and the high group.
REPORT_VALUES = (0.0, 750.0, 2000.0, 3700.0, 6000.0)
CUTOFFS = (750.0, 3700.0)


@dataclass
class Reanalysis:
    """Everything the report shows, as Python objects (fields documented in :func:`reanalyse`)."""

    summary: ReportedSummary
    checks: CheckReport
    reconstruction: Reconstruction
    analysis: TreatmentInteraction
    hr_table: pd.DataFrame
    johnson_neyman: JohnsonNeymanRegion
    crossing: FiellerInterval
    subgroups: SubgroupAnalysis
    interaction_tests: pd.DataFrame
    limit_of_quantification: float
    guard_messages: list[str] = field(default_factory=list)
    shipped_cohort_identical: bool | None = None

    def headline(self) -> pd.DataFrame:
        """The summary table printed by ``alsstats reproduce``."""
        mt = self.reconstruction.match_table()
        hr = self.hr_table.set_index("value")
        checks = self.checks.to_frame()
        failed = checks[checks["verdict"] == "fail"]
        # the figures every failed check involves: the culprit when there is one
        inputs = [set(str(i).split(", ")) for i in failed["inputs"]]
        common = set.intersection(*inputs) if inputs else set()
        culprit = f"all involve {', '.join(sorted(common))}" if common else ""
        at_zero = hr.loc[0.0]
        zero_note = "below the assumed LOQ" if self.limit_of_quantification > 0 else ""
        rows = [
            ("reported figures checked", f"{len(checks)}", ""),
            ("checks failed", f"{len(failed)}", culprit),
            ("reconstructed rows agreeing", f"{int(mt['agrees'].sum())} of {len(mt)}", ""),
            ("HR at pNFH = 0 (exp of b_treatment)", _hr_text(at_zero), zero_note),
        ]
        median = round(float(np.median(self.reconstruction.cohort["pnfh"])), 1)
        notes = {self.limit_of_quantification: "assumed LOQ", median: "cohort median"}
        for x in self.hr_table["value"]:
            if x > 0:
                label = f"HR at pNFH = {x:,.0f} pg/mL"
                rows.append((label, _hr_text(hr.loc[x]), notes.get(x, "")))
        rows.append(("HR = 1 at (Fieller 95% set)", _crossing_text(self.crossing), ""))
        rows.append(("95% CI excludes 1 where", _region_text(self.johnson_neyman), ""))
        return pd.DataFrame(rows, columns=["quantity", "value", "note"])


def _hr_text(row: pd.Series) -> str:
    return f"{row['hr']:.2f} ({row['lower']:.2f}-{row['upper']:.2f})"


def _crossing_text(c: FiellerInterval) -> str:
    parts = ", ".join(f"{a:,.0f} to {b:,.0f}" for a, b in c.intervals)
    return f"{c.estimate:,.0f} pg/mL [{parts}]"


def _region_text(r: JohnsonNeymanRegion) -> str:
    inside = r.within_observed
    return ", ".join(f"{a:,.0f} to {b:,.0f} pg/mL" for a, b in inside) if inside else "nowhere"


def reanalyse(
    summary_path: str | Path | None = None,
    *,
    seed: int = MIROCALS_SEED,
    progress: bool = False,
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
    """
    path = (
        Path(summary_path) if summary_path is not None else data_path("mirocals", "reported.yaml")
    )
    summary = load_reported_summary(path)
    checks = check_summary(summary)
    reconstruction = rebuild_cohort(summary, seed=seed, progress=progress)
    if not reconstruction.feasible:
        conflicts = ", ".join(reconstruction.conflicts)
        raise ReconstructionError(
            f"{path}: reported figures that cannot be met jointly: {conflicts}"
        )
    data = reconstruction.cohort
    loq = float(summary.assumption("limit_of_quantification").value["value"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HazardRatioAtUnobservedValueWarning)
        analysis = TreatmentInteraction(
            "treatment * pnfh", "treatment", "pnfh", limit_of_quantification=loq
        ).fit(data, "time", "death", source=str(path))
    guard = [
        str(w.message)
        for w in caught
        if issubclass(w.category, HazardRatioAtUnobservedValueWarning)
    ]
    for w in caught:  # anything else is not ours to swallow
        if not issubclass(w.category, HazardRatioAtUnobservedValueWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    median = float(np.median(data["pnfh"]))
    values = sorted({*REPORT_VALUES, loq, round(median, 1)})
    shipped = None
    if summary_path is None:
        shipped_csv = data_path("mirocals", "cohort.csv").read_bytes()
        shipped = shipped_csv == reconstruction.to_csv().encode("utf-8")
    return Reanalysis(
        summary=summary,
        checks=checks,
        reconstruction=reconstruction,
        analysis=analysis,
        hr_table=analysis.hazard_ratio_at(values),
        johnson_neyman=analysis.johnson_neyman(),
        crossing=analysis.hr_equals_one(),
        subgroups=analysis.subgroups(CUTOFFS),
        interaction_tests=analysis.interaction_tests(),
        limit_of_quantification=loq,
        guard_messages=guard,
        shipped_cohort_identical=shipped,
    )


# ------------------------------------------------------------------------------ writing


def _figures(r: Reanalysis, folder: Path) -> list[tuple[str, str]]:
    from matplotlib.figure import Figure  # no pyplot: the caller's backend is left alone

    from ._plots import plot_forest, plot_hr_curve, plot_km

    out: list[tuple[str, str]] = []
    cohort = r.reconstruction.cohort

    def save(fig: Any, name: str, caption: str) -> None:
        fig.savefig(folder / name, dpi=120, bbox_inches="tight", metadata={"Software": None})
        out.append((name, caption))

    fig = Figure(figsize=(8, 5))
    ax = fig.subplots()
    # Draw where the data are: up to the 99th percentile of pNFH, so that the extrapolated tail
    # (a handful of patients up to 23,000 pg/mL) does not set the scale.
    top = float(np.quantile(cohort["pnfh"], 0.99))
    plot_hr_curve(
        r.analysis,
        ax=ax,
        grid=EvenGrid(201, 0.0, top),
        show_subgroups=r.subgroups,
        cutoffs=CUTOFFS,
        limit_of_quantification=r.limit_of_quantification,
        modifier_label="CSF pNFH (pg/mL)",
    )
    ax.set_xlim(-0.02 * top, top)
    ax.set_ylim(0.1, 10)
    ax.set_title("Treatment HR across CSF pNFH, rebuilt MIROCALS cohort")
    save(fig, "hr_curve.png", "Hazard ratio of IL-2LD vs placebo as a function of CSF pNFH.")

    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    plot_forest(r.subgroups, ax=ax)
    ax.set_title("Subgroups at 750 and 3,700 pg/mL")
    save(fig, "forest.png", "Treatment HR within pNFH subgroups.")

    fig = Figure(figsize=(12, 4.5))
    axes = fig.subplots(1, 2, sharey=True)
    labels = {a.id: a.label for a in r.summary.arms}
    plot_km(
        cohort,
        "time",
        "death",
        "arm",
        ax=axes[0],
        order=[a.id for a in r.summary.arms],
        labels=labels,
    )
    axes[0].set_title("By arm")
    groups = pd.cut(
        cohort["pnfh"],
        [0, *CUTOFFS, np.inf],
        right=False,
        labels=["< 750", "750-3,700", ">= 3,700"],
    )
    plot_km(
        cohort.assign(group=groups.astype(str)),
        "time",
        "death",
        "group",
        ax=axes[1],
        order=["< 750", "750-3,700", ">= 3,700"],
    )
    axes[1].set_title("By CSF pNFH group (pg/mL)")
    save(fig, "km.png", "Kaplan-Meier curves of the rebuilt cohort.")
    return out


def _table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, border=0, float_format=lambda v: f"{v:.4g}", na_rep="")


def write_report(r: Reanalysis, out: str | Path, *, force: bool = False) -> Path:
    """Write the report folder (``index.html``, PNG figures, CSV tables, the cohort).

    Refuses to replace an existing folder unless ``force``; the folder appears in one rename.
    """

    def fill(folder: Path) -> None:
        figures = _figures(r, folder)
        tables = {
            "headline": r.headline(),
            "reported_figures": r.summary.figures(),
            "checks": r.checks.to_frame(),
            "reported_vs_reconstructed": r.reconstruction.match_table(),
            "hr_at_pnfh": r.hr_table,
            "subgroups": r.subgroups.table.reset_index(),
            "interaction_tests": r.interaction_tests.reset_index(),
        }
        for name, df in tables.items():
            df.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
        (folder / "cohort.csv").write_bytes(r.reconstruction.to_csv().encode("utf-8"))
        (folder / "index.html").write_text(_html(r, tables, figures), encoding="utf-8")

    return atomic_write_dir(out, fill, force=force)


_CSS = (
    "body{font-family:sans-serif;max-width:70em;margin:auto}"
    "table{border-collapse:collapse;font-size:90%}"
    "td,th{padding:2px 8px;border-bottom:1px solid #ddd}img{max-width:100%}"
    ".guard{color:#D55E00;font-weight:bold}"
)


def _figure_html(name: str, caption: str) -> str:
    c = html.escape(caption)
    return f"<figure><img src='{name}' alt='{c}'><figcaption>{c}</figcaption></figure>"


def _html(r: Reanalysis, tables: dict[str, pd.DataFrame], figures: list[tuple[str, str]]) -> str:
    esc = html.escape
    fig = {name: _figure_html(name, caption) for name, caption in figures}
    guard = "".join(f"<p class='guard'>{esc(m)}</p>" for m in r.guard_messages)
    shipped = {
        True: "The rebuilt cohort is byte-identical to the shipped data/mirocals/cohort.csv.",
        False: "WARNING: the rebuilt cohort differs from the shipped data/mirocals/cohort.csv.",
        None: "",
    }[r.shipped_cohort_identical]
    region = f"<p>{esc(str(r.johnson_neyman))}</p>"
    crossing = f"<p>HR = 1 at {esc(_crossing_text(r.crossing))}</p>"
    assumptions = pd.DataFrame(
        [{"id": a.id, "value": str(a.value), "reason": a.reason} for a in r.summary.assumptions]
    )
    sections = [
        ("Summary", _table(tables["headline"]) + guard + f"<p>{esc(shipped)}</p>"),
        (
            "Treatment hazard ratio across CSF pNFH",
            fig["hr_curve.png"] + _table(tables["hr_at_pnfh"]) + region + crossing,
        ),
        (
            "Subgroups",
            fig["forest.png"]
            + _table(tables["subgroups"])
            + _table(r.subgroups.heterogeneity.reset_index()),
        ),
        ("Interaction tests", _table(tables["interaction_tests"])),
        ("Reported vs reconstructed", _table(tables["reported_vs_reconstructed"]) + fig["km.png"]),
        ("Consistency of the reported figures", _table(tables["checks"])),
        ("Reported figures and their sources", _table(tables["reported_figures"])),
        ("Assumptions", _table(assumptions)),
    ]
    body = "".join(f"<h2>{esc(title)}</h2>{content}" for title, content in sections)
    stamp = (
        f"alsstats {esc(__version__)}, summary sha256 {esc(r.summary.sha256[:16])}, "
        f"seed {r.reconstruction.seed}."
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>MIROCALS reanalysis</title>"
        f"<style>{_CSS}</style></head><body><h1>MIROCALS reanalysis</h1><p>{stamp}</p>"
        f"{body}</body></html>\n"
    )
