"""Designing the next trial: phase 3 simulation, power and sample size.

Accrual, dropout, event-driven analysis, stratified randomisation and biomarker enrichment
(:func:`simulate_trials`), power curves and Schoenfeld sizing, and the MIROCALS designs.
"""

from ._mirocals import (
    mirocals_model,
    mirocals_reference_model,
    rescale_baseline,
    standard_designs,
)
from ._sizing import (
    SampleSizeResult,
    plot_power_curves,
    power_curve,
    power_table,
    sample_size,
    schoenfeld_events,
    schoenfeld_power,
)
from ._trials import TESTS, TrialDesign, TrialSimulation, draw_trials, simulate_trials

__all__ = [
    "TESTS",
    "SampleSizeResult",
    "TrialDesign",
    "TrialSimulation",
    "draw_trials",
    "mirocals_model",
    "mirocals_reference_model",
    "plot_power_curves",
    "power_curve",
    "power_table",
    "rescale_baseline",
    "sample_size",
    "schoenfeld_events",
    "schoenfeld_power",
    "simulate_trials",
    "standard_designs",
]
