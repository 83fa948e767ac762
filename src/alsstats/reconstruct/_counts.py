"""Count-type figures: exact integer checks before any search (deaths per arm, survivors,
death shares), integer counts behind reported shares, and the overall HR's reach given the
death counts."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ReconstructionError
from ..survival import fit_cox_batch
from ._calibrate import Target
from ._fits import Design

if TYPE_CHECKING:
    from ._start import Setup

__all__: list[str] = ["count_conflicts"]


def _count_ok(
    t: Target,
    d_trt: np.ndarray,
    d_ctl: np.ndarray,
    n: dict[str, int],
    trt: str,
    ctl: str,
    landmark: float,
) -> np.ndarray | None:
    """Whether each (deaths treatment, deaths control) pair meets a count-type target."""
    deaths = {trt: d_trt, ctl: d_ctl, None: d_trt + d_ctl}
    size = {trt: n[trt], ctl: n[ctl], None: n[trt] + n[ctl]}
    if t.statistic == "deaths":
        return deaths[t.arm] == round(t.value)
    if t.statistic in ("alive_count", "alive_proportion"):
        if t.population.get("time", landmark) < landmark:
            return None  # depends on death days: a search target
        alive = size[t.arm] - deaths[t.arm]
        if t.statistic == "alive_count":
            return alive == round(t.value)
        return np.vectorize(t.rounds_to)(alive / size[t.arm])
    if t.statistic == "death_share":
        total = d_trt + d_ctl
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, deaths[t.arm] / np.maximum(total, 1), np.nan)
        return np.vectorize(t.rounds_to)(share)
    return None


def count_conflicts(summary: Any, targets: list[Target]) -> tuple[list[str], tuple[int, int]]:
    """Count-type targets that no integer deaths-per-arm pair meets jointly, exactly.

    Returns the ids in minimal infeasible subsets (empty when the counts are consistent) and
    the best compromise (deaths treatment, deaths control): the pair that violates the fewest
    targets, figures with status "conflicting" counting less than the others.
    """
    trt, ctl = summary.treatment_arm.id, summary.control_arm.id
    n = {a.id: int(a.n.value) for a in summary.arms}
    landmark = float(summary.follow_up["landmark"].value)
    d_t, d_c = np.meshgrid(np.arange(n[trt] + 1), np.arange(n[ctl] + 1), indexing="ij")
    d_t, d_c = d_t.ravel(), d_c.ravel()
    ids, ok_cols = [], []
    for t in targets:
        ok = _count_ok(t, d_t, d_c, n, trt, ctl, landmark)
        if ok is not None:
            ids.append(t.id)
            ok_cols.append(np.asarray(ok, bool))
    ok = np.column_stack(ok_cols) if ok_cols else np.ones((d_t.size, 0), bool)
    weights = np.array([0.5 if "conflicting" in _status(summary, t) else 1.0 for t in ids])
    bad = (~ok).astype(float) @ weights if ids else np.zeros(d_t.size)
    best = int(np.argmin(bad))
    if ok.all(axis=1).any():
        return [], (int(d_t[best]), int(d_c[best]))
    minimal: list[set[int]] = []
    for size in range(2, len(ids) + 1):
        for subset in itertools.combinations(range(len(ids)), size):
            if any(m <= set(subset) for m in minimal):
                continue
            if not ok[:, list(subset)].all(axis=1).any():
                minimal.append(set(subset))
    names = sorted({ids[i] for m in minimal for i in m}, key=ids.index)
    return names, (int(d_t[best]), int(d_c[best]))


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


def _hr_bound_conflicts(
    design: Design, setup: Setup, deaths: tuple[int, int], targets: list[Target]
) -> list[str]:
    """The overall HR out of reach of the death counts, whatever the order of deaths."""
    overall = [
        t
        for t in design.targets
        if t.statistic == "hr"
        and t.model == "treatment"
        and t.population.get("lower") is None
        and t.population.get("upper") is None
    ]
    if not overall:
        return []
    n = setup.n_trt + setup.n_ctl
    trt = np.r_[np.ones(setup.n_trt), np.zeros(setup.n_ctl)]
    death = np.r_[np.arange(setup.n_trt) < deaths[0], np.arange(setup.n_ctl) < deaths[1]]
    rank_first = np.where(trt == 1, 0.0, 1.0)  # treatment deaths first, then control
    # death ranks placed inside (0, landmark) on the landmark's own scale (days or months):
    # only their order matters to a Cox fit, and every death must precede the censoring
    step = setup.landmark / (2 * n + 2)
    time = np.stack(
        [
            np.where(death, step * (1 + rank_first * n + np.arange(n)), setup.landmark),
            np.where(death, step * (1 + (1 - rank_first) * n + np.arange(n)), setup.landmark),
        ]
    )
    res = fit_cox_batch(
        time,
        np.broadcast_to(death, time.shape),
        np.broadcast_to(trt[None, :, None], (*time.shape, 1)),
        ties=design.ties,
    )
    # a fit that did not converge (all deaths in one arm first: monotone likelihood) bounds
    # nothing: its side of the reach is open
    coef = np.where(res.ok, res.coef[:, 0], [np.inf, -np.inf])
    hi, lo = np.exp(coef)
    out = []
    for t in overall:
        if not (lo < t.upper and t.lower < hi):
            out += [t.id] + [
                c.id for c in targets if c.statistic in ("deaths", "alive_count", "death_share")
            ]
    return out
