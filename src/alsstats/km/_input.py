"""Published Kaplan-Meier arms as input: reading digitised CSVs and cleaning the clicks.

A published arm is an :class:`ArmCurve`: digitised (time, survival) points, as exported by
WebPlotDigitizer and similar tools, plus the numbers-at-risk table printed under the plot and,
if reported, the total number of events. :func:`read_arm` reads one from two CSV files;
:func:`clean_arm` turns the clicks into a :class:`CleanArm` the Guyot algorithm
(:mod:`alsstats.km`) can use and records every change it makes.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["ArmCurve", "CleanArm", "clean_arm", "read_arm", "read_at_risk_csv", "read_curve_csv"]

_REPORT_COLUMNS = ["arm", "what", "where", "before", "after"]


def _numeric_rows(path: Path, text: str) -> np.ndarray:
    """Two numeric columns from CSV text; an optional header row; `,` `;` or tab separated."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return np.empty((0, 2))
    try:
        delim = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",;\t").delimiter
    except csv.Error:
        delim = ","
    rows = list(csv.reader(lines, delimiter=delim))
    decimal_comma = delim != ","  # "0,95" in ;- or tab-separated European exports

    def number(cell: str) -> float:
        cell = cell.strip().replace(",", ".") if decimal_comma else cell.strip()
        return float(cell)

    values = []
    for i, row in enumerate(rows):
        if len(row) < 2:
            raise InputError(path, f"line {i + 1}", f"expected two columns, found {len(row)}")
        try:
            values.append((number(row[0]), number(row[1])))
        except ValueError:
            if i == 0:  # a header row
                continue
            bad = row[0] if not _is_number(row[0], decimal_comma) else row[1]
            raise InputError(path, f"line {i + 1}", f"non-numeric value {bad.strip()!r}") from None
    arr = np.array(values, dtype=float).reshape(-1, 2)
    if not np.all(np.isfinite(arr)):
        line = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0]) + 1 + (len(rows) > len(arr))
        raise InputError(path, f"line {line}", "non-finite value (nan or inf)")
    return arr


def _is_number(cell: str, decimal_comma: bool) -> bool:
    try:
        float(cell.strip().replace(",", ".") if decimal_comma else cell.strip())
    except ValueError:
        return False
    return True


def _read_text(path: str | Path) -> tuple[Path, str]:
    path = Path(path)
    try:
        return path, path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(path, "", f"cannot read file ({exc.strerror})") from None


def read_curve_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Digitised (time, survival) points from a two-column CSV (header optional)."""
    path, text = _read_text(path)
    arr = _numeric_rows(path, text)
    if arr.shape[0] == 0:
        raise InputError(path, "", "no digitised points")
    return arr[:, 0], arr[:, 1]


def read_at_risk_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Numbers-at-risk table (time, number at risk) from a two-column CSV (header optional)."""
    path, text = _read_text(path)
    arr = _numeric_rows(path, text)
    if arr.shape[0] == 0:
        raise InputError(path, "at_risk", "no at-risk rows")
    return arr[:, 0], arr[:, 1]


@dataclass
class ArmCurve:
    """One published arm: digitised Kaplan-Meier points and the numbers-at-risk table.

    Parameters
    ----------
    time, survival
        Digitised points in any order; survival as proportions or percentages.
    at_risk_times, at_risk
        The at-risk table: it starts at time 0 (the arm size) and never increases.
    total_events
        Reported number of events in the arm, if known.
    source, at_risk_source
        Names used in error messages for the points and for the at-risk table (file names, or
        a description); ``at_risk_source`` defaults to ``source``.
    """

    time: Sequence[float] | np.ndarray
    survival: Sequence[float] | np.ndarray
    at_risk_times: Sequence[float] | np.ndarray
    at_risk: Sequence[float] | np.ndarray
    total_events: int | None = None
    source: str = "ArmCurve"
    at_risk_source: str = ""

    def __post_init__(self) -> None:
        for name in ("time", "survival", "at_risk_times", "at_risk"):
            src = self.at_risk_source or self.source if name.startswith("at_") else self.source
            try:
                arr = np.asarray(getattr(self, name), dtype=float).ravel()
            except (TypeError, ValueError):
                raise InputError(src, name, "non-numeric values") from None
            if not np.all(np.isfinite(arr)):
                raise InputError(src, name, "non-finite value (nan or inf)")
            setattr(self, name, arr)
        if self.time.size != self.survival.size:
            raise InputError(self.source, "survival", "not as many values as times")
        if self.at_risk_times.size != self.at_risk.size:
            raise InputError(
                self.at_risk_source or self.source, "at_risk", "not as many counts as times"
            )


