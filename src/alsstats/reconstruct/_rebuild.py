"""Rebuild a patient-level cohort from published summary figures alone ("level b").

:func:`rebuild_cohort` returns a cohort of exactly the reported size whose own fitted models
reproduce every reported figure at its printed precision (arm sizes, deaths, survivors and
survival landmarks, overall, adjusted and subgroup HRs with CIs and p-values, interaction-model
terms, subgroup shares, median age, share of men). The modifier, its cut-offs, unit and
assumptions come from the summary (:mod:`alsstats.reconstruct._modifier`). Method:

1. Proofs first (:func:`alsstats.checks.count_proof`, :func:`alsstats.checks.overall_hr_reach`,
   the same arithmetic ``alsstats check`` runs): count figures no deaths-per-arm pair meets,
   an overall HR no order of deaths reaches, an HR whose CI and p cannot hold together. Any
   of these makes the outcome "infeasible", with the smallest conflicting sets named.
2. A start cohort drawn from the calibrated model (:func:`calibrate_model`): arm x group x
   death cells (a pilot fits the cells of groups with a CI or p to their SE), modifier values
   within each cell weighted by the model's risk, death times from the model on a grid of
   distinct steps (whole days when the landmark leaves room, else finer), survivors censored
   at the landmark. Without a landmark the follow-up horizon comes from the maximum
   follow-up or a ``censoring`` assumption (:mod:`alsstats.reconstruct._follow_up`):
   survivors are censored by staggered entry, deaths per arm not printed are chosen from
   the medians and the CI, and printed medians place the start's death times.
3. A seeded stochastic search (:mod:`alsstats.reconstruct._search`): batches of single moves
   that keep every count, scored at once by :func:`alsstats.survival.fit_cox_batch`, staged
   (subgroups, treatment fits, interaction model), restarted from the best of several fresh
   starts. It stops when every figure holds with the preferred margin (0.9 of its rounding
   half-width) or, stalled, when every figure is accepted: it prints as reported and a Cox
   figure lies inside 0.999 of its half-width, room for another engine
   (:data:`alsstats.reconstruct._fits.ACCEPT_MARGIN`); at the time limit the closest cohort is
   returned as "not found in the time given".

A summary with three or more arms (a control and several treatment arms) is rebuilt by
:mod:`alsstats.reconstruct._arms`: each treatment arm with the control planned as above, one
search over the whole cohort, each figure scored on the two arms it compares.

:func:`assign_biomarker` runs the same search with arm, time and event fixed (the
Kaplan-Meier reconstruction path). Every rebuild carries its own settings (no module state):
rebuilds may run in threads.
"""

from __future__ import annotations

import dataclasses
import math
import time as _time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..checks import cox_se_floor
from ..errors import InputError, ReconstructionError
from ..models import DataGeneratingModel
from ..summary import as_reported_summary
from ._calibrate import (
    ADJUSTABLE,
    Target,
    calibrate_model,
    modifier_groups,
    resolve_assumptions,
    targets_from_summary,
    with_category_codes,
)
from ._counts import (
    _choose_deaths,
    _count_proof,
    _groups_hr_reachable,
    _integer_count,
    _largest_remainder,
)
from ._fits import _Z, Design, _is_category_count, _subgroup_windows, _window_room
from ._follow_up import FollowUpHorizon, choose_deaths, follow_up_horizon
from ._joint import JOINT_P
from ._km_landmark import SURVIVAL_CI
from ._medians import km_median_batch
from ._modifier import Modifier, modifier_of, modifier_value
from ._moves import (
    _BIOMARKER_MOVES,
    _RESTART_STAGES,
    _RESTART_STAGES_KEEP,
    _STAGES,
    horizon_stages,
)
from ._result import Proof, Reconstruction, _finish
from ._search import LATE_ATTEMPT, _restarts
from ._split import JOINT_JITTER, SplitTable, joint_cells, split_table
from ._start import (
    STRATA_COLUMNS,
    Setup,
    _cells,
    _covariates,
    _fitting_groups,
    _free_day,
    _perturb_cells,
    _start,
)

