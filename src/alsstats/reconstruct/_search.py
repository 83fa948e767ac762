"""The seeded stochastic search of the reconstruction (level b).

An attempt is a staged best-of-batch local search from one start cohort (subgroup fits, then
the treatment-only fits, then the interaction model, then every target with every move); a
failed attempt is followed by another from a fresh start cohort. Attempt k draws from the
random stream (seed, k) only and stops after a fixed number of steps, so the result depends on
the seed and not on the machine's speed, unless the ``max_seconds`` safety cap is reached.
Attempts after the first also move deaths and modifier values across biomarker groups while
fitting the subgroups (see :data:`alsstats.reconstruct._RESTART_STAGES`). A search on a
log-scale interaction model also takes deterministic polish steps when stuck (:func:`_polish`).
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from ._calibrate import Target
from ._fits import MARGIN, Design, _accepted, _fit_stats, _score
from ._moves import _ALL_MOVES, _RESTART_STAGES, _STAGES, _move_blocks, _propose, _value_blocks
from ._start import Setup

__all__: list[str] = ["ATTEMPT_STEPS", "CANDIDATES"]

CANDIDATES = 128  # moves scored per search step (one engine batch per model)

# Search steps per start cohort before a restart (a count, not seconds: the result must not
# depend on the machine's speed). max_seconds is only a safety cap.
ATTEMPT_STEPS = 300

# The first attempt searches from the pilot's start cohort with the plain moves; when it has
# not finished in this many steps the restarts (best of several starts, moves between arms)
# usually do better than more of the same.
FIRST_ATTEMPT_STEPS = 120

# Steps without progress after which a search whose figures are all accepted (within
# ACCEPT_MARGIN) stops although some miss the preferred MARGIN (see alsstats.reconstruct._fits).
PATIENCE = 15

# Attempts from LATE_ATTEMPT on also tie deaths (a move of every stage, see _moves) when a
# biomarker group (or the trial) has at most TIE_ORDERS orders of its deaths' arms: with
# few deaths a group's Cox fit takes one of C(d, d_treated) values (survivors censored at
# one time), and a trial with tied death times prints a fit none of them may give. Also
# when the trial has more deaths than whole time units to its end (91 deaths in 24 months:
# whole-month records tie most deaths, and their Efron fits sit where distinct days rarely
# reach). Otherwise the moves stay as they were (the shipped cohorts, and other seeds of
# them, are their results).
LATE_ATTEMPT = 2
LATE_MOVES = ("tie_time",)
TIE_ORDERS = 10_000


def _few_orders(design: Design, state: dict[str, np.ndarray]) -> bool:
    """Whether the trial or one of its biomarker groups with a printed HR has at most
    TIE_ORDERS orders of its deaths' arms."""
    dead = state["death"] == 1
    treated = state["trt"] == 1
    ranges = {
        (t.population.get("lower"), t.population.get("upper"))
        for t in design.targets
        if t.model == "treatment" and t.statistic == "hr"
    }
    groups = [np.ones(dead.shape, bool)]
    groups += [
        state["group"] == g
        for g, grp in enumerate(design.groups)
        if (grp.lower, grp.upper) in ranges and not grp.missing
    ]
    for g in groups:
        d, d_t = int((g & dead).sum()), int((g & dead & treated).sum())
        if 0 < d_t < d and math.comb(d, d_t) <= TIE_ORDERS:
            return True
    return False


# The polish step (a Gauss-Newton step on continuous parameters of the modifier values, see
# _polish) of searches on an interaction model with a continuous modifier. On the log scale
# its treatment HR at the origin is an extrapolation far from the data, and a CI bound printed
# to 2 decimals there pins log HR + z SE to ~1e-4 while the HR pins the log HR to ~1e-2: a
# thin line segment in (log HR, SE) that random moves of single values leave in every
# direction. On the linear scale the same happens to a ratio of HRs per unit printed as 1.00
# (0.97-1.02): its CI pins the interaction's SE to a few per cent, and in a small trial a
# single value moved changes it by more (family 2027 trials 52 and 84, n 102 and 112). The
# step runs when the search has been stuck POLISH_AFTER steps and the cohort moved since the
# last one.
POLISH_AFTER = 2
POLISH_STEP = 0.01  # central-difference step of each parameter (log modifier units)
# Damping of the least-squares step, times the largest squared singular value of the Jacobian
# (Levenberg-Marquardt on its SVD): from a small step along the stiffest direction to the
# full Gauss-Newton step, all scored in one engine batch (the linearisation holds only near
# the cohort, and the best of the batch wins); each parameter moves at most POLISH_REACH.
POLISH_DAMPING = tuple(10.0**-k for k in range(9))
POLISH_REACH = 0.1


