"""Reported-summary files: what a trial's publications reported, figure by figure, with sources.

A reported summary is a YAML file (format ``alsstats.reported-summary``, version 1; see
``docs/summary-format.md``) holding every published figure of a two-arm survival trial (arm
sizes, follow-up, events, survival landmarks, event shares, hazard ratios overall / in subgroups
/ as model terms, covariate summaries) with the source it comes from, where in that source, the
arithmetic of a derived figure and a status (reported, derived, conflicting, superseded).
:func:`load_reported_summary` reads and validates such a file; a malformed file raises
:class:`~alsstats.errors.SummaryError` naming the file, the field path and the problem.

Examples
--------
>>> from alsstats import data_path
>>> s = load_reported_summary(data_path("mirocals", "reported.yaml"))
>>> s.treatment_arm.id, s.arm("placebo").n.value
('il2ld', 110)
>>> s.hazard_ratio("low_pnfh").ci
(0.3, 0.89)
"""

from __future__ import annotations

import difflib
import hashlib
import html
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .errors import SummaryError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "STATUSES",
    "Arm",
    "Assumption",
    "Biomarker",
    "CovariateSummary",
    "EligibilityRange",
    "EventCount",
    "EventShare",
    "Figure",
    "HazardRatio",
    "Population",
    "ReportedSummary",
    "Source",
    "Statement",
    "SurvivalLandmark",
    "load_reported_summary",
    "parse_reported_summary",
    "summary_from_dict",
]

FORMAT_NAME = "alsstats.reported-summary"
FORMAT_VERSION = 1
STATUSES = ("reported", "derived", "conflicting", "superseded")
POPULATION_KINDS = ("all", "biomarker_range", "model_term")
ARM_ROLES = ("treatment", "control")
ALL_ARMS = "all"  # reserved arm id: the whole randomised population
SHARE_SUM_TOLERANCE = 0.011  # shares printed to 2 decimals may miss 1 by rounding


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
class Assumption:
    """A choice the publications leave open: default ``value``, ``reason``, ``alternatives``."""

    id: str
    value: Any
    reason: str
    alternatives: tuple[Any, ...] = ()
    note: str | None = None


# --------------------------------------------------------------------------- validation
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


_PROVENANCE = ("source", "locator", "derived", "note", "status")


