"""The package's own exception and warning types.

Every error a user can trigger with bad input is an :class:`AlsstatsError`, with a message that
names the file (or object), the field and the problem, so that no traceback from inside numpy or
pandas ever reaches a user.
"""

from __future__ import annotations

__all__ = [
    "AlsstatsError",
    "AlsstatsWarning",
    "HazardRatioAtUnobservedValueWarning",
    "InputError",
    "ModelError",
    "ReconstructionError",
    "SummaryError",
]


class AlsstatsError(Exception):
    """Base class of every error raised by alsstats."""


class InputError(AlsstatsError, ValueError):
    """Bad user input: a file, a column or an argument.

    Parameters
    ----------
    source
        The file path or the name of the object that holds the bad value.
    field
        The field path (``hazard_ratios[2].ci``) or column name.
    problem
        What is wrong, in one line.
    """

    def __init__(self, source: object, field: str, problem: str) -> None:
        self.source = str(source)
        self.field = field
        self.problem = problem
        where = f"{self.source}: {field}" if field else self.source
        super().__init__(f"{where}: {problem}")


class SummaryError(InputError):
    """A reported-summary file that does not load or does not validate."""


class ModelError(AlsstatsError, ValueError):
    """A model that cannot be fitted as asked (separation, singular information, ...)."""


class ReconstructionError(AlsstatsError):
    """A reconstruction that cannot be carried out as asked."""


class AlsstatsWarning(UserWarning):
    """Base class of alsstats warnings."""


class HazardRatioAtUnobservedValueWarning(AlsstatsWarning):
    """The treatment coefficient of an interaction model applies at an unobserved modifier value.

    In ``time ~ treatment * modifier`` exp(b_treatment) is the hazard ratio where the modifier
    equals its reference value (0 unless re-centred). When that value lies outside the observed
    range, or below the assay's limit of quantification, the "main effect" describes no patient.
    """
