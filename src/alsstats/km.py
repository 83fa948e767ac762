"""Patient-level data rebuilt from published Kaplan-Meier curves: input, cleaning, diagnostics.

A published arm is an :class:`ArmCurve`: digitised (time, survival) points, as exported by
WebPlotDigitizer and similar tools, plus the numbers-at-risk table printed under the plot and,
if reported, the total number of events. :func:`clean_arm` turns the clicks into a curve the
Guyot algorithm (:mod:`alsstats.km_guyot`) can use and records every change it makes;
:class:`GuyotReconstruction` rebuilds all arms and reports how well the rebuilt data reproduce
the inputs; :func:`simulate_publication` goes the other way, from patient data to what a paper
shows, for validation.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .km_guyot import GuyotFit, guyot

__all__ = [
    "ArmCurve",
    "GuyotReconstruction",
    "clean_arm",
    "km_estimate",
    "plot_reconstruction",
    "read_arm",
    "read_at_risk_csv",
    "read_curve_csv",
    "reconstruct_ipd",
    "simulate_publication",
]

# Okabe & Ito (2008) colour-blind-safe palette, without yellow (weak on white paper).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
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
    """A curve ready for :func:`alsstats.km_guyot.guyot`."""

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
        fell = int(np.argmax(s[: k + 1] < s[k] - tolerance))  # first click clearly below s[k]
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


def km_estimate(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate: (distinct event times, survival just after each)."""
    time, event = np.asarray(time, float), np.asarray(event, int)
    uniq, inv = np.unique(time, return_inverse=True)
    deaths = np.bincount(inv, weights=event, minlength=uniq.size)
    at_risk = time.size - np.concatenate(
        [[0], np.cumsum(np.bincount(inv, minlength=uniq.size))[:-1]]
    )
    has = deaths > 0
    return uniq[has], np.cumprod(1.0 - deaths[has] / at_risk[has])


def _step_distance(t_click, s_click, t_ev, s_ev) -> np.ndarray:
    """Vertical distance from each click to a KM step curve, its risers included."""
    right = np.concatenate([[1.0], s_ev])[np.searchsorted(t_ev, t_click, side="right")]
    left = np.concatenate([[1.0], s_ev])[np.searchsorted(t_ev, t_click, side="left")]
    return np.maximum(0.0, np.maximum(right - s_click, s_click - left))


def _median(t_ev: np.ndarray, s_ev: np.ndarray) -> float:
    below = np.flatnonzero(s_ev <= 0.5)
    return float(t_ev[below[0]]) if below.size else float("inf")


