"""Cohorts from published Kaplan-Meier curves joined to the summary-based reconstruction.

When a reported-summary file carries digitised curves (its ``km_curves:`` section), time, death
and arm come from the Guyot algorithm (:mod:`alsstats.km`), and the biomarker and covariates are
then assigned conditional on outcome by the reconstruction search
(:func:`alsstats.reconstruct.assign_biomarker`) so that the reported subgroup and interaction
hazard ratios are met.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from ..reconstruct import Reconstruction, assign_biomarker
from ..summary import ReportedSummary, load_reported_summary
from ._input import ArmCurve, read_arm
from ._reconstruction import reconstruct_ipd

__all__ = ["digitised_arms", "ipd_from_curves", "rebuild_from_curves"]


def _summary(summary: ReportedSummary | str | Path) -> ReportedSummary:
    return summary if isinstance(summary, ReportedSummary) else load_reported_summary(summary)


def digitised_arms(summary: ReportedSummary | str | Path) -> dict[str, ArmCurve]:
    """The summary's digitised curves read from their CSV files, by arm id."""
    s = _summary(summary)
    if not s.km_curves:
        raise InputError(s.path, "km_curves", "the summary carries no digitised curves")
    return {
        c.arm: read_arm(s.resolve(c.curve), s.resolve(c.at_risk), c.total_events)
        for c in s.km_curves
    }


def ipd_from_curves(summary: ReportedSummary | str | Path, **guyot: Any) -> pd.DataFrame:
    """Patient-level ``arm, time, event`` rebuilt from the summary's curves (Guyot)."""
    return reconstruct_ipd(digitised_arms(summary), **guyot)


def rebuild_from_curves(
    summary: ReportedSummary | str | Path, *, seed: int = 0, **search: Any
) -> Reconstruction:
    """A cohort whose outcomes come from the published curves and whose biomarker and
    covariates meet the reported subgroup and interaction figures.

    ``search`` goes to :func:`alsstats.reconstruct.assign_biomarker` (``assumptions``,
    ``max_seconds``, ``progress``).
    """
    s = _summary(summary)
    return assign_biomarker(ipd_from_curves(s), s, seed=seed, **search)
