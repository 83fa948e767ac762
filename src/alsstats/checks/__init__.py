"""Consistency checks between a trial's reported figures.

:func:`check_summary` runs every check family (HR vs deaths, CI vs p, subgroup shares and
pooling, survival vs deaths, event shares) and returns a :class:`CheckReport`; the
approximations it uses (implied HR from a death split, rounding intervals) are public too.
"""

from ._approximations import (
    MIN_DECIMALS,
    Z_APPROX,
    hr_from_deaths_landmark,
    hr_from_deaths_logrank,
    rounding_interval,
)
from ._proofs import CountFigure, count_figures, count_proof, cox_se_floor, overall_hr_reach
from ._registry import CHECKS, check_summary
from ._report import VERDICTS, CheckReport, CheckResult

__all__ = [
    "CHECKS",
    "MIN_DECIMALS",
    "VERDICTS",
    "Z_APPROX",
    "CheckReport",
    "CheckResult",
    "CountFigure",
    "check_summary",
    "count_figures",
    "count_proof",
    "cox_se_floor",
    "hr_from_deaths_landmark",
    "hr_from_deaths_logrank",
    "overall_hr_reach",
    "rounding_interval",
]
