"""How long a rebuilt cohort is followed, and when its survivors are censored.

A rebuild needs a follow-up horizon: deaths fall before it, survivors are censored by it.
:func:`follow_up_horizon` takes it from the summary, first found wins:

1. ``follow_up.landmark``: every survivor is censored at the landmark (MIROCALS; unchanged);
2. ``follow_up.maximum_follow_up``: survivors are censored by staggered entry, at times spread
   evenly between ``earliest`` (default: half the maximum, i.e. entry spread over the first
   half of the study) and the maximum; patients ``lost_to_follow_up`` are censored earlier,
   spread evenly over the first ``earliest`` of follow-up;
3. an assumption ``censoring`` (its value a mapping): ``maximum`` (with ``unit``, default the
   trial's), or a median follow-up ``median`` (with ``unit``) / ``median_days`` /
   ``median_months``: administrative censoring spread evenly over [m / 2, 3 m / 2] (median
   m); ``earliest`` (same unit) overrides the low end; ``lost`` the number lost to follow-up;
4. else :class:`NoFollowUpLength` ("not enough figures: no follow-up length; give a
   censoring assumption").

Figures carry their own ``unit`` (converted to the trial's by the summary loader; an
assumption's unit is converted here). The reconstruction, the count proofs and the calibration
read the horizon from here, so that another trial shape (e.g. categorical subgroups) gets the
same rule by calling :func:`follow_up_horizon`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ReconstructionError
from ..summary import convert_time

__all__ = ["FollowUpHorizon", "NoFollowUpLength", "follow_up_horizon"]

NO_FOLLOW_UP = "not enough figures: no follow-up length; give a censoring assumption"


class NoFollowUpLength(ReconstructionError):
    """The summary gives no landmark, no maximum follow-up and no censoring assumption."""


@dataclass(frozen=True)
class FollowUpHorizon:
    """The end of a rebuilt cohort's follow-up and how survivors are censored before it.

    Attributes
    ----------
    end : float
        The horizon in the trial's time unit: every death is before it, no one is followed
        longer.
    source : str
        Where it comes from: "landmark", "maximum_follow_up" or "censoring assumption".
    earliest : float
        Earliest administrative censoring time (``end`` for a landmark: everyone alive is
        censored at the end).
    lost : int
        Patients lost to follow-up, censored before ``earliest``.
    """

    end: float
    source: str
    earliest: float
    lost: int = 0

    @property
    def staggered(self) -> bool:
        """Whether survivors are censored at different times (not all at a landmark)."""
        return self.source != "landmark"

    def censoring_times(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Censoring times (trial unit) of ``n`` survivors in a random order: the ``lost``
        (at most ``n``) spread evenly over (0, earliest), the rest evenly over
        [earliest, end] (the last exactly at ``end``, the maximum follow-up)."""
        if not self.staggered:
            return np.full(n, self.end)
        lost = min(self.lost, n)
        k = n - lost
        early = self.earliest * (np.arange(1, lost + 1) / (lost + 1))
        admin = np.linspace(self.earliest, self.end, k) if k > 1 else np.full(k, self.end)
        return rng.permutation(np.r_[early, admin])

    def describe(self) -> dict[str, Any]:
        """The horizon as provenance records it."""
        return {
            "source": self.source,
            "end": round(self.end, 6),
            "earliest_censoring": round(self.earliest, 6),
            "lost_to_follow_up": self.lost,
        }