def _wants_polish(design: Design, targets: list[Target]) -> bool:
    """Whether a search on ``targets`` uses the polish step: a continuous modifier (either
    scale) and a figure of the interaction model among the targets."""
    return not design.categories and any(t.model == "interaction" for t in targets)


def _residuals(targets: list[Target], values: np.ndarray) -> np.ndarray:
    """(R, k) distances of the values from the figures in rounding half-widths."""
    centre = np.array([t.value for t in targets])
    half = np.array([t.half_width if t.half_width > 0 else 0.5 for t in targets])
    return (values - centre) / half


def _polish(
    setup: Setup,
    state: dict[str, np.ndarray],
    targets: list[Target],
    evaluate: Any,
) -> dict[str, np.ndarray] | None:
    """Candidate cohorts of one Gauss-Newton step towards the figures on the shift and stretch
    of each arm's log modifier values per biomarker group (None: no such values to move).

    The Jacobian of the figures' residuals (in rounding half-widths) comes from central
    differences (one engine batch); the step solves the damped least squares for each of
    POLISH_DAMPING (the caller scores them in a second batch)."""
    blocks = _value_blocks(state, setup)
    if not blocks:
        return None
    P = 2 * len(blocks)
    probe = POLISH_STEP * np.vstack([np.eye(P), -np.eye(P)])
    d = _residuals(targets, evaluate(_move_blocks(state, setup, blocks, probe)))
    base = _residuals(targets, evaluate({k: v[None, :] for k, v in state.items()}))[0]
    if not np.isfinite(base).all():
        return None
    J = np.nan_to_num((d[:P] - d[P:]).T / (2 * POLISH_STEP), nan=0.0, posinf=0.0, neginf=0.0)
    U, sv, Vt = np.linalg.svd(J, full_matrices=False)
    if sv[0] <= 0:
        return None
    along = U.T @ base
    steps = [-(Vt.T * (sv / (sv**2 + mu * sv[0] ** 2))) @ along for mu in POLISH_DAMPING]
    theta = np.array(steps)
    # a long step is shortened along its own direction
    theta *= np.minimum(1.0, POLISH_REACH / np.abs(theta).max(axis=1, initial=1e-300))[:, None]
    return _move_blocks(state, setup, blocks, theta)


# A search over every target (the last stage, or the search after the stages) stalled
# PATIENCE steps on a cohort that is not accepted but has every figure within RELAX_WITHIN
# half-widths holds the figures to RELAXED_MARGIN instead of the preferred MARGIN from then on.
# The objective charges each figure its excess over the margin, so where the margin's region
# is empty (the death counts pin an SE the preferred region does not reach) its minimum
# spreads the excess, e.g. p at 1.00 half-widths and a CI bound at 0.90, outside the
# acceptance rule although a cohort with both at 0.98 exists (family 2027 trial 156, n 574:
# the overall HR, CI and p leave a sliver 3e-4 wide in log HR). Not in a stage over some of
# the targets: one that met its figures at the edge of their rounding leaves the next stage's
# moves no room (family 2026 trial 41, n 77, was lost so).
RELAX_WITHIN = 1.5
RELAXED_MARGIN = 0.99


def _relaxed(targets: list[Target], margins: dict[str, float]) -> dict[str, float]:
    """Every target's margin raised to RELAXED_MARGIN (a wider one is kept)."""
    return {t.id: max(margins.get(t.id, MARGIN), RELAXED_MARGIN) for t in targets}


# Start cohorts drawn per restart, of which the closest to the figures is searched.
START_DRAWS = 16


@dataclass
class _Budget:
    """Search steps left in an attempt, and the caps of the whole rebuild: wall clock
    (``deadline``, perf_counter) and CPU time of the process (``cpu_deadline``,
    process_time; infinite unless asked for)."""

    steps: int
    deadline: float
    cpu_deadline: float = math.inf

    def take(self) -> bool:
        if self.steps <= 0 or self.spent():
            return False
        self.steps -= 1
        return True

    def spent(self) -> bool:
        """Whether either cap is reached."""
        if _time.perf_counter() >= self.deadline:
            return True
        return self.cpu_deadline < math.inf and _time.process_time() >= self.cpu_deadline


