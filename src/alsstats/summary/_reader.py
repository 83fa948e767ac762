"""Typed access to a parsed YAML document, failing with a SummaryError that names the field.

:class:`_Reader` checks one value at a time (a mapping with known fields, a list, text, a finite
number, a proportion, a count, a choice) and raises :class:`~alsstats.errors.SummaryError` with
the file, the field path (``hazard_ratios[2].ci``) and what is wrong, in words a user can act on.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any

from ..errors import SummaryError

__all__: list[str] = []  # private helpers of alsstats.summary


def _kind(obj: object) -> str:
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return f"a boolean ({obj})"
    if isinstance(obj, dict):
        return "a mapping"
    if isinstance(obj, list):
        return "a list"
    if isinstance(obj, str):
        short = obj if len(obj) <= 30 else obj[:27] + "..."
        return f"text {short!r}"
    if isinstance(obj, int | float):
        return f"the number {obj!r}"
    return f"a {type(obj).__name__}"


def _join(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


class _Reader:
    """Typed access to the parsed YAML, failing with a SummaryError that names the field."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, where: str, problem: str) -> SummaryError:
        return SummaryError(self.name, where, problem)

    def mapping(
        self,
        obj: object,
        where: str,
        required: Iterable[str] = (),
        optional: Iterable[str] = (),
        free: bool = False,
    ) -> dict[str, Any]:
        """A mapping with these fields; ``free=True`` accepts any field names (text only)."""
        if not isinstance(obj, dict):
            raise self.fail(where, f"expected a mapping, got {_kind(obj)}")
        required = tuple(required)
        allowed = set(required) | set(optional)
        for key in obj:
            if not isinstance(key, str):
                raise self.fail(where, f"field names must be text, got {_kind(key)}")
            if not free and key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.fail(_join(where, key), f"unknown field{hint}")
        for key in required:
            if key not in obj:
                raise self.fail(_join(where, key), "required field is missing")
        return obj

    def items(self, obj: object, where: str) -> list[Any]:
        if not isinstance(obj, list):
            raise self.fail(where, f"expected a list, got {_kind(obj)}")
        return obj

    def text(self, obj: object, where: str, optional: bool = False) -> str | None:
        if obj is None and optional:
            return None
        # A bare number is fine as text (a page number, a phase "3"); a list or mapping is not.
        if isinstance(obj, bool) or not isinstance(obj, str | int | float):
            raise self.fail(where, f"expected text, got {_kind(obj)}")
        return str(obj)

    def number(self, obj: object, where: str, optional: bool = False) -> float | None:
        if obj is None and optional:
            return None
        if isinstance(obj, bool) or not isinstance(obj, int | float):
            raise self.fail(where, f"expected a number, got {_kind(obj)}")
        if not math.isfinite(obj):
            raise self.fail(where, f"expected a finite number, got {obj!r}")
        return obj

    def positive(self, obj: object, where: str, what: str = "value") -> float:
        value = self.number(obj, where)
        if value <= 0:
            raise self.fail(where, f"{what} must be positive, got {value!r}")
        return value

    def proportion(self, obj: object, where: str, optional: bool = False) -> float | None:
        value = self.number(obj, where, optional)
        if value is not None and not 0 <= value <= 1:
            raise self.fail(where, f"a proportion must lie in [0, 1], got {value!r}")
        return value

    def count(self, obj: object, where: str, optional: bool = False) -> int | None:
        if obj is None and optional:
            return None
        value = self.number(obj, where)
        if value != int(value):
            raise self.fail(where, f"a count must be a whole number, got {value!r}")
        if value < 0:
            raise self.fail(where, f"a count cannot be negative, got {value!r}")
        return int(value)

    def choice(self, obj: object, where: str, choices: tuple[str, ...]) -> str:
        if not isinstance(obj, str) or obj not in choices:
            raise self.fail(where, f"expected one of {', '.join(choices)}; got {_kind(obj)}")
        return obj
