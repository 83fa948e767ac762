"""Which values a printed figure stands for: the one precision rule of the package.

A paper prints a number with a few digits; the true value is anything that rounds to it. This
module answers that question once, for every consumer (the summary loader, the consistency
checks, the reconstruction targets):

* a number written as text keeps its printed digits: ``"0.60"`` stands for [0.595, 0.605),
  ``"0.8"`` for [0.75, 0.85), ``"12"`` for [11.5, 12.5);
* a bare YAML number keeps the meaning of format version 1: a figure on the unit scale (hazard
  ratio, CI bound, p value, proportion, share) is taken as printed with at least two decimals,
  because YAML drops trailing zeros (``0.30`` reads as 0.3); a measured quantity (a time, a
  median, an age) has the decimals it is written with;
* a percentage ``"58%"`` is the proportion 0.58 with the percentage's digits ([0.575, 0.585));
* a p value may be a bound: ``"<0.001"``, ``"< 0.001"``, ``"<.001"``, ``"≤0.001"`` (p at most
  0.001), ``">0.05"`` (p at least 0.05) or ``"NS"`` (not significant: p at least the trial's
  alpha, 0.05 unless it says otherwise);
* counts are exact.

Times are converted between units here too (:func:`convert_time`, 365.25/12 days a month).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = [
    "DAYS_PER",
    "MIN_DECIMALS",
    "TIME_UNITS",
    "Printed",
    "convert_time",
    "parse_printed",
    "printed_interval",
]

MIN_DECIMALS = 2  # a bare unit-scale number is read as printed with at least 2 decimals
TIME_UNITS = ("days", "weeks", "months", "years")
DAYS_PER = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12, "years": 365.25}
_UNIT_ALIASES = {
    "day": "days", "d": "days", "week": "weeks", "wk": "weeks", "weeks": "weeks",
    "month": "months", "mo": "months", "years": "years", "year": "years", "y": "years",
    "days": "days", "months": "months",
}  # fmt: skip

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_BOUND = re.compile(r"^(<=|>=|<|>|≤|≥)\s*(.+)$")


@dataclass(frozen=True)
class Printed:
    """A figure as printed: the number, its text and the interval of values it stands for.

    ``kind`` is "rounded" (``lower <= x < upper`` round to the text), "exact" (a count:
    ``lower == upper == value``), "upper_bound" (``"<0.001"``: any x in [lower, value]) or
    "lower_bound" (``">0.05"``, ``"NS"``: any x in [value, upper]). ``decimals`` is the
    number of printed decimals (``None`` for an exact figure); ``percent`` says the text was a
    percentage (the value is then a proportion).
    """

    text: str
    value: float
    lower: float
    upper: float
    kind: str = "rounded"
    decimals: int | None = None
    percent: bool = False
    bare: bool = False  # a YAML number, not a text: the version-1 reading

    @property
    def interval(self) -> tuple[float, float]:
        return (self.lower, self.upper)

    @property
    def is_bound(self) -> bool:
        return self.kind in ("upper_bound", "lower_bound")

    def contains(self, x: float) -> bool:
        """Whether ``x`` is a value this figure stands for (rounding or bound)."""
        if not math.isfinite(x):
            return False
        if self.kind == "rounded":
            return self.lower <= x < self.upper or x == self.lower
        return self.lower <= x <= self.upper

    def describe(self) -> str:
        """Short words for a check row: ``0.8 as [0.75, 0.85)``."""
        if self.kind == "exact":
            return f"{self.text} exact"
        if self.kind == "upper_bound":
            return f"{self.text} as [{self.lower:g}, {self.value:g}]"
        if self.kind == "lower_bound":
            return f"{self.text} as [{self.value:g}, {self.upper:g}]"
        return f"{self.text} as [{self.lower:.6g}, {self.upper:.6g})"

    def scaled(self, factor: float) -> Printed:
        """The same figure in another unit (times): every bound multiplied by ``factor``."""
        if factor == 1.0:
            return self
        return Printed(
            self.text, self.value * factor, self.lower * factor, self.upper * factor,
            self.kind, self.decimals, self.percent, self.bare,
        )  # fmt: skip


def _decimals_of_text(text: str) -> int:
    return max(0, -int(Decimal(text).as_tuple().exponent))


def _decimals_of_float(x: float) -> int:
    """Decimals of a YAML number as written (trailing zeros are lost by YAML anyway)."""
    if isinstance(x, int):
        return 0
    exponent = Decimal(repr(float(x))).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def _rounded(text: str, value: float, decimals: int, percent: bool = False, bare: bool = False):
    scale = 0.01 if percent else 1.0
    half = 0.5 * 10.0**-decimals * scale
    places = decimals + (2 if percent else 0) + 2
    # the same arithmetic as format version 1 (round(x -+ half, decimals + 2)), so that a bare
    # number gives bit-identical intervals to the version-1 checks
    lo, hi = round(value - half, places), round(value + half, places)
    return Printed(text, value, lo, hi, "rounded", decimals, percent, bare)


def parse_printed(
    obj: object,
    *,
    scale: str = "unit",
    allow_bound: bool = False,
    allow_percent: bool = False,
    alpha: float = 0.05,
) -> Printed:
    """A figure from its YAML form (a number, or the text the paper printed).

    Parameters
    ----------
    obj
        A YAML number or text such as ``"0.60"``, ``"<0.001"``, ``"58%"``.
    scale
        "unit" for figures on the unit scale (ratios, CI bounds, p values, proportions):
        a bare number has at least 2 decimals; "measure" for measured quantities (times,
        medians, ages): a bare number has the decimals it is written with; "count": exact.
    allow_bound
        Accept ``<x``, ``>x`` and ``NS`` (p values).
    allow_percent
        Accept ``"58%"`` (proportions).
    alpha
        The significance level that ``"NS"`` refers to.

    Raises
    ------
    ValueError
        With a message in words (the summary loader adds the file and field).
    """
    if isinstance(obj, bool) or not isinstance(obj, int | float | str):
        raise ValueError("expected a number or the printed text of one")
    if not isinstance(obj, str):
        if not math.isfinite(obj):
            raise ValueError(f"expected a finite number, got {obj!r}")
        if scale == "count":
            if obj != int(obj):
                raise ValueError(f"a count must be a whole number, got {obj!r}")
            return Printed(str(int(obj)), float(obj), float(obj), float(obj), "exact", None)
        d = _decimals_of_float(obj)
        if scale == "unit":
            d = max(d, MIN_DECIMALS)
        return _rounded(repr(obj), float(obj), d, bare=True)
    text = obj.strip()
    if allow_bound and text.upper() in ("NS", "N.S.", "NOT SIGNIFICANT"):
        return Printed(obj, alpha, alpha, 1.0, "lower_bound", None)
    m = _BOUND.match(text)
    if m:
        if not allow_bound:
            raise ValueError(f"{obj!r}: a bound (< or >) is only allowed for a p value")
        inner = parse_printed(m.group(2).strip(), scale=scale)
        if inner.kind != "rounded":
            raise ValueError(f"{obj!r}: expected a number after {m.group(1)!r}")
        if m.group(1) in ("<", "<=", "≤"):
            return Printed(obj, inner.value, 0.0, inner.value, "upper_bound", inner.decimals)
        return Printed(obj, inner.value, inner.value, 1.0, "lower_bound", inner.decimals)
    percent = text.endswith("%")
    if percent:
        if not allow_percent:
            raise ValueError(f"{obj!r}: a percentage is only allowed for a proportion")
        text = text[:-1].strip()
    if not _NUMBER.match(text):
        raise ValueError(f'{obj!r} is not a number as printed (e.g. "0.60", "<0.001")')
    try:
        value = float(Decimal(text) / (100 if percent else 1))
    except InvalidOperation:  # pragma: no cover - the regular expression admits decimals only
        raise ValueError(f"{obj!r} is not a number") from None
    if scale == "count":
        if value != int(value) or percent:
            raise ValueError(f"a count must be a whole number, got {obj!r}")
        return Printed(obj, value, value, value, "exact", None)
    return _rounded(obj, value, _decimals_of_text(text), percent=percent)


def printed_interval(obj: object | Printed, **kwargs) -> tuple[float, float]:
    """The values that a printed figure stands for, as (lower, upper).

    >>> printed_interval("0.60")
    (0.595, 0.605)
    >>> printed_interval(0.3)  # a bare number: at least 2 decimals (format version 1)
    (0.295, 0.305)
    >>> printed_interval("<0.001", allow_bound=True)
    (0.0, 0.001)
    >>> printed_interval("58%", allow_percent=True)
    (0.575, 0.585)
    """
    p = obj if isinstance(obj, Printed) else parse_printed(obj, **kwargs)
    return p.interval


def time_unit(name: object) -> str | None:
    """The canonical time unit for a unit name (``"month"`` -> ``"months"``), else None."""
    if not isinstance(name, str):
        return None
    return _UNIT_ALIASES.get(name.strip().lower())


def convert_time(x: float, from_unit: str, to_unit: str) -> float:
    """A time in ``from_unit`` expressed in ``to_unit`` (days, weeks, months, years).

    >>> round(convert_time(12, "months", "days"), 2)
    365.25
    """
    if from_unit == to_unit:
        return x
    return x * DAYS_PER[from_unit] / DAYS_PER[to_unit]