__all__ = [
    "assign_biomarker",
    "rebuild_cohort",
]


@dataclass
class Plan:
    """Everything a rebuild fixes before its search, in one value passed along."""

    summary: Any
    targets: list[Target]
    values: dict[str, Any]
    design: Design
    setup: Setup
    model: DataGeneratingModel
    seed: int
    cov: dict[str, np.ndarray]
    windows: dict[int, tuple[float, float]]
    conflicts: list[str]
    proofs: list[Proof] = dataclasses.field(default_factory=list)
    modifier: Modifier | None = None
    strata: tuple[str, ...] = ()
    horizon: FollowUpHorizon | None = None


def _ticks(landmark: float, deaths: int) -> tuple[float, int]:
    """(steps per time unit, decimals of the cohort's times): whole units when the landmark
    leaves three free steps per death (days, usually), else the coarsest power of ten that
    does (months, years); death times are distinct steps."""
    for k in range(7):
        ticks = 10.0**k
        end = landmark * ticks
        if abs(end - round(end)) < 1e-6 and round(end) - 1 >= 3 * max(deaths, 1):
            return ticks, k
    return 1e6, 6


def _fit_shares(
    counts: list[int | None],
    share_t: Mapping[tuple, Target],
    groups: list[Any],
    n_all: int,
    fill: bool,
) -> list[int | None]:
    """Counts of the groups with a reported share moved one at a time, each staying a count
    whose share prints as reported, until they leave no patient over (``fill``: they must
    hold everyone; else they must not exceed the trial)."""
    counts = list(counts)
    shared = [i for i, c in enumerate(counts) if c is not None]

    def ok(i: int, k: int) -> bool:
        t = share_t.get((groups[i].lower, groups[i].upper))
        return 0 <= k <= n_all and (t is None or t.rounds_to(k / n_all))

    while True:
        left = n_all - sum(counts[i] for i in shared)
        if (fill and left == 0) or (not fill and left >= 0):
            return counts
        step = 1 if left > 0 else -1
        movable = [i for i in shared if ok(i, counts[i] + step)]
        if not movable:
            raise ReconstructionError(
                "reported subgroup shares: no patient counts that print as reported add up "
                f"to the {n_all} randomised"
            )
        counts[movable[0]] += step


def _group_counts(
    summary: Any, targets: list[Target], groups: list[Any], model: DataGeneratingModel
) -> np.ndarray:
    """Patients per biomarker group: reported shares as integer counts, the rest by the
    model's shares of the groups without one."""
    n_all = sum(int(a.n.value) for a in summary.arms)
    share_t = {
        (t.population["lower"], t.population["upper"]): t
        for t in targets
        if t.statistic == "subgroup_share"
    }
    counts = [
        None if g.share is None else _integer_count(share_t.get((g.lower, g.upper)), n_all, g.share)
        for g in groups
    ]
    rest = [i for i, c in enumerate(counts) if c is None]
    left = n_all - sum(c for c in counts if c is not None)
    if left < 0 or (left > 0 and not rest):
        counts = _fit_shares(counts, share_t, groups, n_all, fill=not rest)
        left = n_all - sum(c for c in counts if c is not None)
    weights = np.array(
        [model.biomarker.share_between(groups[i].lower, groups[i].upper) for i in rest]
    )
    for i, c in zip(rest, _largest_remainder(weights, left), strict=True):
        counts[i] = int(c)
    return np.array(counts, int)


