"""The Guyot algorithm: patient-level data from a digitised Kaplan-Meier curve and at-risk table.

Guyot P, Ades AE, Ouwens MJNM, Welton NJ. Enhanced secondary analysis of survival data:
reconstructing the data from published Kaplan-Meier survival curves. BMC Med Res Methodol
2012;12:9.

Three stages, each keeping the reported numbers at risk:

1. The published algorithm. Within each interval between two reported numbers at risk the
   number censored is guessed, the censorings are spread evenly over the interval, the events at
   each digitised point are those that make the rebuilt Kaplan-Meier estimate follow the
   digitised survival, and the number censored is corrected until the rebuilt number at risk at
   the end of the interval equals the reported one. In the last interval (no number at risk at
   its end) the censoring rate of the earlier intervals is carried on, or, when the total number
   of events is reported, the number censored is corrected until the events add up to it.
2. Follow the clicked steps. Spreading censorings evenly can put a censoring on the wrong side of
   a death (a patient censored at 45 placed at 54, after a death at 48), and the step at 48 then
   cannot be rebuilt from whole patients. So, within each interval, the number censored after
   each point and the deaths at each point are chosen by dynamic programming (state: number at
   risk) to minimise the squared distance between the rebuilt curve and the clicks, with the
   interval's start and end numbers at risk fixed, and deaths only where the clicked curve falls
   or the rebuilt curve is above a click. Censorings are only placed after the last point at a
   given time, so deaths come before censorings at tied times (the convention of a
   Kaplan-Meier figure and of R's ``survfit``). Among fits equally close to the clicks, a small
   penalty keeps the numbers at risk near stage 1's (censoring spread evenly).
3. Meet the reported total. If the events do not add up to the reported total, stage 2 is rerun
   with a price per death (a Lagrange multiplier, widened then bisected) until they do. Where
   the total jumps over the reported one, the closest fits on either side are spliced (one up
   to a point, the other after it), and any remainder is closed by turning deaths into
   censorings (or back) one at a time, each time the change that moves the rebuilt curve least
   from the clicks. An interval's number leaving (events plus censored) never changes, so the
   numbers at risk stay met. Any total up to the number of patients leaving in intervals where
   the curve falls can be reached; beyond that the result says the total was not met.

The input must already be clean (see :func:`alsstats.km.clean_arm`): times non-decreasing,
survival non-increasing in [0, 1], a point at time 0 and at every at-risk time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from ..errors import ReconstructionError

__all__ = ["GuyotFit", "guyot"]

_MAX_ITER = 1000
# Stage 2 tie-break: moving all of an interval's censorings from stage 1's even spread to one end
# costs as much as a survival error of this size at one point; far below what a click can show,
# so it only chooses among fits that are equally close to the clicks.
_TIE_BREAK = 0.002
_BATCH = 128  # stage 3b candidates evaluated together
_PRICE_STEPS = 40  # widening, then bisection, steps of the price per death


@dataclass(frozen=True)
class GuyotFit:
    """Patient-level data rebuilt for one arm.

    Attributes
    ----------
    time, event
        One entry per patient (event 1, censored 0), sorted by time, deaths before censorings
        at tied times.
    at_risk_rebuilt
        Rebuilt numbers at risk at the reported at-risk times.
    n_censored
        Number censored in each at-risk interval (the last one runs to the end of the curve and
        includes those still at risk there).
    converged
        Per interval, whether the rebuilt number at risk at the interval's end equals the
        reported one (the last interval: always True).
    events_given
        The reported total number of events, or None.
    events_met
        Whether the rebuilt events equal ``events_given`` (None when no total was given).
    events_max
        The largest total the numbers at risk and the curve allow: the number of patients leaving
        in intervals where the clicked curve falls (or the rebuilt data have deaths).
    """

    time: np.ndarray
    event: np.ndarray
    at_risk_rebuilt: np.ndarray
    n_censored: np.ndarray
    converged: np.ndarray
    events_given: int | None = None
    events_met: bool | None = None
    events_max: int = 0


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
    """Rebuild one arm's patient-level data with the Guyot algorithm (three stages, see module).

    Parameters
    ----------
    time, survival
        Clean digitised points (see module docstring).
    at_risk_times, at_risk
        Reported numbers at risk; ``at_risk_times[0]`` is 0 and ``at_risk[0]`` the arm size.
    total_events
        Reported total number of events, if known: met exactly when the numbers at risk allow.

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
    s = np.asarray(survival, dtype=float)
    ta = np.asarray(at_risk_times, dtype=float)
    na = np.asarray(at_risk, dtype=np.int64)
    lower = np.searchsorted(t, ta, side="left")
    if np.any(lower >= t.size) or np.any(t[np.minimum(lower, t.size - 1)] != ta):
        raise ReconstructionError("guyot: every at-risk time needs a digitised point (clean first)")
    upper = np.append(lower[1:] - 1, t.size - 1)
    d0, c0 = _published(t, s, lower, upper, na, total_events)
    d, c = _follow_steps(t, s, lower, upper, na, d0, c0)
    if total_events is not None and int(d.sum()) != total_events:
        d, c = _price_deaths(t, s, lower, upper, na, d0, c0, int(total_events), d, c)
    interval = np.searchsorted(lower, np.arange(t.size), side="right") - 1
    met = None
    if total_events is not None:
        d, c = _meet_total(t, s, interval, int(na[0]), d, c, int(total_events))
        met = bool(d.sum() == total_events)
    # Intervals that can hold deaths: the clicks fall there, or the rebuilt data have some.
    leaving = np.append(na[:-1] - na[1:], na[-1])
    holds = np.zeros(ta.size, dtype=bool)
    holds[interval[1:][np.diff(s) < 0]] = True
    holds[interval[d > 0]] = True
    events_max = int(leaving[holds].sum())
    n_left = na[0] - np.concatenate([[0], np.cumsum(d + c)])
    rebuilt = n_left[lower]
    n_cens = np.bincount(interval, weights=c, minlength=ta.size).astype(np.int64)
    time_out, event_out = _to_patients(t, d, c)
    return GuyotFit(
        time_out,
        event_out,
        rebuilt,
        n_cens,
        rebuilt == na,
        None if total_events is None else int(total_events),
        met,
        events_max,
    )


