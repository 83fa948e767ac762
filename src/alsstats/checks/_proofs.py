"""Proofs of infeasibility: figures that no cohort can meet jointly, by exact arithmetic.

Three kinds, all decided without any search:

* counts: deaths per arm and in total, survivors at the landmark (number or share) and the
  split of deaths between arms are all functions of the integer pair (deaths treatment,
  deaths control). Every pair is enumerated; figures no pair meets jointly are a proof, and
  the smallest sets of such figures are named (:func:`count_proof`).
* the overall hazard ratio's reach: with the deaths per arm fixed, a Cox HR lies between its
  values for the two extreme orders of death (every treatment death first, every control
  death first); a reported HR outside that range conflicts with the counts
  (:func:`overall_hr_reach`).
* the width of the overall hazard ratio's CI: with d_t and d_c deaths, a Cox fit of one
  binary covariate has SE(log HR) >= sqrt(1/d_t + 1/d_c) whatever the times
  (:func:`cox_se_floor`); a Wald CI narrower than that conflicts with the death counts.

:func:`alsstats.checks.check_summary` runs them (checks ``counts_jointly``,
``overall_hr_vs_counts`` and ``ci_width_vs_deaths``) and the reconstruction uses the same
functions, so a summary that passes ``check`` is never declared infeasible by ``rebuild`` for
one of these reasons.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from scipy import stats

from ..summary import Printed, ReportedSummary
from ..survival import fit_cox_batch
from ._inputs import _precision
from ._report import CheckResult, _row

__all__: list[str] = [
    "CountFigure",
    "count_figures",
    "count_proof",
    "cox_se_floor",
    "overall_hr_reach",
]


@dataclass(frozen=True)
class CountFigure:
    """A figure decided by the deaths per arm: ``statistic`` is deaths, alive_count,
    alive_proportion or death_share; ``arm`` None for both arms; ``rounds_to(x)`` says whether
    a value prints as the figure; ``weight`` < 1 for figures marked "conflicting"."""

    id: str
    statistic: str
    arm: str | None
    rounds_to: Callable[[float], bool]
    time: float | None = None
    weight: float = 1.0


# Above this many (deaths treatment, deaths control) pairs meeting the counts, the overall HR's
# reach is not worth computing (the split is open; any plausible HR is reachable).
MAX_PAIRS = 400


def _decimals(value: float) -> int:
    return max(0, -int(Decimal(repr(float(value))).as_tuple().exponent))


def _share_digits(figure: Any, name: str, value: float) -> int:
    """Decimals a share prints with: its printed form's (version 2: "0.60", "58%"), else at
    least 2 (a bare YAML number drops trailing zeros), as the reconstruction's targets read
    it."""
    form = (getattr(figure, "printed", None) or {}).get(name)
    if isinstance(form, Printed) and not form.bare and form.decimals is not None:
        return form.decimals + (2 if form.percent else 0)
    return max(2, _decimals(value))


def _printed(value: float, digits: int | None) -> Callable[[float], bool]:
    if digits is None:
        return lambda x: bool(np.isfinite(x)) and round(float(x)) == round(value)
    want = f"{value:.{digits}f}"
    return lambda x: bool(np.isfinite(x)) and f"{x:.{digits}f}" == want


def count_figures(summary: ReportedSummary) -> list[CountFigure]:
    """The summary's count-type figures (superseded ones left out; conflicting ones weighted
    0.5), read at their printed precision (shares at 2 decimals at least, counts exact)."""
    arms = {a.id for a in summary.arms}
    out: list[CountFigure] = []

    def arm_of(a: str) -> str | None:
        return a if a in arms else None

    def weight(f: Any) -> float:
        return 0.5 if getattr(f, "status", "") == "conflicting" else 1.0

    live = [
        f
        for f in summary.events
        if getattr(f, "status", "") != "superseded"
        and getattr(getattr(f, "population", None), "kind", "all") == "all"
    ]
    for e in live:
        out.append(
            CountFigure(e.id, "deaths", arm_of(e.arm), _printed(e.value, None), None, weight(e))
        )
    for s in summary.survival:
        if getattr(s, "status", "") == "superseded":
            continue
        if s.count is not None:
            out.append(
                CountFigure(
                    s.id, "alive_count", arm_of(s.arm), _printed(s.count, None), s.time, weight(s)
                )
            )
        if s.proportion is not None:
            d = _share_digits(s, "proportion", s.proportion)
            ident = f"{s.id}.proportion" if s.count is not None else s.id
            out.append(
                CountFigure(
                    ident,
                    "alive_proportion",
                    arm_of(s.arm),
                    _printed(s.proportion, d),
                    s.time,
                    weight(s),
                )
            )
    for es in summary.event_shares:
        if getattr(es, "status", "") == "superseded":
            continue
        for arm, share in es.shares.items():
            d = _share_digits(es, f"shares.{arm}", share)
            out.append(
                CountFigure(
                    f"{es.id}.{arm}", "death_share", arm, _printed(share, d), None, weight(es)
                )
            )
    return out


def _count_ok(
    f: CountFigure,
    d_t: np.ndarray,
    d_c: np.ndarray,
    n: tuple[int, int],
    arms: tuple[str, str],
    landmark: float,
) -> np.ndarray | None:
    trt, ctl = arms
    deaths = {trt: d_t, ctl: d_c, None: d_t + d_c}
    size = {trt: n[0], ctl: n[1], None: n[0] + n[1]}

    def test(values: np.ndarray) -> np.ndarray:
        # each distinct value once (the grid of pairs repeats them many times)
        uniq, inverse = np.unique(values, return_inverse=True)
        return np.array([f.rounds_to(float(v)) for v in uniq], bool)[inverse].reshape(values.shape)

    if f.statistic == "deaths":
        return test(deaths[f.arm])
    if f.statistic in ("alive_count", "alive_proportion"):
        if f.time is not None and f.time < landmark:
            return None  # depends on when patients died, not on the counts alone
        alive = size[f.arm] - deaths[f.arm]
        return test(alive if f.statistic == "alive_count" else alive / size[f.arm])
    if f.statistic == "death_share":
        total = d_t + d_c
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, deaths[f.arm] / np.maximum(total, 1), np.nan)
        return test(share)
    return None


def count_proof(
    figures: Iterable[CountFigure], n: tuple[int, int], arms: tuple[str, str], landmark: float
) -> tuple[list[list[str]], np.ndarray]:
    """The smallest sets of count figures no (deaths treatment, deaths control) pair meets.

    Parameters
    ----------
    figures
        Count-type figures (:func:`count_figures`).
    n
        Patients per arm (treatment, control).
    arms
        Arm ids (treatment, control).
    landmark
        The landmark time: survival figures at earlier times are left out.

    Returns
    -------
    conflicts, pairs
        The minimal infeasible subsets (each a list of figure ids; empty when the counts are
        consistent) and the (k, 2) pairs that meet every figure; when none does, the pairs
        that violate the least figure weight.
    """
    d_t, d_c = np.meshgrid(np.arange(n[0] + 1), np.arange(n[1] + 1), indexing="ij")
    d_t, d_c = d_t.ravel(), d_c.ravel()
    ids, cols, weights = [], [], []
    for f in figures:
        ok = _count_ok(f, d_t, d_c, n, arms, landmark)
        if ok is not None:
            ids.append(f.id)
            cols.append(np.asarray(ok, bool))
            weights.append(f.weight)
    ok = np.column_stack(cols) if cols else np.ones((d_t.size, 0), bool)
    bad = (~ok).astype(float) @ np.array(weights) if ids else np.zeros(d_t.size)
    least = bad <= bad.min() + 1e-12
    pairs = np.column_stack([d_t[least], d_c[least]])
    if ok.all(axis=1).any():
        return [], pairs
    minimal: list[set[int]] = []
    for size in range(1, len(ids) + 1):
        for subset in itertools.combinations(range(len(ids)), size):
            if any(m <= set(subset) for m in minimal):
                continue
            if not ok[:, list(subset)].all(axis=1).any():
                minimal.append(set(subset))
    return [[ids[i] for i in sorted(m)] for m in minimal], pairs


def overall_hr_reach(
    n: tuple[int, int], pairs: np.ndarray, ties: str = "efron"
) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest Cox hazard ratio (treatment vs control) that any order of deaths
    gives, for each (deaths treatment, deaths control) row of ``pairs``, everyone else
    followed to the landmark.

    The extremes are the two orders with every death of one arm before every death of the
    other: the partial likelihood's treatment score only grows as a treatment death moves
    after a control death. A pair with no deaths in an arm has no finite HR on that side
    (0 or infinity)."""
    pairs = np.atleast_2d(np.asarray(pairs, int))
    m = n[0] + n[1]
    trt = np.r_[np.ones(n[0]), np.zeros(n[1])]
    idx = np.r_[np.arange(n[0]), np.arange(n[1])]
    death = np.concatenate(
        [np.arange(n[0])[None, :] < pairs[:, :1], np.arange(n[1])[None, :] < pairs[:, 1:]], axis=1
    )
    first = np.where(trt == 1, 0.0, 1.0)
    end = 2.0 * m + 2.0  # after every death
    t_first = np.where(death, 1 + first * m + idx, end)  # every treatment death first
    c_first = np.where(death, 1 + (1 - first) * m + idx, end)
    time = np.concatenate([t_first, c_first])
    dd = np.concatenate([death, death])
    res = fit_cox_batch(time, dd, np.broadcast_to(trt[None, :, None], (*time.shape, 1)), ties=ties)
    k = pairs.shape[0]
    coef = res.coef[:, 0]
    # a fit that does not converge (monotone likelihood: one arm's deaths all first, or an
    # arm without deaths) bounds nothing: that side of the reach is open
    a = np.where(res.ok[:k], np.exp(coef[:k]), np.inf)  # treatment deaths first: the highest
    b = np.where(res.ok[k:], np.exp(coef[k:]), 0.0)  # control deaths first: the lowest
    lo, hi = np.fmin(a, b), np.fmax(a, b)
    # one arm without deaths: the HR runs off to 0 or infinity
    lo = np.where((pairs[:, 0] == 0) | ~np.isfinite(lo), 0.0, lo)
    hi = np.where((pairs[:, 1] == 0) | ~np.isfinite(hi), np.inf, hi)
    return lo, hi


