"""The package's errors: one constructor style, ``source: field: problem``."""

from __future__ import annotations

import pytest

from alsstats.errors import (
    AlsstatsError,
    InputError,
    ModelError,
    NotFittedError,
    ReconstructionError,
    SummaryError,
    example_values,
)

CLASSES = [AlsstatsError, InputError, ModelError, NotFittedError, ReconstructionError, SummaryError]


@pytest.mark.parametrize("cls", CLASSES)
def test_one_constructor_style(cls: type[AlsstatsError]) -> None:
    full = cls("trial.csv", "pnfh", "3 rows have missing values")
    assert str(full) == "trial.csv: pnfh: 3 rows have missing values"
    assert (full.source, full.field, full.problem) == ("trial.csv", "pnfh", full.problem)
    assert str(cls("trial.csv", "", "no such file")) == "trial.csv: no such file"
    assert str(cls("a whole message")) == "a whole message"
    assert isinstance(full, AlsstatsError)


def test_not_fitted_is_also_an_attribute_error() -> None:
    assert issubclass(NotFittedError, ModelError) and issubclass(NotFittedError, AttributeError)


def test_example_values() -> None:
    assert example_values(["a", "b", "a"]) == "'a', 'b'"
    assert example_values([1.0, 2.5, float("inf"), 4.0, 5.0]) == "1, 2.5, inf and 2 others"
    assert example_values(range(4), limit=3) == "0, 1, 2 and 1 other"