def _published(t, s, lower, upper, na, total_events) -> tuple[np.ndarray, np.ndarray]:
    """Stage 1, the published algorithm: deaths and censorings after each point."""
    arm = _Arm(t, s)
    n_int = lower.size
    n_cens = np.zeros(n_int, dtype=np.int64)
    n, km = int(na[0]), 1.0
    for i in range(n_int - 1):
        lo, hi, nxt = int(lower[i]), int(upper[i]), int(na[i + 1])
        s_lo, s_next = arm.s[lo], arm.s[int(lower[i + 1])]
        # First guess: survivors the curve implies without censoring, minus those reported.
        guess = _round(n * s_next / s_lo) - nxt if s_lo > 0 else n - nxt
        c, n_left, km_end, _ = arm.correct(
            lo, hi, t[lower[i + 1]], n, km, guess, lambda left, nxt=nxt: left - nxt
        )
        n_cens[i] = c
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
        arm.correct(lo, hi, t[hi], n, km, guess, lambda left: 0)
    elif events_before >= total_events:
        # The earlier intervals already hold every reported event: no more events or censoring
        # inside the last interval (everyone left is censored at the end of the curve).
        arm.d[lo : hi + 1] = 0
        arm.cen[lo : hi + 1] = 0
    else:

        def surplus(left: int) -> int:
            return int(arm.d[: hi + 1].sum()) - total_events

        arm.correct(lo, hi, t[hi], n, km, guess, surplus)
    d, c = arm.d.copy(), arm.cen.copy()
    c[-1] += int(na[0] - d.sum() - c.sum())  # those left, censored at the end of the curve
    return d, c


