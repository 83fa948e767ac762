"""Sizing a trial: power against sample size, the n that reaches a target power, and plots.

:func:`power_curve` runs :func:`~alsstats.design.simulate_trials` over a range of sizes for
several designs (common random numbers across n), :func:`power_table` tabulates it,
:func:`sample_size` bisects for the smallest n (or number of events) reaching 80% or 90% power,
:func:`plot_power_curves` draws the curves; :func:`schoenfeld_events` and
:func:`schoenfeld_power` are the closed-form log-rank approximations to compare with.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from scipy import stats

from ..errors import InputError
from ..models import DataGeneratingModel
from ..palette import SERIES
from ._trials import TESTS, TrialDesign, simulate_trials

__all__ = [
    "SampleSizeResult",
    "plot_power_curves",
    "power_curve",
    "power_table",
    "sample_size",
    "schoenfeld_events",
    "schoenfeld_power",
]


def power_curve(
    model: DataGeneratingModel,
    designs: Mapping[str, TrialDesign],
    sizes: Sequence[int],
    n_replicates: int = 1000,
    *,
    seed: int = 0,
    tests: Sequence[str] | Literal["primary"] | None = None,
    executor: Executor | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Power against sample size for several designs (common random numbers across n).

    ``tests``: the analyses run (default all); ``"primary"``: each design's primary test only
    (the fastest way to a curve).

    Each design is run at every n of ``sizes`` (its ``n`` replaced; an event-driven design keeps
    its ``target_events``, capped at n). Returns a tidy DataFrame, one row per (design, n,
    test): ``design``, ``n``, ``test``, ``primary`` (the design's primary test), ``power``,
    ``mc_se``, ``power_benefit``, ``failed_fits``, ``mean_events``, ``mean_screened``,
    ``screen_fail_share``, ``mean_analysis_day``, ``n_replicates``.
    """
    if not designs:
        raise InputError("power_curve", "designs", "give at least one design")
    rows = []
    for name, design in designs.items():
        for n in sizes:
            d = design.with_(n=int(n))
            if d.target_events is not None and d.target_events > d.n:
                d = d.with_(target_events=d.n)
            sim = simulate_trials(
                model,
                d,
                n_replicates,
                seed=seed,
                tests=(design.primary_test,) if tests == "primary" else tests,
                executor=executor,
                progress=progress,
            )
            s = sim.summary.reset_index()
            s.insert(0, "design", name)
            s["primary"] = s["test"] == design.primary_test
            rows.append(s)
    out = pd.concat(rows, ignore_index=True)
    first = ["design", "n", "test", "primary"]
    return out[first + [c for c in out.columns if c not in first]]


def power_table(curves: pd.DataFrame, *, primary_only: bool = True) -> pd.DataFrame:
    """Wide table of power ("0.81 ± 0.01", value ± 1 Monte Carlo SE): designs by n."""
    df = curves[curves["primary"]] if primary_only else curves
    cell = df.assign(
        cell=[f"{p:.3f} ± {s:.3f}" for p, s in zip(df["power"], df["mc_se"], strict=True)]
    )
    index = ["design", "test"]
    return cell.pivot_table(index=index, columns="n", values="cell", aggfunc="first")


@dataclass(frozen=True)
class SampleSizeResult:
    """Outcome of :func:`sample_size`.

    Attributes
    ----------
    n
        Smallest evaluated size (patients, or events when searching over events) whose
        simulated power reaches the target.
    power, mc_se
        Simulated power at ``n`` and its Monte Carlo SE.
    target, test, over
        What was searched for.
    evaluations
        DataFrame of every size tried (``size``, ``power``, ``mc_se``, ``mean_events``,
        ``mean_screened``).
    design
        The design at the chosen size.
    """

    n: int
    power: float
    mc_se: float
    target: float
    test: str
    over: str
    evaluations: pd.DataFrame
    design: TrialDesign

    def _title(self) -> str:
        what = "patients" if self.over == "n" else "events"
        return (
            f"SampleSizeResult: {self.n} {what} for {100 * float(self.target):g}% power "
            f"({self.test}): simulated power {float(self.power):.3f} "
            f"± {float(self.mc_se):.3f} (1 Monte Carlo SE), {len(self.evaluations)} sizes tried"
        )

    def __repr__(self) -> str:
        table = self.evaluations.to_string(index=False, float_format=lambda v: f"{v:.4g}")
        return f"{self._title()}\n{table}"

    def _repr_html_(self) -> str:
        import html

        return f"<p>{html.escape(self._title())}</p>" + self.evaluations.to_html(
            index=False, float_format=lambda v: f"{v:.4g}"
        )