class _Parser:
    """Builds a ReportedSummary from the parsed YAML document, section by section."""

    def __init__(self, name: str) -> None:
        self.r = _Reader(name)
        self.sources: dict[str, Source] = {}
        self.arm_sizes: dict[str, int] = {}
        self.figure_ids: dict[str, str] = {}  # id -> where first seen (ids are unique per file)
        self.biomarker_ids: set[str] = set()

    # shared pieces ---------------------------------------------------------------------
    def provenance(self, m: dict[str, Any], where: str) -> dict[str, Any]:
        source = self.r.text(m.get("source"), _join(where, "source"))
        if source not in self.sources:
            raise self.r.fail(
                _join(where, "source"),
                f"unknown source key {source!r} (known: {', '.join(sorted(self.sources))})",
            )
        status = m.get("status", "reported")
        return {
            "source": source,
            "locator": self.r.text(m.get("locator"), _join(where, "locator"), optional=True),
            "derived": self.r.text(m.get("derived"), _join(where, "derived"), optional=True),
            "note": self.r.text(m.get("note"), _join(where, "note"), optional=True),
            "status": self.r.choice(status, _join(where, "status"), STATUSES),
        }

    def new_id(self, m: dict[str, Any], where: str, key: str = "id") -> str:
        ident = self.r.text(m.get(key), _join(where, key))
        if ident in self.figure_ids:
            first = self.figure_ids[ident]
            raise self.r.fail(_join(where, key), f"duplicate id {ident!r} (first used at {first})")
        self.figure_ids[ident] = where
        return ident

    def arm_ref(self, obj: object, where: str, allow_all: bool = True) -> str:
        arm = self.r.text(obj, where)
        known = set(self.arm_sizes) | ({ALL_ARMS} if allow_all else set())
        if arm not in known:
            raise self.r.fail(where, f"unknown arm id {arm!r} (known: {', '.join(sorted(known))})")
        return arm

    def arm_size(self, arm: str) -> int:
        return sum(self.arm_sizes.values()) if arm == ALL_ARMS else self.arm_sizes[arm]

    def section(self, doc: dict[str, Any], key: str, parse_one: Callable[[Any, str], Any]) -> list:
        if doc.get(key) is None:
            return []
        return [parse_one(x, f"{key}[{i}]") for i, x in enumerate(self.r.items(doc[key], key))]

    # sections --------------------------------------------------------------------------
    def source(self, obj: object, where: str) -> Source:
        m = self.r.mapping(obj, where, ["key", "citation"], ["doi", "pmid", "url", "file", "note"])
        key = self.r.text(m["key"], _join(where, "key"))
        if key in self.sources:
            raise self.r.fail(_join(where, "key"), f"duplicate source key {key!r}")
        opt = {k: self.r.text(m.get(k), _join(where, k), True) for k in Source.__dataclass_fields__}
        opt.update(key=key, citation=self.r.text(m["citation"], _join(where, "citation")))
        src = Source(**opt)
        self.sources[key] = src
        return src

    def figure(self, obj: object, where: str, count: bool = False) -> Figure:
        m = self.r.mapping(obj, where, ["value", "source"], ["unit", *_PROVENANCE])
        vw = _join(where, "value")
        value = self.r.count(m["value"], vw) if count else self.r.number(m["value"], vw)
        unit = self.r.text(m.get("unit"), _join(where, "unit"), optional=True)
        return Figure(value=value, unit=unit, **self.provenance(m, where))

    def arms(self, doc: dict[str, Any]) -> list[Arm]:
        arms = []
        for i, obj in enumerate(self.r.items(doc["arms"], "arms")):
            where = f"arms[{i}]"
            m = self.r.mapping(obj, where, ["id", "role", "n"], ["label"])
            ident = self.r.text(m["id"], _join(where, "id"))
            if ident == ALL_ARMS or ident in self.arm_sizes:
                raise self.r.fail(_join(where, "id"), f"duplicate or reserved arm id {ident!r}")
            role = self.r.choice(m["role"], _join(where, "role"), ARM_ROLES)
            n = self.figure(m["n"], _join(where, "n"), count=True)
            if n.value == 0:
                raise self.r.fail(_join(where, "n.value"), "an arm must have at least one patient")
            label = self.r.text(m.get("label", ident), _join(where, "label"))
            self.arm_sizes[ident] = n.value
            arms.append(Arm(ident, label, role, n))
        roles = sorted(a.role for a in arms)
        if roles != ["control", "treatment"]:
            raise self.r.fail("arms", f"expected one treatment and one control arm, got {roles}")
        return arms

    def event(self, obj: object, where: str) -> EventCount:
        m = self.r.mapping(obj, where, ["id", "arm", "value", "source"], ["event", *_PROVENANCE])
        ident = self.new_id(m, where)
        arm = self.arm_ref(m["arm"], _join(where, "arm"))
        value = self.r.count(m["value"], _join(where, "value"))
        if value > self.arm_size(arm):
            raise self.r.fail(
                _join(where, "value"), f"{value} events exceed the {self.arm_size(arm)} in {arm!r}"
            )
        kind = self.r.text(m.get("event"), _join(where, "event"), optional=True)
        return EventCount(ident, arm, value, event=kind, **self.provenance(m, where))

    def landmark(self, obj: object, where: str) -> SurvivalLandmark:
        m = self.r.mapping(
            obj, where, ["id", "arm", "time", "source"], ["proportion", "count", *_PROVENANCE]
        )
        ident = self.new_id(m, where)
        arm = self.arm_ref(m["arm"], _join(where, "arm"))
        time = self.r.positive(m["time"], _join(where, "time"), "time")
        prop = self.r.proportion(m.get("proportion"), _join(where, "proportion"), optional=True)
        count = self.r.count(m.get("count"), _join(where, "count"), optional=True)
        if prop is None and count is None:
            raise self.r.fail(where, "give a proportion or a count alive (or both)")
        if count is not None and count > self.arm_size(arm):
            raise self.r.fail(
                _join(where, "count"), f"{count} alive exceed the {self.arm_size(arm)} in {arm!r}"
            )
        prov = self.provenance(m, where)
        return SurvivalLandmark(ident, arm, time, proportion=prop, count=count, **prov)

    def event_share(self, obj: object, where: str) -> EventShare:
        m = self.r.mapping(obj, where, ["id", "event", "shares", "source"], ["total", *_PROVENANCE])
        ident = self.new_id(m, where)
        kind = self.r.text(m["event"], _join(where, "event"))
        total = self.r.count(m.get("total"), _join(where, "total"), optional=True)
        sw = _join(where, "shares")
        raw = self.r.mapping(m["shares"], sw, optional=self.arm_sizes)
        if len(raw) < 2:
            raise self.r.fail(sw, "give the share of every arm")
        shares = {k: self.r.proportion(v, _join(sw, k)) for k, v in raw.items()}
        if abs(sum(shares.values()) - 1) > SHARE_SUM_TOLERANCE:
            raise self.r.fail(sw, f"shares sum to {sum(shares.values()):.3f}, not 1")
        if total is not None and total > self.arm_size(ALL_ARMS):
            raise self.r.fail(_join(where, "total"), f"{total} events exceed the trial size")
        return EventShare(ident, kind, shares, total=total, **self.provenance(m, where))

    def population(self, obj: object, where: str) -> Population:
        fields_by_kind = {
            "all": (),
            "biomarker_range": ("biomarker", "lower", "upper", "share"),
            "model_term": ("term", "modifier", "at"),
        }
        kind = self.r.choice(
            obj.get("kind") if isinstance(obj, dict) else None,
            _join(where, "kind"),
            POPULATION_KINDS,
        )
        m = self.r.mapping(obj, where, ["kind"], fields_by_kind[kind])
        if kind == "all":
            return Population(kind)
        if kind == "model_term":
            return Population(
                kind,
                term=self.r.text(m.get("term"), _join(where, "term")),
                modifier=self.r.text(m.get("modifier"), _join(where, "modifier"), optional=True),
                at=self.r.number(m.get("at"), _join(where, "at"), optional=True),
            )
        marker = self.r.text(m.get("biomarker"), _join(where, "biomarker"))
        if self.biomarker_ids and marker not in self.biomarker_ids:
            raise self.r.fail(_join(where, "biomarker"), f"unknown biomarker id {marker!r}")
        lower = self.r.number(m.get("lower"), _join(where, "lower"), optional=True)
        upper = self.r.number(m.get("upper"), _join(where, "upper"), optional=True)
        if lower is not None and upper is not None and lower >= upper:
            raise self.r.fail(where, f"biomarker range lower {lower} is not below upper {upper}")
        share = self.r.proportion(m.get("share"), _join(where, "share"), optional=True)
        return Population(kind, biomarker=marker, lower=lower, upper=upper, share=share)

    def hazard_ratio(self, obj: object, where: str) -> HazardRatio:
        m = self.r.mapping(
            obj,
            where,
            ["id", "comparison", "value", "source"],
            ["ci", "level", "p", "population", "model", *_PROVENANCE],
        )
        ident = self.new_id(m, where)
        cw = _join(where, "comparison")
        comp = self.r.mapping(m["comparison"], cw, ["treatment", "control"])
        comparison = {k: self.arm_ref(comp[k], _join(cw, k), allow_all=False) for k in comp}
        if comparison["treatment"] == comparison["control"]:
            raise self.r.fail(cw, "treatment and control must be different arms")
        value = self.r.positive(m["value"], _join(where, "value"), "a hazard ratio")
        ci = None
        if m.get("ci") is not None:
            ci = self.ci(m["ci"], _join(where, "ci"), value)
        level = self.r.number(m.get("level", 0.95), _join(where, "level"))
        if not 0 < level < 1:
            raise self.r.fail(_join(where, "level"), f"level must lie in (0, 1), got {level!r}")
        p = self.r.number(m.get("p"), _join(where, "p"), optional=True)
        if p is not None and not 0 <= p <= 1:
            raise self.r.fail(_join(where, "p"), f"a p-value must lie in [0, 1], got {p!r}")
        pop = self.population(m.get("population", {"kind": "all"}), _join(where, "population"))
        model = self.r.mapping(
            m.get("model", {}),
            _join(where, "model"),
            optional=("method", "adjusted", "interaction", "covariates", "strata", "ties", "note"),
        )
        if not isinstance(model.get("adjusted", False), bool):
            raise self.r.fail(_join(where, "model.adjusted"), "expected true or false")
        prov = self.provenance(m, where)
        return HazardRatio(
            ident, comparison, value, ci=ci, level=level, p=p, population=pop, model=dict(model),
            **prov,
        )  # fmt: skip

    def ci(self, obj: object, where: str, value: float) -> tuple[float, float]:
        if not isinstance(obj, list) or len(obj) != 2:
            raise self.r.fail(where, f"expected two numbers [lower, upper], got {_kind(obj)}")
        lower = self.r.positive(obj[0], f"{where}[0]", "a CI bound")
        upper = self.r.positive(obj[1], f"{where}[1]", "a CI bound")
        if lower > value:
            raise self.r.fail(where, f"lower {lower} is above the estimate {value}")
        if upper < value:
            raise self.r.fail(where, f"upper {upper} is below the estimate {value}")
        return (lower, upper)

    def biomarker(self, obj: object, where: str) -> Biomarker:
        m = self.r.mapping(
            obj, where, ["id", "source"], ["label", "unit", "measured", "value", *_PROVENANCE]
        )
        ident = self.new_id(m, where)
        text = {k: self.r.text(m.get(k), _join(where, k), True) for k in ("label", "unit")}
        measured = self.r.text(m.get("measured"), _join(where, "measured"), optional=True)
        value = self.r.number(m.get("value"), _join(where, "value"), optional=True)
        if value is not None and text["unit"] == "proportion":
            self.r.proportion(value, _join(where, "value"))
        prov = self.provenance(m, where)
        self.biomarker_ids.add(ident)
        return Biomarker(ident, measured=measured, value=value, **text, **prov)

    def covariate(self, obj: object, where: str) -> CovariateSummary:
        m = self.r.mapping(
            obj, where, ["name", "statistic", "value", "source"], ["unit", "arm", *_PROVENANCE]
        )
        name = self.r.text(m["name"], _join(where, "name"))
        stat = self.r.text(m["statistic"], _join(where, "statistic"))
        if stat == "proportion":
            value = self.r.proportion(m["value"], _join(where, "value"))
        else:
            value = self.r.number(m["value"], _join(where, "value"))
        arm = self.arm_ref(m.get("arm", ALL_ARMS), _join(where, "arm"))
        self.new_id({"id": f"covariates.{name}.{stat}.{arm}"}, where)
        unit = self.r.text(m.get("unit"), _join(where, "unit"), optional=True)
        prov = self.provenance(m, where)
        return CovariateSummary(name, stat, value, unit=unit, arm=arm, **prov)

    def eligibility(self, obj: object, where: str) -> EligibilityRange:
        m = self.r.mapping(obj, where, ["source"], ["lower", "upper", "unit", "locator", "note"])
        lower = self.r.number(m.get("lower"), _join(where, "lower"), optional=True)
        upper = self.r.number(m.get("upper"), _join(where, "upper"), optional=True)
        if lower is None and upper is None:
            raise self.r.fail(where, "give a lower or an upper limit (or both)")
        if lower is not None and upper is not None and lower > upper:
            raise self.r.fail(where, f"lower {lower} is above upper {upper}")
        prov = self.provenance({**m, "status": "reported"}, where)
        del prov["status"], prov["derived"]
        unit = self.r.text(m.get("unit"), _join(where, "unit"), optional=True)
        return EligibilityRange(lower=lower, upper=upper, unit=unit, **prov)

    def statement(self, obj: object, where: str) -> Statement:
        m = self.r.mapping(obj, where, ["id", "text", "source"], ["locator", "note"])
        ident = self.new_id(m, where)
        prov = self.provenance(m, where)
        del prov["status"], prov["derived"]
        return Statement(ident, self.r.text(m["text"], _join(where, "text")), **prov)

    def assumption(self, obj: object, where: str) -> Assumption:
        m = self.r.mapping(obj, where, ["id", "value", "reason"], ["alternatives", "note"])
        ident = self.new_id(m, where)
        alternatives = m.get("alternatives") or []
        if not isinstance(alternatives, list):
            alternatives = [alternatives]
        return Assumption(
            ident,
            m["value"],
            self.r.text(m["reason"], _join(where, "reason")),
            tuple(alternatives),
            self.r.text(m.get("note"), _join(where, "note"), optional=True),
        )

    # the document ----------------------------------------------------------------------
    def document(self, doc: object) -> dict[str, Any]:
        if not isinstance(doc, dict):
            raise self.r.fail("", f"the file must hold a YAML mapping, got {_kind(doc)}")
        sections = (
            "follow_up", "events", "survival", "event_shares", "hazard_ratios", "biomarkers",
            "covariates", "eligibility", "statements", "assumptions",
        )  # fmt: skip
        # format and version first: a file of another format gets that message, not a field list
        self.r.mapping(doc, "", ["format", "format_version"], free=True)
        if doc["format"] != FORMAT_NAME:
            raise self.r.fail("format", f"expected {FORMAT_NAME!r}, got {_kind(doc['format'])}")
        version = doc["format_version"]
        if isinstance(version, bool) or version != FORMAT_VERSION:
            raise self.r.fail("format_version", f"unsupported version {version!r} (supported: 1)")
        self.r.mapping(doc, "", ["format", "format_version", "trial", "sources", "arms"], sections)
        out: dict[str, Any] = {}
        out["sources"] = {s.key: s for s in self.section(doc, "sources", self.source)}
        if not out["sources"]:
            raise self.r.fail("sources", "list at least one source")
        out["arms"] = self.arms(doc)
        out["trial"] = self.trial(doc["trial"], out["arms"])
        follow = self.r.mapping(doc.get("follow_up") or {}, "follow_up", free=True)
        out["follow_up"] = {
            k: self.figure(v, _join("follow_up", k), count=k == "lost_to_follow_up")
            for k, v in follow.items()
        }
        ltfu = out["follow_up"].get("lost_to_follow_up")
        if ltfu is not None and ltfu.value > self.arm_size(ALL_ARMS):
            raise self.r.fail("follow_up.lost_to_follow_up.value", "exceeds the trial size")
        # biomarkers first: hazard ratio populations refer to them
        out["biomarkers"] = self.section(doc, "biomarkers", self.biomarker)
        out["events"] = self.section(doc, "events", self.event)
        out["survival"] = self.section(doc, "survival", self.landmark)
        out["event_shares"] = self.section(doc, "event_shares", self.event_share)
        out["hazard_ratios"] = self.section(doc, "hazard_ratios", self.hazard_ratio)
        out["covariates"] = self.section(doc, "covariates", self.covariate)
        elig = self.r.mapping(doc.get("eligibility") or {}, "eligibility", free=True)
        out["eligibility"] = {
            k: self.eligibility(v, _join("eligibility", k)) for k, v in elig.items()
        }
        out["statements"] = self.section(doc, "statements", self.statement)
        out["assumptions"] = self.section(doc, "assumptions", self.assumption)
        return out

    def trial(self, obj: object, arms: list[Arm]) -> dict[str, Any]:
        m = self.r.mapping(
            obj,
            "trial",
            ["name"],
            ["title", "registration", "phase", "allocation", "blinding", "randomisation_strata",
             "endpoint", "treatment_arm", "control_arm", "primary_test", "note"],
        )  # fmt: skip
        self.r.text(m["name"], "trial.name")
        for role in ARM_ROLES:
            key = f"{role}_arm"
            expected = next(a.id for a in arms if a.role == role)
            if key in m and m[key] != expected:
                raise self.r.fail(
                    f"trial.{key}", f"{m[key]!r} is not the arm with role {role} ({expected!r})"
                )
        for key in ("registration", "endpoint"):
            if key in m:
                self.r.mapping(m[key], f"trial.{key}", free=True)
        return dict(m)


