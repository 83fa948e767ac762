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
from .bootstrap import BootstrapBand, bootstrap_contrasts
from .calibrate import calibrate_model, targets_from_summary
from .checks import CheckReport, check_summary
from .cox import CoxModel
from .design import (
    SampleSizeResult,
    TrialDesign,
    TrialSimulation,
    mirocals_model,
    plot_power_curves,
    power_curve,
    power_table,
    sample_size,
    schoenfeld_events,
    schoenfeld_power,
    simulate_trials,
    standard_designs,
)
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
from .intervals import johnson_neyman_linear
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
from .km_cohort import digitised_arms, ipd_from_curves, rebuild_from_curves
from .logrank import logrank_batch
from .palette import OKABE_ITO
from .plots import plot_forest, plot_hr_curve, plot_km
from .reconstruct import Reconstruction, assign_biomarker, count_conflicts, rebuild_cohort
from .report import Reanalysis, reanalyse, write_report
from .sensitivity import pooled_hr_curve, rebuild_many, sensitivity
from .summaries import ReportedSummary, load_reported_summary, parse_reported_summary

__all__ = [
    "OKABE_ITO",
    "AlsstatsError",
    "AlsstatsWarning",
    "ArmCurve",
    "BootstrapBand",
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
    "Reanalysis",
    "Reconstruction",
    "ReconstructionError",
    "ReportedSummary",
    "SampleSizeResult",
    "SubgroupAnalysis",
    "SummaryError",
    "TreatmentInteraction",
    "TrialDesign",
    "TrialSimulation",
    "Values",
    "WeibullBaseline",
    "__version__",
    "assign_biomarker",
    "bootstrap_contrasts",
    "calibrate_model",
    "check_summary",
    "clean_arm",
    "count_conflicts",
    "data_path",
    "digitised_arms",
    "fit_cox",
    "fit_cox_batch",
    "ipd_from_curves",
    "johnson_neyman_linear",
    "km_estimate",
    "load_reported_summary",
    "logrank_batch",
    "mirocals_model",
    "parse_reported_summary",
    "plot_forest",
    "plot_hr_curve",
    "plot_km",
    "plot_power_curves",
    "plot_reconstruction",
    "pooled_hr_curve",
    "power_curve",
    "power_table",
    "read_arm",
    "reanalyse",
    "rebuild_cohort",
    "rebuild_from_curves",
    "rebuild_many",
    "reconstruct_ipd",
    "sample_size",
    "schoenfeld_events",
    "schoenfeld_power",
    "sensitivity",
    "simulate_publication",
    "simulate_trials",
    "standard_designs",
    "targets_from_summary",
    "write_report",
]
