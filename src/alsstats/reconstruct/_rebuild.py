"""Rebuild a patient-level cohort from published summary figures alone ("level b").

:func:`rebuild_cohort` returns a cohort of exactly the reported size whose own fitted models
reproduce every reported figure at its reported precision (110/110 randomised, 41/49 deaths,
HR 0.81, subgroup and interaction-model HRs with CIs and p-values, shares, median age, share of
men). Method:

1. Count targets are checked exactly first (integer enumeration of deaths per arm and subgroup
   counts, :mod:`alsstats.reconstruct`); jointly impossible figures are named
   (:attr:`Reconstruction.conflicts`) before any search.
2. A start cohort is drawn from the calibrated model (:func:`alsstats.reconstruct.calibrate_model`,
   :mod:`alsstats.reconstruct`): arm x biomarker-group x death cells from the model's expected
   counts, pNFH within each cell from the biomarker distribution weighted by the model's risk of
   death, death days from the model conditional on death before the landmark, survivors
   censored at the landmark.
3. A seeded stochastic search (:mod:`alsstats.reconstruct`) improves it: each step proposes a batch
   of single moves (:mod:`alsstats.reconstruct`: swap two death days, redraw one death day, swap two
   patients' pNFH, redraw one pNFH within its group, move a death to another patient of the
   same arm), scores all of them at once with :func:`alsstats.survival.fit_cox_batch` (one
   (R, n) batch per model; Efron ties, although a rebuilt cohort has no tied death days), and
   keeps one. Objective (:mod:`alsstats.reconstruct`): sum over targets of ((deviation from the
   interval centre) / rounding half-width)^2 beyond a safety margin, plus a small pull to the
   centre. It stops as soon as every figure rounds right with the margin.

Count-type figures hold by construction and every move keeps them. :func:`assign_biomarker`
runs the same search with arm, time and event fixed (the Kaplan-Meier reconstruction path).
Every rebuild carries its own settings (no module state): rebuilds may run in threads.
"""

from __future__ import annotations

import dataclasses
import time as _time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, ReconstructionError
from ..models import DataGeneratingModel
from ..summary import as_reported_summary
from ._calibrate import (
    Target,
    biomarker_groups,
    calibrate_model,
    resolve_assumptions,
    targets_from_summary,
)
from ._counts import _hr_bound_conflicts, _integer_count, _largest_remainder, count_conflicts
from ._fits import _Z, Design, _subgroup_windows
from ._moves import _BIOMARKER_MOVES
from ._result import Reconstruction, _finish
from ._search import _restarts
from ._start import Setup, _cells, _covariates, _start

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


def _prepare(
    summary: Any, assumptions: Mapping[str, Any] | None, include: frozenset[str]
) -> tuple[list[Target], dict[str, Any], Design, Setup, DataGeneratingModel]:
    values = resolve_assumptions(summary, assumptions)
    targets = targets_from_summary(summary, assumptions, include=include)
    groups = biomarker_groups(targets, values.get("remaining_share", "below"))
    model = calibrate_model(summary, assumptions)
    loq_spec = values.get("limit_of_quantification") or {}
    loq = float(loq_spec.get("value", 0.0) if isinstance(loq_spec, Mapping) else loq_spec)
    n = {a.id: int(a.n.value) for a in summary.arms}
    trt_id, ctl_id = summary.treatment_arm.id, summary.control_arm.id
    n_all = n[trt_id] + n[ctl_id]
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
    if left < 0:
        raise ReconstructionError("reported subgroup shares add up to more than 100%")
    weights = np.array(
        [model.biomarker.share_between(groups[i].lower, groups[i].upper) for i in rest]
    )
    for i, c in zip(rest, _largest_remainder(weights, left), strict=True):
        counts[i] = int(c)
    adjusted = values.get("adjusted_model_covariates") or []
    adjust = tuple(c for c in adjusted if c in ("age", "male"))
    design = Design(
        targets=[t for t in targets if t.statistic.startswith("hr")],
        groups=groups,
        log_scale=values.get("pnfh_scale", "linear") == "log",
        x_unit=float(model.biomarker.median),
        adjust=adjust,
        ties=values["ties"],
        level_z=float(_Z[0.95]),
        landmark=float(summary.follow_up["landmark"].value),
    )
    design = dataclasses.replace(design, margins=_subgroup_windows(design)[2])
    setup = Setup(
        model,
        groups,
        np.array(counts, int),
        loq,
        design.landmark,
        trt_id,
        ctl_id,
        n[trt_id],
        n[ctl_id],
    )
    return targets, values, design, setup, model


