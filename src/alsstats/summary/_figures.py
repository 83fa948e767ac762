"""The object model of a reported summary: one frozen dataclass per kind of reported figure.

Each published number (:class:`Figure`, :class:`EventCount`, :class:`SurvivalLandmark`,
:class:`EventShare`, :class:`HazardRatio`, :class:`Biomarker`, :class:`CovariateSummary`, ...)
carries its provenance: the source key, where in that source, the arithmetic of a derived figure
and a status (one of :data:`STATUSES`). :class:`~alsstats.summary.ReportedSummary` holds them
all; :func:`~alsstats.summary.load_reported_summary` builds them from a validated file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._precision import Printed, parse_printed

__all__ = [
    "ALL_ARMS",
    "ARM_ROLES",
    "FIGURE_ROLES",
    "POPULATION_KINDS",
    "STATUSES",
    "SURVIVAL_CI_METHODS",
    "TESTS",
    "Arm",
    "ArmComparison",
    "Assumption",
    "Biomarker",
    "CovariateSummary",
    "DigitisedCurve",
    "EligibilityRange",
    "EventCount",
    "EventShare",
    "Figure",
    "HazardRatio",
    "Interaction",
    "Median",
    "Modifier",
    "Population",
    "Source",
    "Statement",
    "SurvivalLandmark",
]

STATUSES = ("reported", "derived", "conflicting", "superseded")
POPULATION_KINDS = ("all", "biomarker_range", "model_term", "subgroup")
FIGURE_ROLES = ("primary", "secondary", "registry", "press")
# the tests a p value can come from (format version 2, ``test:``)
TESTS = (
    "wald", "likelihood_ratio", "score", "log_rank", "stratified_log_rank", "wilcoxon",
    "joint_rank", "permutation", "fisher", "chi_square", "unknown",
)  # fmt: skip
# how a survival proportion's CI was computed (format version 2, ``ci_method:``): log-log
# (Kalbfleisch-Prentice; lifelines', Stata's default), log (R survfit's default), plain
# (Greenwood, linear)
SURVIVAL_CI_METHODS = ("log_log", "log", "plain")


class _HasPrinted:
    """Figures that keep the printed form of their numbers in ``printed`` (field -> Printed).

    Field names are the YAML ones: ``value``, ``ci[0]``, ``ci[1]``, ``p``, ``proportion``,
    ``population.share``, ``shares.ARM``. A figure built in code without ``printed`` gets the
    version-1 reading of its float (at least 2 decimals).
    """

    printed: Mapping[str, Printed]

    def printed_form(self, name: str) -> Printed:
        """The printed form of one numeric field (see :func:`alsstats.summary.parse_printed`)."""
        if name in self.printed:
            return self.printed[name]
        obj: Any = self
        for part in re.split(r"\.|\[", name):
            if part.endswith("]"):
                obj = obj[int(part[:-1])]
            elif isinstance(obj, Mapping):
                obj = obj[part]
            else:
                obj = getattr(obj, part)
        if obj is None:
            raise KeyError(name)
        return parse_printed(obj)

    def interval(self, name: str) -> tuple[float, float]:
        """The values that the field's printed figure stands for."""
        return self.printed_form(name).interval


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
    registry: str | None = None
    url: str | None = None
    file: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Figure(_HasPrinted):
    """A single reported number with its provenance (``printed``: its printed form)."""

    value: float
    source: str
    unit: str | None = None
    locator: str | None = None
    derived: str | None = None
    note: str | None = None
    status: str = "reported"
    figure_role: str | None = None
    printed: Mapping[str, Printed] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Arm:
    """A randomised arm: ``role`` is "treatment" or "control", ``n`` the number randomised."""

    id: str
    label: str
    role: str
    n: Figure


@dataclass(frozen=True)
class EventCount:
    """Number of events (deaths, by default the trial's endpoint) in one arm or in ``"all"``;
    ``population`` a subgroup (format version 2: the events of one category of an arm)."""

    id: str
    arm: str
    value: int
    source: str
    event: str | None = None
    locator: str | None = None
    derived: str | None = None
    note: str | None = None
    status: str = "reported"
    figure_role: str | None = None
    population: Population = field(default_factory=lambda: Population("all"))


@dataclass(frozen=True)
class Population:
    """Who a figure describes.

    ``kind`` is "all" (everyone randomised), "biomarker_range" (patients with ``lower`` <
    biomarker <= ``upper``, a ``share`` of the trial; ``None`` bounds are open or unstated),
    "subgroup" (the patients whose categorical ``modifier`` is ``category``) or "model_term"
    (the coefficient ``term`` of a model, e.g. the treatment HR where ``modifier`` equals ``at``
    in a treatment x modifier interaction model; a term such as ``treatment:nfl`` is a ratio of
    hazard ratios per modifier unit).
    """

    kind: str
    biomarker: str | None = None
    lower: float | None = None
    upper: float | None = None
    share: float | None = None
    term: str | None = None
    modifier: str | None = None
    at: float | None = None
    category: str | None = None

    @property
    def is_interaction_term(self) -> bool:
        """A model term that is a treatment x modifier interaction (a ratio of HRs)."""
        return self.kind == "model_term" and self.term is not None and ":" in self.term


