"""Data-generating models: a Weibull baseline, biomarker distributions, an interaction.

A :class:`DataGeneratingModel` simulates trials with known truth; the reconstruction calibrates
one to a summary and the design module simulates phase 3 trials from it.
"""

from ._biomarkers import GammaBiomarker, biomarker_cdf
from ._dgm import DataGeneratingModel, LogNormalBiomarker, WeibullBaseline

__all__ = [
    "DataGeneratingModel",
    "GammaBiomarker",
    "LogNormalBiomarker",
    "WeibullBaseline",
    "biomarker_cdf",
]
