"""The object model of a reported summary: one frozen dataclass per kind of reported figure.

Each published number (:class:`Figure`, :class:`EventCount`, :class:`SurvivalLandmark`,
:class:`EventShare`, :class:`HazardRatio`, :class:`Biomarker`, :class:`CovariateSummary`, ...)
carries its provenance: the source key, where in that source, the arithmetic of a derived figure
and a status (one of :data:`STATUSES`). :class:`~alsstats.summary.ReportedSummary` holds them
all; :func:`~alsstats.summary.load_reported_summary` builds them from a validated file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ALL_ARMS",
    "ARM_ROLES",
    "POPULATION_KINDS",
    "STATUSES",
    "Arm",
    "Assumption",
    "Biomarker",
    "CovariateSummary",
    "DigitisedCurve",
    "EligibilityRange",
    "EventCount",
    "EventShare",
    "Figure",
    "HazardRatio",
    "Population",
    "Source",
    "Statement",
    "SurvivalLandmark",
]

STATUSES = ("reported", "derived", "conflicting", "superseded")
POPULATION_KINDS = ("all", "biomarker_range", "model_term")
ARM_ROLES = ("treatment", "control")
ALL_ARMS = "all"  # reserved arm id: the whole randomised population


# --------------------------------------------------------------------------- object model
@dataclass(frozen=True)
class Source:
    """A publication or document that figures are taken from."""

    key: str
    citation: str
    doi: str | None = None
    pmid: str | None = None
    url: str | None = None
    file: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Figure:
    """A single reported number with its provenance."""

    value: float
    source: str
    unit: str | None = None
    locator: str | None = None
    derived: str | None = None
    note: str | None = None
    status: str = "reported"


@dataclass(frozen=True)
class Arm:
    """A randomised arm: ``role`` is "treatment" or "control", ``n`` the number randomised."""

    id: str
    label: str
    role: str
    n: Figure


@dataclass(frozen=True)
class EventCount:
    """Number of events (deaths, by default the trial's endpoint) in one arm or in ``"all"``."""

    id: str
    arm: str
    value: int
    source: str
    event: str | None = None
    locator: str | None = None
    derived: str | None = None
    note: str | None = None
    status: str = "reported"


@dataclass(frozen=True)
class SurvivalLandmark:
    """Share (``proportion``) and/or number (``count``) alive at ``time`` in one arm or all."""

    id: str
    arm: str
    time: float
    source: str
    proportion: float | None = None
    count: int | None = None
    locator: str | None = None
    derived: str | None = None
    note: str | None = None
    status: str = "reported"


@dataclass(frozen=True)
class EventShare:
    """How ``total`` events split between the arms: ``shares`` maps arm id to a proportion."""

    id: str
    event: str
    shares: dict[str, float]
    source: str
    total: int | None = None
    locator: str | None = None
    derived: str | None = None
    note: str | None = None
    status: str = "reported"


@dataclass(frozen=True)
class Population:
    """Who a hazard ratio describes.

    ``kind`` is "all" (everyone randomised), "biomarker_range" (patients with ``lower`` <
    biomarker <= ``upper``, a ``share`` of the trial; ``None`` bounds are open or unstated) or
    "model_term" (the coefficient ``term`` of a model, e.g. the treatment HR where ``modifier``
    equals ``at`` in a treatment x modifier interaction model).
    """

    kind: str
    biomarker: str | None = None
    lower: float | None = None
    upper: float | None = None
    share: float | None = None
    term: str | None = None
    modifier: str | None = None
    at: float | None = None


@dataclass(frozen=True)
class HazardRatio:
    """A reported hazard ratio (treatment vs control), with optional CI and p-value."""

    id: str
    comparison: dict[str, str]
    value: float
    source: str
    ci: tuple[float, float] | None = None
    level: float = 0.95
    p: float | None = None
    population: Population = field(default_factory=lambda: Population("all"))
    model: dict[str, Any] = field(default_factory=dict)
    locator: str | None = None
    derived: str | None = None
    status: str = "reported"
    note: str | None = None


@dataclass(frozen=True)
class Biomarker:
    """A biomarker (or a share defined on one); ``value`` is set when a number was reported."""

    id: str
    source: str
    label: str | None = None
    unit: str | None = None
    measured: str | None = None
    value: float | None = None
    locator: str | None = None
    derived: str | None = None
    note: str | None = None
    status: str = "reported"


@dataclass(frozen=True)
class CovariateSummary:
    """A baseline summary: e.g. median age 60 years, or proportion male 0.62."""

    name: str
    statistic: str
    value: float
    source: str
    unit: str | None = None
    arm: str = ALL_ARMS
    locator: str | None = None
    derived: str | None = None
    note: str | None = None
    status: str = "reported"


@dataclass(frozen=True)
class EligibilityRange:
    """An inclusion criterion as a range: ``lower`` <= value <= ``upper`` (either may be None)."""

    source: str
    lower: float | None = None
    upper: float | None = None
    unit: str | None = None
    locator: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Statement:
    """A reported claim without a single number (e.g. the list of independent predictors)."""

    id: str
    text: str
    source: str
    locator: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class DigitisedCurve:
    """One arm's published Kaplan-Meier curve: digitised points and the numbers-at-risk table.

    ``curve`` and ``at_risk`` are CSV paths as written in the summary file, relative to it (see
    :meth:`ReportedSummary.digitised_arms`); ``total_events`` is the arm's reported event count.
    """

    arm: str
    curve: str
    at_risk: str
    source: str
    total_events: int | None = None
    locator: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Assumption:
    """A choice the publications leave open: default ``value``, ``reason``, ``alternatives``."""

    id: str
    value: Any
    reason: str
    alternatives: tuple[Any, ...] = ()
    note: str | None = None