# --------------------------------------------------------------------------- the summary
@dataclass(frozen=True)
class ReportedSummary:
    """Every figure a trial's publications reported, with provenance (see module docstring)."""

    path: str
    sha256: str
    trial: dict[str, Any]
    sources: dict[str, Source]
    arms: list[Arm]
    follow_up: dict[str, Figure]
    events: list[EventCount]
    survival: list[SurvivalLandmark]
    event_shares: list[EventShare]
    hazard_ratios: list[HazardRatio]
    biomarkers: list[Biomarker]
    covariates: list[CovariateSummary]
    eligibility: dict[str, EligibilityRange]
    statements: list[Statement]
    assumptions: list[Assumption]

    @property
    def name(self) -> str:
        return str(self.trial.get("name", Path(self.path).stem))

    @property
    def treatment_arm(self) -> Arm:
        return next(a for a in self.arms if a.role == "treatment")

    @property
    def control_arm(self) -> Arm:
        return next(a for a in self.arms if a.role == "control")

    @property
    def n_total(self) -> int:
        """Number randomised in both arms."""
        return sum(a.n.value for a in self.arms)

    def _lookup(self, items: Iterable[Any], ident: str, what: str, attr: str = "id") -> Any:
        for item in items:
            if getattr(item, attr) == ident:
                return item
        known = ", ".join(getattr(i, attr) for i in items)
        raise SummaryError(self.path, what, f"no entry with id {ident!r} (known: {known})")

    def arm(self, id: str) -> Arm:
        """The arm with this id."""
        return self._lookup(self.arms, id, "arms")

    def hazard_ratio(self, id: str) -> HazardRatio:
        """The hazard ratio with this id."""
        return self._lookup(self.hazard_ratios, id, "hazard_ratios")

    def assumption(self, id: str) -> Assumption:
        """The assumption with this id."""
        return self._lookup(self.assumptions, id, "assumptions")

    def events_in(self, arm: str) -> list[EventCount]:
        """Event counts reported for one arm (or ``"all"``)."""
        return [e for e in self.events if e.arm == arm]

    def figures(self) -> pd.DataFrame:
        """Every reported figure, one row per number, with its provenance.

        Columns: id, section, quantity, arm, value, ci, p, unit, source, citation, locator,
        derived, status, note. (id, quantity) identifies a row.
        """
        rows: list[dict[str, Any]] = []

        def add(ident, section, quantity, value, fig, arm=None, unit=None, ci=None, p=None):
            rows.append({
                "id": ident, "section": section, "quantity": quantity, "arm": arm,
                "value": value, "ci": ci, "p": p, "unit": unit, "source": fig.source,
                "citation": self.sources[fig.source].citation, "locator": fig.locator,
                "derived": getattr(fig, "derived", None),
                "status": getattr(fig, "status", "reported"),
                "note": fig.note,
            })  # fmt: skip

        for a in self.arms:
            add(f"arms.{a.id}.n", "arms", "randomised", a.n.value, a.n, arm=a.id)
        for name, f in self.follow_up.items():
            add(f"follow_up.{name}", "follow_up", name, f.value, f, unit=f.unit)
        for e in self.events:
            add(e.id, "events", e.event or "events", e.value, e, arm=e.arm)
        for s in self.survival:
            if s.proportion is not None:
                add(s.id, "survival", f"proportion alive at {s.time:g}", s.proportion, s, s.arm)
            if s.count is not None:
                add(s.id, "survival", f"number alive at {s.time:g}", s.count, s, s.arm)
        for es in self.event_shares:
            for arm, share in es.shares.items():
                add(es.id, "event_shares", f"share of {es.event}", share, es, arm=arm)
            if es.total is not None:
                add(es.id, "event_shares", f"total {es.event}", es.total, es, arm=ALL_ARMS)
        for h in self.hazard_ratios:
            add(h.id, "hazard_ratios", "hazard ratio", h.value, h, ci=h.ci, p=h.p)
            if h.population.share is not None:
                add(h.id, "hazard_ratios", "population share", h.population.share, h)
        for b in self.biomarkers:
            if b.value is not None:
                add(b.id, "biomarkers", b.label or b.id, b.value, b, unit=b.unit)
        for c in self.covariates:
            ident = f"covariates.{c.name}.{c.statistic}"
            add(ident, "covariates", f"{c.statistic} {c.name}", c.value, c, arm=c.arm, unit=c.unit)
        for name, r in self.eligibility.items():
            for bound in ("lower", "upper"):
                value = getattr(r, bound)
                if value is not None:
                    add(f"eligibility.{name}", "eligibility", bound, value, r, unit=r.unit)
        return pd.DataFrame(rows, columns=[
            "id", "section", "quantity", "arm", "value", "ci", "p", "unit", "source", "citation",
            "locator", "derived", "status", "note",
        ])  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"<ReportedSummary {self.name}: {len(self.hazard_ratios)} hazard ratios, "
            f"{len(self.sources)} sources, {len(self.assumptions)} assumptions; {self.path}>"
        )

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>{html.escape(self.name)}</b>: {html.escape(self.treatment_arm.label)} "
            f"(n={self.treatment_arm.n.value}) vs {html.escape(self.control_arm.label)} "
            f"(n={self.control_arm.n.value}). File {html.escape(self.path)}, "
            f"sha256 {self.sha256[:12]}.</p>"
        )
        table = self.figures().drop(columns=["citation"]).to_html(index=False, na_rep="")
        return head + table


