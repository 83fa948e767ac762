"""Moves of the search: each proposal changes one thing of the current cohort and keeps arm
sizes, deaths per arm and biomarker-group sizes (count-type figures hold by construction)."""

from __future__ import annotations

import math

import numpy as np

from ._start import Setup

__all__: list[str] = []

# Moves (each keeps arm sizes, deaths per arm and subgroup sizes):
#   swap_time        two deaths exchange days
#   swap_time_group  two deaths of the same biomarker group exchange days
#   redraw_time      a death gets a new day from the model (a free day)
#   shift_in_group   a death gets a free day between its group neighbours' days: the order
#                    within every group, hence every subgroup fit, is unchanged
#   move_death       a death passes to a survivor of the same arm (any group)
#   move_death_group ... of the same arm and group: subgroup and overall fits unchanged
#   swap_modifier        two patients exchange modifier values (and group)
#   swap_modifier_group  two patients of the same group exchange modifier values: only the
#                        model term moves
#   swap_modifier_across two patients of different groups exchange modifier values
#   redraw_modifier      a patient gets a new modifier value within the group
#   nudge_modifier       a patient's modifier value moves by a small factor within the group
#   stretch_modifier     the modifier values of one group spread out or close in a little
#   tilt_modifier        the modifier values of one group's deaths move by a small factor
#   move_death_free      a death passes to a survivor of the same arm in another group, both
#                        groups outside Setup.fixed_groups (cells that already fit)
#   tie_time         a death takes the day of a death of the other arm in its group (a tie:
#                    with few deaths a group's fit takes few values, and a tied trial's fit
#                    is none of those of distinct days)
#   swap_<column>    two patients exchange a covariate of the adjusted model
_STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("subgroups", ("swap_time_group", "adjacent_in_group", "adjacent_in_group", "redraw_time")),
    (
        "treatment",
        (
            "adjacent_in_group",
            "shift_in_group",
            "shift_in_group",
            "swap_time_group",
            "redraw_time",
            "move_death",
            "swap_modifier",
        ),
    ),
    (
        "model",
        ("swap_modifier_group", "swap_modifier_group", "redraw_modifier", "move_death_group"),
    ),
)

# Stages of the attempts after the first. The first attempt keeps the death cells of the pilot
# (_start._pilot_cells), chosen so that the subgroup fits can reach their CI and p; when it
# fails, the cells are usually what is wrong (no time move changes deaths per group), so later
# attempts also move deaths and modifier values across groups while fitting the subgroups.
# They also use the smallest move that changes a Cox fit:
# a death swaps its time with the nearest death of the other arm in its group (a swap within
# one arm changes no treatment-only fit), and draw the best of several start cohorts
# (alsstats.reconstruct._search).
_RESTART_STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "subgroups",
        (
            "swap_time_group",
            "adjacent_other_arm",
            "adjacent_other_arm",
            "redraw_time",
            "move_death",
            "swap_modifier",
        ),
    ),
    (
        "treatment",
        (
            "adjacent_other_arm",
            "adjacent_other_arm",
            "shift_in_group",
            "swap_time_group",
            "redraw_time",
            "move_death",
            "swap_modifier",
        ),
    ),
    # the model stage of restarts also moves the modifier in small steps, of one patient or of
    # a whole group at once (the interaction model's CIs leave a thin band, which moves of one
    # patient's value across the group step over)
    (
        "model",
        (
            "swap_modifier_group",
            "redraw_modifier",
            "move_death_group",
            "nudge_modifier",
            "stretch_modifier",
            "tilt_modifier",
        ),
    ),
)
# Restarts whose start cells already put every windowed subgroup's SE in its window (see
# alsstats.reconstruct._start._fitting_groups): the subgroup stage keeps the cells (no death
# or modifier moves across groups, which would undo them).
_RESTART_STAGES_KEEP: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "subgroups",
        (
            "swap_time_group",
            "adjacent_other_arm",
            "adjacent_other_arm",
            "redraw_time",
            "move_death_free",
        ),
    ),
    (
        "treatment",
        (
            "adjacent_other_arm",
            "adjacent_other_arm",
            "shift_in_group",
            "swap_time_group",
            "redraw_time",
            "move_death_free",
        ),
    ),
    *_RESTART_STAGES[2:],
)
_ALL_MOVES = (
    "swap_time",
    "adjacent_in_group",
    "redraw_time",
    "shift_in_group",
    "move_death",
    "move_death_group",
    "swap_modifier",
    "swap_modifier_group",
    "redraw_modifier",
)

_BIOMARKER_MOVES = (
    "swap_modifier_across",
    "swap_modifier_group",
    "swap_modifier_group",
    "redraw_modifier",
)


