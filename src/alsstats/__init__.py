"""alsstats: reanalyse ALS trials from what their papers report.

Data flow, one way: reported figures (:mod:`~alsstats.summaries`) -> consistency checks
(:mod:`~alsstats.checks`) -> reconstruction (:mod:`~alsstats.calibrate`,
:mod:`~alsstats.reconstruct`, :mod:`~alsstats.km`) -> fits (:mod:`~alsstats.engine`,
:mod:`~alsstats.cox`, :mod:`~alsstats.interaction`) -> figures and reports
(:mod:`~alsstats.plots`, :mod:`~alsstats.report`); trial design (:mod:`~alsstats.design`)
simulates from the calibrated model.
"""

from ._data import data_path
from ._version import __version__
from .checks import CheckReport, check_summary
from .cox import CoxModel
from .dgm import DataGeneratingModel, LogNormalBiomarker, WeibullBaseline
from .engine import CoxBatchResult, fit_cox, fit_cox_batch
from .errors import (
    AlsstatsError,
    AlsstatsWarning,
    HazardRatioAtUnobservedValueWarning,
    InputError,
    ModelError,
    ReconstructionError,
    SummaryError,
)
from .interaction import (
    EvenGrid,
    FiellerInterval,
    JohnsonNeymanRegion,
    Quantiles,
    SubgroupAnalysis,
    TreatmentInteraction,
    Values,
)
from .km import (
    ArmCurve,
    GuyotReconstruction,
    clean_arm,
    km_estimate,
    plot_reconstruction,
    read_arm,
    reconstruct_ipd,
    simulate_publication,
)
from .plots import OKABE_ITO, plot_forest, plot_hr_curve
from .summaries import ReportedSummary, load_reported_summary, parse_reported_summary

__all__ = [
    "OKABE_ITO",
    "AlsstatsError",
    "AlsstatsWarning",
    "ArmCurve",
    "CheckReport",
    "CoxBatchResult",
    "CoxModel",
    "DataGeneratingModel",
    "EvenGrid",
    "FiellerInterval",
    "GuyotReconstruction",
    "HazardRatioAtUnobservedValueWarning",
    "InputError",
    "JohnsonNeymanRegion",
    "LogNormalBiomarker",
    "ModelError",
    "Quantiles",
    "ReconstructionError",
    "ReportedSummary",
    "SubgroupAnalysis",
    "SummaryError",
    "TreatmentInteraction",
    "Values",
    "WeibullBaseline",
    "__version__",
    "check_summary",
    "clean_arm",
    "data_path",
    "fit_cox",
    "fit_cox_batch",
    "km_estimate",
    "load_reported_summary",
    "parse_reported_summary",
    "plot_forest",
    "plot_hr_curve",
    "plot_reconstruction",
    "read_arm",
    "reconstruct_ipd",
    "simulate_publication",
]
