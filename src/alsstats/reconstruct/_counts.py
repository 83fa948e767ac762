"""Count-type figures: exact integer checks before any search (deaths per arm, survivors,
death shares), integer counts behind reported shares, and the overall HR's reach given the
death counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..checks import CountFigure, count_proof, overall_hr_reach
from ..errors import ReconstructionError
from ._calibrate import Target
from ._fits import Design
from ._follow_up import follow_up_horizon

if TYPE_CHECKING:
    from ._start import Setup

__all__: list[str] = ["count_conflicts"]

# Above this many allowed (deaths treatment, deaths control) pairs the HR reach is not computed.
MAX_PAIRS = 400


def _count_figures(summary: Any, targets: list[Target]) -> list[CountFigure]:
    """The count-type targets as the proofs of :mod:`alsstats.checks` take them."""
    out = []
    for t in targets:
        if t.statistic not in ("deaths", "alive_count", "alive_proportion", "death_share"):
            continue
        if t.population.get("category") is not None:
            continue  # a category's count: the rebuild's cells hold it (_start._fix_cells)
        weight = 0.5 if "conflicting" in _status(summary, t.id) else 1.0
        time = t.population.get("time") if t.population else None
        out.append(CountFigure(t.id, t.statistic, t.arm, t.rounds_to, time, weight))
    return out


def count_conflicts(summary: Any, targets: list[Target]) -> tuple[list[str], tuple[int, int]]:
    """Count-type targets that no integer deaths-per-arm pair meets jointly, exactly.

    Returns the ids in minimal infeasible subsets (empty when the counts are consistent) and
    the best compromise (deaths treatment, deaths control): the pair that violates the fewest
    targets, figures with status "conflicting" counting less than the others. The arithmetic
    is :func:`alsstats.checks.count_proof`, which ``alsstats check`` runs too.
    """
    sets, pairs = _count_proof(summary, targets)
    names = [i for i in dict.fromkeys(i for m in sets for i in m)]
    order = [t.id for t in targets]
    names.sort(key=order.index)
    return names, (int(pairs[0, 0]), int(pairs[0, 1]))


def _count_proof(summary: Any, targets: list[Target]) -> tuple[list[list[str]], np.ndarray]:
    trt, ctl = summary.treatment_arm.id, summary.control_arm.id
    n = (int(summary.treatment_arm.n.value), int(summary.control_arm.n.value))
    landmark = follow_up_horizon(summary).end
    return count_proof(_count_figures(summary, targets), n, (trt, ctl), landmark)


def _status(summary: Any, target_id: str) -> str:
    figure = target_id.split(".")[0]
    for collection in ("events", "survival", "event_shares"):
        for f in getattr(summary, collection, ()):
            if f.id == figure:
                return getattr(f, "status", "") or ""
    return ""


def _integer_count(t: Target | None, n: int, fallback: float) -> int:
    """The integer count whose share rounds to a reported share (closest to it)."""
    if t is None:
        return round(fallback * n)
    fits = [k for k in range(n + 1) if t.rounds_to(k / n)]
    if not fits:
        raise ReconstructionError(f"{t.id}: no count out of {n} rounds to {t.reported}")
    return min(fits, key=lambda k: (abs(k / n - t.value), k))


def _largest_remainder(
    expected: np.ndarray, total: int, cap: np.ndarray | None = None
) -> np.ndarray:
    """Integers summing to ``total``, each near ``expected`` (and at most ``cap``)."""
    expected = np.asarray(expected, float)
    if expected.sum() > 0:
        expected = expected * total / expected.sum()
    out = np.floor(expected).astype(int)
    if cap is not None:
        out = np.minimum(out, cap)
    order = np.argsort(-(expected - out), kind="stable")
    while out.sum() < total:
        moved = False
        for k in order:
            if out.sum() >= total:
                break
            if cap is None or out[k] < cap[k]:
                out[k] += 1
                moved = True
        if not moved:
            raise ReconstructionError(f"cannot place {total} patients in cells of size {cap}")
    return out


def _overall_targets(design: Design) -> list[Target]:
    return [
        t
        for t in design.targets
        if t.statistic == "hr"
        and t.model == "treatment"
        and t.population.get("lower") is None
        and t.population.get("upper") is None
        and not t.population.get("adjust")
    ]


def _hr_bound_conflicts(
    design: Design, setup: Setup, deaths: tuple[int, int], targets: list[Target]
) -> list[str]:
    """The overall HR out of reach of the death counts, whatever the order of deaths
    (:func:`alsstats.checks.overall_hr_reach`): its id and the count figures'."""
    overall = _overall_targets(design)
    if not overall:
        return []
    lo, hi = overall_hr_reach((setup.n_trt, setup.n_ctl), np.array([deaths]), design.ties)
    out = []
    for t in overall:
        if not (lo[0] < t.upper and t.lower < hi[0]):
            out += [t.id] + [
                c.id for c in targets if c.statistic in ("deaths", "alive_count", "death_share")
            ]
    return out


