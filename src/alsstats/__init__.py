"""alsstats: reanalyse ALS trials from what their papers report."""

from ._data import data_path
from ._version import __version__
from .errors import (
    AlsstatsError,
    AlsstatsWarning,
    HazardRatioAtUnobservedValueWarning,
    InputError,
    ModelError,
    ReconstructionError,
    SummaryError,
)

__all__ = [
    "AlsstatsError",
    "AlsstatsWarning",
    "HazardRatioAtUnobservedValueWarning",
    "InputError",
    "ModelError",
    "ReconstructionError",
    "SummaryError",
    "__version__",
    "data_path",
]
