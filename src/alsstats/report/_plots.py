"""Figures: the treatment HR curve, a subgroup forest plot, Kaplan-Meier curves by group.

Hazard ratios are drawn on a log axis with the line HR = 1, in the Okabe-Ito colour-blind-safe
palette; every function returns the matplotlib Axes it drew on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..interaction import EvenGrid, SubgroupAnalysis, TreatmentInteraction
from ..io import check_columns, numeric_column
from ..palette import OKABE_ITO, SERIES

__all__ = [
    "plot_forest",
    "plot_hr_curve",
    "plot_km",
]


def _plain_log_ticks(axis: Any) -> None:
    """Label a log axis 0.5, 1, 2 rather than 5 x 10^-1."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(7, 4.5))[1]


def plot_hr_curve(
    analysis: TreatmentInteraction,
    ax: Any = None,
    grid: Any = None,
    band: str = "pointwise",
    show_subgroups: SubgroupAnalysis | bool | None = None,
    cutoffs: tuple[float, ...] | None = None,
    limit_of_quantification: float | None = None,
    rug: bool = True,
    level: float = 0.95,
    modifier_label: str | None = None,
) -> Any:
    """Treatment hazard ratio against the modifier, with its confidence band.

    Parameters
    ----------
    analysis
        A fitted :class:`~alsstats.interaction.TreatmentInteraction`.
    grid
        Where to evaluate (default 201 even points over the observed range).
    band
        ``"pointwise"`` Wald limits or ``"simultaneous"`` (Scheffé, see
        :meth:`~alsstats.interaction.TreatmentInteraction.hazard_ratio_at`).
    show_subgroups
        A :class:`~alsstats.interaction.SubgroupAnalysis`, or True to compute one at ``cutoffs``:
        subgroup HRs drawn as points with CIs spanning their subgroup's observed modifier values.
    cutoffs
        Vertical markers at these modifier values (default: the subgroup analysis' cut-offs
        when one is shown, else none).
    limit_of_quantification
        Marker at the assay's LOQ (default: the analysis' declared LOQ).
    rug
        Tick marks at the observed modifier values.
    modifier_label
        x-axis label with units, e.g. ``"CSF pNFH (pg/mL)"`` (default: the column name).
    """
    if show_subgroups is True and not cutoffs:
        raise InputError("plot_hr_curve", "cutoffs", "show_subgroups=True needs the cut-offs")
    if cutoffs is None and isinstance(show_subgroups, SubgroupAnalysis):
        cutoffs = show_subgroups.cutoffs
    ax = _axes(ax)
    curve = analysis.hazard_ratio_at(
        EvenGrid(201) if grid is None else grid, band=band, level=level
    )
    name = modifier_label or analysis.modifier_col
    pct = f"{100 * level:g}%"
    ax.fill_between(
        curve["value"],
        curve["lower"],
        curve["upper"],
        color=OKABE_ITO["sky blue"],
        alpha=0.35,
        linewidth=0,
        label=f"{pct} {band} CI",
    )
    ax.plot(
        curve["value"], curve["hr"], color=OKABE_ITO["blue"], lw=2, label="HR (treated vs control)"
    )
    ax.axhline(1.0, color=OKABE_ITO["black"], lw=1, ls="--", label="HR = 1")
    ax.set_yscale("log")
    _plain_log_ticks(ax.yaxis)
    loq = (
        analysis.limit_of_quantification
        if limit_of_quantification is None
        else limit_of_quantification
    )
    if loq is not None:
        ax.axvline(loq, color=OKABE_ITO["vermillion"], ls=":", lw=1.5, label=f"LOQ ({loq:g})")
    for i, c in enumerate(cutoffs or ()):
        ax.axvline(c, color="0.45", ls="-.", lw=1, label="cut-offs" if i == 0 else None)
    if rug:
        ax.plot(
            analysis.observed_,
            np.full(analysis.observed_.shape, 0.02),
            "|",
            color=OKABE_ITO["black"],
            alpha=0.5,
            ms=8,
            transform=ax.get_xaxis_transform(),
            label="observed values",
        )
    if show_subgroups is True:
        show_subgroups = analysis.subgroups(cutoffs or ())
    if isinstance(show_subgroups, SubgroupAnalysis):
        _overlay_subgroups(ax, show_subgroups, analysis.observed_)
    at = analysis.coefficient_applies_at_
    lo, hi = analysis.observed_range_
    if np.isfinite(at) and not lo <= at <= hi:
        ax.text(
            0.01,
            0.98,
            f"exp(coef) of {analysis.treatment_col} is the HR at {analysis.modifier_col} = "
            f"{at:.4g}: "
            "not an observed value",
            transform=ax.transAxes,
            va="top",
            fontsize=8,
            color=OKABE_ITO["vermillion"],
        )
    ax.set_xlabel(name)
    ax.set_ylabel(f"Hazard ratio, {analysis.treatment_col} (log scale)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return ax


def _overlay_subgroups(ax: Any, sub: SubgroupAnalysis, observed: np.ndarray) -> None:
    first = True
    for _, row in sub.table.iterrows():
        inside = observed[(observed >= row["from"]) & (observed < row["to"])]
        if not np.isfinite(row["hr"]) or inside.size == 0:
            continue
        # The point sits at the subgroup's median (where its patients are), the bar spans them.
        a, m, b = float(inside.min()), float(np.median(inside)), float(inside.max())
        ax.errorbar(
            [m],
            [row["hr"]],
            xerr=[[m - a], [b - m]],
            yerr=[[row["hr"] - row["lower"]], [row["upper"] - row["hr"]]],
            fmt="s",
            color=OKABE_ITO["orange"],
            capsize=3,
            label="subgroup HR" if first else None,
        )
        first = False


def plot_forest(subgroup_table: SubgroupAnalysis | pd.DataFrame, ax: Any = None) -> Any:
    """Forest plot of subgroup hazard ratios (log x axis, HR = 1 line, n and events per row)."""
    table = subgroup_table.table if isinstance(subgroup_table, SubgroupAnalysis) else subgroup_table
    needed = {"hr", "lower", "upper"}
    if not isinstance(table, pd.DataFrame) or not needed <= set(table.columns):
        raise InputError("plot_forest", "subgroup_table", f"needs columns {sorted(needed)}")
    ax = _axes(ax)
    y = np.arange(len(table))[::-1]
    ok = np.isfinite(table["hr"].to_numpy(float))
    hr, lower, upper = (table[c].to_numpy(float) for c in ("hr", "lower", "upper"))
    ax.errorbar(
        hr[ok],
        y[ok],
        xerr=[hr[ok] - lower[ok], upper[ok] - hr[ok]],
        fmt="s",
        color=OKABE_ITO["blue"],
        capsize=3,
    )
    ax.axvline(1.0, color=OKABE_ITO["black"], ls="--", lw=1)
    ax.set_xscale("log")
    _plain_log_ticks(ax.xaxis)
    labels = []
    for label, row in table.iterrows():
        extra = ""
        if "n" in table.columns:
            extra = f" (n={int(row['n'])}"
            if {"events_control", "events_treated"} <= set(table.columns):
                extra += f", events {int(row['events_control'])}/{int(row['events_treated'])}"
            extra += ")"
        labels.append(f"{label}{extra}" + ("" if np.isfinite(row["hr"]) else ": not estimable"))
    ax.set_yticks(y, labels)
    ax.set_xlabel("Hazard ratio, treated vs control (log scale)")
    ax.set_ylabel("Subgroup (events control/treated)")
    return ax


def plot_km(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    group_col: str,
    ax: Any = None,
    *,
    order: list[Any] | None = None,
    labels: dict[Any, str] | None = None,
    time_unit: str = "days",
    censor_marks: bool = True,
) -> Any:
    """Kaplan-Meier survival curves, one per level of ``group_col``, with the number of
    patients of each in the legend.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [3, 5, 5, 8, 2, 4], "d": [1, 0, 1, 1, 1, 0],
    ...                    "arm": ["a", "a", "a", "b", "b", "b"]})
    >>> ax = plot_km(df, "t", "d", "arm")
    >>> ax.get_xlabel()
    'Time since randomisation (days)'
    """
    from ..survival import km_estimate

    check_columns(df, [duration_col, event_col, group_col], "plot_km")
    numeric_column(df, duration_col, "plot_km")
    numeric_column(df, event_col, "plot_km")
    ax = _axes(ax)
    levels = order if order is not None else sorted(pd.unique(df[group_col].dropna()))
    for i, level in enumerate(levels):
        part = df[df[group_col] == level]
        t = part[duration_col].to_numpy(float)
        d = part[event_col].to_numpy(int)
        t_ev, s_ev = km_estimate(t, d)
        xs = np.concatenate([[0.0], t_ev, [t.max()]])
        ys = np.concatenate([[1.0], s_ev, [s_ev[-1] if s_ev.size else 1.0]])
        name = (labels or {}).get(level, str(level))
        colour = SERIES[i % len(SERIES)]
        ax.step(xs, ys, where="post", color=colour, label=f"{name} (n = {len(part)})")
        if censor_marks:
            tc = t[d == 0]
            sc = ys[np.searchsorted(xs, tc, side="right") - 1]
            ax.plot(tc, sc, "|", color=colour, markersize=6)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel(f"Time since randomisation ({time_unit})")
    ax.set_ylabel("Survival probability")
    ax.legend(frameon=False, loc="lower left")
    return ax
