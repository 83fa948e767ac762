"""Kaplan-Meier medians and the p of an unnamed test, for a batch of candidate cohorts.

The median survival time of an arm is the conventional one: the smallest time t at which the
Kaplan-Meier estimate S(t) <= 0.5 (lifelines' rule). Where S(t) equals 0.5 exactly on a flat
stretch, R's ``survfit`` (and :func:`alsstats.reconstruct.verify_cohort`) takes the midpoint
to the next death time instead: a rebuilt median holds only when both print as reported
(:func:`median_for`), so that every convention gives the figure. A median not reached gets a
value past the end of follow-up that falls as S(end) nears 0.5, so the search is led toward it.
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []

# Tests of a printed p. "unknown": the p holds when either the Wald or the log-rank p of the
# cohort prints as reported (the two tests papers give next to a Cox HR; verify applies the
# same rule).
LOG_RANK = frozenset({"log_rank", "log-rank", "logrank"})
UNKNOWN = frozenset({"unknown"})


def km_median_batch(time: np.ndarray, death: np.ndarray, rule: str = "first") -> np.ndarray:
    """(R,) Kaplan-Meier medians of R samples (``time``, ``death`` of shape (R, m)).

    ``rule`` "first": the smallest t with S(t) <= 0.5; "midpoint": R's survfit rule (the
    midpoint to the next death time where S(t) = 0.5 exactly). Deaths come before
    censorings at a tied time (a patient censored at t is at risk at t). Where the median is
    not reached: ``T * (1 + S(T))`` with T the last time (> T, falling toward 1.5 T).
    """
    time = np.asarray(time, float)
    death = np.asarray(death, np.int8)
    R, m = time.shape
    if m == 0:
        return np.full(R, np.nan)
    order = np.lexsort((1 - death, time), axis=-1)
    t = np.take_along_axis(time, order, axis=1)
    d = np.take_along_axis(death, order, axis=1).astype(float)
    at_risk = m - np.arange(m)
    surv = np.cumprod(1.0 - d / at_risk, axis=1)
    below = surv <= 0.5 + 1e-12
    reached = below.any(axis=1)
    k = np.argmax(below, axis=1)
    rows = np.arange(R)
    out = t[rows, k]
    if rule == "midpoint":
        # the last death of the tie group at k, then the next death time after it
        exact = reached & (np.abs(surv[rows, k] - 0.5) < 1e-12)
        later = (d > 0) & (t > out[:, None])
        has_next = later.any(axis=1)
        nxt = np.where(later, t, np.inf).min(axis=1)
        out = np.where(exact & has_next, 0.5 * (out + np.where(has_next, nxt, 0.0)), out)
    last = t[:, -1]
    return np.where(reached, out, last * (1.0 + surv[:, -1]))


def median_for(value: float, time: np.ndarray, death: np.ndarray) -> np.ndarray:
    """(R,) the arm's median by whichever convention (first time, R's midpoint) is farther
    from the printed ``value``: the figure holds only when both print as reported."""
    first = km_median_batch(time, death, "first")
    mid = km_median_batch(time, death, "midpoint")
    return np.where(np.abs(first - value) >= np.abs(mid - value), first, mid)


def closest_p(value: float, *ps: np.ndarray) -> np.ndarray:
    """Per candidate, the p (of several tests) closest to the reported ``value``."""
    stack = np.stack(ps)
    dist = np.where(np.isfinite(stack), np.abs(stack - value), np.inf)
    return np.take_along_axis(stack, np.argmin(dist, axis=0)[None, :], axis=0)[0]