def _prepare(
    summary: Any,
    assumptions: Mapping[str, Any] | None,
    include: frozenset[str],
    deaths: Callable[[list[Target]], Mapping[str, float] | None] | None = None,
    n_deaths: int | None = None,
    ticks: float | None = None,
) -> tuple[list[Target], dict[str, Any], Design, Setup, DataGeneratingModel]:
    """Targets, assumption values, the search design and the fixed setup of a rebuild.

    ``deaths(targets)`` gives the deaths per arm to calibrate on (the pair the counts
    allow); ``n_deaths`` the number of deaths the time grid must hold; ``ticks`` fixes the
    time grid instead (the arms of a trial with several share one grid)."""
    values = resolve_assumptions(summary, assumptions)
    modifier = modifier_of(summary)
    targets = with_category_codes(
        targets_from_summary(summary, assumptions, include=include), modifier
    )
    groups, _ = modifier_groups(summary, targets, values)
    known = deaths(targets) if deaths is not None else None
    model = calibrate_model(summary, assumptions, deaths=known)
    loq_spec = values.get("limit_of_quantification") or {}
    loq = float(loq_spec.get("value", 0.0) if isinstance(loq_spec, Mapping) else loq_spec)
    n = {a.id: int(a.n.value) for a in summary.arms}
    trt_id, ctl_id = summary.treatment_arm.id, summary.control_arm.id
    counts = _group_counts(summary, targets, groups, model)
    adjusted = values.get("adjusted_model_covariates") or []
    adjust = tuple(c for c in adjusted if c in ADJUSTABLE)
    horizon = follow_up_horizon(summary, values)
    landmark = horizon.end
    d_max = n_deaths or sum(round(v) for v in (known or {}).values()) or sum(n.values())
    if ticks is None:
        ticks, _ = _ticks(landmark, d_max)
    search_targets = [
        t
        for t in targets
        if t.statistic.startswith("hr")
        or t.statistic in ("median", JOINT_P)
        or (
            t.statistic in ("alive_count", "alive_proportion", *SURVIVAL_CI)
            and t.population.get("time", landmark) < landmark
        )
        or _is_category_count(t)  # moves across categories change these
    ]
    design = Design(
        targets=search_targets,
        groups=groups,
        log_scale=(
            modifier_value(values, modifier, "scale", "linear") == "log"
            and not modifier.categorical
        ),
        x_unit=1.0 if modifier.categorical else float(model.biomarker.median),
        adjust=adjust,
        ties=values["ties"],
        level_z=float(_Z[0.95]),
        landmark=landmark,
        trt_id=trt_id,
        ticks=ticks,
        column=modifier.column,
        categories=modifier.categories,
    )
    margins = dict(_subgroup_windows(design)[2])
    # a proportion alive is a ratio of counts: no engine computes it otherwise, so it needs
    # no safety margin (a count whose proportion prints right at 0.94 of a half-width is it)
    margins.update({t.id: 1.0 for t in search_targets if t.statistic == "alive_proportion"})
    design = dataclasses.replace(design, margins=margins)
    fixed_size, fixed_dead = _category_cells(targets, groups, trt_id, landmark)
    setup = Setup(
        model,
        groups,
        counts,
        loq,
        design.landmark,
        trt_id,
        ctl_id,
        n[trt_id],
        n[ctl_id],
        ticks,
        fixed_size=fixed_size,
        fixed_dead=fixed_dead,
    )
    if horizon.staggered:
        setup.earliest = round(horizon.earliest * ticks)
        setup.free_deaths = _free_deaths(targets)
    return targets, values, design, setup, model


def _category_cells(
    targets: list[Target], groups: list[Any], trt_id: str, landmark: float
) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], int]]:
    """Patients and deaths per (arm row, group) that a categorical modifier's printed counts
    fix: a category's denominator in an arm (6/17: 17), its events in the arm, and its alive
    count at the landmark with the denominator (17 - 6 deaths by the landmark, where
    survivors are censored)."""
    index = {g.category: k for k, g in enumerate(groups) if g.category is not None}
    size: dict[tuple[int, int], int] = {}
    dead: dict[tuple[int, int], int] = {}
    for t in targets:
        g = index.get(t.population.get("category"))
        if g is None or t.arm is None:
            continue
        row = 0 if t.arm == trt_id else 1
        if t.statistic == "subgroup_size":
            size[(row, g)] = int(t.value)
        elif t.statistic == "deaths":
            dead[(row, g)] = int(t.value)
    for t in targets:
        g = index.get(t.population.get("category"))
        if g is None or t.arm is None or t.statistic != "alive_count":
            continue
        row = 0 if t.arm == trt_id else 1
        if t.population.get("time", landmark) >= landmark and (row, g) in size:
            dead[(row, g)] = size[(row, g)] - int(t.value)
    return size, dead


