"""What the search scores: the cohort's Cox fits as target statistics, the objective with its
per-figure margins, and the (log HR, SE) window where a figure's HR, CI and p hold together."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..survival import fit_cox_batch, logrank_batch
from ._calibrate import BiomarkerGroup, Target, _is_interaction_term, _term_at
from ._joint import JOINT_P, joint_interaction_p
from ._km_landmark import SURVIVAL_CI, KmAt, KmBatch, km_at, survival_ci
from ._medians import LOG_RANK, UNKNOWN, closest_p, median_for

__all__: list[str] = ["ACCEPT_MARGIN", "MARGIN", "meets", "reconstructed_values"]

# Fraction of the rounding half-width a statistic must stay inside, so that fits that differ
# in the last digits (another engine, another platform) round the same way.
MARGIN = 0.9

# Figures whose estimate, CI and p leave no joint room at MARGIN get the smallest margin in
# _WIDER_MARGINS that does (found by _subgroup_windows; kept in Design.margins by target id).
_WIDER_MARGINS = (0.95, 0.99, 0.999)

_Z = {0.95: stats.norm.ppf(0.975)}

# The acceptance rule. A figure is met when the cohort's value prints as reported AND lies
# inside ACCEPT_MARGIN of the rounding half-width, so that an independent Cox engine run to
# tight convergence prints the same figure. Measured on the validation family's trials
# (fit_cox_batch at tol 1e-10 against itself at 1e-14 and lifelines at precision 1e-14,
# treatment-only and interaction models): log HRs agree to ~1e-11 and SEs to ~1e-12
# relative, while 1 - ACCEPT_MARGIN is 5e-6 of an HR printed to 2 decimals (1e-6 relative at
# HR 5): a safety factor above 1e4. (lifelines at its precision 1e-10 stops early on
# interaction models, log HRs off by up to 1e-5: refit with precision 1e-14.) MARGIN is the
# search's preference only: the objective pulls every figure inside it, and a search stalled
# PATIENCE steps on an accepted cohort stops there (the truth itself may meet a figure only
# at 0.97 of a half-width when the cells pin the SE).
ACCEPT_MARGIN = 0.999

# The statistics of Cox fits: the only ones whose value depends on an engine's convergence
# (counts, shares and medians are counted exactly).
COX_STATISTICS = ("hr", "hr_ci_lower", "hr_ci_upper", "hr_p")


@dataclass(frozen=True)
class Design:
    """What the search needs to know about the cohort's models and targets."""

    targets: list[Target]  # search targets (statistics of Cox fits)
    groups: list[BiomarkerGroup]
    log_scale: bool
    x_unit: float  # biomarker divided by this inside fits (coefficients near 1)
    adjust: tuple[str, ...]  # extra covariates of the interaction model (age, male)
    ties: str
    level_z: float
    landmark: float
    # per-target margin where it differs from MARGIN (a value of the design, not module
    # state, so that rebuilds in one process may run concurrently)
    margins: Mapping[str, float] = field(default_factory=dict)
    trt_id: str | None = None  # the treatment arm's id (survival targets of one arm)
    ticks: float = 1.0  # search time steps per time unit of the summary
    column: str = "biomarker"  # the modifier's cohort column
    # a categorical modifier's categories (the search holds their codes 0..K-1, see
    # alsstats.reconstruct._modifier.CategoryCodes); empty for a continuous one
    categories: tuple[str, ...] = ()
    # A trial with several arms (alsstats.reconstruct._arms): the arm ids by the code the
    # search's ``trt`` column holds (0 the control, 1 the primary treatment arm, then the
    # others), and the two arms (treatment, control) each comparison's target is fitted on.
    # Empty for two arms, where ``trt`` is the treatment indicator itself.
    arms: tuple[str, ...] = ()
    pairs: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def covariates(self) -> tuple[str, ...]:
        """Covariates of any model: the interaction model's, then adjusted HRs'."""
        extra = [c for t in self.targets for c in t.population.get("adjust") or ()]
        return tuple(dict.fromkeys([*self.adjust, *extra]))


