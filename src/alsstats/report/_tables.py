"""Numbers and tables for people: how the report writes a value, an interval, a p-value.

Every cell of the report's HTML tables is a string made here, so no Python repr (``None``,
``nan``, a tuple, a dict) reaches the reader. Conventions: hazard ratios with two decimals and
their CI as ``0.52 (0.30-0.89)``; p-values with three decimals or ``<0.001``; test statistics
with two decimals; counts as integers; other numbers with four significant digits and a
thousands separator.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__: list[str] = []

DASH = "–"  # an empty cell: nothing to show (not "None", not "nan")


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or a dict
        return False


def number(value: Any, digits: int = 4) -> str:
    """A number with ``digits`` significant digits (integers as integers), or a dash."""
    if _missing(value):
        return DASH
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    v = float(value)
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 10 ** (digits - 1):
        return f"{v:,.0f}"
    text = f"{v:.{digits}g}"
    if "e" in text:
        return f"{v:.{digits - 1}e}"
    return text


def quantity(value: Any) -> str:
    """A biomarker value or a cut-off: whole numbers from 100 up, else three significant digits."""
    if _missing(value):
        return DASH
    v = float(value)
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if abs(v) >= 100 or v == int(v):
        return f"{v:,.0f}"
    return f"{v:.3g}"


def ratio(value: Any) -> str:
    """A hazard ratio, two decimals (three below 0.1, so it never prints as 0.00)."""
    if _missing(value):
        return DASH
    v = float(value)
    if math.isinf(v):
        return "∞"
    return f"{v:.3f}" if v < 0.1 else f"{v:.2f}"


def ratio_ci(hr: Any, lower: Any, upper: Any) -> str:
    """``0.52 (0.30-0.89)``; the HR alone when there is no CI; a dash when there is no HR."""
    if _missing(hr):
        return DASH
    if _missing(lower) or _missing(upper):
        return ratio(hr)
    return f"{ratio(hr)} ({ratio(lower)}-{ratio(upper)})"


def p_value(p: Any) -> str:
    """Three decimals, or ``<0.001``."""
    if _missing(p):
        return DASH
    p = float(p)
    return "<0.001" if p < 0.0005 else f"{p:.3f}"


def statistic(value: Any) -> str:
    """A test statistic, two decimals."""
    return DASH if _missing(value) else f"{float(value):.2f}"


def interval(lower: Any, upper: Any, name: str, unit: str = "") -> str:
    """A group in the summary format's convention ``lower < name <= upper`` (open ends left out)."""
    u = f" {unit}" if unit else ""
    lo = None if _missing(lower) or math.isinf(float(lower)) else quantity(lower)
    hi = None if _missing(upper) or math.isinf(float(upper)) else quantity(upper)
    if lo is None and hi is None:
        return f"all values of {name}"
    if lo is None:
        return f"{name} ≤ {hi}{u}"
    if hi is None:
        return f"{name} > {lo}{u}"
    return f"{lo} < {name} ≤ {hi}{u}"


def span(lower: float, upper: float, unit: str = "") -> str:
    """A range of values ``2,465 to 8,956 pg/mL``; infinite ends as "below"/"above"."""
    u = f" {unit}" if unit else ""
    if math.isinf(lower) and math.isinf(upper):
        return "every value"
    if math.isinf(lower):
        return f"below {quantity(upper)}{u}"
    if math.isinf(upper):
        return f"above {quantity(lower)}{u}"
    return f"{quantity(lower)} to {quantity(upper)}{u}"


def plain(value: Any) -> str:
    """Any value a summary holds (number, text, list, mapping), as readable text."""
    if _missing(value):
        return DASH
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | float | np.integer | np.floating):
        return number(value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k.replace('_', ' ')}: {plain(v)}" for k, v in value.items())
    if isinstance(value, Sequence) and not isinstance(value, str):
        return ", ".join(plain(v) for v in value)
    return str(value)


def html_table(
    df: pd.DataFrame,
    *,
    numeric: Iterable[str] = (),
    caption: str | None = None,
    css_class: str = "",
    breakable: Iterable[str] = (),
) -> str:
    """An HTML table of strings (cells escaped); ``numeric`` columns right-aligned;
    ``breakable`` columns (identifiers such as ``interaction_model_treatment.ci_upper``) may
    wrap after ``_`` and ``.`` so that a wide table fits its window."""
    right = set(numeric)
    wrap = set(breakable)

    def cell(c: str, value: Any) -> str:
        text = html.escape(plain(value))
        if c in wrap:
            text = text.replace("_", "_<wbr>").replace(".", ".<wbr>")
        return text

    head = "".join(
        f"<th class='num'>{html.escape(str(c))}</th>"
        if c in right
        else f"<th>{html.escape(str(c))}</th>"
        for c in df.columns
    )
    rows = []
    for _, row in df.iterrows():
        cells = "".join(
            f"<td class='num'>{cell(c, row[c])}</td>"
            if c in right
            else f"<td>{cell(c, row[c])}</td>"
            for c in df.columns
        )
        rows.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    cls = f" class='{css_class}'" if css_class else ""
    return (
        f"<div class='table-wrap'><table{cls}>{cap}<thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