def _run(
    plan: Plan,
    deaths: tuple[int, int],
    max_seconds: float,
    progress: bool,
    outcomes: Callable[[dict[str, np.ndarray]], None] | None = None,
    **search: Any,
) -> Reconstruction:
    """Start cohorts from the plan's cells, the search, and the result (both entry points)."""
    setup, design = plan.setup, plan.design
    cells = _cells(setup, deaths, np.random.default_rng([plan.seed, 1 << 20]), plan.windows)

    def start(rng_k: np.random.Generator) -> dict[str, np.ndarray]:
        state = _start(setup, cells, rng_k)
        if outcomes is not None:
            outcomes(state)
        for c in design.adjust:
            state[c] = plan.cov[c].astype(float)
        return state

    clock = _time.perf_counter()
    state, steps, _ = _restarts(design, setup, start, plan.seed, max_seconds, progress, **search)
    return _finish(plan, state, steps, _time.perf_counter() - clock)


def rebuild_cohort(
    summary: Any,
    *,
    seed: int = 0,
    assumptions: Mapping[str, Any] | None = None,
    max_seconds: float = 60.0,
    progress: bool = False,
    include: set[str] | frozenset[str] = frozenset(),
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
        Search time limit; if it is reached, the best compromise is returned with
        ``feasible`` False and the figures it misses in ``conflicts``.
    progress
        Print the objective every 20 steps.
    include
        Ids of figures with status "conflicting" to use as targets.

    Returns
    -------
    Reconstruction
        ``feasible`` False with ``conflicts`` when figures cannot be met jointly (counts are
        checked exactly before any search; hazard ratios by the search). Nothing is raised
        for infeasible figures.
    """
    summary = as_reported_summary(summary)
    targets, values, design, setup, model = _prepare(summary, assumptions, frozenset(include))
    conflicts, deaths = count_conflicts(summary, targets)
    cov = _covariates((setup.n_trt, setup.n_ctl), targets, values, np.random.default_rng(seed))
    windows, inconsistent, _ = _subgroup_windows(design)
    conflicts += inconsistent
    conflicts += _hr_bound_conflicts(design, setup, deaths, targets)
    plan = Plan(summary, targets, values, design, setup, model, seed, cov, windows, conflicts)
    return _run(plan, deaths, max_seconds, progress)


def assign_biomarker(
    ipd: pd.DataFrame,
    summary: Any,
    seed: int = 0,
    *,
    assumptions: Mapping[str, Any] | None = None,
    max_seconds: float = 60.0,
    progress: bool = False,
) -> Reconstruction:
    """Assign pNFH and covariates to fixed individual outcomes (arm, time, event).

    For individual data reconstructed from Kaplan-Meier curves (:mod:`alsstats.km`): the
    outcomes stay as given; pNFH values (group sizes from the reported shares) and covariates
    are placed on patients by the same search so that the subgroup and interaction hazard
    ratios are met. ``ipd`` needs columns arm (the summary's arm ids), time, event.
    """
    summary = as_reported_summary(summary)
    for col in ("arm", "time", "event"):
        if col not in ipd.columns:
            raise InputError("ipd", col, "missing column (need arm, time, event)")
    targets, values, design, setup, model = _prepare(summary, assumptions, frozenset())
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
    times = ipd["time"].to_numpy(float)[order]
    windows, _, _ = _subgroup_windows(design)

    def outcomes(state: dict[str, np.ndarray]) -> None:
        # outcomes as given: the start cohort only supplies pNFH, moved onto the patients
        # with the same arm and outcome
        trt = state["trt"]
        new_pnfh, new_group = np.empty_like(state["pnfh"]), np.empty_like(state["group"])
        for a in (1, 0):
            for d in (1, 0):
                dest = np.flatnonzero((trt == a) & (event == d))
                src = np.flatnonzero((trt == a) & (state["death"] == d))
                new_pnfh[dest], new_group[dest] = state["pnfh"][src], state["group"][src]
        state.update(time=times.copy(), death=event.astype(np.int8), pnfh=new_pnfh, group=new_group)

    plan = Plan(summary, targets, values, design, setup, model, seed, cov, windows, [])
    stages = (("subgroups", ("swap_pnfh_across",)), ("model", ("swap_pnfh_group", "redraw_pnfh")))
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
