"""Patient-level data from digitised Kaplan-Meier curves (Guyot et al. 2012).

Reading and cleaning the clicks (:func:`read_arm`, :func:`clean_arm`), the Guyot algorithm
(:class:`GuyotReconstruction`), publication simulation for validation, and the path from a
summary's ``km_curves:`` to a cohort with a biomarker (:func:`rebuild_from_curves`).
"""

from ._cohort import digitised_arms, ipd_from_curves, rebuild_from_curves
from ._guyot import GuyotFit, guyot
from ._input import ArmCurve, CleanArm, clean_arm, read_arm, read_at_risk_csv, read_curve_csv
from ._reconstruction import (
    GuyotReconstruction,
    plot_reconstruction,
    reconstruct_ipd,
    simulate_publication,
)

__all__ = [
    "ArmCurve",
    "CleanArm",
    "GuyotFit",
    "GuyotReconstruction",
    "clean_arm",
    "digitised_arms",
    "guyot",
    "ipd_from_curves",
    "plot_reconstruction",
    "read_arm",
    "read_at_risk_csv",
    "read_curve_csv",
    "rebuild_from_curves",
    "reconstruct_ipd",
    "simulate_publication",
]
