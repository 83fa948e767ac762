"""The report's figures: HR curve in two panels, forest plot, Kaplan-Meier curves with numbers at
risk and confidence bands.

One colour means one thing across the report: blue is the treated arm, vermillion the control
arm (Kaplan-Meier); the rebuilt cohort's estimates are black with grey bands, reported figures
orange; biomarker groups take bluish green, reddish purple, sky blue, grey; pale yellow shades
where the 95% CI of the treatment HR excludes 1. Labels and explanations go into legends and
titles rather than onto the data, so nothing is written over a line. Each function returns
``(figure, alt_text)``; the alt text says in words what the figure shows.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from ..palette import OKABE_ITO
from . import _tables as fmt

if TYPE_CHECKING:
    from ._reanalysis import Reanalysis

__all__: list[str] = []

TREATED = OKABE_ITO["blue"]
CONTROL = OKABE_ITO["vermillion"]
REBUILT = OKABE_ITO["black"]
REPORTED = OKABE_ITO["orange"]
BAND = "0.75"
REGION = OKABE_ITO["yellow"]
GROUPS = (OKABE_ITO["bluish green"], OKABE_ITO["reddish purple"], OKABE_ITO["sky blue"], "0.45")


def _plain_log_ticks(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,g}"))
    axis.set_minor_formatter(NullFormatter())


def _thousands(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: fmt.quantity(v)))


# ------------------------------------------------------------------------------ HR curve


def hr_curve_panels(r: Reanalysis) -> list[tuple[float, float, str]]:
    """The x ranges of the HR curve's panels: (from, to, axis scale).

    Panel 1 is linear from 0 (or the lowest value) to the 99th percentile, where nearly every
    patient is; panel 2 spans the whole observed range and every region the text names, on a
    log axis when the modifier is positive.
    """
    assert r.analysis is not None and r.modifier is not None
    x = r.data[r.modifier.id].to_numpy(float)
    lo_obs, hi_obs = float(x.min()), float(x.max())
    named = r.regions_named()
    ends = [v for pair in named for v in pair]
    start = min(0.0, lo_obs) if lo_obs >= 0 else lo_obs
    p99 = float(np.quantile(x, 0.99))
    top = max([p99, *(c for c in r.modifier.cutoffs if c <= hi_obs)])
    first = (start, top, "linear")
    lo2 = min([lo_obs, *ends])
    hi2 = max([hi_obs, *ends])
    second = (lo2, hi2, "log" if lo2 > 0 else "linear")
    return [first, second]


def hr_curve_figure(r: Reanalysis) -> tuple[Any, str]:
    from matplotlib.figure import Figure  # no pyplot: the caller's backend is left alone

    m, a = r.modifier, r.analysis
    assert m is not None and a is not None and r.crossing is not None
    panels = hr_curve_panels(r)
    fig = Figure(figsize=(12, 5.0))
    axes = fig.subplots(1, 2, sharey=True)
    curves = []
    for (lo, hi, scale), ax in zip(panels, axes, strict=True):
        grid = np.geomspace(lo, hi, 301) if scale == "log" else np.linspace(lo, hi, 301)
        grid = np.unique(np.concatenate([grid, [c for c in m.cutoffs if lo <= c <= hi]]))
        curves.append((a.hazard_ratio_at(grid), ax, lo, hi, scale))
    # the y range shows the whole HR line and as much of its band as stays readable
    lowest = min(float(c["lower"].min()) for c, *_ in curves)
    highest = max(float(c["upper"].max()) for c, *_ in curves)
    hr_lo = min(float(c["hr"].min()) for c, *_ in curves)
    hr_hi = max(float(c["hr"].max()) for c, *_ in curves)
    y_lo = max(1e-3, min(0.5, max(lowest / 1.3, hr_lo / 3)))
    y_hi = min(1e3, max(2.0, min(highest * 1.3, hr_hi * 3)))
    clipped = lowest < y_lo or highest > y_hi
    x_obs = r.data[m.id].to_numpy(float)
    unit = f" {m.unit}" if m.unit else ""
    obs_lo, obs_hi = (float(v) for v in a.observed_range_)
    labelled: set[str] = set()

    def once(text: str) -> str | None:
        if text in labelled:
            return None
        labelled.add(text)
        return text

    for i, (curve, ax, lo, hi, scale) in enumerate(curves):
        # shade where the CI excludes 1 among observed values only; beyond them, hatch
        for a0, b0 in r.johnson_neyman.within_observed if r.johnson_neyman else ():
            a1, b1 = max(a0, lo), min(b0, hi)
            if a1 < b1:
                ax.axvspan(a1, b1, color=REGION, alpha=0.35, lw=0,
                           label=once("95% CI excludes HR = 1"))  # fmt: skip
        for a0, b0 in ((lo, obs_lo), (obs_hi, hi)):
            if a0 < b0:
                ax.axvspan(a0, b0, facecolor="none", edgecolor="0.8", hatch="///", lw=0,
                           label=once("no rebuilt patient here (extrapolation)"))  # fmt: skip
        ax.fill_between(curve["value"], curve["lower"].clip(y_lo, y_hi),
                        curve["upper"].clip(y_lo, y_hi), color=BAND, alpha=0.6, lw=0,
                        label=once("pointwise 95% CI"))  # fmt: skip
        ax.plot(curve["value"], curve["hr"], color=REBUILT, lw=2,
                label=once(f"HR, {r.treated_label} vs {r.control_label}"))  # fmt: skip
        ax.axhline(1.0, color=REBUILT, lw=0.8, ls="--")
        for c in (c for c in m.cutoffs if lo <= c <= hi):
            ax.axvline(c, color="0.35", ls="-.", lw=1, label=once("reported cut-offs"))
        loq = r.limit_of_quantification
        if loq is not None and lo <= loq <= hi:
            ax.axvline(loq, color="0.2", ls=":", lw=1.5,
                       label=once(f"assumed LOQ ({fmt.quantity(loq)}{unit})"))  # fmt: skip
        est = r.crossing.estimate
        if np.isfinite(est) and lo <= est <= hi and obs_lo <= est <= obs_hi:
            finite = [(p, q) for p, q in r.crossing.intervals if p <= est <= q]
            p, q = finite[0] if finite else (est, est)
            p, q = max(p, lo), min(q, hi)
            ax.errorbar([est], [1.0], xerr=[[est - p], [q - est]], fmt="o", mfc="white",
                        mec=REBUILT, ecolor=REBUILT, capsize=4, lw=1.2, zorder=5,
                        label=once(f"HR = 1 at {crossing_label(r)}"))  # fmt: skip
        elif i == len(curves) - 1 and f"HR = 1 at {crossing_label(r)}" not in labelled:
            # not drawn (no crossing among the data): the legend still says where it is
            ax.plot([], [], " ", label=once(f"HR = 1 at {crossing_label(r)}"))
        inside = x_obs[(x_obs >= lo) & (x_obs <= hi)]
        ax.plot(inside, np.full(inside.shape, 0.015), "|", color=REBUILT, alpha=0.45, ms=7,
                transform=ax.get_xaxis_transform(),
                label=once("rebuilt patients' values"))  # fmt: skip
        ax.set_xscale(scale)
        ax.set_xlim(lo, hi)
        if scale == "log":
            _plain_log_ticks(ax.xaxis)
        else:
            _thousands(ax.xaxis)
        ax.set_yscale("log")
        ax.set_ylim(y_lo, y_hi)
        _plain_log_ticks(ax.yaxis)
        ax.set_xlabel(m.axis_label + (" (log scale)" if scale == "log" else ""))
        share = float(np.mean((x_obs >= lo) & (x_obs <= hi)))
        where = (
            f"A. {fmt.quantity(lo)} to {fmt.quantity(hi)}{unit}, linear axis: "
            f"{100 * share:.0f}% of patients"
            if i == 0
            else f"B. {fmt.quantity(lo)} to {fmt.quantity(hi)}{unit}, {scale} axis: every "
            "patient and every region the text names"
        )
        ax.set_title(where, fontsize=10, loc="left")
    axes[0].set_ylabel("Treatment hazard ratio (log scale)")
    title = f"Treatment hazard ratio across {m.label}, rebuilt {r.summary.name} cohort"
    if clipped:
        title += " (band clipped at the axis)"
    fig.suptitle(title, fontsize=11)
    fig.legend(loc="lower center", ncol=3, fontsize=8.5, frameon=False, bbox_to_anchor=(0.5, 0))
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    alt = (
        f"Two panels of the treatment hazard ratio ({r.treated_label} vs {r.control_label}) "
        f"against {m.axis_label}, log vertical axis, black line with grey 95% band. Panel A "
        f"shows {fmt.quantity(panels[0][0])} to {fmt.quantity(panels[0][1])}{unit} on a linear "
        f"axis; panel B the whole observed range {fmt.quantity(panels[1][0])} to "
        f"{fmt.quantity(panels[1][1])}{unit}"
        + (" on a log axis" if panels[1][2] == "log" else "")
        + f". The HR is 1 at {crossing_label(r)}. Shaded where the 95% CI excludes 1: "
        + f"{region_label(r)}."
    )
    return fig, alt


def crossing_label(r: Reanalysis) -> str:
    from ._reanalysis import crossing_text

    unit = r.modifier.unit if r.modifier else ""
    observed = r.johnson_neyman.observed_range if r.johnson_neyman else None
    return crossing_text(r.crossing, unit, observed).replace("(", "(Fieller 95% set ", 1)


def region_label(r: Reanalysis) -> str:
    from ._reanalysis import region_text

    unit = r.modifier.unit if r.modifier else ""
    return region_text(r.johnson_neyman, unit)


# ------------------------------------------------------------------------------ forest


def forest_rows(r: Reanalysis) -> pd.DataFrame:
    """One row per group of the rebuilt cohort (all patients first, then the cut-off groups in
    the format's ``lower < x <= upper`` convention), with the reported HR where there is one."""
    s = r.summary
    # the rows compare the primary pair (several arms: trial.treatment_arm vs control_arm);
    # another comparison's reported HR is not theirs
    primary = {"treatment": s.treatment_arm.id, "control": s.control_arm.id}
    reported = [
        h
        for h in s.hazard_ratios
        if h.status != "superseded" and (len(s.arms) <= 2 or h.comparison == primary)
    ]
    overall = next(
        (h for h in reported if h.population.kind == "all" and not h.model.get("adjusted")), None
    )
    data = r.data
    treated = data["treatment"].to_numpy(int) == 1
    ev = data["death" if "death" in data.columns else "event"].to_numpy(int) == 1
    o = r.overall
    rows = [
        {
            "group": "all patients",
            "n_treated": int(treated.sum()),
            "n_control": int((~treated).sum()),
            "events_treated": int((ev & treated).sum()),
            "events_control": int((ev & ~treated).sum()),
            "hr": o["hr"], "lower": o["lower"], "upper": o["upper"], "p": o["p"],
            "reported": overall,
        }
    ]  # fmt: skip
    if r.subgroups is not None and r.modifier is not None:
        m = r.modifier
        for _, g in r.subgroups.table.iterrows():
            lo, hi = float(g["from"]), float(g["to"])
            match = [
                h
                for h in reported
                if h.population.kind == "biomarker_range"
                and h.population.biomarker in (m.id, m.column)
                and _same(h.population.lower, lo, -np.inf)
                and _same(h.population.upper, hi, np.inf)
            ]
            rows.append({
                "group": fmt.interval(lo, hi, m.short, m.unit),
                "n_treated": int(g["n_treated"]), "n_control": int(g["n_control"]),
                "events_treated": int(g["events_treated"]),
                "events_control": int(g["events_control"]),
                "hr": g["hr"], "lower": g["lower"], "upper": g["upper"], "p": g["p"],
                "reported": match[0] if match else None,
            })  # fmt: skip
    return pd.DataFrame(rows)


def _same(bound: float | None, value: float, open_end: float) -> bool:
    return (open_end if bound is None else float(bound)) == value


def forest_figure(r: Reanalysis) -> tuple[Any, str]:
    from matplotlib.figure import Figure

    rows = forest_rows(r)
    k = len(rows)
    fig = Figure(figsize=(11, 1.1 + 0.62 * k))
    ax = fig.subplots()
    y = np.arange(k)[::-1].astype(float)
    labels, alt_rows = [], []
    first_rep = first_reb = True
    for yi, (_, row) in zip(y, rows.iterrows(), strict=True):
        rep = row["reported"]
        shift = 0.14 if rep is not None else 0.0
        if np.isfinite(row["hr"]):
            ax.errorbar([row["hr"]], [yi - shift],
                        xerr=[[row["hr"] - row["lower"]], [row["upper"] - row["hr"]]],
                        fmt="s", color=REBUILT, capsize=3, ms=6,
                        label="rebuilt cohort, 95% CI" if first_reb else None)  # fmt: skip
            first_reb = False
        if rep is not None:
            err = None
            if rep.ci is not None:
                err = [[rep.value - rep.ci[0]], [rep.ci[1] - rep.value]]
            ax.errorbar([rep.value], [yi + shift], xerr=err, fmt="D", color=REPORTED,
                        mfc="white", mew=1.5, capsize=3, ms=6,
                        label="reported (with its CI when published)" if first_rep
                        else None)  # fmt: skip
            first_rep = False
        events = (
            f"n = {row['n_treated']}/{row['n_control']}, "
            f"deaths {row['events_treated']}/{row['events_control']}"
        )
        status = "" if rep is not None else "\nnot reported: rebuilt cohort's own"
        labels.append(f"{row['group']}\n{events}{status}")
        rebuilt = fmt.ratio_ci(row["hr"], row["lower"], row["upper"])
        said = (
            f"reported {fmt.ratio_ci(rep.value, *(rep.ci or (None, None)))}"
            if rep is not None
            else "not reported"
        )
        alt_rows.append(f"{row['group']}: rebuilt {rebuilt}, {said}")
    ax.axvline(1.0, color=REBUILT, ls="--", lw=0.8)
    ax.set_xscale("log")
    _plain_log_ticks(ax.xaxis)
    ax.set_yticks(y, labels, fontsize=8.5)
    ax.set_ylim(-0.6, k - 0.4)
    ax.set_xlabel(f"Hazard ratio, {r.treated_label} vs {r.control_label} (log scale)")
    ax.set_title(
        f"Treatment HR by group, rebuilt {r.summary.name} cohort and as reported "
        f"(n and deaths: {r.treated_label}/{r.control_label})",
        fontsize=10,
        loc="left",
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8.5, frameon=False)
    fig.tight_layout()
    alt = (
        "Forest plot of the treatment hazard ratio on a log axis, black squares for the rebuilt "
        "cohort and open orange diamonds for the reported figures. " + "; ".join(alt_rows) + "."
    )
    return fig, alt


# ------------------------------------------------------------------------------ Kaplan-Meier


def km_with_band(time: np.ndarray, event: np.ndarray, level: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier estimate with Greenwood's variance and the log(-log) confidence interval
    (Kalbfleisch-Prentice; the default of lifelines and of R's survfit(conf.type="log-log")).

    Returns one row per distinct event time: time, survival, lower, upper, at_risk.
    """
    time, event = np.asarray(time, float), np.asarray(event, int)
    uniq, inv = np.unique(time, return_inverse=True)
    deaths = np.bincount(inv, weights=event, minlength=uniq.size)
    leaving = np.bincount(inv, minlength=uniq.size)
    at_risk = time.size - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    has = deaths > 0
    t, d, n = uniq[has], deaths[has], at_risk[has]
    s = np.cumprod(1.0 - d / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        green = np.cumsum(d / (n * (n - d)))
        z = stats.norm.ppf(0.5 + level / 2)
        log_s = np.log(s)
        se = np.sqrt(green) / np.abs(log_s)
        lower = np.exp(-np.exp(np.log(-log_s) + z * se))
        upper = np.exp(-np.exp(np.log(-log_s) - z * se))
    lower = np.where(s > 0, lower, 0.0)
    upper = np.where(s > 0, upper, 0.0)
    return pd.DataFrame({"time": t, "survival": s, "lower": lower, "upper": upper, "at_risk": n})


def number_at_risk(time: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Patients still under observation (time >= t) at each t."""
    time = np.sort(np.asarray(time, float))
    return time.size - np.searchsorted(time, np.asarray(at, float), side="left")


def _step(df: pd.DataFrame, column: str, t_max: float) -> tuple[np.ndarray, np.ndarray]:
    xs = np.concatenate([[0.0], df["time"].to_numpy(), [t_max]])
    last = df[column].iloc[-1] if len(df) else 1.0
    ys = np.concatenate([[1.0], df[column].to_numpy(), [last]])
    return xs, ys


def _nice_ticks(t_max: float) -> np.ndarray:
    raw = t_max / 8
    mag = 10 ** math.floor(math.log10(raw))
    step = min((s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw), default=10 * mag)
    return np.arange(0.0, t_max + 1e-9, step)


def km_series(r: Reanalysis) -> list[tuple[str, list[tuple[str, str, str, pd.DataFrame]]]]:
    """Panels of (title, [(label, short label, colour, rows)]): by arm, then by biomarker
    group (``lower < x <= upper``)."""
    data = r.data
    ev = "death" if "death" in data.columns else "event"
    s = r.summary
    treated = s.treatment_arm.label or s.treatment_arm.id
    control = s.control_arm.label or s.control_arm.id
    arms = [
        (treated, treated, TREATED, data[data["treatment"] == 1]),
        (control, control, CONTROL, data[data["treatment"] == 0]),
    ]
    panels = [("By arm", arms)]
    m = r.modifier
    if m is not None and m.cutoffs:
        x = data[m.id].to_numpy(float)
        edges = [-np.inf, *m.cutoffs, np.inf]
        group = np.searchsorted(np.asarray(m.cutoffs), x, side="left")  # lower < x <= upper
        series = []
        for g in range(len(edges) - 1):
            part = data[group == g]
            if len(part):
                label = fmt.interval(edges[g], edges[g + 1], m.short, m.unit)
                a, b = edges[g], edges[g + 1]
                short = (
                    f"≤ {fmt.quantity(b)}" if np.isinf(a)
                    else f"> {fmt.quantity(a)}" if np.isinf(b)
                    else f"{fmt.quantity(a)} to {fmt.quantity(b)}"
                )  # fmt: skip
                series.append((label, short, GROUPS[g % len(GROUPS)], part))
        unit = f" ({m.unit})" if m.unit else ""
        panels.append((f"By {m.short} group{unit}, both arms together", series))
    return [(title, [(lab, short, col, part[["time", ev]]) for lab, short, col, part in ser])
            for title, ser in panels]  # fmt: skip


def km_figure(r: Reanalysis) -> tuple[Any, str]:
    from matplotlib.figure import Figure

    panels = km_series(r)
    ncols = len(panels)
    fig = Figure(figsize=(6.2 * ncols, 6.2))
    t_max = float(r.data["time"].max())
    ticks = _nice_ticks(t_max)
    rows_max = max(len(series) for _, series in panels)
    grid = fig.add_gridspec(2, ncols, height_ratios=[4.2, 0.45 + 0.32 * rows_max], hspace=0.42)
    alt_parts = []
    unit = r.time_unit
    for j, (title, series) in enumerate(panels):
        ax = fig.add_subplot(grid[0, j])
        risk = fig.add_subplot(grid[1, j], sharex=ax)
        names, colours = [], []
        for label, short, colour, part in series:
            t = part.iloc[:, 0].to_numpy(float)
            d = part.iloc[:, 1].to_numpy(int)
            km = km_with_band(t, d)
            xs, ys = _step(km, "survival", t_max)
            _, lo = _step(km, "lower", t_max)
            _, hi = _step(km, "upper", t_max)
            ax.fill_between(xs, lo, hi, step="post", color=colour, alpha=0.15, lw=0)
            ax.step(xs, ys, where="post", color=colour, lw=1.8, label=f"{label} (n = {len(t)})")
            cens = t[d == 0]
            cens = cens[cens < t_max]  # administrative censoring at the end is not marked
            ax.plot(cens, ys[np.searchsorted(xs, cens, side="right") - 1], "|",
                    color=colour, ms=7)  # fmt: skip
            names.append(short)
            colours.append(colour)
            alive = ys[-1]
            alt_parts.append(f"{label}: {len(t)} patients, {int(d.sum())} deaths, "
                             f"{100 * alive:.0f}% alive at {fmt.number(t_max)} {unit}")  # fmt: skip
            counts = number_at_risk(t, ticks)
            k = len(names) - 1
            for tick, c in zip(ticks, counts, strict=True):
                risk.text(tick, -k, str(c), ha="center", va="center", color=colour, fontsize=8.5)
        ax.set_ylim(0, 1.02)
        ax.set_xlim(0, t_max * 1.02)
        ax.set_xticks(ticks)
        ax.tick_params(labelbottom=True)
        ax.set_xlabel(f"Time since randomisation ({unit})")
        ax.set_ylabel("Survival probability")
        ax.set_title(f"{'AB'[j]}. {title}", fontsize=10, loc="left")
        ax.legend(loc="best", fontsize=8.5, framealpha=0.9)  # placed where no curve runs
        ax.grid(axis="y", color="0.9", lw=0.6)
        risk.set_ylim(-len(names) + 0.5, 0.5)
        risk.set_yticks(-np.arange(len(names)), names, fontsize=8.5)
        for tick_label, colour in zip(risk.get_yticklabels(), colours, strict=True):
            tick_label.set_color(colour)
        risk.tick_params(left=False, bottom=False, labelbottom=False, pad=16)
        for side in ("top", "right", "bottom", "left"):
            risk.spines[side].set_visible(False)
        risk.set_title("Number at risk", fontsize=9, loc="left")
    fig.suptitle(
        f"Kaplan-Meier survival of the rebuilt {r.summary.name} cohort, with 95% confidence bands "
        "(log-log); ticks mark censored patients",
        fontsize=10.5,
    )
    fig.subplots_adjust(left=0.2 if ncols == 1 else 0.1, right=0.98, top=0.9, bottom=0.04,
                        wspace=0.45)  # fmt: skip
    alt = (
        f"Kaplan-Meier curves of the rebuilt cohort over {fmt.number(t_max)} {unit}, with shaded "
        "95% confidence bands and numbers at risk under each panel. " + "; ".join(alt_parts) + "."
    )
    return fig, alt


def bounds_figure(r: Reanalysis) -> tuple[Any, str]:
    """The band of HR(x) curves over the compatible cohorts found, with the example cohort's
    curve and 95% CI; returns (figure, alt text)."""
    from matplotlib.figure import Figure

    b, m = r.bounds, r.modifier
    fig = Figure(figsize=(8, 4.6))
    ax = fig.add_subplot()
    b.plot(example=r.reconstruction, ax=ax)
    ax.set_xlabel(m.axis_label)
    _plain_log_ticks(ax.yaxis)
    _thousands(ax.xaxis)
    q = b.quantities["crossing"]
    unit = f" {m.unit}" if m.unit else ""
    ax.set_title(
        f"HR = 1 between {fmt.quantity(q.lower)} and {fmt.quantity(q.upper)}{unit} over the "
        "compatible cohorts found",
        fontsize=10,
    )
    fig.tight_layout()
    alt = (
        f"Treatment hazard ratio against {m.label}: a band over the extreme cohorts found, "
        f"which cross 1 between {fmt.quantity(q.lower)} and {fmt.quantity(q.upper)}{unit}, "
        f"and the example cohort's curve with its 95% confidence interval."
    )
    return fig, alt
