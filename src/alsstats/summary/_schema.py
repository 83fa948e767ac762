"""The reported-summary format (``alsstats.reported-summary``, version 1), section by section.

:class:`_Parser` validates a parsed YAML document against the format described in
``docs/summary-format.md`` and builds the figure objects of :mod:`alsstats.summary`;
cross-references (source keys, arm ids, biomarker ids, unique figure ids) are checked as it goes.
:mod:`alsstats.summary` wraps it into a :class:`~alsstats.summary.ReportedSummary`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._figures import (
    ALL_ARMS,
    ARM_ROLES,
    FIGURE_ROLES,
    POPULATION_KINDS,
    STATUSES,
    SURVIVAL_CI_METHODS,
    TESTS,
    Arm,
    ArmComparison,
    Assumption,
    Biomarker,
    CovariateSummary,
    DigitisedCurve,
    EligibilityRange,
    EventCount,
    EventShare,
    Figure,
    HazardRatio,
    Interaction,
    Median,
    Modifier,
    Population,
    Source,
    Statement,
    SurvivalLandmark,
)
from ._precision import Printed, convert_time, parse_printed, time_unit
from ._reader import _join, _kind, _Reader

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "FORMAT_VERSIONS", "SHARE_SUM_TOLERANCE"]

FORMAT_NAME = "alsstats.reported-summary"
FORMAT_VERSION = 2  # the newest version; every version-1 file is a valid version-2 reading
FORMAT_VERSIONS = (1, 2)
SHARE_SUM_TOLERANCE = 0.011  # shares printed to 2 decimals may miss 1 by rounding


_PROVENANCE = ("source", "locator", "derived", "note", "status")
_PROVENANCE_V2 = (*_PROVENANCE, "figure_role")
# fields and sections that only a format_version 2 file may use
_V2_SECTIONS = ("medians", "comparisons", "interactions", "modifiers")


class _Parser:
    """Builds a ReportedSummary from the parsed YAML document, section by section."""

    def __init__(self, name: str) -> None:
        self.r = _Reader(name)
        self.version = 1
        self.sources: dict[str, Source] = {}
        self.arm_sizes: dict[str, int] = {}
        self.figure_ids: dict[str, str] = {}  # id -> where first seen (ids are unique per file)
        self.biomarker_ids: set[str] = set()
        self.categories: dict[str, tuple[str, ...]] = {}  # categorical modifier -> categories
        self.unit: str | None = None  # the trial's time unit (canonical name)
        self.alpha = 0.05
        self.primary_test: str | None = None

    # version 2 fields --------------------------------------------------------------------
    def v2_only(self, m: dict[str, Any], where: str, keys: tuple[str, ...]) -> None:
        """A version-1 file using a version-2 field gets a message saying so."""
        if self.version >= 2:
            return
        for key in keys:
            if key in m:
                raise self.r.fail(_join(where, key), "this field needs format_version: 2")

    def fields(self, base: tuple[str, ...], v2: tuple[str, ...]) -> tuple[str, ...]:
        return (*base, *v2)

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

    def role(self, m: dict[str, Any], where: str) -> dict[str, Any]:
        """The ``figure_role`` of a figure (version 2), as a keyword for the dataclass."""
        self.v2_only(m, where, ("figure_role",))
        if m.get("figure_role") is None:
            return {}
        return {
            "figure_role": self.r.choice(
                m["figure_role"], _join(where, "figure_role"), FIGURE_ROLES
            )
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
            raise self.r.fail(
                where,
                f"unknown arm id {arm!r}: used but not declared in arms "
                f"(known: {', '.join(sorted(known))})",
            )
        return arm

    def arm_size(self, arm: str) -> int:
        return sum(self.arm_sizes.values()) if arm == ALL_ARMS else self.arm_sizes[arm]

    def section(self, doc: dict[str, Any], key: str, parse_one: Callable[[Any, str], Any]) -> list:
        if doc.get(key) is None:
            return []
        return [parse_one(x, f"{key}[{i}]") for i, x in enumerate(self.r.items(doc[key], key))]

    # numbers as printed ------------------------------------------------------------------
    def printed(
        self,
        obj: object,
        where: str,
        scale: str = "unit",
        bound: bool = False,
        percent: bool = False,
    ) -> Printed:
        """A numeric figure: a bare number (v1 reading) or, in version 2, the printed text."""
        if isinstance(obj, str) and self.version < 2:
            raise self.r.fail(
                where,
                f"expected a number, got {_kind(obj)} (numbers written as printed text "
                "need format_version: 2)",
            )
        if isinstance(obj, bool) or not isinstance(obj, int | float | str):
            raise self.r.fail(where, f"expected a number, got {_kind(obj)}")
        try:
            return parse_printed(
                obj, scale=scale, allow_bound=bound, allow_percent=percent, alpha=self.alpha
            )
        except ValueError as exc:
            raise self.r.fail(where, str(exc)) from None

    def positive(self, obj: object, where: str, what: str, scale: str = "unit") -> Printed:
        p = self.printed(obj, where, scale)
        if p.value <= 0:
            raise self.r.fail(where, f"{what} must be positive, got {p.value!r}")
        return p

    def proportion(self, obj: object, where: str) -> Printed:
        p = self.printed(obj, where, "unit", percent=True)
        if not 0 <= p.value <= 1:
            raise self.r.fail(where, f"a proportion must lie in [0, 1], got {p.value!r}")
        return p

    def count(self, obj: object, where: str) -> int:
        p = self.printed(obj, where, "count")
        if p.value < 0:
            raise self.r.fail(where, f"a count cannot be negative, got {obj!r}")
        return int(p.value)

    def p_value(self, obj: object, where: str) -> Printed:
        p = self.printed(obj, where, "unit", bound=True)
        if not 0 <= p.value <= 1:
            raise self.r.fail(where, f"a p-value must lie in [0, 1], got {p.value!r}")
        return p

    def level(self, m: dict[str, Any], where: str) -> float:
        level = self.r.number(m.get("level", 0.95), _join(where, "level"))
        if not 0 < level < 1:
            raise self.r.fail(_join(where, "level"), f"level must lie in (0, 1), got {level!r}")
        return level

    def test(self, m: dict[str, Any], where: str, default: str | None) -> str | None:
        """The test behind a p value: the figure's, the trial's primary test, or ``default``."""
        if m.get("test") is None:
            return self.primary_test or default
        return self.r.choice(_test_name(m["test"]), _join(where, "test"), TESTS)

    def time(self, p: Printed, m: dict[str, Any], where: str) -> Printed:
        """A time in the trial's unit: the one place where a figure's own ``unit`` converts."""
        written = m.get("unit")
        if written is None or (self.unit is None and time_unit(written) is None):
            return p
        unit = time_unit(written)
        if unit is None:
            raise self.r.fail(
                _join(where, "unit"),
                f"unknown time unit {written!r} (use days, weeks, months, years)",
            )
        if self.unit is None:
            raise self.r.fail(
                _join(where, "unit"),
                f"a time in {unit} needs the trial's time unit (trial.time_unit) to convert it",
            )
        if unit == self.unit:
            return p
        return p.scaled(convert_time(1.0, unit, self.unit))

    # sections --------------------------------------------------------------------------
    def source(self, obj: object, where: str) -> Source:
        m = self.r.mapping(
            obj, where, ["key", "citation"], ["doi", "pmid", "registry", "url", "file", "note"]
        )
        self.v2_only(m, where, ("registry",))
        key = self.r.text(m["key"], _join(where, "key"))
        if key in self.sources:
            raise self.r.fail(_join(where, "key"), f"duplicate source key {key!r}")
        opt = {k: self.r.text(m.get(k), _join(where, k), True) for k in Source.__dataclass_fields__}
        opt.update(key=key, citation=self.r.text(m["citation"], _join(where, "citation")))
        src = Source(**opt)
        self.sources[key] = src
        return src

    def figure(self, obj: object, where: str, count: bool = False) -> Figure:
        m = self.r.mapping(obj, where, ["value", "source"], ["unit", *_PROVENANCE_V2])
        vw = _join(where, "value")
        unit = self.r.text(m.get("unit"), _join(where, "unit"), optional=True)
        role = self.role(m, where)
        if count:
            value = self.count(m["value"], vw)
            return Figure(value=value, unit=unit, **self.provenance(m, where), **role)
        p = self.printed(m["value"], vw, "measure")
        if time_unit(unit) is not None and self.unit is not None:
            p = self.time(p, m, where)
            unit = self.unit if time_unit(unit) != self.unit else unit
        value = m["value"] if p.bare and p.value == m["value"] else p.value
        prov = self.provenance(m, where)
        return Figure(value=value, unit=unit, printed={"value": p}, **prov, **role)

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
        if self.version < 2 and roles != ["control", "treatment"]:
            raise self.r.fail(
                "arms",
                f"expected one treatment and one control arm, got {roles} (more arms need "
                "format_version: 2)",
            )
        if "treatment" not in roles or "control" not in roles:
            raise self.r.fail("arms", f"expected a treatment and a control arm, got {roles}")
        return arms

    def event(self, obj: object, where: str) -> EventCount:
        m = self.r.mapping(
            obj, where, ["id", "arm", "value", "source"], ["event", "population", *_PROVENANCE_V2]
        )
        self.v2_only(m, where, ("population",))
        ident = self.new_id(m, where)
        arm = self.arm_ref(m["arm"], _join(where, "arm"))
        value = self.count(m["value"], _join(where, "value"))
        if value > self.arm_size(arm):
            raise self.r.fail(
                _join(where, "value"), f"{value} events exceed the {self.arm_size(arm)} in {arm!r}"
            )
        kind = self.r.text(m.get("event"), _join(where, "event"), optional=True)
        role = self.role(m, where)
        pop = self.population(m.get("population", {"kind": "all"}), _join(where, "population"))
        return EventCount(
            ident, arm, value, event=kind, population=pop, **self.provenance(m, where), **role
        )

    def landmark(self, obj: object, where: str) -> SurvivalLandmark:
        v2 = ("ci", "level", "ci_method", "n", "unit", "population")
        m = self.r.mapping(
            obj,
            where,
            ["id", "arm", "time", "source"],
            ["proportion", "count", *v2, *_PROVENANCE_V2],
        )
        self.v2_only(m, where, v2)
        ident = self.new_id(m, where)
        arm = self.arm_ref(m["arm"], _join(where, "arm"))
        tw = _join(where, "time")
        t = self.time(self.positive(m["time"], tw, "time", "measure"), m, where)
        printed: dict[str, Printed] = {"time": t}
        prop = count = None
        if m.get("proportion") is not None:
            printed["proportion"] = self.proportion(m["proportion"], _join(where, "proportion"))
            prop = _as_float(printed["proportion"], m["proportion"])
        if m.get("count") is not None:
            count = self.count(m["count"], _join(where, "count"))
        if prop is None and count is None:
            raise self.r.fail(where, "give a proportion or a count alive (or both)")
        denominator = None
        if m.get("n") is not None:
            denominator = self.count(m["n"], _join(where, "n"))
            if denominator == 0 or denominator > self.arm_size(arm):
                raise self.r.fail(
                    _join(where, "n"),
                    f"{denominator} is not a denominator within the "
                    f"{self.arm_size(arm)} in {arm!r}",
                )
        limit = denominator if denominator is not None else self.arm_size(arm)
        if count is not None and count > limit:
            raise self.r.fail(_join(where, "count"), f"{count} alive exceed the {limit} in {arm!r}")
        ci = None
        if m.get("ci") is not None:
            if prop is None:
                raise self.r.fail(_join(where, "ci"), "a CI needs the proportion it belongs to")
            ci, cp = self.interval(m["ci"], _join(where, "ci"), prop, "proportion")
            printed.update(cp)
        level = self.level(m, where)
        method = None
        if m.get("ci_method") is not None:
            mw = _join(where, "ci_method")
            method = self.r.choice(m["ci_method"], mw, SURVIVAL_CI_METHODS)
            if ci is None:
                raise self.r.fail(mw, "a CI method needs the ci it describes")
        pop = self.population(m.get("population", {"kind": "all"}), _join(where, "population"))
        time = m["time"] if t.bare and t.value == m["time"] else t.value
        prov = self.provenance(m, where)
        return SurvivalLandmark(
            ident, arm, time, proportion=prop, count=count, ci=ci, level=level, n=denominator,
            ci_method=method,
            unit=self.unit if "unit" in m else None, population=pop, printed=printed,
            **prov, **self.role(m, where),
        )  # fmt: skip

    def event_share(self, obj: object, where: str) -> EventShare:
        m = self.r.mapping(
            obj, where, ["id", "event", "shares", "source"], ["total", *_PROVENANCE_V2]
        )
        ident = self.new_id(m, where)
        kind = self.r.text(m["event"], _join(where, "event"))
        total = None
        if m.get("total") is not None:
            total = self.count(m["total"], _join(where, "total"))
        sw = _join(where, "shares")
        raw = self.r.mapping(m["shares"], sw, optional=self.arm_sizes)
        if len(raw) < 2:
            raise self.r.fail(sw, "give the share of every arm")
        printed = {f"shares.{k}": self.proportion(v, _join(sw, k)) for k, v in raw.items()}
        shares = {k: _as_float(printed[f"shares.{k}"], v) for k, v in raw.items()}
        if abs(sum(shares.values()) - 1) > SHARE_SUM_TOLERANCE:
            raise self.r.fail(sw, f"shares sum to {sum(shares.values()):.3f}, not 1")
        if total is not None and total > self.arm_size(ALL_ARMS):
            raise self.r.fail(_join(where, "total"), f"{total} events exceed the trial size")
        return EventShare(
            ident, kind, shares, total=total, printed=printed, **self.provenance(m, where),
            **self.role(m, where),
        )  # fmt: skip

    def population(
        self, obj: object, where: str, printed: dict[str, Printed] | None = None
    ) -> Population:
        fields_by_kind = {
            "all": (),
            "biomarker_range": ("biomarker", "lower", "upper", "share"),
            "model_term": ("term", "modifier", "at", "per"),
            "subgroup": ("modifier", "category", "share"),
        }
        kind = self.r.choice(
            obj.get("kind") if isinstance(obj, dict) else None,
            _join(where, "kind"),
            POPULATION_KINDS,
        )
        m = self.r.mapping(obj, where, ["kind"], fields_by_kind[kind])
        if self.version < 2 and kind == "subgroup":
            raise self.r.fail(_join(where, "kind"), "kind subgroup needs format_version: 2")
        self.v2_only(m, where, ("per",))
        if kind == "all":
            return Population(kind)
        if kind == "model_term":
            term = self.r.text(m.get("term"), _join(where, "term"))
            modifier = self.r.text(m.get("modifier"), _join(where, "modifier"), optional=True)
            if modifier is not None and self.biomarker_ids and modifier not in self.biomarker_ids:
                if self.version >= 2:
                    raise self.r.fail(_join(where, "modifier"), f"unknown modifier id {modifier!r}")
            return Population(
                kind,
                term=term,
                modifier=modifier,
                at=self.r.number(m.get("at"), _join(where, "at"), optional=True),
            )
        share = None
        if m.get("share") is not None:
            p = self.proportion(m["share"], _join(where, "share"))
            share = _as_float(p, m["share"])
            if printed is not None:
                printed["population.share"] = p
        if kind == "subgroup":
            modifier = self.r.text(m.get("modifier"), _join(where, "modifier"))
            if modifier not in self.categories:
                known = ", ".join(sorted(self.categories)) or "none declared"
                raise self.r.fail(
                    _join(where, "modifier"),
                    f"unknown categorical modifier {modifier!r} (declared in modifiers: {known})",
                )
            category = self.r.text(m.get("category"), _join(where, "category"))
            if category not in self.categories[modifier]:
                raise self.r.fail(
                    _join(where, "category"),
                    f"{category!r} is not a category of {modifier!r} "
                    f"({', '.join(self.categories[modifier])})",
                )
            return Population(kind, modifier=modifier, category=category, share=share)
        marker = self.r.text(m.get("biomarker"), _join(where, "biomarker"))
        if self.biomarker_ids and marker not in self.biomarker_ids:
            raise self.r.fail(_join(where, "biomarker"), f"unknown biomarker id {marker!r}")
        lower = self.r.number(m.get("lower"), _join(where, "lower"), optional=True)
        upper = self.r.number(m.get("upper"), _join(where, "upper"), optional=True)
        if lower is not None and upper is not None and lower >= upper:
            raise self.r.fail(where, f"biomarker range lower {lower} is not below upper {upper}")
        return Population(kind, biomarker=marker, lower=lower, upper=upper, share=share)

    def comparison(self, obj: object, where: str) -> dict[str, str]:
        comp = self.r.mapping(obj, where, ["treatment", "control"])
        out = {k: self.arm_ref(comp[k], _join(where, k), allow_all=False) for k in comp}
        if out["treatment"] == out["control"]:
            raise self.r.fail(where, "treatment and control must be different arms")
        return out

    def hazard_ratio(self, obj: object, where: str) -> HazardRatio:
        v2 = ("test", "per")
        m = self.r.mapping(
            obj,
            where,
            ["id", "comparison", "value", "source"],
            ["ci", "level", "p", "population", "model", *v2, *_PROVENANCE_V2],
        )
        self.v2_only(m, where, v2)
        ident = self.new_id(m, where)
        comparison = self.comparison(m["comparison"], _join(where, "comparison"))
        value_p = self.positive(m["value"], _join(where, "value"), "a hazard ratio")
        value = _as_float(value_p, m["value"])
        printed = {"value": value_p}
        ci = None
        if m.get("ci") is not None:
            ci, cp = self.interval(m["ci"], _join(where, "ci"), value, "ratio")
            printed.update(cp)
        level = self.level(m, where)
        p = None
        if m.get("p") is not None:
            printed["p"] = self.p_value(m["p"], _join(where, "p"))
            p = _as_float(printed["p"], m["p"])
        # version 1: a p beside an HR is a Wald p; version 2: the figure's or the trial's test
        test = "wald" if self.version < 2 else self.test(m, where, "wald")
        pop_raw = m.get("population", {"kind": "all"})
        pop = self.population(pop_raw, _join(where, "population"), printed)
        per = self.r.text(m.get("per"), _join(where, "per"), optional=True)
        if per is None and isinstance(pop_raw, dict) and pop_raw.get("per") is not None:
            per = self.r.text(pop_raw["per"], _join(where, "population.per"))
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
            test=test if p is not None or self.version >= 2 else "wald", per=per,
            printed=printed, **prov, **self.role(m, where),
        )  # fmt: skip

    def interval(
        self, obj: object, where: str, value: float | None, what: str
    ) -> tuple[tuple[float, float], dict[str, Printed]]:
        """A CI ``[lower, upper]`` around ``value``: ratios positive, proportions in [0, 1]."""
        if not isinstance(obj, list) or len(obj) != 2:
            raise self.r.fail(where, f"expected two numbers [lower, upper], got {_kind(obj)}")
        parts = []
        for i in range(2):
            w = f"{where}[{i}]"
            if what == "ratio":
                parts.append(self.positive(obj[i], w, "a CI bound"))
            elif what == "proportion":
                parts.append(self.proportion(obj[i], w))
            else:  # a time
                parts.append(self.positive(obj[i], w, "a CI bound", "measure"))
        lower, upper = (_as_float(p, o) for p, o in zip(parts, obj, strict=True))
        if value is not None and lower > value:
            raise self.r.fail(where, f"lower {lower} is above the estimate {value}")
        if value is not None and upper < value:
            raise self.r.fail(where, f"upper {upper} is below the estimate {value}")
        if lower > upper:
            raise self.r.fail(where, f"lower {lower} is above upper {upper}")
        return (lower, upper), {"ci[0]": parts[0], "ci[1]": parts[1]}

    def median(self, obj: object, where: str) -> Median:
        m = self.r.mapping(
            obj,
            where,
            ["id", "arm", "value", "source"],
            ["ci", "level", "unit", "population", *_PROVENANCE_V2],
        )
        ident = self.new_id(m, where)
        arm = self.arm_ref(m["arm"], _join(where, "arm"))
        printed: dict[str, Printed] = {}
        value = None
        raw = m["value"]
        if isinstance(raw, str) and raw.strip().lower() in ("not reached", "nr", "not estimable"):
            pass  # recorded, not used numerically
        else:
            vp = self.time(
                self.positive(raw, _join(where, "value"), "a median", "measure"), m, where
            )
            printed["value"] = vp
            value = vp.value
        ci = None
        if m.get("ci") is not None:
            ci_raw = m["ci"]
            if not isinstance(ci_raw, list) or len(ci_raw) != 2:
                raise self.r.fail(
                    _join(where, "ci"), f"expected [lower, upper], got {_kind(ci_raw)}"
                )
            bounds = []
            for i, b in enumerate(ci_raw):
                w = f"{_join(where, 'ci')}[{i}]"
                if isinstance(b, str) and b.strip().lower() in (
                    "not reached",
                    "nr",
                    "not estimable",
                ):
                    bounds.append(None)
                    continue
                bp = self.time(self.positive(b, w, "a CI bound", "measure"), m, where)
                printed[f"ci[{i}]"] = bp
                bounds.append(bp.value)
            lo, hi = bounds
            if value is not None and (
                (lo is not None and lo > value) or (hi is not None and hi < value)
            ):
                raise self.r.fail(_join(where, "ci"), f"the CI does not contain the median {value}")
            ci = (lo, hi)
        level = self.level(m, where)
        pop = self.population(m.get("population", {"kind": "all"}), _join(where, "population"))
        return Median(
            ident, arm, value, ci=ci, level=level, unit=self.unit, population=pop,
            printed=printed, **self.provenance(m, where), **self.role(m, where),
        )  # fmt: skip

    def arm_comparison(self, obj: object, where: str) -> ArmComparison:
        m = self.r.mapping(
            obj,
            where,
            ["id", "comparison", "p", "source"],
            ["test", "endpoint", "time", "unit", "population", *_PROVENANCE_V2],
        )
        ident = self.new_id(m, where)
        comparison = self.comparison(m["comparison"], _join(where, "comparison"))
        printed = {"p": self.p_value(m["p"], _join(where, "p"))}
        time = None
        if m.get("time") is not None:
            tp = self.time(
                self.positive(m["time"], _join(where, "time"), "time", "measure"), m, where
            )
            printed["time"] = tp
            time = tp.value
        pop = self.population(m.get("population", {"kind": "all"}), _join(where, "population"))
        return ArmComparison(
            ident, comparison, printed["p"].value, self.test(m, where, "unknown"),
            endpoint=self.r.text(m.get("endpoint"), _join(where, "endpoint"), optional=True),
            time=time, population=pop, printed=printed, **self.provenance(m, where),
            **self.role(m, where),
        )  # fmt: skip

    def interaction(self, obj: object, where: str) -> Interaction:
        m = self.r.mapping(
            obj,
            where,
            ["id", "modifier", "comparison", "source"],
            ["value", "ci", "level", "p", "test", "per", *_PROVENANCE_V2],
        )
        ident = self.new_id(m, where)
        modifier = self.r.text(m["modifier"], _join(where, "modifier"))
        if modifier not in self.biomarker_ids:
            known = ", ".join(sorted(self.biomarker_ids)) or "none declared"
            raise self.r.fail(
                _join(where, "modifier"), f"unknown modifier id {modifier!r} (known: {known})"
            )
        comparison = self.comparison(m["comparison"], _join(where, "comparison"))
        printed: dict[str, Printed] = {}
        value = p = None
        if m.get("value") is not None:
            printed["value"] = self.positive(m["value"], _join(where, "value"), "a ratio of HRs")
            value = printed["value"].value
        ci = None
        if m.get("ci") is not None:
            if value is None:
                raise self.r.fail(_join(where, "ci"), "a CI needs the value it belongs to")
            ci, cp = self.interval(m["ci"], _join(where, "ci"), value, "ratio")
            printed.update(cp)
        if m.get("p") is not None:
            printed["p"] = self.p_value(m["p"], _join(where, "p"))
            p = printed["p"].value
        if value is None and p is None:
            raise self.r.fail(where, "give a value (ratio of hazard ratios) or a p (or both)")
        default = "wald" if value is not None and ci is not None else "unknown"
        return Interaction(
            ident, modifier, comparison, value=value, ci=ci, level=self.level(m, where), p=p,
            test=self.test(m, where, default) if p is not None else None,
            per=self.r.text(m.get("per"), _join(where, "per"), optional=True),
            printed=printed, **self.provenance(m, where), **self.role(m, where),
        )  # fmt: skip

    def biomarker(self, obj: object, where: str) -> Biomarker:
        m = self.r.mapping(
            obj, where, ["id", "source"], ["label", "unit", "measured", "value", *_PROVENANCE_V2]
        )
        ident = self.new_id(m, where)
        text = {k: self.r.text(m.get(k), _join(where, k), True) for k in ("label", "unit")}
        measured = self.r.text(m.get("measured"), _join(where, "measured"), optional=True)
        value, printed = None, {}
        if m.get("value") is not None:
            if text["unit"] == "proportion":
                printed["value"] = self.proportion(m["value"], _join(where, "value"))
            else:
                printed["value"] = self.printed(m["value"], _join(where, "value"), "measure")
            value = _as_float(printed["value"], m["value"])
        prov = self.provenance(m, where)
        self.biomarker_ids.add(ident)
        return Biomarker(
            ident, measured=measured, value=value, printed=printed, **text, **prov,
            **self.role(m, where),
        )  # fmt: skip

    def modifier(self, obj: object, where: str) -> Modifier:
        m = self.r.mapping(
            obj,
            where,
            ["id", "kind", "source"],
            ["label", "unit", "measured", "median", "iqr", "range", "limit_of_quantification",
             "categories", "shares", *_PROVENANCE_V2],
        )  # fmt: skip
        ident = self.new_id(m, where)
        kind = self.r.choice(m["kind"], _join(where, "kind"), ("continuous", "categorical"))
        text = {k: self.r.text(m.get(k), _join(where, k), True) for k in ("label", "unit")}
        measured = self.r.text(m.get("measured"), _join(where, "measured"), optional=True)
        printed: dict[str, Printed] = {}
        out: dict[str, Any] = {}
        if kind == "continuous":
            for key in ("categories", "shares"):
                if key in m:
                    raise self.r.fail(_join(where, key), "only a categorical modifier has this")
            for key in ("median", "limit_of_quantification"):
                if m.get(key) is not None:
                    printed[key] = self.printed(m[key], _join(where, key), "measure")
                    out[key] = printed[key].value
            for key in ("iqr", "range"):
                if m.get(key) is None:
                    continue
                pair = m[key]
                if not isinstance(pair, list) or len(pair) != 2:
                    raise self.r.fail(_join(where, key), f"expected [low, high], got {_kind(pair)}")
                ps = [
                    self.printed(x, f"{_join(where, key)}[{i}]", "measure")
                    for i, x in enumerate(pair)
                ]
                if ps[0].value > ps[1].value:
                    raise self.r.fail(_join(where, key), f"{ps[0].value} is above {ps[1].value}")
                printed.update({f"{key}[{i}]": x for i, x in enumerate(ps)})
                out[key] = (ps[0].value, ps[1].value)
            med = out.get("median")
            for key in ("iqr", "range"):
                if med is not None and key in out and not out[key][0] <= med <= out[key][1]:
                    raise self.r.fail(_join(where, key), f"does not contain the median {med}")
        else:
            for key in ("median", "iqr", "range", "limit_of_quantification"):
                if key in m:
                    raise self.r.fail(_join(where, key), "only a continuous modifier has this")
            cw = _join(where, "categories")
            cats = self.r.items(m.get("categories"), cw)
            names = tuple(self.r.text(c, f"{cw}[{i}]") for i, c in enumerate(cats))
            if len(names) < 2 or len(set(names)) != len(names):
                raise self.r.fail(cw, "list at least two different categories")
            out["categories"] = names
            if m.get("shares") is not None:
                sw = _join(where, "shares")
                raw = self.r.mapping(m["shares"], sw, optional=names)
                for k, v in raw.items():
                    printed[f"shares.{k}"] = self.proportion(v, _join(sw, k))
                out["shares"] = {k: printed[f"shares.{k}"].value for k in raw}
                if len(raw) == len(names) and abs(sum(out["shares"].values()) - 1) > 0.011:
                    raise self.r.fail(sw, f"shares sum to {sum(out['shares'].values()):.3f}, not 1")
            self.categories[ident] = names
        prov = self.provenance(m, where)
        self.biomarker_ids.add(ident)
        return Modifier(
            ident, kind, measured=measured, printed=printed, **text, **out, **prov,
            **self.role(m, where),
        )  # fmt: skip

    def covariate(self, obj: object, where: str) -> CovariateSummary:
        m = self.r.mapping(
            obj, where, ["name", "statistic", "value", "source"], ["unit", "arm", *_PROVENANCE_V2]
        )
        name = self.r.text(m["name"], _join(where, "name"))
        stat = self.r.text(m["statistic"], _join(where, "statistic"))
        if stat == "proportion":
            p = self.proportion(m["value"], _join(where, "value"))
        else:
            p = self.printed(m["value"], _join(where, "value"), "measure")
        value = _as_float(p, m["value"])
        arm = self.arm_ref(m.get("arm", ALL_ARMS), _join(where, "arm"))
        self.new_id({"id": f"covariates.{name}.{stat}.{arm}"}, where)
        unit = self.r.text(m.get("unit"), _join(where, "unit"), optional=True)
        prov = self.provenance(m, where)
        return CovariateSummary(
            name, stat, value, unit=unit, arm=arm, printed={"value": p}, **prov,
            **self.role(m, where),
        )  # fmt: skip

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

    def km_curve(self, obj: object, where: str) -> DigitisedCurve:
        m = self.r.mapping(
            obj, where, ["arm", "curve", "at_risk", "source"], ["total_events", "locator", "note"]
        )
        arm = self.arm_ref(m["arm"], _join(where, "arm"), allow_all=False)
        events = None
        if m.get("total_events") is not None:
            events = self.count(m["total_events"], _join(where, "total_events"))
        if events is not None and events > self.arm_size(arm):
            raise self.r.fail(_join(where, "total_events"), f"{events} exceeds the arm size")
        prov = self.provenance(m, where)
        return DigitisedCurve(
            arm,
            self.r.text(m["curve"], _join(where, "curve")),
            self.r.text(m["at_risk"], _join(where, "at_risk")),
            prov["source"],
            events,
            prov.get("locator"),
            prov.get("note"),
        )

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
            "covariates", "eligibility", "statements", "assumptions", "km_curves",
            *_V2_SECTIONS,
        )  # fmt: skip
        # format and version first: a file of another format gets that message, not a field list
        self.r.mapping(doc, "", ["format", "format_version"], free=True)
        if doc["format"] != FORMAT_NAME:
            raise self.r.fail("format", f"expected {FORMAT_NAME!r}, got {_kind(doc['format'])}")
        version = doc["format_version"]
        if isinstance(version, bool) or version not in FORMAT_VERSIONS:
            raise self.r.fail(
                "format_version", f"unsupported version {version!r} (supported: 1, 2)"
            )
        self.version = int(version)
        self.r.mapping(doc, "", ["format", "format_version", "trial", "sources", "arms"], sections)
        self.v2_only(doc, "", _V2_SECTIONS)
        out: dict[str, Any] = {"format_version": self.version}
        out["sources"] = {s.key: s for s in self.section(doc, "sources", self.source)}
        if not out["sources"]:
            raise self.r.fail("sources", "list at least one source")
        self.trial_settings(doc["trial"])
        out["time_unit"] = self.unit
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
        landmark = out["follow_up"].get("landmark")
        if landmark is not None and not landmark.value > 0:
            raise self.r.fail(
                "follow_up.landmark.value",
                f"a landmark must be a positive time, got {landmark.value!r}",
            )
        # modifiers first: populations refer to them
        out["biomarkers"] = self.section(doc, "biomarkers", self.biomarker)
        out["modifiers"] = self.section(doc, "modifiers", self.modifier)
        out["events"] = self.section(doc, "events", self.event)
        out["survival"] = self.section(doc, "survival", self.landmark)
        out["event_shares"] = self.section(doc, "event_shares", self.event_share)
        out["hazard_ratios"] = self.section(doc, "hazard_ratios", self.hazard_ratio)
        out["medians"] = self.section(doc, "medians", self.median)
        out["comparisons"] = self.section(doc, "comparisons", self.arm_comparison)
        out["interactions"] = self.section(doc, "interactions", self.interaction)
        out["covariates"] = self.section(doc, "covariates", self.covariate)
        elig = self.r.mapping(doc.get("eligibility") or {}, "eligibility", free=True)
        out["eligibility"] = {
            k: self.eligibility(v, _join("eligibility", k)) for k, v in elig.items()
        }
        out["statements"] = self.section(doc, "statements", self.statement)
        out["assumptions"] = self.section(doc, "assumptions", self.assumption)
        out["km_curves"] = self.section(doc, "km_curves", self.km_curve)
        arms = [c.arm for c in out["km_curves"]]
        if len(set(arms)) != len(arms):
            raise self.r.fail("km_curves", "one curve per arm")
        return out

    def trial_settings(self, obj: object) -> None:
        """Trial-wide settings the figures depend on: time unit, alpha, primary test."""
        if not isinstance(obj, dict):
            return  # trial() reports it
        self.v2_only(obj, "trial", ("time_unit", "analysis_set", "alpha"))
        if obj.get("time_unit") is not None:
            unit = time_unit(obj["time_unit"])
            if unit is None:
                raise self.r.fail(
                    "trial.time_unit",
                    f"expected one of days, weeks, months, years; got {_kind(obj['time_unit'])}",
                )
            self.unit = unit
        elif isinstance(obj.get("endpoint"), dict):
            self.unit = time_unit(obj["endpoint"].get("time_unit"))  # version 1 place
        if obj.get("alpha") is not None:
            alpha = self.r.number(obj["alpha"], "trial.alpha")
            if not 0 < alpha < 1:
                raise self.r.fail("trial.alpha", f"alpha must lie in (0, 1), got {alpha!r}")
            self.alpha = alpha
        if self.version >= 2 and obj.get("primary_test") is not None:
            self.primary_test = self.r.choice(
                _test_name(obj["primary_test"]), "trial.primary_test", TESTS
            )

    def trial(self, obj: object, arms: list[Arm]) -> dict[str, Any]:
        m = self.r.mapping(
            obj,
            "trial",
            ["name"],
            ["title", "registration", "phase", "allocation", "blinding", "randomisation_strata",
             "endpoint", "treatment_arm", "control_arm", "primary_test", "note", "time_unit",
             "analysis_set", "alpha"],
        )  # fmt: skip
        self.r.text(m["name"], "trial.name")
        for role in ARM_ROLES:
            key = f"{role}_arm"
            with_role = [a.id for a in arms if a.role == role]
            if key in m:
                if m[key] not in with_role:
                    raise self.r.fail(
                        f"trial.{key}",
                        f"{m[key]!r} is not the arm with role {role} ({', '.join(with_role)})",
                    )
            elif len(with_role) > 1:
                raise self.r.fail(
                    f"trial.{key}",
                    f"several arms have role {role} ({', '.join(with_role)}): name the one of "
                    "the primary comparison",
                )
        for key in ("registration", "endpoint"):
            if key in m:
                self.r.mapping(m[key], f"trial.{key}", free=True)
        self.r.text(m.get("analysis_set"), "trial.analysis_set", optional=True)
        out = dict(m)
        if self.version >= 2 and self.unit is not None:
            out["time_unit"] = self.unit
        if self.version >= 2 and self.primary_test is not None:
            out["primary_test"] = self.primary_test
        return out


def _test_name(obj: object) -> object:
    """``log-rank`` and ``Log rank`` read as ``log_rank``."""
    if isinstance(obj, str):
        return obj.strip().lower().replace("-", "_").replace(" ", "_")
    return obj


def _as_float(p: Printed, raw: object) -> Any:
    """The number to store: the YAML number itself when bare (version 1 keeps its ints)."""
    return raw if p.bare and not isinstance(raw, bool) else p.value
