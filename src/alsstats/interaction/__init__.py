"""The treatment hazard ratio as a function of a biomarker.

:class:`TreatmentInteraction` fits a Cox model with a treatment x modifier term and answers
"where" (a grid: :class:`Values`, :class:`Quantiles`, :class:`EvenGrid`) apart from "what"
(HR and CI, Johnson-Neyman region, the HR = 1 crossing with its Fieller set, subgroups), and
warns when exp(b_treatment) is the HR at a modifier value no patient had.
"""

from ._grids import EvenGrid, Grid, Quantiles, Values, resolve_grid, roots_on_grid
from ._intervals import FiellerInterval, JohnsonNeymanRegion, johnson_neyman_linear
from ._model import TreatmentInteraction
from ._subgroups import SubgroupAnalysis, subgroup_analysis

__all__ = [
    "EvenGrid",
    "FiellerInterval",
    "Grid",
    "JohnsonNeymanRegion",
    "Quantiles",
    "SubgroupAnalysis",
    "TreatmentInteraction",
    "Values",
    "johnson_neyman_linear",
    "resolve_grid",
    "roots_on_grid",
    "subgroup_analysis",
]
