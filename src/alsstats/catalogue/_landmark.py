"""Treatment contrasts from survival proportions at one landmark, and the subgroup interaction.

Trials such as riluzole 1994 print only "alive at 12 months" per arm and subgroup. Under
proportional hazards S_t(t) = S_c(t) ** HR, so HR = log S_t / log S_c (Cox-free, and for a
constant hazard the person-time estimate too). Its SE is the delta method on the complementary
log-log scale: Var(log(-log S)) = (1 - S) / (n S (log S)^2) for a binomial S = alive / n (no
censoring before the landmark). Two subgroups' log HRs give the interaction: their difference
over the root of the summed variances (a z test), the question a subgroup p cannot answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from ..errors import InputError

__all__ = ["LandmarkContrast", "landmark_hazard_ratio", "subgroup_interaction"]


@dataclass(frozen=True)
class LandmarkContrast:
    """A ratio (HR or ratio of HRs) with its log-scale SE, CI and two-sided z-test p."""

    estimate: float
    se: float
    ci: tuple[float, float]
    p: float
    level: float = 0.95

    def _repr_html_(self) -> str:
        lo, hi = self.ci
        return (
            f"<p>{self.estimate:.3f} ({self.level:.0%} CI {lo:.3f} to {hi:.3f}), "
            f"p = {self.p:.3g}</p>"
        )


def _contrast(log_est: float, se: float, level: float) -> LandmarkContrast:
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = float(2.0 * stats.norm.sf(abs(log_est) / se)) if se > 0 else math.nan
    return LandmarkContrast(
        estimate=math.exp(log_est),
        se=se,
        ci=(math.exp(log_est - z * se), math.exp(log_est + z * se)),
        p=p,
        level=level,
    )


def _cloglog_var(alive: int, n: int, what: str) -> tuple[float, float]:
    if not (isinstance(alive, int | float) and isinstance(n, int | float)) or n <= 0:
        raise InputError("landmark", what, f"alive {alive!r} of n {n!r}: need numbers, n > 0")
    if not 0 < alive < n:
        raise InputError(
            "landmark", what, f"alive {alive} of {n}: need 0 < alive < n (log S is undefined)"
        )
    s = alive / n
    return math.log(-math.log(s)), (1 - s) / (n * s * math.log(s) ** 2)


def landmark_hazard_ratio(
    alive_treatment: int,
    n_treatment: int,
    alive_control: int,
    n_control: int,
    *,
    level: float = 0.95,
) -> LandmarkContrast:
    """Hazard ratio (treatment vs control) read from the proportions alive at one landmark.

    Parameters
    ----------
    alive_treatment, n_treatment, alive_control, n_control
        Patients alive (event-free) at the landmark and patients at risk at the start, per arm.
        Nobody may be censored before the landmark (the trials that print such counts say so).
    level
        Confidence level of the CI.

    Returns
    -------
    LandmarkContrast
        HR = log S_t / log S_c; SE of its log by the delta method on the cloglog scale.

    Examples
    --------
    Riluzole 1994, bulbar onset, alive at 12 months: 11/15 vs 6/17.

    >>> round(landmark_hazard_ratio(11, 15, 6, 17).estimate, 3)
    0.298
    """
    a, va = _cloglog_var(alive_treatment, n_treatment, "treatment")
    b, vb = _cloglog_var(alive_control, n_control, "control")
    return _contrast(a - b, math.sqrt(va + vb), level)


def subgroup_interaction(
    first: LandmarkContrast, second: LandmarkContrast, *, level: float = 0.95
) -> LandmarkContrast:
    """Ratio of two subgroups' hazard ratios (first / second) and its z-test p.

    The subgroups must be disjoint (independent estimates). A small p says the treatment
    effect differs between them; a significant HR in one subgroup and not in the other does not.
    """
    log_ratio = math.log(first.estimate) - math.log(second.estimate)
    return _contrast(log_ratio, math.sqrt(first.se**2 + second.se**2), level)