def _pick(rng: np.random.Generator, idx: np.ndarray) -> int:
    return int(idx[rng.integers(idx.size)])


def _free(rng: np.random.Generator, used: np.ndarray, lo: int, hi: int) -> int | None:
    """A random day in [lo, hi] that no death uses (None if there is none)."""
    free = np.flatnonzero(~used[lo : hi + 1])
    return None if free.size == 0 else lo + int(free[rng.integers(free.size)])


def _nudge(x: float, bounds: tuple[float, float], rng: np.random.Generator) -> float:
    """``x`` moved by a factor exp(+-e), e log-uniform in [0.002, 0.2], to the cohort's 0.1
    resolution (at least one step) and kept inside the group's bounds: a step of any size down
    to the finest the printed cohort holds."""
    lo, hi = bounds
    if hi - lo < 0.3:  # no 0.1 step inside the group
        return float(x)
    e = math.exp(rng.uniform(math.log(0.002), math.log(0.2))) * (1 if rng.random() < 0.5 else -1)
    new = round(x * math.exp(e), 1)
    if new == round(x, 1):
        new = round(x + (0.1 if e > 0 else -0.1), 1)
    return float(min(max(new, round(lo + 0.1, 1)), round(hi - 0.1, 1)))


def _stretch(
    x: np.ndarray, bounds: tuple[float, float], shift: bool, rng: np.random.Generator
) -> np.ndarray:
    """log ``x`` scaled about its median (or shifted, ``shift``) by a factor exp(+-e), e
    log-uniform in [0.002, 0.05], to the cohort's 0.1 resolution, inside the group's bounds."""
    lo, hi = bounds
    if hi - lo < 0.3 or (x <= 0).any():
        return x
    e = math.exp(rng.uniform(math.log(0.002), math.log(0.05))) * (1 if rng.random() < 0.5 else -1)
    g = np.log(x)
    if shift:
        new = np.exp(g + e)
    else:
        centre = float(np.median(g))
        new = np.exp(centre + (g - centre) * math.exp(e))
    return np.clip(np.round(new, 1), round(lo + 0.1, 1), round(hi - 0.1, 1))


