"""The Guyot algorithm: patient-level data from a digitised Kaplan-Meier curve and at-risk table.

Guyot P, Ades AE, Ouwens MJNM, Welton NJ. Enhanced secondary analysis of survival data:
reconstructing the data from published Kaplan-Meier survival curves. BMC Med Res Methodol
2012;12:9.

Within each interval between two reported numbers at risk the number censored is guessed, the
censorings are spread evenly over the interval, the events at each digitised point are those
that make the rebuilt Kaplan-Meier estimate follow the digitised survival, and the number
censored is corrected until the rebuilt number at risk at the end of the interval equals the
reported one. In the last interval (no number at risk at its end) the censoring rate of the
earlier intervals is carried on, or, when the total number of events is reported, the number
censored is corrected until the rebuilt events add up to it.

The input must already be clean (see :func:`alsstats.km.clean_arm`): times non-decreasing,
survival non-increasing in [0, 1], a point at time 0 and at every at-risk time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ReconstructionError

__all__ = ["GuyotFit", "guyot"]

_MAX_ITER = 1000


@dataclass(frozen=True)
class GuyotFit:
    """Patient-level data rebuilt for one arm.

    Attributes
    ----------
    time, event
        One entry per patient (event 1, censored 0), sorted by time.
    at_risk_rebuilt
        Rebuilt numbers at risk at the reported at-risk times.
    n_censored
        Number censored in each at-risk interval (the last one runs to the end of the curve).
    converged
        Per interval, whether the censoring correction met its target exactly (the rebuilt number
        at risk at the interval's end, or the total number of events in the last interval).
    """

    time: np.ndarray
    event: np.ndarray
    at_risk_rebuilt: np.ndarray
    n_censored: np.ndarray
    converged: np.ndarray


def _round(x: float) -> int:
    # Half up, not Python's half-to-even: a count of 2.5 deaths is read as 3 whatever its parity.
    return math.floor(x + 0.5)


class _Arm:
    """Working state of one arm: digitised points and the per-point counts being rebuilt."""

    def __init__(self, t: np.ndarray, s: np.ndarray) -> None:
        self.t = t
        self.s = [float(v) for v in s]  # Python floats: the point loop is scalar work
        self.d = np.zeros(t.size, dtype=np.int64)
        self.cen = np.zeros(t.size, dtype=np.int64)

    def spread(self, lo: int, hi: int, t_end: float, n_cens: int) -> list[int]:
        """Numbers censored after each point lo..hi: n_cens spread evenly over [t_lo, t_end)."""
        counts = [0] * (hi - lo + 1)
        if n_cens <= 0:
            return counts
        times = self.t[lo] + np.arange(1, n_cens + 1) * ((t_end - self.t[lo]) / (n_cens + 1))
        where = np.searchsorted(self.t[lo : hi + 1], times, side="right") - 1
        for j, c in enumerate(np.bincount(np.maximum(where, 0), minlength=hi - lo + 1)):
            counts[j] = int(c)
        return counts

    def run(self, lo: int, hi: int, n_start: int, km: float, cens: list[int]) -> tuple[int, float]:
        """Events at points lo..hi given the censorings; returns (number left, KM at the end)."""
        n = n_start
        s = self.s
        for j, k in enumerate(range(lo, hi + 1)):
            d = 0
            if n > 0 and km > 0.0:
                d = min(max(_round(n * (1.0 - s[k] / km)), 0), n)
                km *= 1.0 - d / n
            c = min(cens[j], n - d)  # never censor more patients than remain
            self.d[k] = d
            self.cen[k] = c
            n -= d + c
        return n, km

    def correct(self, lo, hi, t_end, n_start, km, n_cens, target):
        """Adjust n_cens until ``target(n_left) == 0``; return (n_cens, n_left, km, converged).

        ``target`` gives the signed surplus of the rebuilt arm (positive: censor more). The loop
        stops when the surplus is zero, when it is negative with nobody censored, or when a value
        of n_cens repeats (rounding can make it cycle); then the best value tried is kept.
        """
        tried: dict[int, int] = {}
        for _ in range(_MAX_ITER):
            n_cens = min(max(n_cens, 0), n_start)
            n_left, km_end = self.run(lo, hi, n_start, km, self.spread(lo, hi, t_end, n_cens))
            surplus = target(n_left)
            tried[n_cens] = surplus
            if surplus == 0 or (surplus < 0 and n_cens == 0):
                return n_cens, n_left, km_end, surplus == 0
            nxt = min(max(n_cens + surplus, 0), n_start)
            if nxt in tried:
                break
            n_cens = nxt
        best = min(tried, key=lambda c: (abs(tried[c]), c))
        n_left, km_end = self.run(lo, hi, n_start, km, self.spread(lo, hi, t_end, best))
        return best, n_left, km_end, False


def guyot(
    time: np.ndarray,
    survival: np.ndarray,
    at_risk_times: np.ndarray,
    at_risk: np.ndarray,
    total_events: int | None = None,
) -> GuyotFit:
    """Rebuild one arm's patient-level data with the Guyot algorithm.

    Parameters
    ----------
    time, survival
        Clean digitised points (see module docstring).
    at_risk_times, at_risk
        Reported numbers at risk; ``at_risk_times[0]`` is 0 and ``at_risk[0]`` the arm size.
    total_events
        Reported total number of events, if known: used in the last interval.

    Returns
    -------
    GuyotFit

    Examples
    --------
    >>> import numpy as np
    >>> fit = guyot(np.array([0, 1, 1, 2, 3.0]), np.array([1, 1, 0.9, 0.9, 0.9]),
    ...             np.array([0, 2.0]), np.array([10, 9]))
    >>> int(fit.event.sum()), fit.at_risk_rebuilt.tolist()
    (1, [10, 9])
    """
    t = np.asarray(time, dtype=float)
    ta = np.asarray(at_risk_times, dtype=float)
    na = [int(v) for v in at_risk]
    lower = np.searchsorted(t, ta, side="left")
    if np.any(lower >= t.size) or np.any(t[np.minimum(lower, t.size - 1)] != ta):
        raise ReconstructionError("guyot: every at-risk time needs a digitised point (clean first)")
    upper = np.append(lower[1:] - 1, t.size - 1)
    arm = _Arm(t, np.asarray(survival, dtype=float))
    n_int = ta.size
    n_cens = np.zeros(n_int, dtype=np.int64)
    converged = np.ones(n_int, dtype=bool)
    rebuilt = np.zeros(n_int, dtype=np.int64)
    n, km = na[0], 1.0
    rebuilt[0] = n
    for i in range(n_int - 1):
        lo, hi, nxt = int(lower[i]), int(upper[i]), na[i + 1]
        s_lo, s_next = arm.s[lo], arm.s[int(lower[i + 1])]
        # First guess: survivors the curve implies without censoring, minus those reported.
        guess = _round(n * s_next / s_lo) - nxt if s_lo > 0 else n - nxt
        c, n_left, km_end, ok = arm.correct(
            lo, hi, t[lower[i + 1]], n, km, guess, lambda left, nxt=nxt: left - nxt
        )
        n_cens[i], converged[i], rebuilt[i + 1] = c, ok, n_left
        n, km = n_left, km_end
    # Last interval: from the last at-risk time to the last digitised point.
    lo, hi = int(lower[-1]), int(upper[-1])
    if n_int > 1 and t[upper[-2]] > t[lower[0]]:
        rate = n_cens[:-1].sum() / (t[upper[-2]] - t[lower[0]])
        guess = min(_round(rate * (t[hi] - t[lo])), n)
    else:
        guess = 0
    events_before = int(arm.d[:lo].sum())
    if total_events is None:
        c, _, _, ok = arm.correct(lo, hi, t[hi], n, km, guess, lambda left: 0)
    elif events_before >= total_events:
        # The earlier intervals already hold every reported event: no more events or censoring
        # inside the last interval (everyone left is censored at the end of the curve).
        arm.d[lo : hi + 1] = 0
        arm.cen[lo : hi + 1] = 0
        c, ok = 0, events_before == total_events
    else:

        def surplus(left: int) -> int:
            return int(arm.d[: hi + 1].sum()) - total_events

        c, _, _, ok = arm.correct(lo, hi, t[hi], n, km, guess, surplus)
    n_cens[-1], converged[-1] = c, ok
    return _to_patients(arm, na[0], ta, rebuilt, n_cens, converged)


def _to_patients(arm, n0, ta, rebuilt, n_cens, converged) -> GuyotFit:
    """Events at their digitised times; censorings spread evenly between successive points."""
    t = arm.t
    ev_t = np.repeat(t, arm.d)
    k_cen = np.repeat(np.arange(t.size), arm.cen)
    nxt_t = np.append(t[1:], t[-1])
    # j-th of c censorings after point k sits at t_k + j (t_{k+1} - t_k) / (c + 1), j = 1..c.
    first = np.repeat(np.cumsum(arm.cen) - arm.cen, arm.cen)
    j = np.arange(k_cen.size) - first + 1
    cen_t = t[k_cen] + j * (nxt_t[k_cen] - t[k_cen]) / (arm.cen[k_cen] + 1)
    n_end = n0 - ev_t.size - cen_t.size
    if n_end < 0:  # cannot happen: counts are clamped to those at risk
        raise ReconstructionError("guyot: more rebuilt patients than the arm size")
    time = np.concatenate([ev_t, cen_t, np.full(n_end, t[-1])])
    event = np.concatenate(
        [np.ones(ev_t.size, np.int64), np.zeros(time.size - ev_t.size, np.int64)]
    )
    order = np.lexsort((1 - event, time))
    return GuyotFit(time[order], event[order], rebuilt, n_cens, converged)
