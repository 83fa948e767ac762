"""Joint cells of the restarts: every windowed biomarker group's split of patients between the
arms and its deaths per arm chosen together, so that each group's predicted SE falls in its
window's room while arm sizes and deaths per arm hold.

The pilot (:func:`alsstats.reconstruct._start._pilot_cells`) takes the groups one at a time
at the proportional split of each group between arms, which no figure fixes; in a small trial
with several printed subgroup CIs the split the CIs pin can be 3 or 4 patients of a group away
from it, and no greedy move reaches it (a patient changing arm and group at once passes
through worse cohorts). Here a table of candidate cells per group (split, deaths treatment,
deaths control) is scored with the pilot's SE model, and a dynamic programme over the groups
takes the combination of least total cost that keeps the per-arm totals.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..survival import fit_cox_batch
from ._counts import _largest_remainder
from ._start import _se_cost

__all__: list[str] = []

# Reach of the candidates around the pilot's cells, in binomial standard deviations of a
# group's patients in the treatment arm and of its deaths per arm (the model's split is
# a random draw's expectation; the truth is within about two of them), bounded
SPLIT_SDS = 2.5
DEATH_SDS = 2.0
REACH = (4, 20)
# candidates not scored (the Cox fits' own spread over orders of death is narrower): with an
# SE by the exponential information sqrt(1/d_t + 1/d_c) further than SE_BAND (relative) from
# the window's, or a log HR by the cells' cumulative hazards further than HR_BAND window SEs
SE_BAND = 0.1
# patients a windowed group whose size no share fixes may take from (or give to) the groups
# of that kind without a window (the model's share of a range is an expectation too)
COUNT_REACH = 2
HR_BAND = 1.5
# candidates scored per group at most (the closest by the screen's two distances): the Cox
# fits behind each score cost about a millisecond per 50 patients
MAX_CANDIDATES = 250
# the SE model's own noise (its squared error in 1% of the SE, 48 random orders): a room
# narrower than this does not make one candidate better than another
NOISE_FLOOR = 0.25
# cost of each unit of distance from the pilot's cells (squared): ties go to the model's cells
PRIOR = 0.02
# a group with at most this many orders of its deaths' arms is scored exactly: with every
# survivor censored after the last death its Cox fit is a function of the order of arms among
# the deaths, and each order is fitted (the linear SE model is poor with a handful of deaths)
EXACT_ORDERS = 252
# orders times tie positions of the exact score's tie variants at most (see _exact_cost)
TIE_ORDERS = 252
# bound on the offsets of the programme's partial sums over groups (patients treated, deaths
# per arm): at most 31^3 states, so a trial of 1,000 with four windowed groups takes as
# little as a small one
SUM_REACH = 15
# scale of the random cost added per candidate on later restarts (in units of a room): each
# draws another of the near-best combinations
JOINT_JITTER = 1.0


@dataclass
class SplitTable:
    """Scored candidates of each windowed group: rows (d_treated, d_patients, d_dead_t,
    d_dead_c, cost) relative to the pilot's cells (d_patients: of the group, 0 unless
    ``free``), by group; ``free``: groups whose size no printed share fixes."""

    size: np.ndarray
    dead: np.ndarray
    rows: dict[int, np.ndarray]
    free: frozenset[int] = frozenset()


def split_table(
    size: np.ndarray,
    dead: np.ndarray,
    windows: Mapping[int, tuple[float, float]],
    se_room: Mapping[int, float],
    seed: int,
    reps: int = 48,
    free: frozenset[int] = frozenset(),
) -> SplitTable:
    """Candidate cells of every windowed group, each with its SE cost in units of the group's
    room (1: the predicted SE at the room's edge), plus :data:`PRIOR` per squared step from
    the pilot's cells. The same random orders score every candidate of a group (common random
    numbers: the differences between candidates are less noisy than their costs).

    ``free``: groups whose size no printed share fixes (the model's share of the biomarker
    range sets it); when a group without a window or another windowed group is among them, a
    windowed one of them may also take or give up to COUNT_REACH patients (the other free
    groups make up the difference: family 2026 trial 115, where the truth's lowest group has
    37 patients and the model's share 35)."""
    rows: dict[int, np.ndarray] = {}
    # free windowed groups trade patients with free groups without a window, or with each
    # other (the programme keeps the free groups' total)
    absorb = any(h in free and h not in windows for h in range(size.shape[1]))
    absorb = absorb or sum(h in free for h in windows) >= 2
    share = size[0].sum() / max(int(size.sum()), 1)
    for g, window in windows.items():
        n_g = int(size[:, g].sum())
        allowed = max((100 * se_room.get(g, 0.02)) ** 2, NOISE_FLOOR)
        r_s = _reach(SPLIT_SDS * math.sqrt(n_g * share * (1 - share)))
        # around the pilot's split and around the proportional one (the pilot may have moved
        # a group's split to meet its own figure, away from a split the others need)
        to_prop = round(n_g * share) - int(size[0, g])
        splits = range(min(-r_s, to_prop - r_s), max(r_s, to_prop + r_s) + 1)
        r_t, r_c = (_reach(DEATH_SDS * math.sqrt(max(int(dead[a, g]), 1))) for a in (0, 1))
        r_n = COUNT_REACH if absorb and g in free else 0
        screened = []
        for ds, dn in itertools.product(splits, range(-r_n, r_n + 1)):
            s_t = int(size[0, g]) + ds
            s_c = n_g + dn - s_t
            if s_t < 1 or s_c < 1:
                continue
            for ddt in range(-r_t, r_t + 1):
                dt = int(dead[0, g]) + ddt
                for ddc in range(-r_c, r_c + 1):
                    dc = int(dead[1, g]) + ddc
                    z = _screen(s_t, s_c, dt, dc, window)
                    if z <= 1.0:
                        screened.append((z, ds, dn, ddt, ddc))
        out = []
        # the closest first (ties: smaller steps from the pilot's cells, then in order)
        screened.sort(key=lambda c: (c[0], sum(x * x for x in c[1:])))
        for _, ds, dn, ddt, ddc in screened[:MAX_CANDIDATES]:
            new = size.copy()
            new[0, g] += ds
            new[1, g] += dn - ds
            dt, dc = int(dead[0, g]) + ddt, int(dead[1, g]) + ddc
            if math.comb(dt + dc, dt) <= EXACT_ORDERS:
                cost = _exact_cost(
                    s_t=int(new[0, g]), s_c=int(new[1, g]), dt=dt, dc=dc, window=window
                )
            else:
                rng = np.random.default_rng([seed, g, 1 << 25])
                cost = _se_cost(new, g, dt, dc, window, rng, reps)
            if cost is None:
                continue
            cost = cost / allowed + PRIOR * (ds * ds + dn * dn + ddt * ddt + ddc * ddc)
            out.append((ds, dn, ddt, ddc, cost))
        rows[g] = np.array(out, float).reshape(-1, 5)
    return SplitTable(size, dead, rows, free)


def _exact_cost(
    *, s_t: int, s_c: int, dt: int, dc: int, window: tuple[float, float]
) -> float | None:
    """The least distance from the window's (log HR, SE) over every order of the deaths' arms
    (squared, in 1% of the window's SE, as :func:`alsstats.reconstruct._start._se_cost`);
    None when no order gives a finite fit.

    With few orders, each order with one treated and one control death tied on a day counts
    too (while orders x positions stay within TIE_ORDERS): with a handful of deaths an Efron
    tie gives a fit no order of distinct days gives, and a chance tie of the truth's can be
    the fit a printed figure pins (family 2027 trial 181: 5 deaths in a 22-patient group, two
    of them on day 320)."""
    d = dt + dc
    orders = np.array(
        [np.isin(np.arange(d), c) for c in itertools.combinations(range(d), dt)], float
    )
    n = s_t + s_c
    trt = np.concatenate(
        [orders, np.ones((len(orders), s_t - dt)), np.zeros((len(orders), s_c - dc))], axis=1
    )
    time = np.r_[np.arange(1.0, d + 1), np.full(n - d, d + 1.0)]
    time = np.broadcast_to(time, trt.shape)
    if len(orders) * (d - 1) <= TIE_ORDERS:
        # each order again with deaths k and k + 1 on one day, where their arms differ
        rows, ks = np.nonzero(orders[:, :-1] != orders[:, 1:])
        tied = time[rows].copy()
        tied[np.arange(rows.size), ks + 1] = tied[np.arange(rows.size), ks]
        trt, time = np.concatenate([trt, trt[rows]]), np.concatenate([time, tied])
    event = np.r_[np.ones(d, bool), np.zeros(n - d, bool)]
    res = fit_cox_batch(np.ascontiguousarray(time), event, trt[:, :, None])
    b, se = res.coef[res.ok, 0], res.se[res.ok, 0]
    fine = np.isfinite(b) & np.isfinite(se)
    if not fine.any():
        return None
    b_star, se_star = window
    dist = ((se[fine] - se_star) / (0.01 * se_star)) ** 2 + (
        (b[fine] - b_star) / (0.01 * se_star)
    ) ** 2
    return float(dist.min())


def _reach(sds: float) -> int:
    return int(min(max(math.ceil(sds), REACH[0]), REACH[1]))


def _screen(s_t: int, s_c: int, dt: int, dc: int, window: tuple[float, float]) -> float:
    """A quick distance of cells from the window (at most 1 within SE_BAND and HR_BAND, inf
    for impossible cells): the SE by the exponential information and the log HR by the
    cells' cumulative hazards, relative to the window's."""
    if not (1 <= dt <= s_t and 1 <= dc <= s_c):
        return math.inf
    b_star, se_star = window
    z = ((math.sqrt(1 / dt + 1 / dc) / se_star - 1) / SE_BAND) ** 2
    if dt < s_t and dc < s_c:  # (an arm of the group all dead: no HR by the cells)
        b_cells = math.log(math.log1p(-dt / s_t) / math.log1p(-dc / s_c))
        z = max(z, ((b_cells - b_star) / (HR_BAND * se_star)) ** 2)
    return z


def joint_cells(
    table: SplitTable, rng: np.random.Generator | None = None, jitter: float = 0.0
) -> tuple[np.ndarray, np.ndarray] | None:
    """The cells of least total cost over the windowed groups (each cost plus ``jitter``
    times a standard exponential draw of ``rng``: restarts try other near-best cells), the
    groups without a window taking the rest in proportion to the pilot's cells; None when no
    combination keeps the per-arm totals."""
    size, dead = table.size, table.dead
    groups = list(table.rows)
    if not groups or any(table.rows[g].size == 0 for g in groups):
        return None
    # offsets (treated, patients, deaths treatment, deaths control) from the pilot's totals
    # over groups (patients of free groups: the free groups without a window take the rest,
    # or, if there are none, the offsets sum to 0) (bounded by SUM_REACH: the state array stays
    # small; a combination whose partial sums stray further is dropped)
    rs, rn, rt, rc = (
        min(int(sum(np.abs(table.rows[g][:, col]).max() for g in groups)), SUM_REACH)
        for col in range(4)
    )
    shape = (2 * rs + 1, 2 * rn + 1, 2 * rt + 1, 2 * rc + 1)
    cost = np.full(shape, np.inf)
    cost[rs, rn, rt, rc] = 0.0
    choice = []
    for g in groups:
        rows = table.rows[g]
        c = rows[:, 4]
        if rng is not None and jitter > 0:
            c = c + jitter * rng.standard_exponential(c.size)
        new = np.full(shape, np.inf)
        pick = np.full(shape, -1, int)
        for j, offset in enumerate(rows[:, :4].astype(int)):
            src = tuple(
                slice(max(0, -d), n - max(0, d)) for d, n in zip(offset, shape, strict=True)
            )
            dst = tuple(
                slice(max(0, d), n - max(0, -d)) for d, n in zip(offset, shape, strict=True)
            )
            cand = cost[src] + c[j]
            better = cand < new[dst]
            new[dst] = np.where(better, cand, new[dst])
            pick[dst] = np.where(better, j, pick[dst])
        cost = new
        choice.append(pick)
    rest = [h for h in range(size.shape[1]) if h not in table.rows]
    # the offsets the other groups can absorb (all windowed: none but the pilot's totals)
    ds_ax, dn_ax, dt_ax, dc_ax = np.ix_(*(np.arange(k) - k // 2 for k in shape))
    absorbers = any(h in table.free for h in rest)
    if rest:
        s_t = size[0, rest].sum() - ds_ax
        s_c = size[1, rest].sum() - dn_ax + ds_ax
        d_t = dead[0, rest].sum() - dt_ax
        d_c = dead[1, rest].sum() - dc_ax
        ok = (s_t >= 0) & (s_c >= 0) & (d_t >= 0) & (d_c >= 0) & (d_t <= s_t) & (d_c <= s_c)
        ok = ok & ((dn_ax == 0) | absorbers)
        total = np.where(ok, cost + PRIOR * (ds_ax**2 + dn_ax**2 + dt_ax**2 + dc_ax**2), np.inf)
    else:
        total = np.full(shape, np.inf)
        total[rs, rn, rt, rc] = cost[rs, rn, rt, rc]
    if not np.isfinite(total).any():
        return None
    at = np.unravel_index(int(np.argmin(total)), shape)
    new_size, new_dead = size.copy(), dead.copy()
    pos = list(at)
    for g, pick in zip(reversed(groups), reversed(choice), strict=True):
        ds, dn, ddt, ddc = table.rows[g][pick[tuple(pos)], :4].astype(int)
        new_size[0, g] += ds
        new_size[1, g] += dn - ds
        new_dead[0, g] += ddt
        new_dead[1, g] += ddc
        pos = [pos[0] - ds, pos[1] - dn, pos[2] - ddt, pos[3] - ddc]
    if rest:
        # patients the windowed groups took from the free groups without a window
        moved = at[1] - rn
        off = (at[0] - rs, at[2] - rt, at[3] - rc)
        count = size[:, rest].sum(axis=0)
        if moved:
            free = [k for k, h in enumerate(rest) if h in table.free]
            if int(count[free].sum()) < moved:
                return None
            count[free] = (
                _largest_remainder(
                    count[free].astype(float), int(count[free].sum() - moved), count[free]
                )
                if moved > 0
                else _largest_remainder(count[free].astype(float), int(count[free].sum() - moved))
            )
        treated = int(size[0, rest].sum() - off[0])
        if not 0 <= treated <= int(count.sum()):
            return None
        new_size[0, rest] = _largest_remainder(
            np.maximum(size[0, rest], 0.01).astype(float), treated, count
        )
        new_size[1, rest] = count - new_size[0, rest]
        if (dead[:, rest].sum(axis=1) - off[1:] > new_size[:, rest].sum(axis=1)).any():
            return None
        for a, d in ((0, off[1]), (1, off[2])):
            new_dead[a, rest] = _largest_remainder(
                np.maximum(dead[a, rest], 0.01).astype(float),
                int(dead[a, rest].sum() - d),
                new_size[a, rest],
            )
    return new_size, new_dead
