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
    POPULATION_KINDS,
    STATUSES,
    Arm,
    Assumption,
    Biomarker,
    CovariateSummary,
    DigitisedCurve,
    EligibilityRange,
    EventCount,
    EventShare,
    Figure,
    HazardRatio,
    Population,
    Source,
    Statement,
    SurvivalLandmark,
)
from ._reader import _join, _kind, _Reader

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "SHARE_SUM_TOLERANCE"]

FORMAT_NAME = "alsstats.reported-summary"
FORMAT_VERSION = 1
SHARE_SUM_TOLERANCE = 0.011  # shares printed to 2 decimals may miss 1 by rounding


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

    def km_curve(self, obj: object, where: str) -> DigitisedCurve:
        m = self.r.mapping(
            obj, where, ["arm", "curve", "at_risk", "source"], ["total_events", "locator", "note"]
        )
        arm = self.arm_ref(m["arm"], _join(where, "arm"), allow_all=False)
        events = self.r.count(m.get("total_events"), _join(where, "total_events"), optional=True)
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
        out["km_curves"] = self.section(doc, "km_curves", self.km_curve)
        arms = [c.arm for c in out["km_curves"]]
        if len(set(arms)) != len(arms):
            raise self.r.fail("km_curves", "one curve per arm")
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