def cox_se_floor(d_t: int, d_c: int) -> float:
    """The smallest SE(log HR) of a Cox fit with one binary covariate (treatment) and d_t
    and d_c deaths in the two arms, whatever the death and censoring times.

    With p_j the treated share of the (weighted) risk set at the j-th of the d = d_t + d_c
    deaths, the information is sum p_j (1 - p_j) (Breslow; Efron's tied sets give the same
    form over their d slots). At the estimate the score is zero, so sum p_j = d_t, and by
    Cauchy-Schwarz sum p_j^2 >= d_t^2 / d: the information is at most d_t - d_t^2 / d =
    d_t d_c / d, and SE = information^(-1/2) >= sqrt(1/d_t + 1/d_c). An arm without deaths
    gives no finite estimate (infinity).

    >>> round(cox_se_floor(5, 14), 4)
    0.5207
    """
    if d_t < 1 or d_c < 1:
        return math.inf
    return math.sqrt(1.0 / d_t + 1.0 / d_c)


def _arm_deaths(s: ReportedSummary, arm: str) -> tuple[int, str] | None:
    live = [e for e in s.events_in(arm) if e.status not in ("superseded", "conflicting")]
    return (int(live[0].value), live[0].id) if live else None


def _check_ci_width_vs_deaths(s: ReportedSummary) -> list[CheckResult]:
    """An unadjusted Cox HR's Wald CI at least as wide as the death counts force."""
    rows = []
    t_arm, c_arm = s.treatment_arm, s.control_arm
    d_t, d_c = _arm_deaths(s, t_arm.id), _arm_deaths(s, c_arm.id)
    if d_t is None or d_c is None:
        return rows
    floor = cox_se_floor(d_t[0], d_c[0])
    for hr in s.hazard_ratios:
        model = hr.model or {}
        if (
            hr.status in ("superseded", "conflicting")
            or hr.population.kind != "all"
            or hr.ci is None
            or hr.comparison != {"treatment": t_arm.id, "control": c_arm.id}
            or model.get("adjusted", False)
            or model.get("method", "cox") != "cox"
        ):
            continue
        z = float(stats.norm.ppf((1 + hr.level) / 2))
        lo, hi = hr.interval("ci[0]"), hr.interval("ci[1]")
        se_max = math.log(hi[1] / max(lo[0], 1e-300)) / (2 * z)  # widest the print allows
        ok = se_max >= floor
        text = (
            f"{d_t[0]} and {d_c[0]} deaths: any Cox fit has SE(log HR) >= "
            f"sqrt(1/{d_t[0]} + 1/{d_c[0]}) = {floor:.3f}; the printed {hr.level:.0%} CI "
            f"allows at most {se_max:.3f}"
        )
        if not ok:
            text += (
                ": not a Wald CI of a Cox fit with these deaths (another method, such as a "
                "log-rank based CI, or other counts)"
            )
        rows.append(
            _row(
                "ci_width_vs_deaths",
                [hr.id, d_t[1], d_c[1]],
                f"SE <= {se_max:.3f}",
                f"SE >= {floor:.3f}",
                ok,
                text,
                precision=_precision(hr, "ci[0]", "ci[1]"),
            )
        )
    return rows