def sample_size(
    model: DataGeneratingModel,
    design: TrialDesign,
    target: float = 0.8,
    *,
    over: Literal["n", "events"] = "n",
    test: str | None = None,
    bounds: tuple[int, int] = (40, 4000),
    n_replicates: int = 1000,
    seed: int = 0,
    step: int | None = None,
    executor: Executor | None = None,
    progress: bool = False,
) -> SampleSizeResult:
    """Smallest n (or number of events) whose simulated power reaches ``target``.

    Bisection on the power curve, every point simulated with the same seed (common random
    numbers, so the curve is smooth in n and the search reproducible). Sizes are multiples of
    the randomisation block when searching over n. The upper bound is doubled (up to 16 times
    ``bounds[1]``) until the target is reached.

    Parameters
    ----------
    over
        ``"n"``: patients randomised (``design.target_events``, if any, stays fixed, capped at
        n); ``"events"``: ``target_events`` of an event-driven design with ``design.n`` fixed.
    test
        Test whose power is targeted; default the design's ``primary_test``.
    step
        Resolution of the search; default the randomisation block (over n) or 1 (over events).
        Must be a multiple of the block size over n. A coarser step (e.g. 40 when n is in the
        thousands, where the Monte Carlo uncertainty of n is larger anyway) saves evaluations.
    """
    test = design.primary_test if test is None else test
    if test not in TESTS:
        raise InputError("sample_size", "test", f"{test!r}: not one of {TESTS}")
    if not 0 < target < 1:
        raise InputError("sample_size", "target", "must be in (0, 1)")
    if over not in ("n", "events"):
        raise InputError("sample_size", "over", f"{over!r}: use 'n' or 'events'")
    lo, hi = bounds
    if not 1 <= lo < hi:
        raise InputError("sample_size", "bounds", f"{bounds!r}: need 1 <= low < high")
    if step is None:
        step = design.block_size if over == "n" else 1
    if step < 1 or (over == "n" and step % design.block_size):
        raise InputError(
            "sample_size", "step", f"{step!r}: must be a positive multiple of the block size"
        )
    tests = ("logrank",) if test == "logrank" else (test,)
    evaluated: dict[int, dict] = {}

    def at(size: int) -> TrialDesign:
        if over == "events":
            return design.with_(target_events=min(size, design.n))
        d = design.with_(n=size)
        if d.target_events is not None and d.target_events > size:
            d = d.with_(target_events=size)
        return d

    def power(size: int) -> float:
        if size not in evaluated:
            sim = simulate_trials(
                model,
                at(size),
                n_replicates,
                seed=seed,
                tests=tests,
                executor=executor,
                progress=progress,
            )
            s = sim.summary.loc[test]
            evaluated[size] = {
                "size": size,
                "power": float(s["power"]),
                "mc_se": float(s["mc_se"]),
                "mean_events": float(s["mean_events"]),
                "mean_screened": float(s["mean_screened"]),
            }
        return evaluated[size]["power"]

    def snap(size: float) -> int:
        return max(step, math.ceil(size / step) * step)

    lo, hi = snap(lo), snap(hi)
    if over == "events":
        hi = min(hi, design.n)
    while power(hi) < target:
        if over == "events" or hi >= 16 * bounds[1]:
            raise InputError(
                "sample_size",
                "bounds",
                f"power {power(hi):.3f} < {target} at the largest size tried ({hi})",
            )
        lo, hi = hi, 2 * hi
    if power(lo) >= target:
        hi = lo
    while hi - lo > step:
        mid = snap((lo + hi) / 2)
        if mid >= hi:
            mid = hi - step
        if power(mid) >= target:
            hi = mid
        else:
            lo = mid
    table = pd.DataFrame(sorted(evaluated.values(), key=lambda e: e["size"]))
    best = evaluated[hi]
    return SampleSizeResult(
        n=hi,
        power=best["power"],
        mc_se=best["mc_se"],
        target=target,
        test=test,
        over=over,
        evaluations=table,
        design=at(hi),
    )


def schoenfeld_events(
    hazard_ratio: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    allocation: tuple[int, int] = (1, 1),
) -> float:
    """Events needed by a two-sided log-rank test (Schoenfeld 1983).

    D = (z_{1-alpha/2} + z_{power})**2 / (q (1 - q) log(HR)**2) with q the treatment share;
    4 (z_{1-alpha/2} + z_{power})**2 / log(HR)**2 for 1:1.

    Examples
    --------
    >>> round(schoenfeld_events(0.7), 1)
    246.8
    """
    if not (hazard_ratio > 0 and hazard_ratio != 1):
        raise InputError("schoenfeld_events", "hazard_ratio", "must be positive and not 1")
    q = allocation[0] / sum(allocation)
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float(z**2 / (q * (1 - q) * math.log(hazard_ratio) ** 2))


def schoenfeld_power(
    events: float, hazard_ratio: float, *, alpha: float = 0.05, allocation: tuple[int, int] = (1, 1)
) -> float:
    """Approximate power of the two-sided log-rank test with ``events`` deaths (Schoenfeld)."""
    q = allocation[0] / sum(allocation)
    drift = math.sqrt(events * q * (1 - q)) * abs(math.log(hazard_ratio))
    return float(stats.norm.cdf(drift - stats.norm.ppf(1 - alpha / 2)))


def plot_power_curves(
    curves: pd.DataFrame, ax=None, *, targets: Sequence[float] = (0.8, 0.9), x: str = "n"
):
    """Power of each design's primary test against n, with ±2 Monte Carlo SE bars.

    Parameters
    ----------
    curves
        Output of :func:`power_curve`.
    ax
        Matplotlib Axes to draw on (a new figure if None).
    targets
        Powers drawn as dotted reference lines.
    x
        Column on the horizontal axis: ``"n"`` (patients randomised) or ``"mean_screened"``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    df = curves[curves["primary"]]
    for i, (name, d) in enumerate(df.groupby("design", sort=False)):
        d = d.sort_values(x)
        colour = SERIES[i % len(SERIES)]
        ax.errorbar(
            d[x],
            d["power"],
            yerr=2 * d["mc_se"],
            color=colour,
            marker="o",
            ms=4,
            capsize=2,
            label=f"{name} ({d['test'].iloc[0]})",
        )
    for t in targets:
        ax.axhline(t, color="0.5", ls=":", lw=1)
    xlabel = {"n": "patients randomised", "mean_screened": "patients screened (mean)"}
    ax.set_xlabel(xlabel.get(x, x))
    ax.set_ylabel("power (two-sided, simulated)")
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize="small")
    return ax