def read_arm(
    curve_csv: str | Path, at_risk_csv: str | Path, total_events: int | None = None
) -> ArmCurve:
    """An :class:`ArmCurve` from a digitised-curve CSV and an at-risk CSV."""
    time, surv = read_curve_csv(curve_csv)
    ta, na = read_at_risk_csv(at_risk_csv)
    return ArmCurve(time, surv, ta, na, total_events, str(curve_csv), str(at_risk_csv))


@dataclass(frozen=True)
class CleanArm:
    """A curve ready for :func:`alsstats.km.guyot`."""

    time: np.ndarray
    survival: np.ndarray
    at_risk_times: np.ndarray
    at_risk: np.ndarray
    total_events: int | None


def _check_table(arm: ArmCurve) -> tuple[np.ndarray, np.ndarray]:
    src, ta, na = arm.at_risk_source or arm.source, arm.at_risk_times, arm.at_risk
    if ta.size == 0:
        raise InputError(src, "at_risk", "no at-risk rows")
    if ta[0] != 0:
        raise InputError(src, "at_risk_times", f"the table must start at time 0, not {ta[0]:g}")
    if np.any(np.diff(ta) <= 0):
        k = int(np.flatnonzero(np.diff(ta) <= 0)[0]) + 1
        raise InputError(src, "at_risk_times", f"times not increasing at {ta[k]:g}")
    if np.any(na < 0) or np.any(na != np.round(na)):
        raise InputError(src, "at_risk", "counts must be whole numbers >= 0")
    if na[0] == 0:
        raise InputError(src, "at_risk", "nobody at risk at time 0")
    if np.any(np.diff(na) > 0):
        k = int(np.flatnonzero(np.diff(na) > 0)[0]) + 1
        raise InputError(
            src, "at_risk", f"at-risk counts increase from {na[k - 1]:g} to {na[k]:g} at {ta[k]:g}"
        )
    ev = arm.total_events
    try:
        bad_events = ev is not None and (float(ev) != int(ev) or not 0 <= int(ev) <= na[0])
    except (TypeError, ValueError):
        bad_events = True
    if bad_events:
        raise InputError(arm.source, "total_events", f"{ev} is not a count between 0 and {na[0]:g}")
    return ta, na.astype(np.int64)


def _check_rises(src, t, s, tolerance: float, time_tolerance: float | None) -> None:
    """Raise on a rise in survival larger than ``tolerance`` that horizontal jitter cannot explain.

    Clicking both corners of a step, the upper one often lands a little to the right of the lower
    one; after sorting by time the curve then seems to rise. Such a rise is noise when the curve
    first fell below the risen value no more than ``time_tolerance`` earlier (default: 1% of the
    time axis).
    """
    if s.size == 0:
        return
    running = np.minimum.accumulate(np.concatenate([[1.0], s]))[:-1]
    dt = 0.01 * float(t.max()) if time_tolerance is None else time_tolerance
    for k in np.flatnonzero(s - running > tolerance):
        # First click clearly below s[k], by the same test as the rise (floats: 0.51 - 0.49 > 0.02).
        fell = int(np.argmax(s[k] - s[: k + 1] > tolerance))
        if t[k] - t[fell] > dt:
            raise InputError(
                src,
                "survival",
                f"survival rises from {running[k]:.3f} to {s[k]:.3f} at time {t[k]:g}, more "
                f"than the tolerance {tolerance:g} (and {t[k] - t[fell]:g} after it fell)",
            )


