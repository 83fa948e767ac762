"""Start cells of a trial with several arms whose subgroups are printed on more than one
comparison with the control (:mod:`alsstats.reconstruct._arms`).

Every pair (a treatment arm and the control) is planned on its own, so each pair's plan picks
its own control deaths per modifier group; the cohort has one control, and the search started
from the primary pair's control cells while the other pairs' subgroup windows may need others
(a subgroup's SE is set mostly by its deaths per arm, which the search's moves keep). Here the
control's deaths per group are chosen for every pair at once: for each control row near the
pairs' plans, each treatment arm's row that best fits its own subgroup windows given that
control, scored by the pilot's SE cost (:func:`alsstats.reconstruct._start._se_cost`), and the
control rows ranked by the sum over the pairs.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from ._counts import _largest_remainder
from ._start import _se_cost

__all__: list[str] = []

REACH = 6  # deaths per group either side of a plan's cell (as the pilot's reach)
REPS = 48  # random orders per SE cost (as the pilot)
MAX_ROWS = 400  # candidate rows per arm; more (many windowed groups) and the joint plan is off
NO_FIT = 1e4  # cost of a cell whose target log HR the pilot's orders do not reach
TIE = 0.01  # cost per squared death away from the plan's cell (the pilot's tie-break)


def cells_of(state: Mapping[str, np.ndarray], groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Patients and deaths per (arm row: treatment, control; group) of a pair's start."""
    size = np.zeros((2, groups), int)
    dead = np.zeros((2, groups), int)
    for row, arm in enumerate((1, 0)):
        mine = state["trt"] == arm
        group = state["group"][mine].astype(int)
        size[row] = np.bincount(group, minlength=groups)
        dead[row] = np.bincount(group, weights=state["death"][mine], minlength=groups)
    return size, dead


def balanced_sizes(
    control: np.ndarray, treatment: Sequence[np.ndarray], totals: Mapping[int, int]
) -> list[np.ndarray] | None:
    """Treatment arms' patients per group (the first, the primary's, kept) moved between
    groups one at a time until each printed group's count over the trial is ``totals``;
    None when no such move is left (the search's start then balances as before)."""
    rows = [r.copy() for r in treatment]
    for _ in range(int(sum(r.sum() for r in rows)) + 1):
        count = control + sum(rows)
        over = [g for g, k in totals.items() if count[g] > k]
        under = [g for g, k in totals.items() if count[g] < k]
        free = [g for g in range(control.size) if g not in totals]
        src = over[0] if over else (free[0] if under and free else None)
        dst = under[0] if under else (free[0] if over and free else None)
        if src is None or dst is None:
            return rows
        arm = max(range(1, len(rows)), key=lambda k: (rows[k][src], -k), default=None)
        if arm is None or rows[arm][src] == 0:
            return None
        rows[arm][src] -= 1
        rows[arm][dst] += 1
    return None


def _rows(centre: np.ndarray, size: np.ndarray, windowed: Sequence[int]) -> list[np.ndarray] | None:
    """Death rows with the centre's total, each windowed group within REACH of the centre and
    the other groups taking the rest in proportion (or, with none, the last windowed group)."""
    total = int(centre.sum())
    rest = [g for g in range(centre.size) if g not in windowed]
    free = list(windowed) if rest else list(windowed[:-1])
    absorb = rest or [windowed[-1]]
    spans = [range(max(0, centre[g] - REACH), min(size[g], centre[g] + REACH) + 1) for g in free]
    if np.prod([len(s) for s in spans]) > MAX_ROWS:
        return None
    out = []
    for values in itertools.product(*spans):
        row = centre.copy()
        row[free] = values
        left = total - int(row[free].sum())
        if not 0 <= left <= int(size[absorb].sum()):
            continue
        row[absorb] = _largest_remainder(np.maximum(centre[absorb], 0.01), left, size[absorb])
        if int(row[absorb].sum()) == left:
            out.append(row)
    return out