def _groups_hr_reachable(design: Design, cells: tuple[np.ndarray, np.ndarray]) -> bool:
    """Whether every biomarker group's reported HR is within the reach of its cells (arm
    sizes and deaths per arm, :func:`alsstats.checks.overall_hr_reach` applied to the group):
    cells that move patients or deaths between groups may leave a group without a CI out of
    reach of every order of its deaths."""
    size, dead = cells
    for g, grp in enumerate(design.groups):
        for t in design.targets:
            pop = t.population
            if (
                t.statistic != "hr"
                or t.model != "treatment"
                or pop.get("adjust")
                or (pop.get("lower"), pop.get("upper")) != (grp.lower, grp.upper)
            ):
                continue
            n = (int(size[0, g]), int(size[1, g]))
            if min(n) == 0 or min(dead[:, g]) == 0:
                return False
            lo, hi = overall_hr_reach(n, np.array([[dead[0, g], dead[1, g]]]), design.ties)
            if not (lo[0] < t.upper and t.lower < hi[0]):
                return False
    return True


def _choose_deaths(
    design: Design, setup: Setup, pairs: np.ndarray, risk_ratio: float | None = None
) -> tuple[tuple[int, int], list[str]]:
    """The deaths per arm to rebuild with, among the pairs the counts allow, and the overall
    HR targets no allowed pair can reach (a proof, :func:`alsstats.checks.overall_hr_reach`).

    Pairs whose HR reach holds every overall HR come first; among them the one nearest the
    reported HR (or ``risk_ratio``) on the log scale of the ratio of death risks."""
    n = (setup.n_trt, setup.n_ctl)
    overall = _overall_targets(design)
    pairs = np.asarray(pairs, int)
    if len(pairs) == 1 and not overall:
        return (int(pairs[0, 0]), int(pairs[0, 1])), []
    ok = np.ones(len(pairs), bool)
    unreachable: list[str] = []
    if overall and len(pairs) <= MAX_PAIRS:
        lo, hi = overall_hr_reach(n, pairs, design.ties)
        for t in overall:
            fits = (lo < t.upper) & (t.lower < hi)
            if not fits.any():
                unreachable.append(t.id)
            else:
                ok &= fits
    if len(pairs) == 1:
        return (int(pairs[0, 0]), int(pairs[0, 1])), unreachable
    cand = pairs[ok] if ok.any() else pairs
    want = overall[0].value if overall else (risk_ratio or 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = (cand[:, 0] / n[0]) / (cand[:, 1] / n[1])
        cost = np.abs(np.log(rr) - np.log(want))
    cost = np.where(np.isfinite(cost), cost, np.inf)
    best = int(np.argmin(cost))
    return (int(cand[best, 0]), int(cand[best, 1])), unreachable