class GuyotReconstruction:
    """Rebuild patient-level data for every arm of a published Kaplan-Meier plot.

    Parameters
    ----------
    tolerance
        Largest rise in digitised survival (proportion) smoothed away as digitising noise.
    scale
        ``"auto"``, ``"proportion"`` or ``"percent"``: how survival values are given.
    time_tolerance
        How far (in time units) a click may sit from the step it belongs to; default 1% of the
        time axis. See :func:`clean_arm`.

    Attributes
    ----------
    ipd_ : pandas.DataFrame
        ``arm, time, event`` (event 1, censored 0), arms in the order given.
    cleaning_report_ : pandas.DataFrame
        Every change made to the inputs: ``arm, what, where, before, after``.
    at_risk_table_ : pandas.DataFrame
        ``arm, time, reported, rebuilt`` numbers at risk.
    hazard_ratio_ : pandas.DataFrame
        Cox (Efron ties) hazard ratio of each arm against the first, from the rebuilt data, with
        95% Wald interval and the fit's status (:func:`alsstats.engine.fit_cox`).
    summary : pandas.DataFrame
        Per arm: patients, reported and rebuilt events, survival error of the rebuilt curve
        against the clicks (max and RMS vertical distance), largest at-risk discrepancy,
        medians from the clicks and from the rebuilt data, intervals not converged.

    Examples
    --------
    >>> arm = ArmCurve([0, 5, 5, 10], [1, 1, 0.8, 0.8], [0, 10], [10, 8])
    >>> rec = GuyotReconstruction().fit({"A": arm})
    >>> rec.ipd_.event.sum(), rec.summary.loc["A", "max_abs_error"]
    (np.int64(2), np.float64(0.0))
    """

    def __init__(
        self, tolerance: float = 0.02, scale: str = "auto", time_tolerance: float | None = None
    ) -> None:
        self.tolerance = tolerance
        self.scale = scale
        self.time_tolerance = time_tolerance

    def fit(self, arms: Mapping[Any, ArmCurve]) -> GuyotReconstruction:
        """Clean and rebuild each arm; returns self."""
        if not arms:
            raise InputError("arms", "", "no arms given")
        self.clean_: dict[Any, CleanArm] = {}
        self.fits_: dict[Any, GuyotFit] = {}
        reports, ipd, table, summary = [], [], [], []
        for label, arm in arms.items():
            if not isinstance(arm, ArmCurve):
                raise InputError(
                    "arms", str(label), f"expected an ArmCurve, got {type(arm).__name__}"
                )
            clean, report = clean_arm(
                arm,
                label,
                tolerance=self.tolerance,
                time_tolerance=self.time_tolerance,
                scale=self.scale,
            )
            fit = guyot(
                clean.time, clean.survival, clean.at_risk_times, clean.at_risk, clean.total_events
            )
            self.clean_[label], self.fits_[label] = clean, fit
            reports.append(report)
            ipd.append(
                pd.DataFrame({"arm": [label] * fit.time.size, "time": fit.time, "event": fit.event})
            )
            table.append(
                pd.DataFrame(
                    {
                        "arm": label,
                        "time": clean.at_risk_times,
                        "reported": clean.at_risk,
                        "rebuilt": fit.at_risk_rebuilt,
                    }
                )
            )
            summary.append(self._arm_summary(label, clean, fit))
        self.ipd_ = pd.concat(ipd, ignore_index=True)
        self.cleaning_report_ = pd.concat(reports, ignore_index=True)
        self.at_risk_table_ = pd.concat(table, ignore_index=True)
        self.summary = pd.DataFrame(summary).set_index("arm")
        self.hazard_ratio_ = self._hazard_ratios(list(arms))
        return self

    def _hazard_ratios(self, labels: list) -> pd.DataFrame:
        """Cox (Efron) hazard ratio of each arm vs the first one, on the rebuilt data."""
        from .engine import fit_cox  # the package's Cox engine; imported late (numba start-up)

        cols = ["arm", "reference", "log_hr", "se", "hr", "lower_95", "upper_95", "status"]
        if len(labels) < 2:
            return pd.DataFrame(columns=cols)
        arm = self.ipd_["arm"]
        X = np.column_stack([(arm == lab).to_numpy(float) for lab in labels[1:]])
        res = fit_cox(self.ipd_["time"].to_numpy(float), self.ipd_["event"].to_numpy(int), X)
        coef, se = res.coef[0], res.se[0]
        rows = [
            (lab, labels[0], coef[j], se[j], np.exp(coef[j]), np.exp(coef[j] - 1.959964 * se[j]),
             np.exp(coef[j] + 1.959964 * se[j]), str(res.status[0]))
            for j, lab in enumerate(labels[1:])
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=cols)

    @staticmethod
    def _arm_summary(label, clean: CleanArm, fit: GuyotFit) -> dict:
        t_ev, s_ev = km_estimate(fit.time, fit.event)
        err = _step_distance(clean.time, clean.survival, t_ev, s_ev)
        below = np.flatnonzero(clean.survival <= 0.5)
        return {
            "arm": label,
            "patients": int(fit.time.size),
            "events_reported": clean.total_events,
            "events_rebuilt": int(fit.event.sum()),
            "max_abs_error": float(err.max()),
            "rmse": float(np.sqrt(np.mean(err**2))),
            "max_at_risk_diff": int(np.abs(fit.at_risk_rebuilt - clean.at_risk).max()),
            "median_clicks": float(clean.time[below[0]]) if below.size else float("inf"),
            "median_rebuilt": _median(t_ev, s_ev),
            "intervals_not_converged": int((~fit.converged).sum()),
        }

    def plot(self, ax=None, time_unit: str = "months"):
        """Digitised points and rebuilt Kaplan-Meier curves; see :func:`plot_reconstruction`."""
        return plot_reconstruction(self, ax=ax, time_unit=time_unit)

    def _repr_html_(self) -> str:
        return (
            self.summary.to_html()
            if hasattr(self, "summary")
            else "<p>GuyotReconstruction (not fitted)</p>"
        )