def _fit_key(t: Target, design: Design) -> tuple:
    """Which Cox model a target's statistic comes from (targets sharing a model share a fit)."""
    pop = t.population
    if t.model == "interaction":
        return ("interaction", _term_at(t, design.log_scale))
    return ("treatment", pop.get("lower"), pop.get("upper"), tuple(pop.get("adjust") or ()))


def _term_scale(t: Target, design: Design) -> tuple[int, float]:
    """(column, factor): a target's log HR is ``factor`` times the model's coefficient of
    ``column`` (the product term, per ``per`` modifier units, for an interaction term)."""
    if t.model == "interaction" and _is_interaction_term(t):
        per = float(t.population.get("per") or 1.0)
        return 2, per if design.log_scale else per / design.x_unit
    return 0, 1.0


def _is_survival(t: Target) -> bool:
    return t.statistic in ("alive_count", "alive_proportion", *SURVIVAL_CI)


def _ci_bound(t: Target, km: KmAt, default_z: float) -> np.ndarray:
    """The bound of a survival figure's CI that ``t`` targets, by the figure's method."""
    lower, upper = survival_ci(
        km.surv, km.greenwood, _level_z(t, default_z), t.population["ci_method"]
    )
    return lower if t.statistic == "survival_ci_lower" else upper


# Counts within a category the search keeps as targets (moves across groups change them).
CATEGORY_COUNTS = ("alive_count", "alive_proportion", "subgroup_size", "deaths")


def _is_category_count(t: Target) -> bool:
    return t.statistic in CATEGORY_COUNTS and t.population.get("category") is not None


def _in_range(x: np.ndarray, measured: np.ndarray, pop: Mapping) -> np.ndarray:
    """Patients whose modifier lies in a target's range (all when it has none)."""
    lo, hi = pop.get("lower"), pop.get("upper")
    if lo is None and hi is None:
        return np.ones(x.shape, bool)
    mask = measured.copy()
    if lo is not None:
        mask &= x >= lo
    if hi is not None:
        mask &= x < hi
    return mask


def _level_z(t: Target, default: float) -> float:
    """The normal quantile of a CI target's own level (a 90% CI is rebuilt as a 90% one)."""
    level = getattr(t, "level", None)
    if level is None or level == 0.95:
        return default
    return float(stats.norm.ppf((1 + level) / 2))


