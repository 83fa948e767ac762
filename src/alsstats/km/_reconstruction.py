"""Patient-level data rebuilt from published Kaplan-Meier curves: input, cleaning, diagnostics.

A published arm is an :class:`ArmCurve`: digitised (time, survival) points, as exported by
WebPlotDigitizer and similar tools, plus the numbers-at-risk table printed under the plot and,
if reported, the total number of events. :func:`clean_arm` turns the clicks into a curve the
Guyot algorithm (:func:`~alsstats.km.guyot`) can use and records every change it makes;
:class:`GuyotReconstruction` rebuilds all arms and reports how well the rebuilt data reproduce
the inputs; :func:`simulate_publication` goes the other way, from patient data to what a paper
shows, for validation.
Reading and cleaning the inputs (:class:`ArmCurve`, :func:`read_arm`, :func:`clean_arm`) live in
the subpackage's ``_input`` module.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EventTotalNotMetWarning, InputError
from ..palette import SERIES
from ..survival import km_estimate
from ._guyot import GuyotFit, guyot
from ._input import ArmCurve, CleanArm, clean_arm

__all__ = [
    "GuyotReconstruction",
    "plot_reconstruction",
    "reconstruct_ipd",
    "simulate_publication",
]


def _step_distance(t_click, s_click, t_ev, s_ev, dt: float = 0.0) -> np.ndarray:
    """Vertical distance from each click to a KM step curve, its risers included.

    With ``dt`` > 0 the curve may be read anywhere within ``dt`` of the click's time: a click
    is only as exact in time as the digitiser's hand, and a step it shows at 4.98 is rebuilt at
    5 when the at-risk table counts its deaths at risk at 5.
    """
    right = np.concatenate([[1.0], s_ev])[np.searchsorted(t_ev, t_click + dt, side="right")]
    left = np.concatenate([[1.0], s_ev])[np.searchsorted(t_ev, t_click - dt, side="left")]
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
        time axis. See :func:`clean_arm`; also the time window of the accuracy figure
        ``max_abs_error``.

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
        95% Wald interval and the fit's status (:func:`alsstats.survival.fit_cox`).
    events_given_, events_rebuilt_ : pandas.Series
        Per arm: the reported total number of events (``<NA>`` when not given) and the rebuilt
        one.
    events_met_ : pandas.Series
        Per arm: whether the rebuilt events equal the reported total (``<NA>`` when not given).
        A total is met whenever the numbers at risk allow it; when one is missed an
        :class:`~alsstats.errors.EventTotalNotMetWarning` is issued.
    max_abs_error_ : pandas.Series
        Per arm: largest vertical distance between a click and the rebuilt Kaplan-Meier curve
        (its risers included), as a proportion, the curve read within ``time_tolerance`` of the
        click's time (digitising precision in time).
    summary_ (also ``summary``) : pandas.DataFrame
        Per arm: patients, given and rebuilt events and whether they agree, the most events the
        numbers at risk allow, survival error of the rebuilt curve against the clicks (max and
        RMS vertical distance within ``time_tolerance``, and max at the click's exact time),
        largest at-risk discrepancy, medians from the clicks and from the rebuilt data,
        intervals whose number at risk was not met.

    Examples
    --------
    >>> arm = ArmCurve([0, 5, 5, 10], [1, 1, 0.8, 0.8], [0, 10], [10, 8])
    >>> rec = GuyotReconstruction().fit({"A": arm})
    >>> rec.ipd_.event.sum(), rec.summary.loc["A", "max_abs_error"]
    (np.int64(2), np.float64(0.0))
    >>> rec  # doctest: +NORMALIZE_WHITESPACE
    GuyotReconstruction: 1 arm, 10 patients
      arm  patients  events rebuilt/given  max |S - clicks|  at risk met
        A        10                  2/-             0.0000          yes
    """

    def __init__(
        self, tolerance: float = 0.02, scale: str = "auto", time_tolerance: float | None = None
    ) -> None:
        self.tolerance = tolerance
        self.scale = scale
        self.time_tolerance = time_tolerance

    def fit(self, arms: Mapping[Any, ArmCurve]) -> GuyotReconstruction:
        """Clean and rebuild each arm; returns self.

        Warns
        -----
        EventTotalNotMetWarning
            An arm's reported total number of events cannot be met (see ``events_met_``).
        """
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
            dt = self.time_tolerance
            if dt is None:
                dt = 0.01 * float(clean.time.max())
            summary.append(self._arm_summary(label, clean, fit, dt))
        self.ipd_ = pd.concat(ipd, ignore_index=True)
        self.cleaning_report_ = pd.concat(reports, ignore_index=True)
        self.at_risk_table_ = pd.concat(table, ignore_index=True)
        self.summary_ = pd.DataFrame(summary).set_index("arm")
        self.events_given_ = self.summary_["events_reported"].astype("Int64")
        self.events_rebuilt_ = self.summary_["events_rebuilt"]
        self.events_met_ = self.summary_["events_met"].astype("boolean")
        self.max_abs_error_ = self.summary_["max_abs_error"]
        for label, fit in self.fits_.items():
            if fit.events_met is False:
                warnings.warn(
                    f"arm {label}: {int(fit.event.sum())} events rebuilt, {fit.events_given} "
                    f"reported; the numbers at risk allow at most {fit.events_max} where the "
                    "curve falls",
                    EventTotalNotMetWarning,
                    stacklevel=2,
                )
        self.hazard_ratio_ = self._hazard_ratios(list(arms))
        return self

    def _hazard_ratios(self, labels: list) -> pd.DataFrame:
        """Cox (Efron) hazard ratio of each arm vs the first one, on the rebuilt data."""
        from ..survival import fit_cox

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
    def _arm_summary(label, clean: CleanArm, fit: GuyotFit, dt: float) -> dict:
        t_ev, s_ev = km_estimate(fit.time, fit.event)
        err = _step_distance(clean.time, clean.survival, t_ev, s_ev, dt)
        strict = _step_distance(clean.time, clean.survival, t_ev, s_ev)
        below = np.flatnonzero(clean.survival <= 0.5)
        return {
            "arm": label,
            "patients": int(fit.time.size),
            "events_reported": clean.total_events,
            "events_rebuilt": int(fit.event.sum()),
            "events_met": pd.NA if fit.events_met is None else fit.events_met,
            "events_max": fit.events_max,
            "max_abs_error": float(err.max()),
            "rmse": float(np.sqrt(np.mean(err**2))),
            "max_abs_error_at_click_time": float(strict.max()),
            "max_at_risk_diff": int(np.abs(fit.at_risk_rebuilt - clean.at_risk).max()),
            "median_clicks": float(clean.time[below[0]]) if below.size else float("inf"),
            "median_rebuilt": _median(t_ev, s_ev),
            "intervals_not_converged": int((~fit.converged).sum()),
        }

    @property
    def summary(self) -> pd.DataFrame:
        """Per-arm diagnostics (``summary_``, set by :meth:`fit`), as lifelines' ``summary``."""
        return self.summary_

    def plot(self, ax=None, time_unit: str = "months"):
        """Digitised points and rebuilt Kaplan-Meier curves; see :func:`plot_reconstruction`."""
        return plot_reconstruction(self, ax=ax, time_unit=time_unit)

    def _accuracy_table(self) -> pd.DataFrame:
        """The accuracy statement, one row per arm, as printed by ``repr`` and the CLI."""
        s = self.summary

        def events(label) -> str:
            given = s.loc[label, "events_reported"]
            rebuilt = int(s.loc[label, "events_rebuilt"])
            if given is None or pd.isna(given):
                return f"{rebuilt}/-"
            return f"{rebuilt}/{int(given)}" + ("" if rebuilt == int(given) else " MISSED")

        return pd.DataFrame(
            {
                "arm": [str(label) for label in s.index],
                "patients": s["patients"].to_numpy(),
                "events rebuilt/given": [events(label) for label in s.index],
                "max |S - clicks|": [f"{v:.4f}" for v in s["max_abs_error"]],
                "at risk met": [
                    "yes" if v == 0 else f"no ({v} intervals)" for v in s["intervals_not_converged"]
                ],
            }
        )

    def __repr__(self) -> str:
        if not hasattr(self, "summary_"):
            return "GuyotReconstruction (not fitted)"
        n_arms = len(self.summary)
        head = (
            f"GuyotReconstruction: {n_arms} arm{'s' if n_arms != 1 else ''}, "
            f"{len(self.ipd_)} patients"
        )
        table = self._accuracy_table().to_string(index=False)
        return head + "\n" + "\n".join("  " + line for line in table.splitlines())

    def _repr_html_(self) -> str:
        if not hasattr(self, "summary_"):
            return "<p>GuyotReconstruction (not fitted)</p>"
        n_arms = len(self.summary)
        head = html.escape(
            f"GuyotReconstruction: {n_arms} arm{'s' if n_arms != 1 else ''}, "
            f"{len(self.ipd_)} patients"
        )
        return (
            f"<p><b>{head}</b></p>"
            + self._accuracy_table().to_html(index=False)
            + "<p>Diagnostics per arm</p>"
            + self.summary.to_html()
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
    duration_col: str,
    event_col: str,
    group_col: str,
    at_risk_times: Sequence[float],
    decimals: int = 3,
    *,
    total_events: bool = True,
    time_sd: float = 0.0,
    survival_sd: float = 0.0,
    seed: int = 0,
) -> dict[Any, ArmCurve]:
    """What a paper shows of patient data: per arm, the KM curve's corners and an at-risk table.

    Each step of the Kaplan-Meier estimate gives two points (both corners, as a careful digitiser
    clicks them) with survival rounded to ``decimals``; the curve starts at (0, 1) and ends at
    the last follow-up time. Numbers at risk are counted at ``at_risk_times`` (those with
    time >= t). With ``total_events`` the arm's number of events is included.

    ``time_sd`` (time units) and ``survival_sd`` (proportion) add Gaussian click noise, as a
    hand digitiser makes (seeded by ``seed``; times kept >= 0, survival in [0, 1]); the
    corners at time 0 and the at-risk table are exact.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [1.0, 2, 2, 3], "e": [1, 1, 0, 1], "arm": "A"})
    >>> arm = simulate_publication(df, "t", "e", "arm", [0, 2])["A"]
    >>> arm.time.tolist()
    [0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 3.0]
    >>> arm.survival.tolist(), arm.at_risk.tolist(), arm.total_events
    ([1.0, 1.0, 0.75, 0.75, 0.5, 0.5, 0.0, 0.0], [4.0, 3.0], 3)
    """
    if time_sd < 0 or survival_sd < 0:
        raise InputError("simulate_publication", "time_sd/survival_sd", "must be >= 0")
    rng = np.random.default_rng(seed)
    for col in (duration_col, event_col, group_col):
        if col not in df.columns:
            raise InputError("df", col, "no such column")
    ta = np.asarray(at_risk_times, dtype=float)
    if ta.size == 0 or ta[0] != 0 or np.any(np.diff(ta) <= 0):
        raise InputError("at_risk_times", "", "must start at 0 and increase")
    out: dict[Any, ArmCurve] = {}
    for label in pd.unique(df[group_col]):
        sub = df.loc[df[group_col] == label]
        time = sub[duration_col].to_numpy(float)
        event = sub[event_col].to_numpy(int)
        t_ev, s_ev = km_estimate(time, event)
        s_prev = np.concatenate([[1.0], s_ev[:-1]])[: s_ev.size]  # no events: no steps
        pts_t = np.concatenate([[0.0], np.repeat(t_ev, 2), [time.max()]])
        pts_s = np.concatenate(
            [[1.0], np.column_stack([s_prev, s_ev]).ravel(), [s_ev[-1] if s_ev.size else 1.0]]
        )
        n_risk = (time[None, :] >= ta[:, None]).sum(axis=1)
        if time_sd > 0:
            pts_t[1:] = np.maximum(pts_t[1:] + rng.normal(0.0, time_sd, pts_t.size - 1), 0.0)
        if survival_sd > 0:
            noise = rng.normal(0.0, survival_sd, pts_s.size - 1)
            pts_s[1:] = np.clip(pts_s[1:] + noise, 0.0, 1.0)
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
        colour = SERIES[i % len(SERIES)]
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