def _follow_steps(t, s, lower, upper, na, d0, c0, mu: float = 0.0) -> tuple[np.ndarray, ...]:
    """Stage 2: per interval, the deaths and censorings that make the rebuilt KM follow the clicks.

    Dynamic programming over the number at risk before each point (:func:`_dp_interval`), the
    intervals in turn, each starting from the KM value the previous one ended on. ``mu`` is a
    price per death (stage 3's Lagrange multiplier). Returns deaths and censorings per point.
    """
    d = np.zeros(t.size, dtype=np.int64)
    c = np.zeros(t.size, dtype=np.int64)
    # Stage 1's number at risk before each point and number censored at the end of the curve.
    prior = (na[0] - np.concatenate([[0], np.cumsum(d0 + c0)[:-1]])).astype(np.float64)
    can_censor = np.append(t[1:] > t[:-1], False)  # after the last point: the end of the curve
    falls = np.r_[False, s[1:] < s[:-1]]  # deaths only where the clicks fall
    km = 1.0
    for i in range(lower.size):
        lo, hi = int(lower[i]), int(upper[i])
        last = i == lower.size - 1
        floor = 0 if last else int(na[i + 1])
        width = int(na[i]) - floor + 1
        lam = (_TIE_BREAK / max(width - 1, 1)) ** 2 / (hi - lo + 1)
        km = _dp_interval(
            s, falls, can_censor, prior, lo, hi, int(na[i]), floor, last, km, lam, mu,
            float(c0[-1]), d, c,
        )  # fmt: skip
    return d, c


@numba.njit(cache=True, nogil=True)
def _dp_interval(
    s, falls, can_censor, prior, lo, hi, n0, floor, last, km0, lam, mu, end_prior, d, c
):
    """Deaths ``d`` and censorings ``c`` at points lo..hi of one interval; returns the end KM.

    State: number at risk before a point (floor..n0). At a point the deaths are the two whole
    numbers around what the clicks imply (none where the clicks are flat and the rebuilt curve
    is not above them: a fall clicked just before an at-risk time is caught up at it), at a
    cost of the squared distance of the new KM value to the click plus ``mu`` per death; after
    it (if later points have a later time) any number may be censored, down to ``floor``. For
    each state only the closest path is kept, its KM value riding along. ``lam`` pulls the
    state towards ``prior`` (stage 1) to break ties.
    """
    width = n0 - floor + 1
    n_pts = hi - lo + 1
    inf = np.inf
    cost = np.full(width, inf)
    kmv = np.full(width, km0)
    cost[width - 1] = 0.0
    deaths = np.zeros((n_pts, width), dtype=np.int32)  # deaths leading to each state after j
    pick = np.full((n_pts, width), -1, dtype=np.int32)  # state after deaths chosen per state
    a_cost = np.empty(width)
    a_km = np.empty(width)
    for j in range(n_pts):
        k = lo + j
        a_cost[:] = inf
        for idx in range(width):
            if cost[idx] == inf:
                continue
            n = floor + idx
            base_cost = cost[idx] + lam * (n - prior[k]) ** 2
            km = kmv[idx]
            implied = n * (1.0 - s[k] / km) if km > 0.0 else 0.0
            low = min(max(int(np.floor(implied)), 0), idx)
            high = min(low + 1, idx)
            if not falls[k] and implied <= 0.0:
                high = 0  # the clicks are flat here and the rebuilt curve is not above them
            for dd in range(low, high + 1):
                km_new = km * (1.0 - dd / n) if n > 0 else km
                cst = base_cost + (km_new - s[k]) ** 2 + mu * dd
                m = idx - dd
                if cst < a_cost[m]:
                    a_cost[m] = cst
                    a_km[m] = km_new
                    deaths[j, m] = dd
        if can_censor[k]:
            # Censor after the point: each state takes the best state after deaths above it.
            best, best_m = inf, -1
            for m in range(width - 1, -1, -1):
                if a_cost[m] < best:
                    best, best_m = a_cost[m], m
                cost[m] = best
                kmv[m] = a_km[best_m] if best_m >= 0 else km0
                pick[j, m] = best_m
        else:
            cost[:] = a_cost
            kmv[:] = a_km
    if last:
        m_end, best = 0, inf
        for m in range(width):
            v = cost[m] + lam * (floor + m - end_prior) ** 2
            if v < best:
                best, m_end = v, m
    else:
        m_end = 0  # the reported number at risk at the next at-risk time
    km_end = kmv[m_end]
    m_next = m_end
    for j in range(n_pts - 1, -1, -1):
        k = lo + j
        m_after = pick[j, m_next] if can_censor[k] else m_next
        c[k] = m_after - m_next
        d[k] = deaths[j, m_after]
        m_next = m_after + d[k]
    if last:
        c[hi] += floor + m_end  # those left, censored at the end of the curve
    return km_end