def clean_arm(
    arm: ArmCurve,
    label: object = "",
    *,
    tolerance: float = 0.02,
    time_tolerance: float | None = None,
    scale: str = "auto",
) -> tuple[CleanArm, pd.DataFrame]:
    """Clean digitised points; return the clean curve and a report of every change.

    Steps: read the survival scale (``"auto"``: percentages if any value exceeds 1.5), clip to
    [0, 1], sort by time, drop clicks before time 0, make survival non-increasing (a rise of more
    than ``tolerance`` is an error), drop duplicate clicks, start the curve at (0, 1), drop clicks
    after the last at-risk time when nobody is left at risk then (an error if the curve still
    falls there), and add a point at each at-risk time that has none (carrying survival forward).
    A rise is forgiven, whatever its size, when it comes within ``time_tolerance`` (default 1%
    of the time axis) of the fall it undoes: the two corners of one step clicked out of order.

    Returns
    -------
    (CleanArm, pandas.DataFrame)
        The report has columns ``arm, what, where, before, after``.
    """
    src = arm.source
    ta, na = _check_table(arm)
    t, s = arm.time.copy(), arm.survival.copy()
    rows: list[tuple] = []

    def note(what: str, where: object, before: object, after: object) -> None:
        rows.append((label, what, where, before, after))

    if scale not in ("auto", "proportion", "percent"):
        raise InputError(src, "scale", f"unknown scale {scale!r} (auto, proportion or percent)")
    if scale == "auto":
        scale = "percent" if s.size and s.max() > 1.5 else "proportion"
        note("scale detected", "survival", f"max {s.max():g}", scale)
    if scale == "percent":
        s = s / 100.0
    for k in np.flatnonzero((s < 0) | (s > 1)):
        note("clip to [0, 1]", f"t={t[k]:g}", s[k], float(np.clip(s[k], 0, 1)))
    s = np.clip(s, 0.0, 1.0)
    order = np.lexsort((-s, t))  # equal times: the upper corner of a step first
    if np.any(order != np.arange(t.size)):
        note(
            "sort by time",
            "all points",
            "unsorted",
            f"{int(np.sum(order != np.arange(t.size)))} moved",
        )
    t, s = t[order], s[order]
    for k in np.flatnonzero(t < 0):
        note("drop: before time 0", f"t={t[k]:g}", s[k], None)
    t, s = t[t >= 0], s[t >= 0]
    _check_rises(src, t, s, tolerance, time_tolerance)
    s_mono = np.minimum.accumulate(s) if s.size else s
    for k in np.flatnonzero(s_mono < s):
        note("make non-increasing", f"t={t[k]:g}", s[k], s_mono[k])
    s = s_mono
    keep = np.ones(t.size, dtype=bool)
    keep[1:] = (np.diff(t) != 0) | (np.diff(s) != 0)
    for k in np.flatnonzero(~keep):
        note("drop duplicate", f"t={t[k]:g}", s[k], None)
    t, s = t[keep], s[keep]
    if t.size == 0 or t[0] > 0 or s[0] < 1:
        if t.size and t[0] == 0 and s[0] >= 1 - tolerance:
            note("set survival at time 0 to 1", "t=0", s[0], 1.0)
            s[0] = 1.0
        else:
            note("add start point", "t=0", None, "(0, 1)")
            t, s = np.concatenate([[0.0], t]), np.concatenate([[1.0], s])
    if na[-1] == 0:
        past = t > ta[-1]
        s_at_end = s[np.searchsorted(t, ta[-1], side="right") - 1]
        if np.any(s[past] < s_at_end - tolerance):
            raise InputError(
                src,
                "time",
                f"clicks at times past the last at-risk time {ta[-1]:g} where "
                "nobody is at risk, and the curve still falls there",
            )
        for k in np.flatnonzero(past):
            note("drop: after last at-risk time (0 at risk)", f"t={t[k]:g}", s[k], None)
        t, s = t[~past], s[~past]
    for tr in ta:
        if not np.any(t == tr):
            k = np.searchsorted(t, tr, side="right")
            note("add point at at-risk time", f"t={tr:g}", None, f"({tr:g}, {s[k - 1]:.4g})")
            t, s = np.insert(t, k, tr), np.insert(s, k, s[k - 1])
    ev = None if arm.total_events is None else int(arm.total_events)
    report = pd.DataFrame(rows, columns=_REPORT_COLUMNS)
    return CleanArm(t, s, ta, na, ev), report
