"""The ALS trial catalogue: every shipped trial's figures, checks, gaps and rebuildability.

:func:`build_catalogue` reads ``data/trials/`` (one folder per trial) into one table a reviewer
can read; :func:`landmark_hazard_ratio` and :func:`subgroup_interaction` read treatment
effects and their interaction from survival proportions printed per arm and subgroup.
"""

from ._entries import TrialEntry, trial_entries
from ._landmark import LandmarkContrast, landmark_hazard_ratio, subgroup_interaction
from ._table import (
    Catalogue,
    CatalogueRow,
    build_catalogue,
    headline_hazard_ratio,
    rebuild_status,
)

__all__ = [
    "Catalogue",
    "CatalogueRow",
    "LandmarkContrast",
    "TrialEntry",
    "build_catalogue",
    "headline_hazard_ratio",
    "landmark_hazard_ratio",
    "rebuild_status",
    "subgroup_interaction",
    "trial_entries",
]