def _price_deaths(t, s, lower, upper, na, d0, c0, total, d, c) -> tuple[np.ndarray, np.ndarray]:
    """Stage 3a: a price per death (Lagrange multiplier) in stage 2 until the events add up.

    Deaths fall as the price rises; the price is widened geometrically until the total is
    reached or crossed, then bisected. (The price only decides among paths that fit the clicks
    about equally well; the steps the clicks show pin the deaths wherever they are clear.) When
    the total jumps over the reported one, the closest fits on either side are spliced
    (:func:`_splice`). Returns the fit whose total is closest.
    """
    sign = 1.0 if d.sum() > total else -1.0  # a positive price removes deaths
    # Closest fits on the starting side of the total and past it: (|gap|, d, c).
    near, far = (abs(int(d.sum()) - total), d, c), None
    inside, outside = 0.0, None  # prices on the starting side of the total, and past it
    price = 1e-8

    def attempt(price: float) -> int:
        nonlocal near, far
        dm, cm = _follow_steps(t, s, lower, upper, na, d0, c0, sign * price)
        gap = int(dm.sum()) - total
        if gap * sign >= 0 and abs(gap) < near[0]:
            near = (abs(gap), dm, cm)
        elif gap * sign < 0 and (far is None or abs(gap) < far[0]):
            far = (abs(gap), dm, cm)
        return gap

    for _ in range(_PRICE_STEPS):
        gap = attempt(price)
        if gap * sign <= 0:
            outside = price
            break
        inside = price
        price *= 4.0
    if outside is not None and gap != 0:
        # Bisect until the total is hit or the price is known to 0.1%.
        while outside - inside > 1e-3 * outside:
            price = 0.5 * (inside + outside)
            gap = attempt(price)
            if gap == 0:
                break
            if gap * sign > 0:
                inside = price
            else:
                outside = price
    if near[0] == 0 or far is None:
        return near[1], near[2]
    return _splice(t, s, int(na[0]), near[1:], far[1:], total)


def _splice(t, s, n0, a, b, total) -> tuple[np.ndarray, np.ndarray]:
    """One fit up to a point and the other from it on, with the total closest to the reported one.

    Both fits follow the clicks; one has too many deaths and the other too few. Switching from
    the first to the second at point k needs the first to have at least as many at risk there:
    the excess is censored just before k (after the last point at an earlier time). As k moves,
    the total moves between the two fits' totals. The switch with the total closest, then the
    curve closest to the clicks, wins (a fit whole counts as a switch at its start or end).
    """
    can_censor = np.r_[t[1:] > t[:-1], False]
    pairs = ((a, b), (b, a))
    switches = []  # (gap, order, k)
    for order, ((d1, c1), (d2, c2)) in enumerate(pairs):
        excess = np.cumsum(np.r_[0, d2 + c2]) - np.cumsum(np.r_[0, d1 + c1])  # n1 - n2 at k
        ok = excess >= 0
        ok[1:-1] &= can_censor[:-1] | (excess[1:-1] == 0)
        ok[0] = excess[0] == 0
        deaths = np.cumsum(np.r_[0, d1]) + d2.sum() - np.cumsum(np.r_[0, d2])
        switches += [(abs(int(deaths[k]) - total), order, k) for k in np.flatnonzero(ok)]
    closest = min(g for g, _, _ in switches)
    best, best_cost = None, np.inf
    chosen = [(order, k) for g, order, k in switches if g == closest]
    for start in range(0, len(chosen), _BATCH):
        dd, cc = [], []
        for order, k in chosen[start : start + _BATCH]:
            (d1, c1), (d2, c2) = pairs[order]
            dd.append(np.concatenate([d1[:k], d2[k:]]))
            c = np.concatenate([c1[:k], c2[k:]])
            if 0 < k < t.size:  # censor the first fit's excess just before the switch
                c[k - 1] += int(np.sum(d2[:k] + c2[:k]) - np.sum(d1[:k] + c1[:k]))
            cc.append(c)
        cost = _path_cost(s, n0, np.array(dd), np.array(cc))
        j = int(np.argmin(cost))
        if cost[j] < best_cost:
            best, best_cost = (dd[j], cc[j]), float(cost[j])
    return best if best is not None else a