def summary_from_dict(doc: object, name: str = "<dict>") -> ReportedSummary:
    """Validate an already-parsed document (what ``yaml.safe_load`` returns).

    ``sha256`` is empty: there are no file bytes to hash.

    Raises
    ------
    SummaryError
        When the document does not follow the format.
    """
    return ReportedSummary(path=name, sha256="", **_Parser(name).document(doc))


def parse_reported_summary(text: str | bytes, name: str = "<string>") -> ReportedSummary:
    """Validate a reported summary given as YAML text; ``name`` is used in error messages.

    Raises
    ------
    SummaryError
        When the text is not valid YAML or does not follow the format.
    """
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SummaryError(name, f"byte {exc.start}", "the file is not UTF-8 text") from None
    try:
        doc = yaml.safe_load(decoded)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise SummaryError(name, where, f"YAML syntax error: {problem}") from None
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        # PyYAML can raise plain errors on exotic input (e.g. an unhashable mapping key)
        raise SummaryError(name, "", f"YAML syntax error: {exc}") from None
    parts = _Parser(name).document(doc)
    return ReportedSummary(path=name, sha256=hashlib.sha256(raw).hexdigest(), **parts)


def load_reported_summary(path: str | Path) -> ReportedSummary:
    """Read and validate a reported-summary YAML file.

    Parameters
    ----------
    path
        The file; error messages name it as given.

    Returns
    -------
    ReportedSummary
        Frozen dataclasses; ``sha256`` is the hash of the file's bytes.

    Raises
    ------
    SummaryError
        File missing or unreadable, YAML syntax error, or a field that breaks the format, with
        the field path and the problem, e.g. ``hazard_ratios[2].ci: lower 0.9 is above the
        estimate 0.8``.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SummaryError(str(path), "", f"cannot read the file ({exc.strerror})") from None
    return parse_reported_summary(raw, str(path))