def _landmark(s: ReportedSummary) -> float | None:
    fig = s.follow_up.get("landmark") if isinstance(s.follow_up, dict) else None
    return None if fig is None else float(fig.value)


def _check_count_proofs(s: ReportedSummary) -> list[CheckResult]:
    """Counts jointly feasible (exact enumeration), and the overall HR within their reach."""
    landmark = _landmark(s)
    if landmark is None:
        return []
    trt, ctl = s.treatment_arm.id, s.control_arm.id
    n = (int(s.treatment_arm.n.value), int(s.control_arm.n.value))
    figures = [f for f in count_figures(s) if f.weight == 1.0]
    if len(s.arms) > 2:
        # several arms: the primary pair's own counts (a count of the whole trial or of
        # another arm is not one of this pair's)
        figures = [f for f in figures if f.arm in (trt, ctl)]
    conflicts, pairs = count_proof(figures, n, (trt, ctl), landmark)
    pair = (int(pairs[0, 0]), int(pairs[0, 1]))
    inputs = [f.id for f in figures]
    rows = []
    if conflicts:
        sets = "; ".join(" with ".join(c) for c in conflicts)
        text = f"no (deaths {trt}, deaths {ctl}) pair meets these figures together: {sets}"
        rows.append(_row("counts_jointly", inputs, "no pair", "a pair", False, text))
        return rows
    if inputs:
        text = f"deaths {pair[0]} ({trt}) and {pair[1]} ({ctl}) meet every count figure"
        if len(pairs) > 1:
            text = f"{len(pairs)} (deaths {trt}, deaths {ctl}) pairs meet every count figure"
        rows.append(_row("counts_jointly", inputs, f"{len(pairs)} pairs", "a pair", True, text))
    if len(pairs) > MAX_PAIRS:
        return rows  # the counts leave the split open: the HR constrains nothing here
    for hr in s.hazard_ratios:
        pop = hr.population
        if getattr(hr, "status", "") in ("superseded", "conflicting") or pop.kind != "all":
            continue
        if hr.comparison != {"treatment": trt, "control": ctl}:
            continue  # another pair's HR (several arms): these counts are the primary pair's
        if (hr.model or {}).get("adjusted", False):
            continue
        lows, highs = overall_hr_reach(n, pairs)
        lo, hi = float(lows.min()), float(highs.max())
        # the printed HR stands for an interval; it must overlap the reach of some pair
        d = max(2, _decimals(hr.value))
        h_lo, h_hi = hr.value - 0.5 * 10.0**-d, hr.value + 0.5 * 10.0**-d
        ok = bool(np.any((lows < h_hi) & (h_lo < highs)))
        text = (
            f"with the deaths per arm the counts allow, any order of deaths gives an HR in "
            f"{lo:.3g} to {hi:.3g}; reported {hr.value:g}"
        )
        rows.append(
            _row(
                "overall_hr_vs_counts",
                [hr.id, *inputs],
                f"{hr.value:g}",
                f"{lo:.3g} to {hi:.3g}",
                ok,
                text,
            )
        )
    return rows