def _path_cost(s: np.ndarray, n0: int, d: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Squared distance of the rebuilt KM to the clicks per row of ``d``, ``c`` (inf: invalid)."""
    leave = d + c
    n_before = n0 - (np.cumsum(leave, axis=1) - leave)
    valid = (d >= 0).all(axis=1) & (c >= 0).all(axis=1) & (d <= n_before).all(axis=1)
    ratio = np.where(n_before > 0, 1.0 - d / np.maximum(n_before, 1), 1.0)
    cost = ((np.cumprod(ratio, axis=1) - s) ** 2).sum(axis=1)
    return np.where(valid, cost, np.inf)


def _meet_total(t, s, interval, n0, d, c, total) -> tuple[np.ndarray, np.ndarray]:
    """Stage 3b: turn deaths into censorings (or back) within intervals until the total is met."""
    d, c = d.copy(), c.copy()
    falls = np.r_[False, np.diff(s) < 0]
    # A death taken back becomes a censoring just after the last point at its time.
    last_at_time = np.searchsorted(t, t, side="right") - 1
    while (gap := total - int(d.sum())) != 0:
        moves = []  # (point gaining or losing a death, point losing or gaining a censoring)
        if gap > 0:
            for k in np.flatnonzero(falls):
                same = np.flatnonzero((interval == interval[k]) & (c > 0))
                if same.size:
                    after = same[same >= k]
                    moves.append((k, int(after[0] if after.size else same[-1])))
        else:
            for k in np.flatnonzero(d > 0):
                moves.append((k, int(last_at_time[k])))
        if not moves:
            break
        sign = 1 if gap > 0 else -1
        best, best_cost = None, np.inf
        for start in range(0, len(moves), _BATCH):
            batch = moves[start : start + _BATCH]
            rows = np.arange(len(batch))
            dd = np.repeat(d[None, :], len(batch), axis=0)
            cc = np.repeat(c[None, :], len(batch), axis=0)
            dd[rows, [m[0] for m in batch]] += sign
            cc[rows, [m[1] for m in batch]] -= sign
            cost = _path_cost(s, n0, dd, cc)
            j = int(np.argmin(cost))
            if cost[j] < best_cost:
                best, best_cost = batch[j], float(cost[j])
        if best is None:
            break
        d[best[0]] += sign
        c[best[1]] -= sign
    return d, c


def _to_patients(t: np.ndarray, d: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deaths at their points; censorings after point k spread evenly over (t_k, t_k+1).

    Censorings after the last point are at its time; at tied times deaths come first.
    """
    ev_t = np.repeat(t, d)
    k_cen = np.repeat(np.arange(t.size), c)
    nxt_t = np.append(t[1:], t[-1])
    # j-th of c censorings after point k sits at t_k + j (t_{k+1} - t_k) / (c + 1), j = 1..c.
    first = np.repeat(np.cumsum(c) - c, c)
    j = np.arange(k_cen.size) - first + 1
    cen_t = t[k_cen] + j * (nxt_t[k_cen] - t[k_cen]) / (c[k_cen] + 1)
    time = np.concatenate([ev_t, cen_t])
    event = np.concatenate([np.ones(ev_t.size, np.int64), np.zeros(cen_t.size, np.int64)])
    order = np.lexsort((1 - event, time))
    return time[order], event[order]