def _starter(
    plan: Plan,
    deaths: tuple[int, int],
    outcomes: Callable[[dict[str, np.ndarray]], None] | None,
    search: dict[str, Any],
) -> Callable[..., dict[str, np.ndarray]]:
    """The start cohorts of a plan: ``start(rng, attempt)`` (``search`` gets the stages the
    cells call for)."""
    setup, design = plan.setup, plan.design
    ranges = {
        (t.population.get("lower"), t.population.get("upper"))
        for t in design.targets
        if t.model == "treatment" and t.statistic == "hr"
    }
    floored = np.array([(g.lower, g.upper) in ranges and not g.missing for g in setup.groups])
    cells = _cells(
        setup, deaths, np.random.default_rng([plan.seed, 1 << 20]), plan.windows, floored
    )
    # Every other restart (attempts 1, 3, ...) starts from cells whose subgroup SEs fall
    # inside their windows' room (a CI printed to 2 decimals leaves a few tenths of a percent
    # of the SE, and with few censorings the cells set the SE almost alone) and leaves the
    # cells that fit as they are; the others perturb the pilot's first cells (the SE model
    # behind both is approximate for small groups with many deaths, where the strict cells
    # can be the worse start). The first attempt keeps the pilot's first cells (the shipped
    # MIROCALS cohort is its result).
    room = _window_room(design) if plan.windows and outcomes is None else {}
    strict, keep = cells, frozenset()
    if room:
        strict = _cells(
            setup,
            deaths,
            np.random.default_rng([plan.seed, 1 << 20]),
            plan.windows,
            floored,
            se_room=room,
        )
        keep = _fitting_groups(strict, plan.windows, room, plan.seed)
        if not _groups_hr_reachable(design, strict):
            room, strict, keep = {}, cells, frozenset()  # restarts as from the first cells

    # Even restarts from LATE_ATTEMPT on start from joint cells (alsstats.reconstruct._split):
    # every windowed group's split between arms and deaths per arm chosen together, near-best
    # combinations drawn by the attempt's stream (the table is scored once, on first use)
    split_room = _window_room(design) if plan.windows and outcomes is None else {}
    tables: list[SplitTable] = []
    joints: dict[int, tuple[np.ndarray, np.ndarray] | None] = {}  # by attempt (its starts)

    def joint(attempt: int) -> tuple[np.ndarray, np.ndarray] | None:
        if not tables:
            free = frozenset(
                g
                for g, grp in enumerate(setup.groups)
                if grp.share is None and not grp.missing and not setup.fixed_size
            )
            tables.append(
                split_table(cells[0], cells[1], plan.windows, split_room, plan.seed, free=free)
            )
        if attempt not in joints:
            rng_j = np.random.default_rng([plan.seed, attempt, 1 << 26])
            jitter = JOINT_JITTER if attempt > LATE_ATTEMPT else 0.0
            joints[attempt] = joint_cells(tables[0], rng_j, jitter)
        return joints[attempt]

    def start(rng_k: np.random.Generator, attempt: int = 0) -> dict[str, np.ndarray]:
        use = cells
        if attempt >= LATE_ATTEMPT and attempt % 2 == 0 and split_room:
            use = joint(attempt) or _perturb_cells(
                cells, plan.windows, np.random.default_rng([plan.seed, attempt, 1 << 21])
            )
        elif attempt > 0 and plan.windows and outcomes is None:
            # restarts try cells next to the pilot's
            odd = attempt % 2 == 1 and bool(room)
            use = _perturb_cells(
                strict if odd else cells,
                plan.windows,
                np.random.default_rng([plan.seed, attempt, 1 << 21]),
                keep if odd else frozenset(),
            )
        state = _start(setup, use, rng_k)
        if plan.horizon is not None and plan.horizon.staggered:
            medians = {t.arm: t.value for t in plan.targets if t.statistic == "median"}
            _censor_survivors(state, plan.horizon, setup, rng_k, medians)
        if outcomes is not None:
            outcomes(state)
        for c in design.covariates:
            state[c] = plan.cov[c].astype(float)
        return state

    if keep and keep >= set(plan.windows) and "restart_stages" not in search:
        search["odd_stages"] = _RESTART_STAGES_KEEP
        setup.fixed_groups = keep
    return start