def shared_control_cells(
    control_size: np.ndarray,
    treatment_size: Sequence[np.ndarray],
    planned: Sequence[tuple[np.ndarray, np.ndarray]],
    windows: Sequence[Mapping[int, tuple[float, float]]],
    rooms: Sequence[Mapping[int, float]] | None = None,
    top: int = 3,
) -> list[tuple[float, list[tuple[np.ndarray, np.ndarray]]]] | None:
    """The ``top`` best joint cells and their costs: per candidate, each pair's (size, dead)
    with the shared control row. ``planned`` are the pairs' own (treatment deaths row,
    control deaths row), ``windows`` each pair's subgroup windows (group -> log HR, SE). None
    when a row has too many candidates. ``rooms``: each pair's relative SE room per group
    (:func:`alsstats.reconstruct._fits._window_room`), weighting a group's cost as the pilot
    does (a CI printed to 2 decimals often leaves less than the pilot's 2% of the SE)."""
    windowed = sorted(set().union(*(set(w) for w in windows)))
    if not windowed:
        return None
    centre = planned[0][1]
    controls = _rows(centre, control_size, windowed)
    mine = [
        _rows(planned[k][0], treatment_size[k], sorted(windows[k]) or windowed)
        for k in range(len(planned))
    ]
    if controls is None or any(m is None for m in mine) or not controls:
        return None
    cache: dict[tuple[int, int, int, int], float] = {}

    def cost(k: int, g: int, dt: int, dc: int) -> float:
        key = (k, g, dt, dc)
        if key not in cache:
            size = np.array([treatment_size[k], control_size])
            rng = np.random.default_rng([k, g, dt, dc, 1 << 23])
            c = _se_cost(size, g, dt, dc, windows[k][g], rng, REPS)
            room = (rooms[k] if rooms else {}).get(g)
            weight = 1.0 if room is None else 4.0 / min(4.0, max((100 * room) ** 2, 1e-6))
            cache[key] = NO_FIT if c is None else c * weight
        return cache[key]

    ranked = []
    for c_row in controls:
        total = TIE * float(((c_row - centre) ** 2).sum())
        chosen = []
        for k in range(len(planned)):
            best, best_cost = None, np.inf
            for t_row in mine[k]:
                v = TIE * float(((t_row - planned[k][0]) ** 2).sum())
                v += sum(cost(k, g, int(t_row[g]), int(c_row[g])) for g in windows[k])
                if v < best_cost:
                    best, best_cost = t_row, v
            if best is None:
                break
            total += best_cost
            chosen.append(best)
        else:
            ranked.append((total, c_row, chosen))
    ranked.sort(key=lambda r: r[0])  # stable: ties keep the candidates' order
    return [
        (
            total,
            [
                (np.array([treatment_size[k], control_size]), np.array([t, c_row]))
                for k, t in enumerate(chosen)
            ],
        )
        for total, c_row, chosen in ranked[:top]
    ]


SIZE_SHIFTS = (0, -2, 2, -4, 4, -6, 6)


def shifted_sizes(sizes: Sequence[np.ndarray], windowed: Sequence[int]) -> list[list[np.ndarray]]:
    """The treatment arms' sizes per group with SIZE_SHIFTS patients of the first windowed
    group traded for the last group between the first two arms (the trial's count of every
    group kept): the plans split each group between arms in proportion, the truth by chance,
    and a subgroup's SE depends on its patients at risk as well as its deaths."""
    out = [list(sizes)]
    if len(sizes) < 2 or not windowed:
        return out
    g, h = windowed[0], sizes[0].size - 1 if windowed[0] != sizes[0].size - 1 else 0
    for s in SIZE_SHIFTS[1:]:
        a, b = sizes[0].copy(), sizes[1].copy()
        a[g], a[h], b[g], b[h] = a[g] + s, a[h] - s, b[g] - s, b[h] + s
        if min(a.min(), b.min()) >= 0:
            out.append([a, b, *sizes[2:]])
    return out
