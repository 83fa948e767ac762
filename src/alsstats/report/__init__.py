"""Figures and the reanalysis report.

Hazard-ratio curves on a log axis, forest plots and Kaplan-Meier panels in the Okabe-Ito
palette, and :func:`reanalyse` / :func:`write_report`: checks, rebuilt cohort, interaction
fit and figures as one HTML folder, for any trial the summary format describes.
"""

from ._plots import plot_forest, plot_hr_curve, plot_km
from ._reanalysis import MIROCALS_SEED, REPORT_BOUNDS_SEARCH, Modifier, Reanalysis, reanalyse
from ._writer import write_report

__all__ = [
    "MIROCALS_SEED",
    "REPORT_BOUNDS_SEARCH",
    "Modifier",
    "Reanalysis",
    "plot_forest",
    "plot_hr_curve",
    "plot_km",
    "reanalyse",
    "write_report",
]