def _run(
    plan: Plan,
    deaths: tuple[int, int],
    max_seconds: float,
    progress: bool,
    outcomes: Callable[[dict[str, np.ndarray]], None] | None = None,
    **search: Any,
) -> Reconstruction:
    """Start cohorts from the plan's cells, the search, and the result (both entry points)."""
    start = _starter(plan, deaths, outcomes, search)
    clock = _time.perf_counter()
    state, steps, _ = _restarts(
        plan.design, plan.setup, start, plan.seed, max_seconds, progress, **search
    )
    return _finish(plan, state, steps, _time.perf_counter() - clock)


def rebuild_cohort(
    summary: Any,
    *,
    seed: int = 0,
    assumptions: Mapping[str, Any] | None = None,
    max_seconds: float = 60.0,
    progress: bool = False,
    include: set[str] | frozenset[str] = frozenset(),
    max_cpu_seconds: float | None = None,
) -> Reconstruction:
    """Rebuild a patient-level cohort whose fitted models reproduce every reported figure.

    Parameters
    ----------
    summary
        A :class:`~alsstats.summary.ReportedSummary` (or a path to one).
    seed
        Seed of the start cohort and of the search: same summary and seed, same cohort.
    assumptions
        Overrides of the summary's assumptions, by id.
    max_seconds
        Search time limit; if it is reached first, the closest cohort found is returned with
        ``outcome_`` "not found in the time given".
    progress
        Show a progress bar per search stage (tqdm, on stderr).
    include
        Ids of figures with status "conflicting" to use as targets.
    max_cpu_seconds
        Optional second limit: CPU time of the calling process (:func:`time.process_time`,
        every thread), which does not stretch when other work shares the machine. For a
        process that runs one rebuild at a time (a validation worker); ``max_seconds`` stays
        the wall-clock safety cap.

    Notes
    -----
    With three or more arms the cohort's ``arm`` column holds every arm's id, ``treatment``
    is 1 in every arm but the control, and each hazard ratio, CI and p (a ``comparisons``
    log-rank p too) is the fit on the rows of the two arms it names, a comparison of two
    treatment arms with the first named as treatment. Modifier figures are rebuilt on each
    comparison with the control that prints them when the primary comparison
    (``trial.treatment_arm`` vs ``trial.control_arm``) prints the same modifier, categories
    or cut-offs; otherwise, or within a comparison of two treatment arms, a
    :class:`~alsstats.errors.ReconstructionError` names the figure.

    Returns
    -------
    Reconstruction
        ``outcome_`` is one of :data:`OUTCOMES`: "feasible" (every figure met),
        "infeasible" (a proof: ``proofs_`` names the smallest conflicting sets of figures and
        the arithmetic), or "not found in the time given" (``residuals`` of the closest cohort
        and a ``hint_``). Nothing is raised for infeasible figures.
    """
    summary = as_reported_summary(summary)
    if len(summary.arms) > 2:
        from ._arms import rebuild_arms  # several arms: pairs of arms, one search

        return rebuild_arms(
            summary,
            seed=seed,
            assumptions=assumptions,
            max_seconds=max_seconds,
            progress=progress,
            include=frozenset(include),
            max_cpu_seconds=max_cpu_seconds,
        )
    plan, deaths, search = _plan_rebuild(summary, seed, assumptions, frozenset(include))
    return _run(plan, deaths, max_seconds, progress, max_cpu_seconds=max_cpu_seconds, **search)