def _search(
    design: Design,
    setup: Setup,
    state: dict[str, np.ndarray],
    targets: list[Target],
    moves: tuple[str, ...],
    rng: np.random.Generator,
    budget: _Budget,
    progress: bool,
    label: str = "",
    relax: bool = False,
) -> tuple[dict, int, bool]:
    """Best-of-batch local search on ``targets``; returns the state, steps and success.

    The best of a batch of moves is taken when it lowers the objective; after 20 batches
    without progress the best move that changes anything is taken anyway (to leave a
    plateau). Stops when every target holds with the margin, or when the budget is spent.
    ``relax``: a search stalled next to the figures holds them to RELAXED_MARGIN (searches
    over every target only: a stage that met its figures at the edge would leave the next
    stage no room).
    """

    def evaluate(s: dict[str, np.ndarray]) -> np.ndarray:
        return _fit_stats(
            design,
            s["trt"],
            s["time"],
            s["death"],
            s["modifier"],
            {c: s[c] for c in design.covariates},
            targets,
        )

    if not targets:
        return state, 0, True
    first = evaluate({k: v[None, :] for k, v in state.items()})
    margins = design.margins
    score, ok = _score(targets, first, margins)
    current, done, accepted = float(score[0]), bool(ok[0]), bool(_accepted(targets, first)[0])
    here = first  # the figures of the current cohort, (1, k)
    steps, stuck, relaxed = 0, 0, not relax
    # polished: tried on this cohort; chained: the last step was a polish that helped (the
    # next one goes on from there at once: Gauss-Newton steps converge in a few)
    polish, polished, chained = _wants_polish(design, targets), False, False
    bar = tqdm(desc=f"rebuild: {label}", unit="step", disable=not progress, leave=False)
    while not done and budget.take():
        if accepted and stuck >= PATIENCE:
            done = True  # every figure is accepted; the preferred margin is out of reach
            break
        near = np.abs(_residuals(targets, here)).max(initial=0.0) <= RELAX_WITHIN
        if near and not relaxed and stuck >= PATIENCE:
            relaxed, margins = True, _relaxed(targets, margins)
            sc, good = _score(targets, here, margins)
            current, done, stuck = float(sc[0]), bool(good[0]), 0
            if done:
                break
        steps += 1
        bar.update(1)
        if polish and not polished and (chained or stuck >= POLISH_AFTER):
            polished, chained = True, False  # once per cohort: the step is deterministic
            cand = _polish(setup, state, targets, evaluate)
            if cand is not None:
                values = evaluate(cand)
                sc, good = _score(targets, values, margins)
                best = int(np.argmin(sc))
                if sc[best] < current:
                    state = {k: v[best].copy() for k, v in cand.items()}
                    current, done, stuck, polished = float(sc[best]), bool(good[best]), 0, False
                    here = values[best : best + 1]
                    accepted = bool(_accepted(targets, here)[0])
                    chained = True
                    continue
        cand = _propose(state, setup, moves, design.covariates, rng, CANDIDATES)
        values = evaluate(cand)
        sc, good = _score(targets, values, margins)
        best = int(np.argmin(sc))
        if sc[best] >= current and stuck >= 20:
            moved = np.flatnonzero(np.abs(sc - current) > 1e-12)
            best = int(moved[np.argmin(sc[moved])]) if moved.size else best
        if sc[best] < current or stuck >= 20:
            state = {k: v[best].copy() for k, v in cand.items()}
            current, done, stuck, polished = float(sc[best]), bool(good[best]), 0, False
            here = values[best : best + 1]
            accepted = bool(_accepted(targets, here)[0])
        else:
            stuck += 1
        if steps % 20 == 0:
            bar.set_postfix(objective=f"{current:.4g}", refresh=False)
    bar.close()
    # a budget spent on an accepted cohort has found one
    return state, steps, done or accepted


def _staged_search(
    design: Design,
    setup: Setup,
    state: dict[str, np.ndarray],
    rng: np.random.Generator,
    budget: _Budget,
    progress: bool,
    stages: tuple[tuple[str, tuple[str, ...]], ...] = _STAGES,
    fallback: tuple[str, ...] = _ALL_MOVES,
) -> tuple[dict, int]:
    """Subgroup fits first, then the overall HR by interleaving groups (subgroup fits fixed),
    then the interaction model by modifier values within groups (both fixed); a search over
    every target with every move for whatever budget is left if a stage could not finish."""
    kinds = {
        "treatment": lambda t: t.model == "treatment",
        "subgroups": lambda t: (
            t.model == "treatment"
            and (t.population.get("lower") is not None or t.population.get("upper") is not None)
        ),
        "overall": lambda t: (
            t.model == "treatment"
            and t.population.get("lower") is None
            and t.population.get("upper") is None
        ),
        "model": lambda t: t.model == "interaction",
    }
    steps = 0
    # survival landmarks before the end of follow-up are counts of early deaths: every stage
    # keeps them (no stage of their own; the first stage's time moves meet them)
    survival = [t for t in design.targets if t.model is None]
    for name, moves in stages:
        stage_targets = [t for t in design.targets if kinds[name](t)] + survival
        # a stage over every target is the last that matters: it may relax (see _search)
        last = {t.id for t in stage_targets} == {t.id for t in design.targets}
        state, k, done = _search(
            design, setup, state, stage_targets, moves, rng, budget, progress, name, relax=last
        )
        steps += k
        if not done:
            break
    state, k, done = _search(
        design, setup, state, design.targets, fallback, rng, budget, progress, "all", relax=True
    )
    return state, steps + k, done


