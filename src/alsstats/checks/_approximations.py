"""Rounding intervals of printed figures, and the hazard ratio implied by deaths per arm.

The arithmetic behind the consistency checks of :mod:`alsstats.checks`: a figure printed with k
decimals stands for an interval (:func:`rounding_interval`); deaths per arm bracket the hazard
ratio through log-rank (Peto, O/E) approximations (:func:`hr_from_deaths_logrank`) and, with no
loss to follow-up, through survival at a landmark (:func:`hr_from_deaths_landmark`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

from ..summary import MIN_DECIMALS, printed_interval

__all__ = ["hr_from_deaths_landmark", "hr_from_deaths_logrank", "rounding_interval"]

Z_APPROX = 2.0  # multiples of the approximation's standard error allowed
_ = MIN_DECIMALS  # re-exported by alsstats.checks (the rule lives in alsstats.summary)


def rounding_interval(x: float | str, exact: bool = False) -> tuple[float, float]:
    """The values that round to ``x`` as printed: :func:`alsstats.summary.printed_interval`.

    A bare number is read with at least 2 decimals (format version 1); text keeps its digits.

    >>> rounding_interval(0.3)
    (0.295, 0.305)
    >>> rounding_interval(0.007)
    (0.0065, 0.0075)
    >>> rounding_interval("0.8")
    (0.75, 0.85)
    """
    if exact:
        return (float(x), float(x))
    return printed_interval(x, allow_bound=True, allow_percent=True)


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _exp(x: float) -> float:
    return math.exp(min(x, 700.0))  # far beyond any HR; avoids OverflowError on absurd inputs


def hr_from_deaths_logrank(d_t: float, d_c: float, n_t: float, n_c: float) -> tuple[float, float]:
    """HR range implied by deaths per arm, log-rank (Peto and O/E) approximations.

    Without death times the log-rank expected count E_t = sum over deaths of the treatment arm's
    share p of the risk set is bracketed: under proportional hazards and no censoring p moves
    monotonically from n_t/N (start) to (n_t - d_t)/(N - D) (end). The range covers Peto's
    log HR = (O_t - E_t) / V, V = D p (1 - p), and the ratio (O_t/E_t)/(O_c/E_c), at both ends.

    >>> lo, hi = hr_from_deaths_logrank(41, 49, 110, 110)
    >>> round(lo, 3), round(hi, 3)
    (0.739, 0.837)
    """
    big_n, deaths = n_t + n_c, d_t + d_c
    p_start, p_end = n_t / big_n, (n_t - d_t) / (big_n - deaths)
    values = []
    for p in (p_start, p_end):
        e_t, e_c = deaths * p, deaths * (1 - p)
        values.append(_exp((d_t - e_t) / (deaths * p * (1 - p))))
        if d_c > 0 and e_t > 0:
            values.append((d_t / e_t) / (d_c / e_c))
    return (min(values), max(values))


def hr_from_deaths_landmark(s_t: float, s_c: float, n_t: float, n_c: float) -> tuple[float, float]:
    """HR implied by survival at one landmark, and the SE of its gap to the Cox estimate.

    Under proportional hazards S_t(t) = S_c(t) ** HR exactly, so HR = log S_t / log S_c (for a
    constant hazard this is also the exponential person-time estimate). Both it and the Cox
    estimate are consistent under proportional hazards and Cox is efficient, so the variance of
    their difference is var(landmark) - var(Cox) (Hausman): var(landmark) by the delta method,
    S(1 - S) / (n (S log S)^2) per arm, var(Cox) ~ 1/d_t + 1/d_c (deaths per arm).

    >>> hr, se = hr_from_deaths_landmark(69 / 110, 61 / 110, 110, 110)
    >>> round(hr, 3), round(se, 3)
    (0.791, 0.032)
    """
    hr = math.log(s_t) / math.log(s_c)
    var_landmark = sum(
        s * (1 - s) / (n * (s * math.log(s)) ** 2) for s, n in ((s_t, n_t), (s_c, n_c))
    )
    var_cox = 1 / (n_t * (1 - s_t)) + 1 / (n_c * (1 - s_c))
    return hr, math.sqrt(max(var_landmark - var_cox, 0.0))


def _hr_implied(d_t, d_c, n_t, n_c, landmark: bool) -> tuple[tuple[float, float], str] | None:
    """Hull of the HRs implied by death-count intervals (corners of the rounding boxes)."""
    lows, highs, methods = [], [], {"log-rank"}
    for a, b in itertools.product(sorted(set(d_t)), sorted(set(d_c))):
        if not (0 < a < n_t and 0 < b < n_c):
            return None
        try:
            lo, hi = hr_from_deaths_logrank(a, b, n_t, n_c)
            if landmark:
                hr, se = hr_from_deaths_landmark(1 - a / n_t, 1 - b / n_c, n_t, n_c)
                lo, hi = min(lo, hr * _exp(-Z_APPROX * se)), max(hi, hr * _exp(Z_APPROX * se))
                methods.add("landmark")
        except (ZeroDivisionError, ValueError):  # counts at the edge of floating point
            return None
        lows.append(lo)
        highs.append(hi)
    return (min(lows), max(highs)), " and ".join(sorted(methods))


def _split_range(hr: tuple[float, float], deaths: float, n_t: int, n_c: int, landmark: bool):
    """Treatment-arm deaths (of ``deaths``) whose implied HR range meets ``hr``; None if none.

    Bisection: both bounds of the implied HR range increase with the treatment-arm deaths.
    """
    eps = 1e-9  # the end points give a zero count or no survivor
    lo, hi = max(0.0, deaths - n_c) + eps, min(float(n_t), deaths) - eps

    def bounds(d: float) -> tuple[float, float]:
        got = _hr_implied((d, d), (deaths - d, deaths - d), n_t, n_c, landmark)
        return got[0] if got is not None else (math.nan, math.nan)

    if lo >= hi or not (bounds(hi)[1] >= hr[0] and bounds(lo)[0] <= hr[1]):
        return None

    def boundary(reached: Callable[[float], bool]) -> float:
        """Smallest d in [lo, hi] where ``reached`` (False then True along d) turns True."""
        a, b = lo, hi
        if reached(a) or not reached(b):
            return a if reached(a) else b
        for _ in range(60):
            mid = (a + b) / 2
            a, b = (a, mid) if reached(mid) else (mid, b)
        return b

    first = boundary(lambda d: bounds(d)[1] >= hr[0])
    last = boundary(lambda d: bounds(d)[0] > hr[1])
    return (first, last) if first <= last else None