def _plan_rebuild(
    summary: Any,
    seed: int,
    assumptions: Mapping[str, Any] | None,
    include: frozenset[str],
    ticks: float | None = None,
) -> tuple[Plan, tuple[int, int], dict[str, Any]]:
    """The plan of a two-arm rebuild (proofs, cells' inputs, the start's covariates), the
    deaths per arm and the search's stages: everything :func:`rebuild_cohort` does before the
    search."""
    chosen: dict[str, Any] = {}

    def deaths_for(targets: list[Target]) -> dict[str, float]:
        sets, pairs = _count_proof(summary, targets)
        chosen.update(sets=sets, pairs=pairs)
        trt, ctl = summary.treatment_arm.id, summary.control_arm.id
        if _free_deaths(targets):
            # no count fixes them: deaths from the medians (or the HR) and the censoring
            chosen["free"] = choose_deaths(
                summary, targets, resolve_assumptions(summary, assumptions)
            )
            return dict(zip((trt, ctl), map(float, chosen["free"]), strict=True))
        return {trt: float(pairs[0, 0]), ctl: float(pairs[0, 1])} if len(pairs) == 1 else None

    targets, values, design, setup, model = _prepare(
        summary, assumptions, include, deaths=deaths_for, ticks=ticks
    )
    sets, pairs = chosen["sets"], chosen["pairs"]
    proofs = [Proof(tuple(m), "count arithmetic: no deaths-per-arm pair meets them") for m in sets]
    conflicts = [i for m in sets for i in m]
    if "free" in chosen:
        deaths, unreachable = chosen["free"], []
    else:
        deaths, unreachable = _choose_deaths(design, setup, pairs)
    if len(pairs) > 1 and "free" not in chosen:
        # the counts leave the split open: calibrate on the pair chosen
        model = calibrate_model(
            summary,
            assumptions,
            deaths={setup.trt_id: float(deaths[0]), setup.ctl_id: float(deaths[1])},
        )
        setup.model = model
        setup.group_count = _group_counts(summary, targets, setup.groups, model)
    count_ids = [t.id for t in targets if t.statistic in ("deaths", "alive_count", "death_share")]
    for u in unreachable:
        proofs.append(
            Proof(
                (u, *count_ids),
                "hazard ratio out of reach: no order of the deaths the counts allow gives it",
            )
        )
        conflicts += [u, *count_ids]
    if "free" not in chosen:
        for figs, reason in _ci_width_proofs(design, deaths, count_ids):
            proofs.append(Proof(figs, reason))
            conflicts += list(figs)
    cov = _covariates((setup.n_trt, setup.n_ctl), targets, values, np.random.default_rng(seed))
    windows, inconsistent, _ = _subgroup_windows(design)
    # a group whose deaths per arm the counts fix is not the pilot's to move
    windows = {g: w for g, w in windows.items() if g not in {k for _, k in setup.fixed_dead}}
    if inconsistent:
        figs = tuple(dict.fromkeys(inconsistent))
        proofs.append(Proof(figs, "estimate, CI and p cannot hold together at any (log HR, SE)"))
        conflicts += list(figs)
    conflicts = list(dict.fromkeys(conflicts))
    plan = Plan(
        summary, targets, values, design, setup, model, seed, cov, windows, conflicts, proofs,
        modifier_of(summary), _strata_columns(values),
    )  # fmt: skip
    horizon = follow_up_horizon(summary, values)
    if not horizon.staggered:
        return plan, deaths, dict(_CATEGORY_SEARCH) if design.categories else {}
    plan.horizon = horizon
    plan.values = {**values, "follow_up_horizon": horizon.describe()}
    search = horizon_stages(setup.free_deaths)
    if design.categories:
        search = {k: _without_value_moves(v) for k, v in search.items()}
    return plan, deaths, search


# Moves that scale a continuous modifier's values: on a categorical modifier's codes they give
# values between codes (a code 1 nudged to 0.9 is category 1 to the fits, whose ranges are
# code +- 0.5, and category 0 to the cohort's labels), so a categorical search has none.
_VALUE_MOVES = frozenset({"nudge_modifier", "stretch_modifier", "tilt_modifier"})


def _without_value_moves(value: Any) -> Any:
    """A search setting (stages, or a tuple of moves) without :data:`_VALUE_MOVES`."""
    if value is None:
        return None
    if all(isinstance(m, str) for m in value):
        return tuple(m for m in value if m not in _VALUE_MOVES)
    return tuple((name, _without_value_moves(moves)) for name, moves in value)