def _count(fig: Any) -> int:
    value = getattr(fig, "value", fig)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _time(value: Any, unit: Any, trial_unit: str | None, field: str) -> float:
    """A time of the ``censoring`` assumption in the trial's unit."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ReconstructionError(
            f"assumption censoring.{field}: {value!r} is not a time"
        ) from None
    if not math.isfinite(x) or x <= 0:
        raise ReconstructionError(f"assumption censoring.{field}: {value!r} must be > 0")
    if unit is None or trial_unit is None:
        return x
    canonical = str(unit).strip().lower()
    canonical = canonical if canonical.endswith("s") else canonical + "s"
    if canonical not in ("days", "weeks", "months", "years"):
        raise ReconstructionError(f"assumption censoring.unit: unknown time unit {unit!r}")
    return convert_time(x, canonical, str(trial_unit))


def _from_assumption(spec: Mapping[str, Any], trial_unit: str | None, lost: int) -> FollowUpHorizon:
    unit = spec.get("unit")
    if "maximum" in spec:
        end = _time(spec["maximum"], unit, trial_unit, "maximum")
        earliest = 0.5 * end
    else:
        median = None
        for key, u in (("median", unit), ("median_days", "days"), ("median_months", "months")):
            if key in spec:
                median = _time(spec[key], u, trial_unit, key)
                break
        if median is None:
            raise ReconstructionError(
                "assumption censoring: give maximum or median (median_days, median_months)"
            )
        end, earliest = 1.5 * median, 0.5 * median
    if "earliest" in spec:
        earliest = _time(spec["earliest"], unit, trial_unit, "earliest")
        if earliest > end:
            raise ReconstructionError("assumption censoring.earliest: after the end of follow-up")
    lost = _count(spec.get("lost", lost))
    return FollowUpHorizon(end, "censoring assumption", earliest, lost)


def follow_up_horizon(summary: Any, values: Mapping[str, Any] | None = None) -> FollowUpHorizon:
    """The follow-up horizon of a rebuild (see the module notes for the order of sources).

    Parameters
    ----------
    summary
        A :class:`~alsstats.summary.ReportedSummary`.
    values
        Resolved assumption values (the ``censoring`` assumption, if any); default: the
        summary's own assumptions.

    Raises
    ------
    NoFollowUpLength
        When no figure and no assumption gives a follow-up length.
    """
    follow = getattr(summary, "follow_up", None) or {}
    if values is None:
        values = {a.id: a.value for a in getattr(summary, "assumptions", ()) or ()}
    lost = _count(follow.get("lost_to_follow_up", 0))
    landmark = follow.get("landmark")
    if landmark is not None:
        end = float(landmark.value)
        return FollowUpHorizon(end, "landmark", end, lost)
    horizon = _staggered(summary, follow, values, lost)
    # a printed count "x of n alive at t" over its whole group says nobody was censored
    # before t: administrative censoring starts no earlier than the latest such t
    known = _status_known_until(summary)
    if known > horizon.earliest:
        horizon = dataclasses.replace(horizon, earliest=min(known, horizon.end))
    return horizon


def _staggered(
    summary: Any, follow: Mapping[str, Any], values: Mapping[str, Any], lost: int
) -> FollowUpHorizon:
    """The horizon when no landmark is printed: maximum follow-up or an assumption."""
    spec = values.get("censoring")
    if isinstance(spec, Mapping) and "earliest" in spec and "maximum_follow_up" in follow:
        # a maximum printed, the entry spread assumed
        end = float(follow["maximum_follow_up"].value)
        unit = getattr(summary, "time_unit", None)
        earliest = _time(spec["earliest"], spec.get("unit"), unit, "earliest")
        return FollowUpHorizon(end, "maximum_follow_up", min(earliest, end), lost)
    maximum = follow.get("maximum_follow_up")
    if maximum is not None:
        end = float(maximum.value)
        return FollowUpHorizon(end, "maximum_follow_up", 0.5 * end, lost)
    if isinstance(spec, Mapping):
        return _from_assumption(spec, getattr(summary, "time_unit", None), lost)
    raise NoFollowUpLength(NO_FOLLOW_UP)


def _status_known_until(summary: Any) -> float:
    """The latest time of a printed survival count whose denominator is its whole group (the
    arm, or a subgroup's printed size): everyone's status is known until then (0 if none)."""
    n_arm = {a.id: int(a.n.value) for a in summary.arms}
    times = [
        float(sv.time)
        for sv in getattr(summary, "survival", ()) or ()
        if getattr(sv, "count", None) is not None
        and getattr(sv, "status", "reported") not in ("superseded", "conflicting")
        and (
            getattr(sv, "n", None) is None
            or getattr(getattr(sv, "population", None), "kind", "all") != "all"
            or int(sv.n) == n_arm.get(sv.arm, sum(n_arm.values()))
        )
    ]
    return max(times, default=0.0)


def choose_deaths(summary: Any, targets: list[Any], values: Mapping[str, Any]) -> tuple[int, int]:
    """Deaths per arm (treatment, control) for a summary that prints none.

    Each arm's printed median fixes the scale of its Weibull hazard (shape from the
    ``baseline_hazard`` assumption, 1 by default); an arm without a median takes the other's
    through the overall HR (S_t = S_c ** HR). Expected deaths are the arm's patients' risks by
    their censoring times (:meth:`FollowUpHorizon.censoring_times`); when the overall HR has a
    CI, both are scaled by one factor so that sqrt(1/d_t + 1/d_c) equals the CI's SE. A start:
    the search may change them (deaths per arm are free when no count fixes them).

    Raises
    ------
    ReconstructionError
        "not enough figures" when no arm prints a median.
    """
    horizon = follow_up_horizon(summary, values)
    trt, ctl = summary.treatment_arm.id, summary.control_arm.id
    n = {a.id: int(a.n.value) for a in summary.arms}
    base = values.get("baseline_hazard") or {}
    shape = float(base.get("shape", 1.0)) if isinstance(base, Mapping) else 1.0
    medians = {t.arm: t.value for t in targets if t.statistic == "median"}
    overall = [
        t
        for t in targets
        if t.model == "treatment"
        and t.population.get("lower") is None
        and t.population.get("upper") is None
        and not t.population.get("adjust")
    ]
    hr = next((t.value for t in overall if t.statistic == "hr"), None)
    if not medians:
        raise ReconstructionError(
            "not enough figures: deaths per arm not printed and no median to choose them from"
        )
    # cumulative hazard per arm at time t: log 2 * (t / median) ** shape
    rate = {a: math.log(2.0) / medians[a] ** shape for a in medians}
    if len(rate) == 1:
        (_, r), other = next(iter(rate.items())), ctl if trt in rate else trt
        ratio = hr if hr is not None else 1.0
        rate[other] = r / ratio if other == ctl else r * ratio
    expected = {}
    for a in (trt, ctl):
        c = horizon.censoring_times(n[a], np.random.default_rng(0))
        expected[a] = float(np.sum(1.0 - np.exp(-rate[a] * c**shape)))
    e_t, e_c = max(expected[trt], 1.0), max(expected[ctl], 1.0)
    lo = next((t for t in overall if t.statistic == "hr_ci_lower"), None)
    hi = next((t for t in overall if t.statistic == "hr_ci_upper"), None)
    if lo is not None and hi is not None:
        z = 1.959963984540054 if lo.level in (None, 0.95) else _z(lo.level)
        se = (math.log(hi.value) - math.log(lo.value)) / (2 * z)
        k = (1 / e_t + 1 / e_c) / se**2
        e_t, e_c = k * e_t, k * e_c
    # a median reached needs half the arm dead by then, less the patients censored before it
    for a in medians:
        c = horizon.censoring_times(n[a], np.random.default_rng(0))
        floor = math.ceil(0.5 * np.sum(c >= medians[a]))
        if a == trt:
            e_t = max(e_t, floor)
        else:
            e_c = max(e_c, floor)
    return (
        int(np.clip(round(e_t), 1, n[trt])),
        int(np.clip(round(e_c), 1, n[ctl])),
    )


def _z(level: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf((1 + level) / 2))
