"""The package's own exception and warning types.

Every error a user can trigger with bad input is an :class:`AlsstatsError`, with a message that
names the file (or object), the field and the problem, so that no traceback from inside numpy or
pandas ever reaches a user. All of them take the same arguments: ``(source, field, problem)``,
the last two optional (a one-argument error is a complete message).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "AlsstatsError",
    "AlsstatsWarning",
    "EventTotalNotMetWarning",
    "HazardRatioAtUnobservedValueWarning",
    "InputError",
    "ModelError",
    "NotFittedError",
    "ReconstructionError",
    "SummaryError",
    "example_values",
    "missing_attribute",
]


class AlsstatsError(Exception):
    """Base class of every error raised by alsstats.

    Parameters
    ----------
    source
        The file path or the name of the object that holds the bad value (or, alone, the whole
        message).
    field
        The field path (``hazard_ratios[2].ci``), column name or option (``--level``).
    problem
        What is wrong, in one line.

    The message reads ``source: field: problem``, empty parts left out.
    """

    def __init__(self, source: object, field: str = "", problem: str = "") -> None:
        self.source = str(source)
        self.field = str(field)
        self.problem = str(problem)
        super().__init__(": ".join(p for p in (self.source, self.field, self.problem) if p))


class InputError(AlsstatsError, ValueError):
    """Bad user input: a file, a column or an argument."""


class SummaryError(InputError):
    """A reported-summary file that does not load or does not validate."""


class ModelError(AlsstatsError, ValueError):
    """A model that cannot be fitted as asked (separation, singular information, ...)."""


class NotFittedError(ModelError, AttributeError):
    """A fitted attribute or a result asked of a model before ``fit()``.

    Also an AttributeError, so that ``hasattr(model, "params_")`` stays False on an unfitted
    model, as with scikit-learn's error of the same name.
    """


def missing_attribute(model: object, name: str, fitted_marker: str, label: str) -> AttributeError:
    """The error for an attribute a model does not have, raised from its ``__getattr__``.

    Before ``fit()`` (``fitted_marker`` not yet set), a fitted attribute (trailing underscore)
    or a property that needs the fit gives :class:`NotFittedError` naming ``label``; anything
    else is the plain AttributeError Python would give.
    """
    fitted_name = name.endswith("_") and not name.startswith("__")
    if fitted_marker not in vars(model) and (
        fitted_name or isinstance(getattr(type(model), name, None), property)
    ):
        return NotFittedError(label, name, "not fitted; call fit() first")
    return AttributeError(f"{type(model).__name__!r} object has no attribute {name!r}")


class ReconstructionError(AlsstatsError):
    """A reconstruction that cannot be carried out as asked."""


def example_values(values: Iterable[object], limit: int = 3) -> str:
    """At most ``limit`` distinct values, quoted, and how many others: for error messages.

    Examples
    --------
    >>> example_values(["a", "b", "a", "c", "d"])
    "'a', 'b', 'c' and 1 other"
    """
    seen: list[object] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    shown = ", ".join(_show(v) for v in seen[:limit])
    rest = len(seen) - limit
    if rest > 0:
        shown += f" and {rest} other" + ("s" if rest > 1 else "")
    return shown


def _show(value: object) -> str:
    value = value.item() if hasattr(value, "item") else value  # numpy scalars as plain Python
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


class AlsstatsWarning(UserWarning):
    """Base class of alsstats warnings."""


class HazardRatioAtUnobservedValueWarning(AlsstatsWarning):
    """The treatment coefficient of an interaction model applies at an unobserved modifier value.

    In ``time ~ treatment * modifier`` exp(b_treatment) is the hazard ratio where the modifier
    equals its reference value (0 unless re-centred). When that value lies outside the observed
    range, or below the assay's limit of quantification, the "main effect" describes no patient.
    """


class EventTotalNotMetWarning(AlsstatsWarning):
    """Patient data rebuilt from a Kaplan-Meier curve do not have the reported number of events.

    The reported total is met whenever the numbers at risk allow it; this warns when they do not
    (more events reported than patients leaving in intervals where the curve falls).
    """