def _ci_width_proofs(
    design: Design, deaths: tuple[int, int], count_ids: list[str]
) -> list[tuple[tuple[str, ...], str]]:
    """Overall HR CIs narrower than any Cox fit with these deaths per arm allows
    (:func:`alsstats.checks.cox_se_floor`, the bound ``check`` applies as
    ``ci_width_vs_deaths``)."""
    d_t, d_c = deaths
    if d_t < 1 or d_c < 1:
        return []
    se_min = cox_se_floor(d_t, d_c)
    out = []
    overall = [
        t
        for t in design.targets
        if t.model == "treatment"
        and t.population.get("lower") is None
        and t.population.get("upper") is None
        and not t.population.get("adjust")
    ]
    for lo in (t for t in overall if t.statistic == "hr_ci_lower"):
        hi = next(
            (t for t in overall if t.figure == lo.figure and t.statistic == "hr_ci_upper"), None
        )
        if hi is None:
            continue
        z = (
            float(_Z[0.95])
            if lo.level in (None, 0.95)
            else float(stats.norm.ppf((1 + lo.level) / 2))
        )
        se_max = (np.log(hi.upper) - np.log(lo.lower)) / (2 * z)
        if se_max < se_min:
            out.append(
                (
                    (lo.id, hi.id, *count_ids),
                    f"CI narrower than any Cox fit with {d_t} and {d_c} deaths allows: "
                    f"SE(log HR) at most {se_max:.3f} from the CI, at least "
                    f"sqrt(1/{d_t} + 1/{d_c}) = {se_min:.3f}",
                )
            )
    return out


def _free_deaths(targets: list[Target]) -> bool:
    """Whether no count figure (deaths, survivors, death shares) fixes the deaths per arm."""
    counts = ("deaths", "alive_count", "alive_proportion", "death_share")
    return not any(t.statistic in counts for t in targets)


def _censor_survivors(
    state: dict[str, np.ndarray],
    horizon: FollowUpHorizon,
    setup: Setup,
    rng: np.random.Generator,
    medians: Mapping[str, float],
) -> None:
    """Survivors censored by staggered entry (and the lost to follow-up earlier), in steps."""
    alive = np.flatnonzero(state["death"] == 0)
    times = horizon.censoring_times(alive.size, rng)
    state["time"][alive] = np.clip(np.round(times * setup.ticks), 1, setup.end)
    if medians:
        _median_start(state, setup, medians, rng)


def _median_start(
    state: dict[str, np.ndarray],
    setup: Setup,
    medians: Mapping[str, float],
    rng: np.random.Generator,
) -> None:
    """Death times of each arm with a printed median: drawn from the constant hazard the
    median implies, then scaled (order kept) until the arm's Kaplan-Meier median, given the
    survivors' censoring, is the printed one; the calibrated model knows how many die by the
    end, not when. Death times stay distinct steps."""
    end = setup.end
    used: set[int] = set()
    for arm, median in medians.items():
        dead = np.flatnonzero((state["death"] == 1) & (state["trt"] == float(arm == setup.trt_id)))
        if dead.size == 0:
            continue
        sel = state["trt"] == float(arm == setup.trt_id)
        target = median * setup.ticks
        rate = math.log(2.0) / target
        u = rng.random(dead.size) * -math.expm1(-rate * end)
        t = -np.log1p(-u) / rate
        for _ in range(30):
            trial = state["time"].copy()
            trial[dead] = np.clip(t, 1, end - 1)
            med = km_median_batch(trial[sel][None, :], state["death"][sel][None, :])[0]
            if not np.isfinite(med):
                t = t * 0.97
                continue
            if abs(med - target) < 0.5:
                break
            t = t * (target / med)
        for i, ti in zip(dead[np.argsort(t)], np.sort(t), strict=True):
            day = _free_day(int(min(max(round(ti), 1), end - 1)), used, end)
            used.add(day)
            state["time"][i] = day
    for i in np.flatnonzero(state["death"] == 1):  # arms without a median: distinct steps
        if state["trt"][i] == 1.0 and setup.trt_id in medians:
            continue
        if state["trt"][i] == 0.0 and setup.ctl_id in medians:
            continue
        day = _free_day(int(state["time"][i]), used, end)
        used.add(day)
        state["time"][i] = day