def reconstruct_ipd(
    arms: Mapping[Any, ArmCurve], *, tolerance: float = 0.02, scale: str = "auto"
) -> pd.DataFrame:
    """Patient-level data (``arm, time, event``) rebuilt from published curves, arm labels as given.

    The entry point for callers that only need the rebuilt data; use
    :class:`GuyotReconstruction` for the cleaning report and diagnostics.
    """
    return GuyotReconstruction(tolerance=tolerance, scale=scale).fit(arms).ipd_


def simulate_publication(
    df: pd.DataFrame,
    time_col: str,
    event_col: str,
    arm_col: str,
    at_risk_times: Sequence[float],
    decimals: int = 3,
    *,
    total_events: bool = True,
) -> dict[Any, ArmCurve]:
    """What a paper shows of patient data: per arm, the KM curve's corners and an at-risk table.

    Each step of the Kaplan-Meier estimate gives two points (both corners) with survival rounded
    to ``decimals``; the curve starts at (0, 1) and ends at the last follow-up time. Numbers at
    risk are counted at ``at_risk_times`` (those with time >= t). With ``total_events`` the arm's
    number of events is included.
    """
    for col in (time_col, event_col, arm_col):
        if col not in df.columns:
            raise InputError("df", col, "no such column")
    ta = np.asarray(at_risk_times, dtype=float)
    if ta.size == 0 or ta[0] != 0 or np.any(np.diff(ta) <= 0):
        raise InputError("at_risk_times", "", "must start at 0 and increase")
    out: dict[Any, ArmCurve] = {}
    for label in pd.unique(df[arm_col]):
        sub = df.loc[df[arm_col] == label]
        time = sub[time_col].to_numpy(float)
        event = sub[event_col].to_numpy(int)
        t_ev, s_ev = km_estimate(time, event)
        s_prev = np.concatenate([[1.0], s_ev[:-1]])
        pts_t = np.concatenate([[0.0], np.repeat(t_ev, 2), [time.max()]])
        pts_s = np.concatenate(
            [[1.0], np.column_stack([s_prev, s_ev]).ravel(), [s_ev[-1] if s_ev.size else 1.0]]
        )
        n_risk = (time[None, :] >= ta[:, None]).sum(axis=1)
        out[label] = ArmCurve(
            pts_t,
            np.round(pts_s, decimals),
            ta,
            n_risk,
            int(event.sum()) if total_events else None,
            source=f"simulated publication of arm {label}",
        )
    return out


def plot_reconstruction(rec: GuyotReconstruction, ax=None, time_unit: str = "months"):
    """Overlay the digitised points (markers) and the rebuilt Kaplan-Meier curves (steps).

    Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for i, (label, clean) in enumerate(rec.clean_.items()):
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        fit = rec.fits_[label]
        t_ev, s_ev = km_estimate(fit.time, fit.event)
        xs = np.concatenate([[0.0], t_ev, [fit.time.max()]])
        ys = np.concatenate([[1.0], s_ev, [s_ev[-1] if s_ev.size else 1.0]])
        ax.step(
            xs,
            ys,
            where="post",
            color=colour,
            lw=1.5,
            ls=("-", "--", ":", "-.")[i % 4],
            label=f"{label}: rebuilt",
        )
        ax.plot(
            clean.time,
            clean.survival,
            "o",
            mfc="none",
            ms=3.5,
            color=colour,
            alpha=0.8,
            label=f"{label}: digitised",
        )
    ax.set_xlabel(f"Time ({time_unit})")
    ax.set_ylabel("Survival probability (proportion)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(frameon=False, fontsize="small")
    return ax
