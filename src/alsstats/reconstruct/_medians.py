"""Kaplan-Meier medians and the p of an unnamed test, for a batch of candidate cohorts.

The median survival time of an arm is the conventional one: the smallest time t at which the
Kaplan-Meier estimate S(t) <= 0.5. Where S(t) equals 0.5 exactly on a flat stretch, R's
``survfit`` takes the midpoint to the next death time and lifelines the first time; the
search accepts neither such cohort (the statistic is NaN there), so that every convention gives
a rebuilt cohort's median the same value. A median not reached gets a value past the end of
follow-up that falls as S(end) nears 0.5, so the search is led toward it.
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []

# Tests of a printed p. "unknown": the p holds when either the Wald or the log-rank p of the
# cohort prints as reported (the two tests papers give next to a Cox HR; verify applies the
# same rule).
LOG_RANK = frozenset({"log_rank", "log-rank", "logrank"})
UNKNOWN = frozenset({"unknown"})


def km_median_batch(time: np.ndarray, death: np.ndarray) -> np.ndarray:
    """(R,) Kaplan-Meier medians of R samples (``time``, ``death`` of shape (R, m)).

    Deaths come before censorings at a tied time (a patient censored at t is at risk at t).
    NaN where S(t) is exactly 0.5 on a flat stretch (the conventions disagree there); where
    the median is not reached, ``T * (1.5 + S(T) - 0.5)`` with T the last time (> T).
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
    exact = reached & (np.abs(surv[rows, k] - 0.5) < 1e-12)
    out = np.where(exact, np.nan, out)  # ambiguous: midpoint (R) vs first time (lifelines)
    last = t[:, -1]
    return np.where(reached, out, last * (1.5 + surv[:, -1] - 0.5))


def closest_p(value: float, *ps: np.ndarray) -> np.ndarray:
    """Per candidate, the p (of several tests) closest to the reported ``value``."""
    stack = np.stack(ps)
    dist = np.where(np.isfinite(stack), np.abs(stack - value), np.inf)
    return np.take_along_axis(stack, np.argmin(dist, axis=0)[None, :], axis=0)[0]