def _fit_stats(
    design: Design,
    trt: np.ndarray,
    time: np.ndarray,
    death: np.ndarray,
    modifier: np.ndarray,
    cov: dict[str, np.ndarray],
    targets: list[Target] | None = None,
    ticks: float | None = None,
) -> np.ndarray:
    """(R, k) values of the search targets for R candidate cohorts (times in ``ticks`` per
    time unit; the design's search grid by default)."""
    if design.arms:
        return _fit_arms(design, trt, time, death, modifier, cov, targets, ticks)
    ticks = design.ticks if ticks is None else ticks
    R, n = time.shape
    measured = np.isfinite(modifier)
    x = np.where(measured, modifier, 1.0)
    g = np.log(x) if design.log_scale else x / design.x_unit
    trt_b = np.broadcast_to(trt, (R, n)).astype(float)
    cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
    joint: dict[str | None, np.ndarray] = {}  # joint interaction p by test
    km_batch: list[KmBatch] = []  # the batch sorted once for every KM figure
    km_cache: dict[tuple, KmAt] = {}  # by (arm, range, time): a figure's S(t) and its CI

    def km(t: Target, sel: np.ndarray, when: float) -> KmAt:
        key = (t.arm, t.population.get("lower"), t.population.get("upper"), when)
        if key not in km_cache:
            if not km_batch:
                km_batch.append(KmBatch(time, death))
            km_cache[key] = km_batch[0].at(when, sel)
        return km_cache[key]

    def population_mask(t: Target) -> np.ndarray | None:
        pop = t.population
        if pop.get("lower") is None and pop.get("upper") is None:
            return None  # the whole trial: no mask
        return _in_range(x, measured, pop)

    def fit(key: tuple, column: int) -> tuple[np.ndarray, np.ndarray]:
        if (key, column) in cache:
            return cache[(key, column)]
        if key[0] == "interaction":
            at = key[1]
            shift = 0.0 if at is None else (np.log(at) if design.log_scale else at / design.x_unit)
            gc = g - shift
            cols = [trt_b, gc, trt_b * gc]
            cols += [np.broadcast_to(cov[c], (R, n)) for c in design.adjust]
            X = np.stack(cols, axis=-1)
            mask = measured
        else:
            lo, hi, adjust = key[1], key[2], key[3]
            X = trt_b[..., None]
            if adjust:
                cols = [trt_b] + [np.broadcast_to(cov[c], (R, n)) for c in adjust]
                X = np.stack(cols, axis=-1)
            mask = np.ones((R, n), bool)
            if lo is not None or hi is not None:
                mask = measured.copy()
                if lo is not None:
                    mask &= x >= lo
                if hi is not None:
                    mask &= x < hi
        res = fit_cox_batch(time, death, X, mask=mask, ties=design.ties)
        for k in {0, column}:
            coef = np.where(res.ok, res.coef[:, k], np.nan)
            se = np.where(res.ok, np.sqrt(np.abs(res.cov[:, k, k])), np.nan)
            cache[(key, k)] = (coef, se)
        return cache[(key, column)]

    targets = design.targets if targets is None else targets
    out = np.empty((R, len(targets)))
    for j, t in enumerate(targets):
        if _is_survival(t) or _is_category_count(t):
            arm = trt_b[0] == 1
            sel = np.ones(n, bool) if t.arm is None else arm == (t.arm == design.trt_id)
            # a category's patients (the modifier may move between them in the search)
            sel = sel[None, :] & _in_range(x, measured, t.population)
            if t.statistic == "subgroup_size":
                out[:, j] = sel.sum(axis=1)
                continue
            if t.statistic == "deaths":
                out[:, j] = ((death == 1) & sel).sum(axis=1)
                continue
            when = t.population.get("time", design.landmark) * ticks
            if t.statistic in SURVIVAL_CI:
                out[:, j] = _ci_bound(t, km(t, sel, when), design.level_z)
                continue
            alive = (((time > when) | ((time >= when) & (death == 0))) & sel).sum(axis=1)
            if t.statistic == "alive_count":
                out[:, j] = alive
                continue
            share = alive / sel.sum(axis=1)
            # censored before t (staggered entry): the printed figure is the KM estimate
            censored = ((death == 0) & (time < when) & sel).any(axis=1)
            if censored.any():
                share = np.where(censored, km(t, sel, when).surv, share)
            out[:, j] = share
            continue
        if t.statistic == "median":  # the arm's Kaplan-Meier median (see _medians)
            sel = trt_b[0] == (1.0 if t.arm == design.trt_id else 0.0)
            out[:, j] = median_for(t.value * ticks, time[:, sel], death[:, sel]) / ticks
            continue
        if t.statistic == JOINT_P:  # the joint test of the treatment x category terms
            if t.test not in joint:
                joint[t.test] = joint_interaction_p(
                    time, death, trt_b, modifier, len(design.categories), t.test,
                    ties=design.ties, adjust=[cov[c] for c in design.adjust],
                )  # fmt: skip
            out[:, j] = joint[t.test]
            continue
        column, factor = _term_scale(t, design)
        b, se = fit(_fit_key(t, design), column)
        b, se = b * factor, se * abs(factor)
        z = _level_z(t, design.level_z)
        with np.errstate(invalid="ignore", over="ignore"):
            if t.statistic == "hr":
                out[:, j] = np.exp(b)
            elif t.statistic == "hr_ci_lower":
                out[:, j] = np.exp(b - z * se)
            elif t.statistic == "hr_ci_upper":
                out[:, j] = np.exp(b + z * se)
            elif t.statistic == "hr_p":
                out[:, j] = 2.0 * stats.norm.sf(np.abs(b / se))
                if t.test in LOG_RANK or t.test in UNKNOWN:
                    lr = logrank_batch(time, death, trt_b, mask=population_mask(t)).p_value
                    # unknown test: the p holds when either test's p prints as reported
                    out[:, j] = lr if t.test in LOG_RANK else closest_p(t.value, out[:, j], lr)
    return out


