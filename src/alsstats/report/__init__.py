"""Figures and the reanalysis report.

Hazard-ratio curves on a log axis, forest plots and Kaplan-Meier panels in the Okabe-Ito
palette, and :func:`reanalyse` / :func:`write_report`: checks, rebuilt cohort, interaction
fit and figures as one HTML folder.
"""

from ._plots import plot_forest, plot_hr_curve, plot_km
from ._reanalysis import MIROCALS_SEED, Reanalysis, reanalyse, write_report

__all__ = [
    "MIROCALS_SEED",
    "Reanalysis",
    "plot_forest",
    "plot_hr_curve",
    "plot_km",
    "reanalyse",
    "write_report",
]