@dataclass(frozen=True)
class SurvivalLandmark(_HasPrinted):
    """Share (``proportion``) and/or number (``count``) alive at ``time`` in one arm or all.

    ``time`` is in the trial's time unit (converted at load; ``unit`` is the unit it was
    written in). ``n`` is the denominator when printed (6/17); ``ci`` a confidence interval of
    the proportion at ``level``, computed by ``ci_method`` (one of
    :data:`SURVIVAL_CI_METHODS`; None when the source does not state it).
    """

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
    ci: tuple[float, float] | None = None
    level: float = 0.95
    n: int | None = None
    unit: str | None = None
    population: Population = field(default_factory=lambda: Population("all"))
    figure_role: str | None = None
    printed: Mapping[str, Printed] = field(default_factory=dict, compare=False, repr=False)
    ci_method: str | None = None


@dataclass(frozen=True)
class EventShare(_HasPrinted):
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
    figure_role: str | None = None
    printed: Mapping[str, Printed] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class HazardRatio(_HasPrinted):
    """A reported hazard ratio (treatment vs control), with optional CI and p-value.

    ``test`` names the test behind ``p`` (one of :data:`TESTS`; version-1 files: "wald").
    ``per`` is the modifier unit of a ratio of hazard ratios (an interaction term).
    """

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
    test: str | None = None
    per: str | None = None
    figure_role: str | None = None
    printed: Mapping[str, Printed] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Median(_HasPrinted):
    """Median time to the event in one arm (``value`` None when "not reached").

    ``value`` and ``ci`` are in the trial's time unit (converted at load; ``unit`` is the
    unit they were written in).
    """

    id: str
    arm: str
    value: float | None
    source: str
    ci: tuple[float, float] | None = None
    level: float = 0.95
    unit: str | None = None
    population: Population = field(default_factory=lambda: Population("all"))
    locator: str | None = None
    derived: str | None = None
    note: str | None = None
    status: str = "reported"
    figure_role: str | None = None
    printed: Mapping[str, Printed] = field(default_factory=dict, compare=False, repr=False)

    @property
    def reached(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class ArmComparison(_HasPrinted):
    """A p value comparing two arms without a hazard ratio (``comparisons:``)."""

    id: str
    comparison: dict[str, str]
    p: float
    test: str
    source: str
    endpoint: str | None = None
    time: float | None = None
    population: Population = field(default_factory=lambda: Population("all"))
    locator: str | None = None
    derived: str | None = None
    note: str | None = None
    status: str = "reported"
    figure_role: str | None = None
    printed: Mapping[str, Printed] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Interaction(_HasPrinted):
    """A treatment x modifier interaction: a "p for interaction" and/or a ratio of HRs."""

    id: str
    modifier: str
    comparison: dict[str, str]
    source: str
    value: float | None = None
    ci: tuple[float, float] | None = None
    level: float = 0.95
    p: float | None = None
    test: str | None = None
    per: str | None = None
    locator: str | None = None
    derived: str | None = None
    note: str | None = None
    status: str = "reported"
    figure_role: str | None = None
    printed: Mapping[str, Printed] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Biomarker(_HasPrinted):
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
    figure_role: str | None = None
    printed: Mapping[str, Printed] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Modifier(_HasPrinted):
    """A treatment-effect modifier (``modifiers:``), continuous or categorical, with its summary.

    Continuous: ``median``, ``iqr`` (q1, q3), ``range`` (min, max), ``limit_of_quantification``
    when printed. Categorical: ``categories`` and their ``shares`` of the trial.
    """

    id: str
    kind: str
    source: str
    label: str | None = None
    unit: str | None = None
    measured: str | None = None
    median: float | None = None
    iqr: tuple[float, float] | None = None
    range: tuple[float, float] | None = None
    limit_of_quantification: float | None = None
    categories: tuple[str, ...] = ()
    shares: dict[str, float] = field(default_factory=dict)
    locator: str | None = None
    derived: str | None = None
    note: str | None = None
    status: str = "reported"
    figure_role: str | None = None
    printed: Mapping[str, Printed] = field(default_factory=dict, compare=False, repr=False)


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
    figure_role: str | None = None
    printed: Mapping[str, Printed] = field(default_factory=dict, compare=False, repr=False)

    def printed_form(self, name: str = "value") -> Printed:
        if name in self.printed:
            return self.printed[name]
        return parse_printed(
            self.value, scale="unit" if self.statistic == "proportion" else "measure"
        )


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