def _fit_arms(
    design: Design,
    trt: np.ndarray,
    time: np.ndarray,
    death: np.ndarray,
    modifier: np.ndarray,
    cov: dict[str, np.ndarray],
    targets: list[Target] | None,
    ticks: float | None,
) -> np.ndarray:
    """:func:`_fit_stats` of a trial with several arms: each target on the rows of the two
    arms it compares (``trt`` holds arm codes, the same in every candidate: moves never move
    a patient between arms), with the treatment indicator of that pair. A figure of one arm
    (survivors, median) is read in the pair of that arm and the control; a figure of no arm
    (a count of the whole trial) on every row."""
    targets = design.targets if targets is None else targets
    R, n = time.shape
    codes = np.asarray(trt, float).reshape(-1, n)[0]
    index = {a: float(k) for k, a in enumerate(design.arms)}
    control, primary = design.arms[0], design.arms[1]
    by_pair: dict[tuple[str, str] | None, list[int]] = {}
    for j, t in enumerate(targets):
        pair = design.pairs.get(t.id)
        if pair is None and t.arm is not None:
            pair = (primary, control) if t.arm == control else (t.arm, control)
        by_pair.setdefault(pair, []).append(j)
    out = np.full((R, len(targets)), np.nan)
    for pair, js in by_pair.items():
        if pair is not None and any(targets[j].statistic == "subgroup_share" for j in js):
            # a subgroup's share printed with a comparison: of the two arms' patients (moves
            # of the modifier between arms change it)
            rows = np.flatnonzero((codes == index[pair[0]]) | (codes == index[pair[1]]))
            x = np.asarray(modifier, float)[..., rows].reshape(-1, rows.size)
            for j in [j for j in js if targets[j].statistic == "subgroup_share"]:
                inside = _in_range(
                    np.where(np.isfinite(x), x, 1.0), np.isfinite(x), targets[j].population
                )
                out[:, j] = np.broadcast_to(inside.mean(axis=1), (R,))
            js = [j for j in js if targets[j].statistic != "subgroup_share"]
            if not js:
                continue
        if pair is None:
            rows = np.arange(n)
            one = (codes == 1.0).astype(float)
            pair = (primary, control)
        else:
            rows = np.flatnonzero((codes == index[pair[0]]) | (codes == index[pair[1]]))
            one = (codes[rows] == index[pair[0]]).astype(float)
        sub = dataclasses.replace(design, arms=(), pairs={}, trt_id=pair[0])
        out[:, js] = _fit_stats(
            sub,
            one,
            time[:, rows],
            death[:, rows],
            np.asarray(modifier)[..., rows],
            {c: np.asarray(v)[..., rows] for c, v in cov.items()},
            [targets[j] for j in js],
            ticks,
        )
    return out