# A categorical modifier is constant within its group: the moves of modifier values within a
# group change nothing, and the interaction model (treatment x category) moves only with how
# the categories' deaths interleave in time. A death moved to a free day between its group
# neighbours (shift_in_group) keeps every category's order, hence its subgroup fit, and
# changes that interleaving: the model stage's move.
_CATEGORY_MODEL = ("model", ("shift_in_group",))
_CATEGORY_SEARCH = {
    "stages": (*_STAGES[:2], _CATEGORY_MODEL),
    "restart_stages": (*_RESTART_STAGES[:2], _CATEGORY_MODEL),
}


def _strata_columns(values: Mapping[str, Any]) -> tuple[str, ...]:
    strata = values.get("randomisation_strata_shares") or {}
    return tuple(STRATA_COLUMNS.get(k, k) for k in strata)


def assign_biomarker(
    ipd: pd.DataFrame,
    summary: Any,
    *,
    seed: int = 0,
    assumptions: Mapping[str, Any] | None = None,
    max_seconds: float = 60.0,
    progress: bool = False,
) -> Reconstruction:
    """Assign the modifier and covariates to fixed individual outcomes (arm, time, event).

    For individual data reconstructed from Kaplan-Meier curves (:mod:`alsstats.km`): the
    outcomes stay as given; modifier values (group sizes from the reported shares) and covariates
    are placed on patients by the same search so that the subgroup and interaction hazard
    ratios are met. ``ipd`` needs columns arm (the summary's arm ids), time, event.
    """
    summary = as_reported_summary(summary)
    for col in ("arm", "time", "event"):
        if col not in ipd.columns:
            raise InputError("ipd", col, "missing column (need arm, time, event)")
    n_events = int(ipd["event"].sum())
    targets, values, design, setup, model = _prepare(
        summary, assumptions, frozenset(), n_deaths=n_events
    )
    arms = ipd["arm"].astype(str).to_numpy()
    unknown = sorted(set(arms) - {setup.trt_id, setup.ctl_id})
    if unknown:
        raise InputError("ipd", "arm", f"unknown arm ids {unknown}")
    order = np.r_[np.flatnonzero(arms == setup.trt_id), np.flatnonzero(arms == setup.ctl_id)]
    n_trt = int((arms == setup.trt_id).sum())
    setup.n_trt, setup.n_ctl = n_trt, len(arms) - n_trt
    if setup.group_count.sum() != len(arms):
        setup.group_count = _largest_remainder(setup.group_count.astype(float), len(arms))
    event = ipd["event"].to_numpy(int)[order]
    deaths = (int(event[:n_trt].sum()), int(event[n_trt:].sum()))
    cov = _covariates((setup.n_trt, setup.n_ctl), targets, values, np.random.default_rng(seed))
    times = ipd["time"].to_numpy(float)[order] * setup.ticks
    windows, _, _ = _subgroup_windows(design)

    def outcomes(state: dict[str, np.ndarray]) -> None:
        # outcomes as given: the start cohort only supplies modifier values, moved onto the
        # patients with the same arm and outcome
        trt = state["trt"]
        new_modifier, new_group = np.empty_like(state["modifier"]), np.empty_like(state["group"])
        for a in (1, 0):
            for d in (1, 0):
                dest = np.flatnonzero((trt == a) & (event == d))
                src = np.flatnonzero((trt == a) & (state["death"] == d))
                new_modifier[dest], new_group[dest] = state["modifier"][src], state["group"][src]
        state.update(
            time=times.copy(), death=event.astype(np.int8), modifier=new_modifier, group=new_group
        )

    plan = Plan(
        summary, targets, values, design, setup, model, seed, cov, windows, [], [],
        modifier_of(summary), _strata_columns(values),
    )  # fmt: skip
    stages = (
        ("subgroups", ("swap_modifier_across",)),
        ("model", ("swap_modifier_group", "redraw_modifier")),
    )
    return _run(
        plan,
        deaths,
        max_seconds,
        progress,
        outcomes,
        stages=stages,
        restart_stages=None,
        fallback=_BIOMARKER_MOVES,
    )
