"""alsstats: reanalyse ALS trials from what their papers report.

Data flow, one way, one subpackage per job:

* :mod:`alsstats.summary`: reported figures as data (the summary format);
* :mod:`alsstats.checks`: consistency checks between those figures;
* :mod:`alsstats.models`: data-generating models (baseline hazard, biomarker distributions);
* :mod:`alsstats.survival`: Cox fits (batched engine, lifelines adapter), log-rank, bootstrap;
* :mod:`alsstats.interaction`: the treatment HR as a function of a biomarker;
* :mod:`alsstats.reconstruct`: cohorts rebuilt from a summary;
* :mod:`alsstats.km`: patient data from digitised Kaplan-Meier curves;
* :mod:`alsstats.design`: simulation, power and sizing of the next trial;
* :mod:`alsstats.report`: figures and the reanalysis report; :mod:`alsstats.cli`: the command.

The names below are the curated public API. They load on first use, so ``import alsstats``
stays fast (lifelines, scipy, matplotlib and the compiled engine load only when needed).
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import (
    AlsstatsError,
    AlsstatsWarning,
    EventTotalNotMetWarning,
    HazardRatioAtUnobservedValueWarning,
    InputError,
    ModelError,
    NotFittedError,
    ReconstructionError,
    SummaryError,
)
from .palette import OKABE_ITO
from .paths import data_path
from .version import __version__

# public name -> the subpackage that defines it
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        ["ReportedSummary", "load_reported_summary", "parse_reported_summary"], "summary"
    ),
    **dict.fromkeys(["CheckReport", "check_summary"], "checks"),
    **dict.fromkeys(["build_catalogue"], "catalogue"),
    **dict.fromkeys(["DataGeneratingModel", "LogNormalBiomarker", "WeibullBaseline"], "models"),
    **dict.fromkeys(
        [
            "BootstrapBand",
            "CoxBatchResult",
            "CoxModel",
            "bootstrap_contrasts",
            "fit_cox",
            "fit_cox_batch",
            "km_estimate",
            "logrank_batch",
        ],
        "survival",
    ),
    **dict.fromkeys(
        [
            "EvenGrid",
            "FiellerInterval",
            "JohnsonNeymanRegion",
            "Quantiles",
            "SubgroupAnalysis",
            "TreatmentInteraction",
            "Values",
            "johnson_neyman_linear",
        ],
        "interaction",
    ),
    **dict.fromkeys(
        [
            "Reconstruction",
            "assign_biomarker",
            "calibrate_model",
            "count_conflicts",
            "rebuild_cohort",
            "rebuild_many",
            "search_spread",
            "bounds",
            "bounds_across",
            "sensitivity",
            "targets_from_summary",
            "verify_cohort",
            "assert_reproduces",
        ],
        "reconstruct",
    ),
    **dict.fromkeys(
        [
            "ArmCurve",
            "GuyotReconstruction",
            "clean_arm",
            "digitised_arms",
            "ipd_from_curves",
            "plot_reconstruction",
            "read_arm",
            "rebuild_from_curves",
            "reconstruct_ipd",
            "simulate_publication",
        ],
        "km",
    ),
    **dict.fromkeys(
        [
            "SampleSizeResult",
            "TrialDesign",
            "TrialSimulation",
            "mirocals_model",
            "plot_power_curves",
            "power_curve",
            "power_table",
            "sample_size",
            "schoenfeld_events",
            "schoenfeld_power",
            "simulate_trials",
            "standard_designs",
        ],
        "design",
    ),
    **dict.fromkeys(
        ["Reanalysis", "plot_forest", "plot_hr_curve", "plot_km", "reanalyse", "write_report"],
        "report",
    ),
}

_SUBPACKAGES = (
    "catalogue",
    "checks",
    "cli",
    "design",
    "interaction",
    "km",
    "models",
    "reconstruct",
    "report",
    "summary",
    "survival",
)

# The eager names, then the lazy ones.
__all__ = [
    "OKABE_ITO",
    "AlsstatsError",
    "AlsstatsWarning",
    "EventTotalNotMetWarning",
    "HazardRatioAtUnobservedValueWarning",
    "InputError",
    "ModelError",
    "NotFittedError",
    "ReconstructionError",
    "SummaryError",
    "__version__",
    "data_path",
]
__all__ += sorted(_LAZY)


def __getattr__(name: str) -> Any:
    """Load a public name's subpackage on first use (PEP 562)."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'alsstats' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBPACKAGES))