def _score(
    targets: list[Target], values: np.ndarray, margins: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Objective per candidate and whether every target holds with the margin."""
    centre = np.array([t.value for t in targets])
    # counts are exact: half a unit either side is the same integer
    half = np.array([t.half_width if t.half_width > 0 else 0.5 for t in targets])
    d = (values - centre) / half
    d = np.where(np.isfinite(d), d, 1e3)
    margin = np.array([margins.get(t.id, MARGIN) for t in targets])
    excess = np.maximum(np.abs(d) - margin, 0.0)
    return (100.0 * (excess + excess**2) + 0.01 * d**2).sum(axis=1), (np.abs(d) <= margin).all(
        axis=1
    )


def _accepted(targets: list[Target], values: np.ndarray) -> np.ndarray:
    """Whether every target holds within ACCEPT_MARGIN of its rounding half-width."""
    centre = np.array([t.value for t in targets])
    half = np.array([t.half_width if t.half_width > 0 else 0.5 for t in targets])
    d = np.abs((values - centre) / half)
    return np.where(np.isfinite(d), d, np.inf).max(axis=1, initial=0.0) <= ACCEPT_MARGIN


def meets(t: Target, value: float) -> bool:
    """The acceptance rule for one figure: ``value`` prints as reported and, for a statistic
    of a Cox fit, lies inside ACCEPT_MARGIN of the rounding half-width (see ACCEPT_MARGIN)."""
    if not t.rounds_to(value):
        return False
    if t.statistic not in COX_STATISTICS or t.half_width <= 0:
        return True
    return abs(value - t.value) <= ACCEPT_MARGIN * t.half_width


def _window(targets: list[Target], margin: float = MARGIN) -> tuple[float, float] | None:
    """Centre of the (log HR, SE) region where every target of one figure holds with the
    margin (None: the figure has no CI or p, or no point meets them all)."""
    grid = _window_grid(targets, margin)
    if grid is None:
        return None
    b, se, ok = grid
    bb, ss = np.broadcast_to(b, ok.shape)[ok], np.broadcast_to(se, ok.shape)[ok]
    return float(bb.mean()), float(ss.mean())


def _se_room(targets: list[Target], margin: float = MARGIN) -> float | None:
    """Half the range of SEs (relative to the window's SE) that print as reported at the
    window's log HR: the region is a thin band when the CI is printed to 2 decimals, a few
    tenths of a percent of the SE (None: no window)."""
    centre = _window(targets, margin)
    if centre is None:  # a region too thin for the grid (see _exact_window), or none
        exact = _exact_window(targets, margin)
        return None if exact is None else exact[2]
    _, se, ok = _window_grid(targets, margin, at=centre[0], points=60001) or (None, None, None)
    if ok is None or not ok.any():
        return 0.0
    inside = se[0, ok[0]]
    return float((inside.max() - inside.min()) / 2 / centre[1])


def _window_grid(
    targets: list[Target],
    margin: float = MARGIN,
    at: float | None = None,
    points: int = 601,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(log HR column, SE row, where every target holds) on a grid around the figure (at
    the one log HR ``at``, if given)."""
    targets = _wald_figures(targets)
    hr = next((t for t in targets if t.statistic == "hr"), None)
    if hr is None or len(targets) == 1:
        return None
    b = np.linspace(math.log(hr.lower), math.log(hr.upper), 201)[:, None]
    if at is not None:
        b = np.array([[at]])
    lo = next((t for t in targets if t.statistic == "hr_ci_lower"), None)
    hi = next((t for t in targets if t.statistic == "hr_ci_upper"), None)
    p = next((t for t in targets if t.statistic == "hr_p"), None)
    z = _level_z(lo or hi or hr, float(_Z[0.95]))
    if lo is not None and hi is not None:
        se_c = (math.log(hi.value) - math.log(lo.value)) / (2 * z)
    else:
        se_c = abs(math.log(hr.value)) / float(stats.norm.isf(p.value / 2))
    se = np.linspace(0.7 * se_c, 1.3 * se_c, points)[None, :]
    stat = {
        "hr": np.exp(b + 0 * se),
        "hr_ci_lower": np.exp(b - z * se),
        "hr_ci_upper": np.exp(b + z * se),
        "hr_p": 2 * stats.norm.sf(np.abs(b / se)),
    }
    ok = np.ones((b.size, se.size), bool)
    for t in targets:
        ok &= np.abs(stat[t.statistic] - t.value) <= margin * t.half_width
    if not ok.any():
        return None
    return b, se, ok


def _exact_window(
    targets: list[Target], margin: float = MARGIN
) -> tuple[float, float, float] | None:
    """(log HR, SE, relative SE room) at the middle of the region where every target of one
    figure holds with the margin, found exactly (None: the region is empty).

    At a fixed log HR b each figure bounds the SE by a line in b: the CI's lower bound
    ``exp(b - z se)`` and upper bound ``exp(b + z se)`` through log(bound) -+ b, the p through
    |b| / z_p, the estimate bounds b itself. The region is empty exactly when, on either side
    of b = 0, some lower line exceeds some upper line everywhere, so pairs of lines give the
    interval of b (a grid can step over the region: a CI bound like 2685.33 printed to 2
    decimals leaves a band 4e-6 wide in log units)."""
    targets = _wald_figures(targets)
    hr = next((t for t in targets if t.statistic == "hr"), None)
    if hr is None or len(targets) == 1:
        return None
    z = _level_z(next((t for t in targets if t.statistic.startswith("hr_ci")), hr), float(_Z[0.95]))

    def interval(t: Target) -> tuple[float, float]:
        return t.value - margin * t.half_width, t.value + margin * t.half_width

    def log(x: float) -> float:
        return math.log(x) if x > 0 else -math.inf

    lo_hr, hi_hr = interval(hr)
    b_range = (log(lo_hr), log(hi_hr))
    best = None
    for sign in (1.0, -1.0):  # b >= 0, then b <= 0 (the p bounds use |b| = sign * b)
        b_lo = max(b_range[0], 0.0) if sign > 0 else b_range[0]
        b_hi = b_range[1] if sign > 0 else min(b_range[1], 0.0)
        lower: list[tuple[float, float]] = [(0.0, 0.0)]  # se >= c + slope * b
        upper: list[tuple[float, float]] = []  # se <= c + slope * b
        for t in targets:
            a, c = interval(t)
            if t.statistic == "hr_ci_lower":  # b - z se in [log a, log c]
                lower.append((-log(c) / z, 1 / z))
                if a > 0:
                    upper.append((-log(a) / z, 1 / z))
            elif t.statistic == "hr_ci_upper":  # b + z se in [log a, log c]
                if a > 0:
                    lower.append((log(a) / z, -1 / z))
                upper.append((log(c) / z, -1 / z))
            elif t.statistic == "hr_p":  # |b| / se in [isf(c / 2), isf(a / 2)]
                z_lo = float(stats.norm.isf(min(c, 1.0) / 2))
                z_hi = float(stats.norm.isf(a / 2)) if a > 0 else math.inf
                if math.isfinite(z_hi):
                    lower.append((0.0, sign / z_hi))
                if z_lo > 0:
                    upper.append((0.0, sign / z_lo))
        for c_l, s_l in lower:
            for c_u, s_u in upper:
                slope, room = s_l - s_u, c_u - c_l  # need slope * b <= room
                if slope > 0:
                    b_hi = min(b_hi, room / slope)
                elif slope < 0:
                    b_lo = max(b_lo, room / slope)
                elif room < 0:
                    b_lo = math.inf
        if not (b_lo <= b_hi and math.isfinite(b_lo) and math.isfinite(b_hi)):
            continue
        b = 0.5 * (b_lo + b_hi)
        se_lo = max(c + k * b for c, k in lower)
        se_hi = min((c + k * b for c, k in upper), default=math.inf)
        if not (se_lo <= se_hi and math.isfinite(se_hi) and se_hi > 0):
            continue
        se = 0.5 * (se_lo + se_hi)
        width = b_hi - b_lo
        if best is None or width > best[0]:
            best = (width, b, se, (se_hi - se_lo) / 2 / se)
    return None if best is None else best[1:]


def _wald_figures(targets: list[Target]) -> list[Target]:
    """The targets that are functions of (log HR, SE): a p from the log-rank test (or an
    unnamed one) is not."""
    return [t for t in targets if not (t.test in LOG_RANK or t.test in UNKNOWN)]


def _subgroup_windows(
    design: Design,
) -> tuple[dict[int, tuple[float, float]], list[str], dict[str, float]]:
    """(log HR, SE) windows of the subgroup figures that are one biomarker group each, the
    ids of figures whose HR, CI and p cannot hold together at any (log HR, SE), and the wider
    margins of the figures that need one (by target id)."""
    windows: dict[int, tuple[float, float]] = {}
    inconsistent: list[str] = []
    margins: dict[str, float] = {}
    by_figure: dict[str, list[Target]] = {}
    for t in design.targets:
        if t.statistic.startswith("hr"):  # counts of a figure (by category) have no window
            by_figure.setdefault(t.figure, []).append(t)
    for ts in by_figure.values():
        # only hazard-ratio figures have a window (a survival count and its share do not)
        if len(_wald_figures(ts)) < 2 or not any(t.statistic == "hr" for t in ts):
            continue
        w = _window(ts)
        for m in _WIDER_MARGINS:
            if w is not None:
                break
            w = _window(ts, m)
            if w is not None:
                margins.update({t.id: m for t in ts})
        if w is None:
            # the grid steps over thin regions: before calling the figure inconsistent (a
            # proof), solve for the region exactly, at the search's margins and then at the
            # rounding itself (margin 1: empty there, no cohort can print the figure)
            for m in (MARGIN, *_WIDER_MARGINS, 1.0):
                exact = _exact_window(ts, m)
                if exact is not None:
                    w = exact[:2]
                    if m != MARGIN:
                        margins.update({t.id: min(m, ACCEPT_MARGIN) for t in ts})
                    break
        if w is None:
            inconsistent += [t.id for t in ts]
            continue
        pop = ts[0].population
        if ts[0].model != "treatment":
            continue
        for g, grp in enumerate(design.groups):
            if not grp.missing and (grp.lower, grp.upper) == (pop.get("lower"), pop.get("upper")):
                windows[g] = w
    return windows, inconsistent, margins


def _window_room(design: Design) -> dict[int, float]:
    """Per biomarker group with a window (:func:`_subgroup_windows`): the relative SE room of
    :func:`_se_room` at the margin the search holds the figure to."""
    windows = _subgroup_windows(design)[0]
    by_figure: dict[str, list[Target]] = {}
    for t in design.targets:
        by_figure.setdefault(t.figure, []).append(t)
    room: dict[int, float] = {}
    for ts in by_figure.values():
        pop = ts[0].population
        if len(ts) < 2 or ts[0].model != "treatment":
            continue
        for g, grp in enumerate(design.groups):
            if g in windows and (grp.lower, grp.upper) == (pop.get("lower"), pop.get("upper")):
                r = _se_room(ts, design.margins.get(ts[0].id, MARGIN))
                if r is not None:
                    room[g] = r
    return room


def reconstructed_values(
    cohort: pd.DataFrame, targets: list[Target], design: Design
) -> dict[str, float]:
    """Every target statistic computed from a cohort (counts by counting, HRs by the engine)."""
    out: dict[str, float] = {}
    if design.arms:
        # several arms: a subgroup's share printed with a comparison's hazard ratio is of the
        # two arms compared
        for t in targets:
            pair = design.pairs.get(t.id)
            if t.statistic == "subgroup_share" and pair is not None:
                part = cohort[cohort["arm"].astype(str).isin(pair)].reset_index(drop=True)
                solo = dataclasses.replace(design, arms=(), pairs={})
                out.update(reconstructed_values(part, [t], solo))
    n = len(cohort)
    landmark = design.landmark
    for t in targets:
        if t.id in out:
            continue
        sel = cohort if t.arm is None else cohort[cohort["arm"] == t.arm]
        category = t.population.get("category") if t.population else None
        if category is not None and t.statistic in (
            *CATEGORY_COUNTS,
            *SURVIVAL_CI,
            "subgroup_share",
        ):
            # the patients of one category: the column named by the modifier holds labels
            column = t.population.get("modifier")
            if column not in cohort.columns:
                out[t.id] = math.nan
                continue
            inside = cohort[column].astype(str) == str(category)
            if t.statistic == "subgroup_share":
                out[t.id] = float(inside.sum() / n)
                continue
            sel = sel[inside.loc[sel.index]]
            if t.statistic == "subgroup_size":
                out[t.id] = float(len(sel))
                continue
        if t.statistic == "arm_size":
            out[t.id] = float(len(sel))
        elif t.statistic == "deaths":
            out[t.id] = float(sel["death"].sum())
        elif _is_survival(t):
            out[t.id] = _survival_value(t, sel, t.population.get("time", landmark), design)
        elif t.statistic == "median":
            one = median_for(
                t.value,
                sel["time"].to_numpy(float)[None, :],
                sel["death"].to_numpy(np.int8)[None, :],
            )
            out[t.id] = float(one[0])
        elif t.statistic == "death_share":
            out[t.id] = float(sel["death"].sum() / cohort["death"].sum())
        elif t.statistic == "subgroup_share":
            x = _modifier_column(cohort, design)[0]
            lo, hi = t.population.get("lower"), t.population.get("upper")
            inside = np.isfinite(x)
            inside &= (x >= lo) if lo is not None else inside
            inside &= (x < hi) if hi is not None else inside
            out[t.id] = float(inside.sum() / n)
        elif t.statistic == "covariate_median":
            out[t.id] = float(cohort["age"].median())
        elif t.statistic == "covariate_proportion":
            out[t.id] = float(cohort["male"].mean())
    fits = [t for t in targets if t.id not in out]
    if fits:
        trt = cohort["treatment"].to_numpy(float)
        if design.arms:  # the search's arm codes
            index = {a: float(k) for k, a in enumerate(design.arms)}
            trt = cohort["arm"].astype(str).map(index).to_numpy(float)
        cov = {c: cohort[c].to_numpy(float) for c in design.covariates}
        vals = _fit_stats(
            design,
            trt,
            cohort["time"].to_numpy(float)[None, :],
            cohort["death"].to_numpy(np.int8)[None, :],
            _modifier_column(cohort, design),
            {c: v[None, :] for c, v in cov.items()},
            ticks=1.0,
        )
        lookup = {t.id: j for j, t in enumerate(design.targets)}
        for t in fits:
            out[t.id] = float(vals[0, lookup[t.id]]) if t.id in lookup else math.nan
    return out


def _survival_value(t: Target, sel: pd.DataFrame, when: float, design: Design) -> float:
    """A survival figure of one arm at ``when``: the number alive, the share alive (the
    Kaplan-Meier S(t) when anyone is censored before t) or a bound of S(t)'s CI."""
    time, death = sel["time"].to_numpy(float), sel["death"].to_numpy(np.int8)
    alive = float(((time >= when) & ~((death == 1) & (time <= when))).sum())
    if t.statistic == "alive_count":
        return alive
    if t.statistic == "alive_proportion" and not ((death == 0) & (time < when)).any():
        return alive / len(sel)
    km = km_at(time[None, :], death[None, :], when)
    if t.statistic == "alive_proportion":
        return float(km.surv[0])
    return float(_ci_bound(t, km, design.level_z)[0])


def _modifier_column(cohort: pd.DataFrame, design: Design) -> np.ndarray:
    """(1, n) modifier values of a cohort (NaN where unmeasured or when there is none)."""
    if design.column in cohort.columns:
        if design.categories:  # labels as the search's category codes
            index = {c: float(k) for k, c in enumerate(design.categories)}
            labels = cohort[design.column].astype(str)
            return np.array([index.get(v, np.nan) for v in labels], float)[None, :]
        return cohort[design.column].to_numpy(float)[None, :]
    return np.full((1, len(cohort)), np.nan)