def _propose(
    state: dict[str, np.ndarray],
    setup: Setup,
    moves: tuple[str, ...],
    adjust: tuple[str, ...],
    rng: np.random.Generator,
    R: int,
) -> dict[str, np.ndarray]:
    """R candidate cohorts, each the current one after one random move."""
    cand = {k: np.repeat(v[None, :], R, axis=0) for k, v in state.items()}
    death, time, group, trt = state["death"], state["time"], state["group"], state["trt"]
    deaths = np.flatnonzero(death)
    measured = np.flatnonzero(np.isfinite(state["modifier"]))
    landmark = setup.end
    used = np.zeros(landmark + 1, bool)
    used[time[deaths].astype(int)] = True
    by_group = {g: np.flatnonzero(group == g) for g in range(len(setup.groups))}
    dead_by_group = {g: np.flatnonzero((group == g) & (death == 1)) for g in by_group}
    kinds = moves + tuple(f"swap_{c}" for c in adjust)
    n = time.size
    for r in range(R):
        kind = kinds[rng.integers(len(kinds))]
        if kind in ("swap_time", "swap_time_group"):
            i = _pick(rng, deaths)
            pool = dead_by_group[group[i]] if kind == "swap_time_group" else deaths
            j = _pick(rng, pool)
            cand["time"][r, [i, j]] = time[[j, i]]
        elif kind == "redraw_time":
            i = _pick(rng, deaths)
            day = setup.draw_day(trt[i], state["modifier"][i], rng)
            if used[day]:
                reach = max(30, landmark // 25)  # 30 days on a day grid
                day = _free(rng, used, max(1, day - reach), min(landmark - 1, day + reach))
            if day is not None:
                cand["time"][r, i] = day
        elif kind == "adjacent_in_group":  # next death of the same group: a small step
            i = _pick(rng, deaths)
            pool = dead_by_group[group[i]]
            later = pool[time[pool] > time[i]]
            if later.size:
                j = later[np.argmin(time[later])]
                cand["time"][r, [i, j]] = time[[j, i]]
        elif kind == "adjacent_other_arm":  # nearest death of the other arm, same group
            i = _pick(rng, deaths)
            pool = dead_by_group[group[i]]
            pool = pool[trt[pool] != trt[i]]
            side = pool[time[pool] > time[i]] if rng.random() < 0.5 else pool[time[pool] < time[i]]
            if side.size:
                j = side[np.argmin(np.abs(time[side] - time[i]))]
                cand["time"][r, [i, j]] = time[[j, i]]
        elif kind == "tie_time":  # a death takes the day of a death of the other arm
            i = _pick(rng, deaths)
            pool = dead_by_group[group[i]]
            pool = pool[(trt[pool] != trt[i]) & (time[pool] != time[i])]
            if pool.size:
                cand["time"][r, i] = time[_pick(rng, pool)]
        elif kind == "shift_in_group":
            i = _pick(rng, deaths)
            t_g = time[dead_by_group[group[i]]]
            lo = int(t_g[t_g < time[i]].max(initial=0)) + 1
            hi = int(t_g[t_g > time[i]].min(initial=landmark)) - 1
            day = _free(rng, used, lo, hi)
            if day is not None:
                cand["time"][r, i] = day
        elif kind in ("move_death", "move_death_group"):
            i = _pick(rng, deaths)
            same = (trt == trt[i]) & (death == 0)
            if kind == "move_death_group":
                same &= group == group[i]
            same = np.flatnonzero(same)
            if same.size:
                j = _pick(rng, same)
                cand["time"][r, j], cand["death"][r, j] = time[i], 1
                # the new survivor takes the old one's censoring time (the end at a landmark)
                cand["time"][r, i], cand["death"][r, i] = time[j], 0
        elif kind in ("swap_modifier", "swap_modifier_group", "swap_modifier_across"):
            i = _pick(rng, measured)
            if kind == "swap_modifier_group":
                pool = by_group[group[i]]
            elif kind == "swap_modifier_across":  # another group: subgroup membership changes
                pool = measured[group[measured] != group[i]]
            else:
                pool = measured
            j = _pick(rng, pool)
            for key in ("modifier", "group"):
                cand[key][r, [i, j]] = state[key][[j, i]]
        elif kind == "redraw_modifier":
            i = _pick(rng, measured)
            cand["modifier"][r, i] = setup.draw_modifier(int(group[i]), rng)[0]
        elif kind in _HORIZON_MOVES:
            _horizon_move(kind, cand, r, state, setup, used, rng)
        elif kind == "move_death_free":  # between groups whose cells are not fixed
            free = ~np.isin(group, list(setup.fixed_groups))
            i = _pick(rng, deaths[free[deaths]]) if free[deaths].any() else None
            if i is not None:
                pool = np.flatnonzero(free & (trt == trt[i]) & (death == 0) & (group != group[i]))
                if pool.size:
                    j = _pick(rng, pool)
                    cand["time"][r, j], cand["death"][r, j] = time[i], 1
                    cand["time"][r, i], cand["death"][r, i] = time[j], 0  # j's censoring
        elif kind in ("stretch_modifier", "tilt_modifier"):
            # every patient (stretch) or every death (tilt) of one group at once: the spread
            # or the level of the modifier among deaths moves a little, which single-patient
            # moves cannot do without passing through worse cohorts
            g = int(group[_pick(rng, measured)])
            members = by_group[g] if kind == "stretch_modifier" else dead_by_group[g]
            members = members[np.isfinite(state["modifier"][members])]
            if members.size:
                cand["modifier"][r, members] = _stretch(
                    state["modifier"][members], setup.bounds(g), kind == "tilt_modifier", rng
                )
        elif kind == "nudge_modifier":
            i = _pick(rng, measured)
            cand["modifier"][r, i] = _nudge(state["modifier"][i], setup.bounds(int(group[i])), rng)
        else:  # swap a covariate of the adjusted model between two patients
            i, j = rng.integers(0, n, 2)
            col = kind.removeprefix("swap_")
            cand[col][r, [i, j]] = state[col][[j, i]]
    return cand


# Moves of a rebuild without a landmark (alsstats.reconstruct._follow_up), whose survivors are
# censored over [setup.earliest, setup.end] (staggered entry):
#   redraw_censor  a survivor gets another administrative censoring time (the lost to
#                  follow-up, censored before setup.earliest, keep theirs)
#   flip_death     (deaths per arm free) a death becomes a survivor censored in
#                  [earliest, end], or a survivor a death at a free step before its censoring
#   shift_in_arm   a death gets a free step between its arm's neighbouring deaths: the
#                  arm's order of deaths is kept, its Kaplan-Meier median moves
_HORIZON_MOVES = ("redraw_censor", "flip_death", "shift_in_arm")


def _horizon_move(
    kind: str,
    cand: dict[str, np.ndarray],
    r: int,
    state: dict[str, np.ndarray],
    setup: Setup,
    used: np.ndarray,
    rng: np.random.Generator,
) -> None:
    death, time = state["death"], state["time"]
    if kind == "shift_in_arm":
        dead = np.flatnonzero(death == 1)
        if dead.size:
            i = _pick(rng, dead)
            t_a = time[dead[state["trt"][dead] == state["trt"][i]]]
            lo = int(t_a[t_a < time[i]].max(initial=0)) + 1
            hi = int(t_a[t_a > time[i]].min(initial=setup.end)) - 1
            day = _free(rng, used, lo, hi)
            if day is not None:
                cand["time"][r, i] = day
        return
    low = setup.end if setup.earliest is None else setup.earliest
    admin = np.flatnonzero((death == 0) & (time >= low))
    if kind == "redraw_censor" or not setup.free_deaths:
        if admin.size:
            cand["time"][r, _pick(rng, admin)] = rng.integers(low, setup.end + 1)
        return
    pool = np.r_[np.flatnonzero(death == 1), admin]
    if pool.size == 0:
        return
    i = _pick(rng, pool)
    if death[i] == 1:
        cand["time"][r, i], cand["death"][r, i] = rng.integers(low, setup.end + 1), 0
    else:
        day = _free(rng, used, 1, int(min(time[i], setup.end)) - 1)
        if day is not None:
            cand["time"][r, i], cand["death"][r, i] = day, 1


def horizon_stages(free_deaths: bool) -> dict[str, tuple]:
    """The search's stages for a rebuild without a landmark: every stage also moves
    survivors' censoring times (and, when no count fixes them, deaths per arm); a death moved
    within its group's order (shift_in_group) changes an arm's median, not the Cox fits."""
    extra = ("redraw_censor", "shift_in_group", "shift_in_arm", "shift_in_arm")
    extra += ("flip_death",) if free_deaths else ()

    def more(stages: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple:
        return tuple((name, moves + extra) for name, moves in stages)

    return {
        "stages": more(_STAGES),
        "restart_stages": more(_RESTART_STAGES),
        "fallback": _ALL_MOVES + extra,
    }


# Blocks of the polish step (alsstats.reconstruct._search._polish): the measured deaths, or
# the measured survivors, of one arm of one biomarker group. Each block has two continuous
# parameters, a shift and a stretch of its log modifier values; moved within the group's
# bounds, they change the interaction model's fit smoothly and no subgroup's (membership is
# kept). Deaths and survivors move apart so that the modifier's own (unprinted) log HR can
# move too: the interaction term's SE depends on it. Values below
# POLISH_MIN_VALUE stay: on the cohort's 0.1 grid their log moves in steps of 0.5% or more,
# and a small shift of them is a staircase, not the smooth direction the step needs.
POLISH_MIN_VALUE = 10.0


def _value_blocks(state: dict[str, np.ndarray], setup: Setup) -> list[np.ndarray]:
    """The polish step's blocks: deaths or survivors of one arm and one continuous group with
    room for a 0.1 step inside its bounds, valued POLISH_MIN_VALUE or more (at least two
    patients, so that a stretch moves something)."""
    blocks = []
    x, group, trt = state["modifier"], state["group"], state["trt"]
    for g, grp in enumerate(setup.groups):
        lo, hi = setup.bounds(g)
        if grp.missing or grp.category is not None or hi - lo < 0.3 or lo < 0:
            continue
        for arm in np.unique(trt):
            for dead in (0, 1):
                members = np.flatnonzero(
                    (group == g)
                    & (trt == arm)
                    & (state["death"] == dead)
                    & np.isfinite(x)
                    & (x >= POLISH_MIN_VALUE)
                )
                if members.size >= 2:
                    blocks.append(members)
    return blocks


def _move_blocks(
    state: dict[str, np.ndarray], setup: Setup, blocks: list[np.ndarray], theta: np.ndarray
) -> dict[str, np.ndarray]:
    """Candidate cohorts, one per row of ``theta`` (R, 2 * blocks): block k's log values
    shifted by theta[:, 2k] and scaled about their median by exp(theta[:, 2k + 1]), to the
    cohort's 0.1 resolution and inside the group's bounds."""
    R = theta.shape[0]
    cand = {k: np.repeat(v[None, :], R, axis=0) for k, v in state.items()}
    for k, members in enumerate(blocks):
        g = int(state["group"][members[0]])
        lo, hi = setup.bounds(g)
        logs = np.log(state["modifier"][members])
        centre = float(np.median(logs))
        shift, scale = theta[:, 2 * k, None], np.exp(theta[:, 2 * k + 1, None])
        new = np.exp(centre + shift + (logs[None, :] - centre) * scale)
        low = max(round(lo + 0.1, 1), POLISH_MIN_VALUE)
        cand["modifier"][:, members] = np.clip(np.round(new, 1), low, round(hi - 0.1, 1))
    return cand