def _best_start(
    design: Design, state: dict[str, np.ndarray], start: Any, seed: int, attempt: int
) -> dict[str, np.ndarray]:
    """The best of START_DRAWS start cohorts (``state`` and more from the streams
    (seed, attempt, k)) by the objective over every target: the random start's distance
    from the figures is most of a search's work."""
    states = [state] + [
        start(np.random.default_rng([seed, attempt, k]), attempt) for k in range(1, START_DRAWS)
    ]
    batch = {key: np.stack([s[key] for s in states]) for key in state}
    values = _fit_stats(
        design,
        batch["trt"][0],
        batch["time"],
        batch["death"],
        batch["modifier"],
        {c: batch[c] for c in design.covariates},
    )
    score, _ = _score(design.targets, values, design.margins)
    return states[int(np.argmin(score))]


def _restarts(
    design: Design,
    setup: Setup,
    start: Any,
    seed: int,
    max_seconds: float,
    progress: bool,
    *,
    stages: tuple[tuple[str, tuple[str, ...]], ...] = _STAGES,
    restart_stages: tuple[tuple[str, tuple[str, ...]], ...] | None = _RESTART_STAGES,
    fallback: tuple[str, ...] = _ALL_MOVES,
    odd_stages: tuple[tuple[str, tuple[str, ...]], ...] | None = None,
    max_cpu_seconds: float | None = None,
) -> tuple[dict, int, int]:
    """Staged searches from fresh start cohorts until one meets every target.

    ``odd_stages``, if given, replace ``restart_stages`` on attempts 1, 3, 5, ... (whose start
    cohorts come from other cells, see :func:`alsstats.reconstruct._rebuild._run`).

    Attempt k uses the random stream (seed, k) for its start cohort and its moves, and at most
    ATTEMPT_STEPS steps (a stalled greedy search is cheaper to restart than to shake loose). The
    best attempt (lowest objective) is kept if none succeeds by ``max_seconds`` (wall clock)
    or ``max_cpu_seconds`` (CPU time of this process, :func:`time.process_time`: the same
    cap on a busy machine as on an idle one, for a process running one rebuild at a time).
    """
    deadline = _time.perf_counter() + max_seconds
    cpu_deadline = math.inf
    if max_cpu_seconds is not None:
        cpu_deadline = _time.process_time() + max_cpu_seconds
    best, best_score, steps, attempt = None, math.inf, 0, 0
    while True:
        rng = np.random.default_rng([seed, attempt])
        state = start(rng, attempt)
        if attempt > 0 and restart_stages is not None:
            state = _best_start(design, state, start, seed, attempt)
        budget = _Budget(ATTEMPT_STEPS if attempt else FIRST_ATTEMPT_STEPS, deadline, cpu_deadline)
        plan = stages if attempt == 0 or restart_stages is None else restart_stages
        if attempt % 2 == 1 and odd_stages is not None:
            plan = odd_stages
        late = fallback
        # more deaths than whole time units to the end: a trial that records whole units
        # (months, usually) has ties
        crowded = int(state["death"].sum()) > setup.end / setup.ticks
        if attempt >= LATE_ATTEMPT and (crowded or _few_orders(design, state)):
            plan = tuple((name, moves + LATE_MOVES) for name, moves in plan)
            late = fallback + LATE_MOVES
        state, k, done = _staged_search(
            design, setup, state, rng, budget, progress, stages=plan, fallback=late
        )
        steps += k
        attempt += 1
        if done:
            return state, steps, attempt
        one = {key: v[None, :] for key, v in state.items()}
        score = float(
            _score(
                design.targets,
                _fit_stats(
                    design,
                    one["trt"],
                    one["time"],
                    one["death"],
                    one["modifier"],
                    {c: one[c] for c in design.covariates},
                ),
                design.margins,
            )[0][0]
        )
        if score < best_score:
            best, best_score = state, score
        if budget.spent():
            return best, steps, attempt
