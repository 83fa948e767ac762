"""The start cohort: what is fixed before the search (:class:`Setup`), patients and deaths per
arm and biomarker group, pNFH and death days drawn from the calibrated model, covariates."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ..errors import ReconstructionError
from ..models import DataGeneratingModel, biomarker_cdf
from ..survival import fit_cox_batch
from ._calibrate import BiomarkerGroup, Target
from ._counts import _integer_count, _largest_remainder

__all__: list[str] = []

# Cohort column of a randomisation stratum named in the assumption
# ``randomisation_strata_shares`` (others keep their name).
STRATA_COLUMNS = {"site_of_onset": "onset"}


@dataclass
class Setup:
    """Everything fixed before the search: arms, groups, the model, the day sampler."""

    model: DataGeneratingModel
    groups: list[BiomarkerGroup]
    group_count: np.ndarray
    loq: float
    landmark: float
    trt_id: str
    ctl_id: str
    n_trt: int
    n_ctl: int
    ticks: float = 1.0  # search time steps per time unit (start death times are distinct)
    # Without a landmark (alsstats.reconstruct._follow_up): the earliest administrative
    # censoring step (survivors censored in [earliest, end]; None: all at the end), and
    # whether deaths per arm are free (no count figure fixes them)
    earliest: int | None = None
    free_deaths: bool = False
    # cells a categorical modifier's printed counts fix: (row, group) -> patients, deaths
    # (rows: treatment, control), see _fix_cells
    fixed_size: Mapping[tuple[int, int], int] | None = None
    fixed_dead: Mapping[tuple[int, int], int] | None = None
    # groups whose deaths per arm the "_free" moves leave alone (cells that fit their window)
    fixed_groups: frozenset[int] = frozenset()

    @property
    def end(self) -> int:
        """The landmark in time steps (survivors are censored there)."""
        return round(self.landmark * self.ticks)

    def bounds(self, g: int) -> tuple[float, float]:
        grp = self.groups[g]
        lo = self.loq if grp.lower is None else max(grp.lower, self.loq)
        return lo, (math.inf if grp.upper is None else grp.upper)

    def draw_modifier(
        self,
        g: int,
        rng: np.random.Generator,
        arm: int | None = None,
        death: int | None = None,
        size: int = 1,
    ) -> np.ndarray:
        """pNFH in group g, weighted by the model's chance of the patient's outcome."""
        if self.groups[g].missing:
            return np.full(size, np.nan)
        if self.groups[g].category is not None:  # a category: its code
            return np.full(size, float(g))
        lo, hi = self.bounds(g)
        bm = self.model.biomarker
        q_lo, q_hi = biomarker_cdf(bm, lo), biomarker_cdf(bm, None if math.isinf(hi) else hi)
        k = 400
        q = q_lo + (np.arange(k) + rng.random((size, 1))) / k * (q_hi - q_lo)
        x = np.asarray(bm.quantile(q), float)
        if arm is None:
            pick = rng.integers(0, k, size)
        else:
            risk = 1.0 - self.model.survival(np.array(self.landmark), np.full_like(x, arm), x)
            w = risk if death else 1.0 - risk
            w = w / w.sum(axis=1, keepdims=True)
            pick = (w.cumsum(axis=1) < rng.random((size, 1))).sum(axis=1).clip(0, k - 1)
        out = np.round(x[np.arange(size), pick], 1)
        return np.clip(out, lo + 0.1, hi - 0.1)

    def draw_day(self, arm: float, x: float, rng: np.random.Generator) -> int:
        """A death time (in steps) drawn from the model given death before the landmark."""
        x = self.model.biomarker.median if not np.isfinite(x) else x
        lp = float(self.model.linear_predictor(np.array(arm), np.array(x)))
        p_dead = 1.0 - math.exp(
            -float(self.model.baseline.cumulative_hazard(np.array(self.landmark))) * math.exp(lp)
        )
        u = rng.random() * p_dead
        t = float(
            self.model.baseline.inverse_cumulative_hazard(np.array(-math.log1p(-u) * math.exp(-lp)))
        )
        return int(min(max(math.ceil(t * self.ticks), 1), self.end - 1))


def _free_day(day: int, used: set[int], landmark: int) -> int:
    """The nearest day not yet used (deterministic: earlier day first on a tie)."""
    for step in range(landmark):
        for cand in (day - step, day + step):
            if 1 <= cand < landmark and cand not in used:
                return cand
    raise ReconstructionError(f"more deaths than time steps before the landmark ({landmark})")


def _se_cost(
    size: np.ndarray,
    g: int,
    dt: int,
    dc: int,
    window: tuple[float, float],
    rng: np.random.Generator,
    reps: int,
) -> float | None:
    """How far group g's SE, with dt and dc deaths, lands from its window's SE at the
    window's log HR (squared, in 1% of the SE); None when the HR is out of the pilot's reach.
    ``reps`` random orders drawn with the target HR give SE as a linear function of log HR."""
    b_star, se_star = window
    if not (1 <= dt <= size[0, g] and 1 <= dc <= size[1, g]):
        return None
    n = size[0, g] + size[1, g]
    trt = np.r_[np.ones(size[0, g]), np.zeros(size[1, g])]
    death = np.r_[np.arange(size[0, g]) < dt, np.arange(size[1, g]) < dc]
    t = rng.exponential(1.0, (reps, n)) / np.where(trt == 1, math.exp(b_star), 1.0)
    t = np.where(death, t, 1e9)
    res = fit_cox_batch(
        t,
        np.broadcast_to(death, t.shape),
        np.broadcast_to(trt[None, :, None], (reps, n, 1)),
    )
    b, se = res.coef[res.ok, 0], res.se[res.ok, 0]
    if b.size < 3 or not (b.min() <= b_star <= b.max()):
        return None
    slope, icpt = np.polyfit(b, se, 1)
    return float(((icpt + slope * b_star - se_star) / (0.01 * se_star)) ** 2)


SHIFTS = (-1, 1, -2, 2, -3, 3, -4, 4, -6, 6)


def _shift_split(
    size: np.ndarray,
    dead: np.ndarray,
    g: int,
    open_: list[int],
    pairs: list[tuple[int, int]],
    windows: Mapping[int, tuple[float, float]],
    last: int | None,
    room: list[int],
    reps: int,
    weights: Mapping[int, float] | None = None,
) -> tuple[tuple[int, int], float, np.ndarray] | None:
    """The best (pair, cost, sizes) with group g's split between arms moved by s patients
    (the largest open group takes the difference), or None (``weights``: of each group's SE
    cost, as in :func:`_pilot_cells`)."""
    w = weights or {}
    k = max(open_, key=lambda j: int(size[:, j].min()))
    rng = np.random.default_rng([int(size.sum()), g, 1 << 23])
    best = None
    for s in SHIFTS:
        new = size.copy()
        new[0, g] += s
        new[1, g] -= s
        new[0, k] -= s
        new[1, k] += s
        if (new < 0).any():
            continue
        cap = [new[a, open_].sum() for a in (0, 1)]
        for dt, dc in pairs:
            if not (0 <= room[0] - dt <= cap[0] and 0 <= room[1] - dc <= cap[1]):
                continue
            cost = _se_cost(new, g, dt, dc, windows[g], rng, reps)
            if cost is None:
                continue
            cost *= w.get(g, 1.0)
            cost += 0.01 * ((dt - dead[0, g]) ** 2 + (dc - dead[1, g]) ** 2) + 0.01 * s * s
            if last is not None:
                rest = _se_cost(new, last, room[0] - dt, room[1] - dc, windows[last], rng, reps)
                cost = math.inf if rest is None else cost + rest * w.get(last, 1.0)
            if best is None or cost < best[1]:
                best = ((dt, dc), cost, new)
    return best


def _pilot_cells(
    setup: Setup,
    size: np.ndarray,
    dead: np.ndarray,
    windows: Mapping[int, tuple[float, float]],
    rng: np.random.Generator,
    reps: int = 48,
    reach: int = 6,
    se_room: Mapping[int, float] | None = None,
) -> np.ndarray:
    """Deaths per arm in each group whose subgroup fit can reach the reported CI and p.

    The SE of a subgroup log HR is set mostly by its deaths per arm, its estimate by the order
    of deaths. For each pair (deaths treatment, deaths control) near the model's expectation,
    ``reps`` random orders drawn with the target HR give SE as a linear function of the log HR;
    the pair whose predicted SE at the target is closest to the window's centre is taken, the
    other groups sharing the remaining deaths by the model's risks. Given the cells, a
    subgroup's SE at its log HR hardly depends on the order of deaths: when the best pair's
    predicted SE is off the window by more than its ``se_room`` (relative SE, from
    :func:`alsstats.reconstruct._fits._window_room`) the group's split between arms is moved too.
    """
    dead = dead.copy()
    total = dead.sum(axis=1)
    order = list(windows)
    # an SE cost of 4 is 2% of the SE off the window's centre; with ``se_room`` a group's cost
    # is scaled so that 4 is the edge of its room (a CI printed to 2 decimals often leaves less)
    weights = {g: 4.0 / min(4.0, max((100 * r) ** 2, 1e-6)) for g, r in (se_room or {}).items()}
    non_window = [k for k in range(dead.shape[1]) if k not in windows]
    for step, (g, (_, se_star)) in enumerate(windows.items()):
        # groups whose deaths are not fixed yet absorb the rest, so deaths per arm never change
        open_ = non_window + order[step + 1 :]
        fixed = [k for k in range(dead.shape[1]) if k not in open_ and k != g]
        room = [total[a] - dead[a, fixed].sum() for a in (0, 1)]
        cap = [size[a, open_].sum() for a in (0, 1)]
        # pairs near the model's expectation, then near the deaths the window's SE implies
        # (1/d1 + 1/d0 = SE^2 at the model's split: the model does not know how deaths
        # spread over groups, the printed CI does)
        ratio = max(dead[0, g], 1) / max(dead[1, g], 1)
        d_c = (1 + 1 / ratio) / se_star**2
        implied = (round(ratio * d_c), round(d_c))
        centres = [(int(dead[0, g]), int(dead[1, g])), implied]
        pairs = _pairs_near(centres, size, g, room, cap, reach)
        if not open_:  # the last group takes what is left
            r0, r1 = int(room[0]), int(room[1])
            pairs = [(r0, r1)] if 0 <= r0 <= size[0, g] and 0 <= r1 <= size[1, g] else []
        # the last windowed group takes what this one leaves when no other group can: both
        # costs count (else the first group's choice may leave the last one no reachable SE)
        last = open_[0] if len(open_) == 1 and open_[0] in windows else None
        rng_last = np.random.default_rng([int(size.sum()), g, 1 << 22])
        best, best_cost = _cheapest(
            pairs, size, dead, g, windows, last, room, (rng, rng_last), reps, weights
        )
        if (best is None or best_cost > 4.0) and open_:
            # Nothing fits near the model's split of the group's deaths between arms. With
            # most patients alive at the end, the printed HR fixes that split (deaths per
            # arm over time at risk) and the CI their number: pairs there win when they
            # halve the cost. They are scored on streams of their own, so that where they
            # do not win the cells are what they were without them.
            near_hr = _pairs_near([_hr_implied(size, g, windows[g])], size, g, room, cap, reach)
            extra = [p for p in near_hr if p not in pairs]
            streams = tuple(
                np.random.default_rng([int(size.sum()), g, k]) for k in (1 << 25, 1 << 27)
            )
            found, found_cost = _cheapest(
                extra, size, dead, g, windows, last, room, streams, reps, weights
            )
            if found is not None and found_cost < FALLBACK_GAIN * best_cost:
                best, best_cost, pairs = found, found_cost, extra
        if (best is None or best_cost > 4.0) and open_:
            # no pair fits at the proportional split of the group between arms (which no
            # figure fixes): try moving up to SHIFTS patients of each arm to an open group
            shifted = _shift_split(size, dead, g, open_, pairs, windows, last, room, reps, weights)
            if shifted is not None and shifted[1] < best_cost:
                size[:], best, best_cost = shifted[2], shifted[0], shifted[1]
        if best is None:
            if not open_:  # keep the per-arm totals whatever the pilot says
                dead[:, g] = [max(int(room[0]), 0), max(int(room[1]), 0)]
            continue
        dead[:, g] = best
        for a in (0, 1):
            if open_:
                left = total[a] - dead[a, [k for k in range(dead.shape[1]) if k not in open_]].sum()
                dead[a, open_] = _largest_remainder(
                    np.maximum(dead[a, open_], 0.01), int(left), size[a, open_]
                )
    return dead


# The pilot's fallback pairs (implied by a group's printed HR and CI) replace the model's best
# pair only when their SE cost is at most this share of it.
FALLBACK_GAIN = 0.5


def _cheapest(
    pairs: list[tuple[int, int]],
    size: np.ndarray,
    dead: np.ndarray,
    g: int,
    windows: Mapping[int, tuple[float, float]],
    last: int | None,
    room: list[int],
    streams: tuple[np.random.Generator, np.random.Generator],
    reps: int,
    weights: Mapping[int, float],
) -> tuple[tuple[int, int] | None, float]:
    """The pair of deaths of group g with the least SE cost (plus a small cost for moving from
    the model's pair, plus the last windowed group's cost of what it leaves), and the cost."""
    best, best_cost = None, math.inf
    for dt, dc in pairs:
        cost = _se_cost(size, g, dt, dc, windows[g], streams[0], reps)
        if cost is None:
            continue
        cost *= weights.get(g, 1.0)
        cost += 0.01 * ((dt - dead[0, g]) ** 2 + (dc - dead[1, g]) ** 2)
        if last is not None:
            rest = _se_cost(size, last, room[0] - dt, room[1] - dc, windows[last], streams[1], reps)
            cost = math.inf if rest is None else cost + rest * weights.get(last, 1.0)
        if cost < best_cost:
            best, best_cost = (dt, dc), cost
    return best, best_cost


def _pairs_near(
    centres: list[tuple[int, int]],
    size: np.ndarray,
    g: int,
    room: list[int],
    cap: list[int],
    reach: int,
) -> list[tuple[int, int]]:
    """Deaths (treatment, control) of group g within ``reach`` of any centre that fit the
    group and leave the open groups a possible rest (``room`` to share, ``cap`` patients)."""
    return list(
        dict.fromkeys(
            (dt, dc)
            for c_t, c_c in centres
            for dt in range(max(1, c_t - reach), c_t + reach + 1)
            for dc in range(max(1, c_c - reach), c_c + reach + 1)
            if dt <= size[0, g]
            and dc <= size[1, g]
            and 0 <= room[0] - dt <= cap[0]
            and 0 <= room[1] - dc <= cap[1]
        )
    )


def _hr_implied(
    size: np.ndarray, g: int, window: tuple[float, float], rounds: int = 4
) -> tuple[int, int]:
    """Deaths (treatment, control) in group g that give its window's log HR and SE when
    most patients are alive at the end: deaths per arm in the ratio HR x time at risk
    (deaths counted at half time), and 1/d_t + 1/d_c = SE^2."""
    b_star, se_star = window
    n_t, n_c = int(size[0, g]), int(size[1, g])
    d_t = d_c = 0.0
    for _ in range(rounds):  # a fixed point: time at risk depends on the deaths
        ratio = math.exp(b_star) * max(n_t - d_t / 2, 1.0) / max(n_c - d_c / 2, 1.0)
        d_c = min((1 + 1 / ratio) / se_star**2, n_c)
        d_t = min(ratio * d_c, n_t)
    return max(round(d_t), 1), max(round(d_c), 1)


def _perturb_cells(
    cells: tuple[np.ndarray, np.ndarray],
    windows: Mapping[int, tuple[float, float]],
    rng: np.random.Generator,
    keep: frozenset[int] = frozenset(),
) -> tuple[np.ndarray, np.ndarray]:
    """The pilot's cells with the deaths of each windowed group moved by up to one per arm
    (for restarts: the pilot's SE model is approximate), deaths per arm kept by moving the
    difference to other groups (non-windowed first). Groups in ``keep`` (whose cells already
    put the SE in its window) are left as they are."""
    size, dead = cells
    dead = dead.copy()
    groups = dead.shape[1]
    moved = [g for g in windows if g not in keep]
    for g in moved:
        for a in (0, 1):
            dead[a, g] = int(np.clip(dead[a, g] + rng.integers(-1, 2), 1, size[a, g]))
    target = cells[1].sum(axis=1)
    order = [k for k in range(groups) if k not in windows] + moved
    for a in (0, 1):
        for k in order * 2:
            excess = dead[a].sum() - target[a]
            if excess == 0:
                break
            if k in windows and excess != 0 and any(j not in windows for j in range(groups)):
                continue
            step = int(np.clip(-excess, -dead[a, k], size[a, k] - dead[a, k]))
            dead[a, k] += step
        if dead[a].sum() != target[a]:
            return cells  # no room to keep the deaths per arm: the pilot's cells
    return size, dead


def _fitting_groups(
    cells: tuple[np.ndarray, np.ndarray],
    windows: Mapping[int, tuple[float, float]],
    se_room: Mapping[int, float],
    seed: int,
) -> frozenset[int]:
    """Windowed groups whose cells give an SE (predicted as in :func:`_pilot_cells`) inside
    the window's room: their deaths per arm should not be perturbed."""
    size, dead = cells
    out = set()
    for g, w in windows.items():
        if g not in se_room:
            continue
        rng = np.random.default_rng([seed, g, 1 << 24])
        cost = _se_cost(size, g, int(dead[0, g]), int(dead[1, g]), w, rng, 48)
        if cost is not None and cost <= (100 * se_room[g]) ** 2:
            out.add(g)
    return frozenset(out)


def _floor_deaths(dead: np.ndarray, size: np.ndarray, floored: np.ndarray) -> np.ndarray:
    """Deaths per group of one arm, each group with a hazard ratio of its own (``floored``)
    at least half of what an equal risk in every group would give: the calibrated model's
    prognostic effect of the modifier is barely identified by hazard ratios, and a group
    left with a handful of deaths has too few orders of death to print its HR. Deaths move
    from the groups with the most above their floor; the arm's total is kept."""
    dead = dead.copy()
    total = int(dead.sum())
    floor = np.minimum(size, np.ceil(0.5 * size * total / max(int(size.sum()), 1))).astype(int)
    floor = np.where(floored, floor, 0)
    while (dead < floor).any():
        g = int(np.argmax(floor - dead))
        spare = dead - floor
        k = int(np.argmax(spare))
        if spare[k] <= 0:
            break
        dead[g] += 1
        dead[k] -= 1
    return dead


def _cells(
    setup: Setup,
    deaths: tuple[int, int],
    rng: np.random.Generator,
    windows: Mapping[int, tuple[float, float]] | None = None,
    floored: np.ndarray | None = None,
    se_room: Mapping[int, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Patients and deaths per arm (rows: treatment, control) and biomarker group
    (``floored``: groups with a hazard ratio of their own, see :func:`_floor_deaths`)."""
    if floored is None:
        floored = np.zeros(len(setup.groups), bool)
    n = setup.n_trt + setup.n_ctl
    size = np.zeros((2, len(setup.groups)), int)
    size[0] = _largest_remainder(
        setup.group_count * setup.n_trt / n, setup.n_trt, setup.group_count
    )
    size[1] = setup.group_count - size[0]
    if setup.fixed_size:
        size = _fix_cells(size, setup.fixed_size, (setup.n_trt, setup.n_ctl), None, "patients")
    dead = np.zeros_like(size)
    for a, arm in enumerate((1, 0)):
        risk = []
        for g in range(len(setup.groups)):
            x = setup.draw_modifier(g, np.random.default_rng(0), size=200)
            x = np.where(np.isfinite(x), x, setup.model.biomarker.median)
            risk.append(
                float(
                    np.mean(
                        1 - setup.model.survival(np.array(setup.landmark), np.full_like(x, arm), x)
                    )
                )
            )
        dead[a] = _floor_deaths(
            _largest_remainder(size[a] * np.array(risk), deaths[a], size[a]), size[a], floored
        )
    if setup.fixed_dead:
        dead = _fix_cells(dead, setup.fixed_dead, deaths, size, "deaths")
        # a group whose deaths the counts fix is no pilot's to move
        fixed = {g for (_, g) in setup.fixed_dead}
        windows = {g: w for g, w in (windows or {}).items() if g not in fixed}
    if windows:
        dead = _pilot_cells(setup, size, dead, windows, rng, se_room=se_room)
    return size, dead


def _fix_cells(
    cells: np.ndarray,
    fixed: Mapping[tuple[int, int], int],
    totals: tuple[int, int],
    cap: np.ndarray | None,
    what: str,
) -> np.ndarray:
    """Cells (rows: treatment, control; columns: groups) with the counts that printed
    figures fix (a category's denominator per arm; its deaths, from the alive count at the
    landmark); the other cells of the row share the rest in proportion to what they had, so
    the row keeps its total (arm size, deaths per arm)."""
    cells = cells.copy()
    groups = cells.shape[1]
    for a in (0, 1):
        mine = {g: int(v) for (row, g), v in fixed.items() if row == a}
        if not mine:
            continue
        free = [g for g in range(groups) if g not in mine]
        left = int(totals[a]) - sum(mine.values())
        if left < 0 or (not free and left != 0):
            raise ReconstructionError(
                f"the counts printed by category do not add up to the arm's {what}"
            )
        if cap is not None and any(v > cap[a, g] for g, v in mine.items()):
            raise ReconstructionError(f"more {what} than patients in a category of an arm")
        for g, v in mine.items():
            cells[a, g] = v
        if free:
            cells[a, free] = _largest_remainder(
                np.maximum(cells[a, free], 0.01).astype(float),
                left,
                None if cap is None else cap[a, free],
            )
    return cells


def _start(
    setup: Setup, cells: tuple[np.ndarray, np.ndarray], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """A start cohort drawn from the calibrated model with the given cells."""
    size, dead = cells
    n = int(size.sum())
    trt = np.r_[np.ones(setup.n_trt), np.zeros(setup.n_ctl)]
    group = np.empty(n, int)
    death = np.zeros(n, np.int8)
    modifier = np.empty(n)
    start = 0
    for a, arm in enumerate((1, 0)):
        for g in range(len(setup.groups)):
            for d, count in ((1, dead[a, g]), (0, size[a, g] - dead[a, g])):
                sl = slice(start, start + count)
                group[sl], death[sl] = g, d
                modifier[sl] = setup.draw_modifier(g, rng, arm, d, count) if count else []
                start += count
    time = np.full(n, float(setup.end))
    used: set[int] = set()
    for i in np.flatnonzero(death):
        day = _free_day(setup.draw_day(trt[i], modifier[i], rng), used, setup.end)
        used.add(day)
        time[i] = day
    return {"trt": trt, "time": time, "death": death, "modifier": modifier, "group": group}


def _covariates(
    n_arm: tuple[int, int],
    targets: list[Target],
    values: Mapping[str, Any],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Age (median exactly as reported), sex (share as reported), strata balanced by arm."""
    n = sum(n_arm)
    spec = values.get("age_distribution") or {}
    med_t = next((t for t in targets if t.statistic == "covariate_median"), None)
    median = float(med_t.value if med_t else spec.get("median", 60))
    sd, lo, hi = (float(spec.get(k, v)) for k, v in (("sd", 10), ("lower", 18), ("upper", 75)))
    a, b = (lo - median) / sd, (hi - median) / sd
    age = np.sort(np.round(stats.truncnorm.ppf(rng.random(n), a, b, median, sd)))
    half = n // 2
    age[:half] = np.minimum(age[:half], math.floor(median))
    age[half:] = np.maximum(age[half:], math.ceil(median))
    if n % 2 == 0:  # the two middle values average to the median
        age[half - 1], age[half] = math.floor(median), math.ceil(median)
    else:
        age[half] = median
    age = rng.permutation(age)
    male_t = next((t for t in targets if t.statistic == "covariate_proportion"), None)
    n_male = _integer_count(male_t, n, 0.5)
    male = rng.permutation(np.r_[np.ones(n_male), np.zeros(n - n_male)])
    out = {"age": age.astype(int), "male": male.astype(int)}
    # strata only where the summary's assumptions name them (no placeholder columns)
    strata = values.get("randomisation_strata_shares") or {}
    for name in strata:
        column = STRATA_COLUMNS.get(name, name)
        shares = strata.get(name) or {}
        labels = list(shares) or ["unknown"]
        col = []
        for n_a in n_arm:
            counts = _largest_remainder(np.array([shares.get(k, 1.0) for k in labels]), n_a)
            col.append(rng.permutation(np.repeat(labels, counts)))
        out[column] = np.concatenate(col)
    return out
