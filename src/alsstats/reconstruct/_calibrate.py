"""From a reported summary to reconstruction targets and a calibrated data-generating model.

Two jobs shared by the cohort reconstruction (:mod:`alsstats.reconstruct`) and trial design:

* :func:`targets_from_summary` turns every usable reported figure into a :class:`Target`: the
  statistic that reproduces it from a patient-level cohort and the interval of values that
  round to the figure as printed, from the one precision rule of
  :func:`alsstats.summary.parse_printed` (0.81 -> [0.805, 0.815); "0.8" -> [0.75, 0.85);
  "59%" -> [0.585, 0.595); "<0.001" -> [0, 0.001]; counts are exact), with the level of a CI
  and the test of a p.
* :func:`calibrate_model` ("level a") finds the :class:`~alsstats.models.DataGeneratingModel`
  whose *expected* fitted estimates equal the reported ones. The expected Cox estimate is taken
  as its probability limit (Struthers & Kalbfleisch 1986): the root of the population partial
  score, computed here by quadrature over biomarker and time. For the treatment x biomarker
  model, which the DGM satisfies, the limit is the true coefficient; for the treatment-only
  fits (overall, subgroups) it is the usual attenuated, non-collapsible hazard ratio. The
  finite-sample bias of a Cox log hazard ratio is O(1/events) and ignored (the tests check the
  argument by simulation through the engine).

Unpublished quantities are *assumptions*, read from the summary's ``assumptions:`` section and
overridable by id; :data:`CODE_ASSUMPTIONS` are the fallbacks for ties and the p-value test when a
summary does not name them.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

from ..errors import InputError, ReconstructionError
from ..models import DataGeneratingModel, WeibullBaseline, biomarker_cdf
from ..summary import Printed
from ._follow_up import follow_up_horizon
from ._joint import JOINT_P, JOINT_TESTS
from ._modifier import (
    KINDS,
    CategoryCodes,
    category_bounds,
    check_assumption_ids,
    fit_distribution,
    modifier_key,
    modifier_of,
    modifier_value,
    validate_modifier_values,
)

__all__ = [
    "CODE_ASSUMPTIONS",
    "BiomarkerGroup",
    "Target",
    "biomarker_groups",
    "calibrate_model",
    "resolve_assumptions",
    "targets_from_summary",
]

# Fallbacks for choices a summary's ``assumptions:`` does not name (MIROCALS names both).
CODE_ASSUMPTIONS: dict[str, Any] = {
    # R's coxph default; no tied death days exist in a rebuilt cohort, where Efron = Breslow.
    "ties": "efron",
    # p-values next to a CI are read as Wald tests on the log hazard ratio (as coxph's table).
    "p_value_test": "wald",
}


# ------------------------------------------------------------------------------- assumptions


def resolve_assumptions(summary: Any, overrides: Mapping[str, Any] | None = None) -> dict:
    """Assumption values by id: the summary's defaults, the code's, then ``overrides``.

    Assumptions about the modifier may be keyed by its id, the last part of its id or
    ``biomarker_`` (see :mod:`alsstats.reconstruct._modifier`); an override under any of these
    replaces the summary's value under another. One naming no known modifier is an error.
    """
    modifier = modifier_of(summary)
    values: dict[str, Any] = dict(CODE_ASSUMPTIONS)
    check_assumption_ids([a.id for a in getattr(summary, "assumptions", ()) or ()], modifier)
    for a in getattr(summary, "assumptions", ()) or ():
        values[a.id] = a.value
    check_assumption_ids(list(overrides or {}), modifier, "overrides")
    for key, value in (overrides or {}).items():
        kind = next((k for k in KINDS if key.endswith(f"_{k}")), None)
        if kind is not None and not key.startswith("age_"):
            old = modifier_key(values, modifier, kind)
            if old is not None and old != key:
                del values[old]
        elif key not in values:
            raise InputError("assumptions", key, f"unknown assumption; known: {sorted(values)}")
        values[key] = value
    validate_modifier_values(values, modifier)
    # the choices the engine implements; anything else would be silently ignored
    for key, allowed in (("ties", ("efron", "breslow")), ("p_value_test", ("wald",))):
        if values[key] not in allowed:
            raise InputError("assumptions", key, f"{values[key]!r}: use one of {list(allowed)}")
    return values


# ------------------------------------------------------------------------------- targets

# Covariates a rebuilt cohort holds, hence that an adjusted model may name.
ADJUSTABLE = ("age", "male")


def _decimals(value: float) -> int:
    text = repr(float(value))
    if "e" in text or "E" in text:
        return max(0, -int(text.split("e" if "e" in text else "E")[1]))
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


@dataclass(frozen=True)
class Target:
    """A reported figure and the cohort statistic that reproduces it.

    ``lower <= statistic < upper`` is the set of values that round to ``reported``; counts have
    ``lower == upper``. A p printed as a bound ("<0.001") has ``bounds`` (0, 0.001), ``value``
    their centre and ``reported`` the printed text. ``population`` holds ``kind`` (all /
    biomarker_range / model_term), and ``lower``/``upper`` for a range; ``model`` is
    "treatment" (treatment-only Cox) or "interaction" (treatment x biomarker Cox with the
    adjusted covariates). ``level`` is the confidence level of a CI bound (0.90 for a 90% CI)
    and ``test`` the test behind a p ("wald", "log_rank", ...).
    """

    id: str
    figure: str
    statistic: str
    reported: str
    value: float
    digits: int | None
    arm: str | None = None
    population: Mapping[str, Any] = field(default_factory=dict)
    model: str | None = None
    level: float | None = None
    test: str | None = None
    bounds: tuple[float, float] | None = None

    @property
    def half_width(self) -> float:
        if self.bounds is not None:
            return 0.5 * (self.bounds[1] - self.bounds[0])
        return 0.0 if self.digits is None else 0.5 * 10.0 ** (-self.digits)

    @property
    def lower(self) -> float:
        return self.bounds[0] if self.bounds is not None else self.value - self.half_width

    @property
    def upper(self) -> float:
        return self.bounds[1] if self.bounds is not None else self.value + self.half_width

    def rounds_to(self, x: float) -> bool:
        """Whether ``x`` written at the reported precision gives the reported figure."""
        if self.bounds is not None:
            return bool(np.isfinite(x)) and self.bounds[0] <= x <= self.bounds[1]
        if self.digits is None:
            return bool(np.isfinite(x)) and round(float(x)) == round(self.value)
        if not np.isfinite(x):
            return False
        return f"{x:.{self.digits}f}" == f"{self.value:.{self.digits}f}"

    def format(self, x: float) -> str:
        if not np.isfinite(x):
            return "nan"
        if self.bounds is not None and self.rounds_to(x):
            return self.reported  # e.g. "<0.001"
        return f"{x:.0f}" if self.digits is None else f"{x:.{self.digits}f}"


def _printed(figure: Any, name: str, value: float, minimum: int = 0) -> dict[str, Any]:
    """Target fields (reported, value, digits, bounds) of one printed figure.

    The precision comes from :mod:`alsstats.summary` (the figure's printed form; a bare
    number keeps the version-1 reading). ``minimum`` only applies to figures built in code
    without a printed form.
    """
    form = getattr(figure, "printed", {}).get(name) if figure is not None else None
    if not isinstance(form, Printed):
        d = max(minimum, _decimals(value))
        return {"reported": f"{value:.{d}f}", "value": float(value), "digits": d}
    if form.is_bound:
        return {
            "reported": form.text,
            "value": 0.5 * (form.lower + form.upper),
            "digits": form.decimals,
            "bounds": (form.lower, form.upper),
        }
    if form.kind == "exact":
        return {"reported": form.text, "value": float(form.value), "digits": None}
    d = form.decimals + (2 if form.percent else 0)
    text = form.text if not form.bare else f"{float(value):.{d}f}"
    return {"reported": text, "value": float(value), "digits": d}


def _survival_ci_targets(s: Any, arm: str | None, pop: Mapping[str, Any]) -> list[Target]:
    """The bounds of a survival figure's printed CI as targets, when its ``ci_method`` is
    stated (the Kaplan-Meier CI of :mod:`alsstats.reconstruct._km_landmark`); a CI whose
    method is unknown is recorded only (the verification says so)."""
    method = getattr(s, "ci_method", None)
    if s.ci is None or method is None or s.proportion is None:
        return []
    return [
        Target(
            f"{s.id}.ci_{side}",
            s.id,
            f"survival_ci_{side}",
            **_printed(s, f"ci[{k}]", s.ci[k], 2),
            arm=arm,
            population={**pop, "ci_method": method},
            level=s.level,
        )
        for k, side in enumerate(("lower", "upper"))
    ]


def _active(figure: Any, include: set[str]) -> bool:
    status = getattr(figure, "status", None) or "reported"
    if status == "superseded":
        return False
    if status == "conflicting":
        return figure.id in include
    return True


def targets_from_summary(
    summary: Any,
    assumptions: Mapping[str, Any] | None = None,
    *,
    include: set[str] | frozenset[str] = frozenset(),
) -> list[Target]:
    """Every reported figure a cohort can reproduce, as :class:`Target` objects.

    Parameters
    ----------
    summary
        A :class:`~alsstats.summary.ReportedSummary`.
    assumptions
        Overrides by assumption id (only ``pnfh_scale``-type choices matter here: they are
        recorded on interaction-model targets by the reconstruction).
    include
        Ids of figures with status "conflicting" to use as targets anyway (superseded figures
        are never used).

    Notes
    -----
    Precision is the figure's printed precision (:func:`alsstats.summary.parse_printed`): a
    number written as text keeps its digits ("0.60", "0.8", "58%"), a p bound becomes the
    interval it states, a bare YAML number is read as in format version 1 (ratios, p values
    and proportions with at least 2 decimals, since YAML drops a trailing zero: 0.30; ages as
    written). CI bounds carry their ``level``; p values their ``test``. Covariate summaries
    become targets only for the columns a cohort holds (age, male). Subgroups by a
    categorical modifier and ratios of hazard ratios (interaction terms) are not targets yet.
    """
    resolve_assumptions(summary, assumptions)  # validates the ids
    include = set(include)
    out: list[Target] = []
    arm_ids = {a.id for a in summary.arms}
    for a in summary.arms:
        out.append(
            Target(
                f"n_{a.id}",
                f"arms.{a.id}",
                "arm_size",
                str(int(a.n.value)),
                float(a.n.value),
                None,
                arm=a.id,
            )
        )
    categorical = modifier_of(summary)
    for e in summary.events:
        sub = getattr(e, "population", None)
        if getattr(sub, "kind", "all") != "all":
            if _active(e, include) and getattr(sub, "modifier", None) == categorical.id:
                # a category's events in one arm (its deaths by the end of follow-up)
                out.append(
                    Target(
                        e.id, e.id, "deaths", str(int(e.value)), float(e.value), None,
                        arm=None if e.arm not in arm_ids else e.arm,
                        population=_category_population(sub),
                    )
                )  # fmt: skip
            continue
        if _active(e, include):
            out.append(
                Target(
                    e.id,
                    e.id,
                    "deaths",
                    str(int(e.value)),
                    float(e.value),
                    None,
                    arm=None if e.arm not in arm_ids else e.arm,
                )
            )
    sized: set[tuple] = set()  # (arm, category) whose patient count is a target already
    for s in summary.survival:
        if not _active(s, include):
            continue
        arm = None if s.arm not in arm_ids else s.arm
        pop = {"kind": "all", "time": float(s.time)}
        sub = getattr(s, "population", None)
        if getattr(sub, "kind", "all") != "all":
            if getattr(sub, "kind", None) != "subgroup" or sub.modifier != categorical.id:
                continue  # a subgroup of another modifier: no cohort column holds it
            pop = {**_category_population(sub), "time": float(s.time)}
            if getattr(s, "n", None) is not None and (arm, sub.category) not in sized:
                # the printed denominator (6/17): the patients of the arm in the category
                sized.add((arm, sub.category))
                out.append(
                    Target(
                        f"{s.id}.n", s.id, "subgroup_size", str(int(s.n)), float(s.n), None,
                        arm=arm, population=_category_population(sub),
                    )
                )  # fmt: skip
        if getattr(s, "count", None) is not None:
            out.append(
                Target(
                    s.id,
                    s.id,
                    "alive_count",
                    str(int(s.count)),
                    float(s.count),
                    None,
                    arm=arm,
                    population=pop,
                )
            )
        if getattr(s, "proportion", None) is not None:
            out.append(
                Target(
                    f"{s.id}.proportion" if s.count is not None else s.id,
                    s.id,
                    "alive_proportion",
                    **_printed(s, "proportion", s.proportion, 2),
                    arm=arm,
                    population=pop,
                )
            )
        out += _survival_ci_targets(s, arm, pop)
    for m in getattr(summary, "medians", None) or ():
        if not _active(m, include) or m.value is None or m.arm not in arm_ids:
            continue  # "not reached", or the median of the whole trial
        if getattr(getattr(m, "population", None), "kind", "all") != "all":
            continue
        out.append(_median_target(m))
    for es in summary.event_shares:
        if not _active(es, include):
            continue
        for arm, share in es.shares.items():
            out.append(
                Target(
                    f"{es.id}.{arm}",
                    es.id,
                    "death_share",
                    **_printed(es, f"shares.{arm}", share, 2),
                    arm=arm,
                )
            )
    for hr in summary.hazard_ratios:
        if not _active(hr, include):
            continue
        pop = hr.population
        kind = pop.kind
        if kind == "biomarker_range" and pop.lower is None and pop.upper is None:
            continue  # a range not stated: nothing to rebuild
        if kind == "subgroup" and pop.modifier != categorical.id:
            continue  # a subgroup of another modifier: no cohort column holds it
        model = "interaction" if kind == "model_term" else "treatment"
        model_spec = hr.model if isinstance(hr.model, Mapping) else vars(hr.model)
        adjust: tuple[str, ...] = ()
        if kind != "model_term" and model_spec.get("adjusted", False):
            # reproducible only when the covariates are named and the cohort holds them
            named = tuple(model_spec.get("covariates") or ())
            if not named or not set(named) <= set(ADJUSTABLE):
                continue
            adjust = named
        population = {
            "kind": kind,
            "biomarker": getattr(pop, "biomarker", None),
            "lower": getattr(pop, "lower", None),
            "upper": getattr(pop, "upper", None),
            "term": getattr(pop, "term", None),
            "at": getattr(pop, "at", None),
            "per": _per(getattr(pop, "per", None) or getattr(hr, "per", None)),
            "adjust": adjust,
        }
        if kind == "subgroup":
            population.update(_category_population(pop))
        ci = tuple(hr.ci) if getattr(hr, "ci", None) is not None else None
        d = max(_decimals(v) for v in (hr.value, *(ci or ())))  # figures built in code only
        common = {"population": population, "model": model}
        out.append(
            Target(f"{hr.id}.hr", hr.id, "hr", **_printed(hr, "value", hr.value, d), **common)
        )
        if ci is not None:
            # a CI bound is rebuilt at its own level (a 90% CI as a 90% one)
            level = float(getattr(hr, "level", 0.95))
            for i, (name, stat) in enumerate(
                (("ci_lower", "hr_ci_lower"), ("ci_upper", "hr_ci_upper"))
            ):
                out.append(
                    Target(
                        f"{hr.id}.{name}",
                        hr.id,
                        stat,
                        **_printed(hr, f"ci[{i}]", ci[i], d),
                        **common,
                        level=level,
                    )
                )
        if getattr(hr, "p", None) is not None:
            out.append(
                Target(
                    f"{hr.id}.p",
                    hr.id,
                    "hr_p",
                    **_printed(hr, "p", hr.p),
                    **common,
                    test=getattr(hr, "test", None) or "wald",
                )
            )
        if kind in ("biomarker_range", "subgroup") and getattr(pop, "share", None) is not None:
            out.append(
                Target(
                    f"{hr.id}.share",
                    hr.id,
                    "subgroup_share",
                    **_printed(hr, "population.share", pop.share, 2),
                    population=population,
                )
            )
    out += _categorical_targets(summary, categorical, include)
    for c in summary.covariates:
        if c.name == "age" and c.statistic == "median":
            out.append(
                Target(
                    "age.median",
                    "covariates.age",
                    "covariate_median",
                    **_printed(c, "value", c.value),
                )
            )
        elif c.name == "male" and c.statistic == "proportion":
            out.append(
                Target(
                    "male.proportion",
                    "covariates.male",
                    "covariate_proportion",
                    **_printed(c, "value", c.value, 2),
                )
            )
    return out


def _median_target(m: Any) -> Target:
    """An arm's median survival time: the interval that prints as the figure, in the trial's
    time unit (a median written in days is converted by the loader: its interval too)."""
    form = m.printed_form("value")
    if not isinstance(form, Printed):
        return Target(m.id, m.id, "median", **_printed(m, "value", m.value), arm=m.arm)
    return Target(
        m.id,
        m.id,
        "median",
        form.text,
        float(m.value),
        form.decimals,
        arm=m.arm,
        bounds=(float(form.lower), float(form.upper)),
    )


def _category_population(pop: Any) -> dict[str, Any]:
    """A target's population for the patients of one category of a categorical modifier (the
    cohort column named by the modifier's id holds the category labels)."""
    return {"kind": "subgroup", "modifier": pop.modifier, "category": pop.category}


def _categorical_targets(summary: Any, modifier: Any, include: set[str]) -> list[Target]:
    """The shares of a categorical modifier's categories (as printed under ``modifiers:``)
    and its interactions: with two categories the ratio of HRs of the second category to the
    first, its CI and a Wald p; with any number a Wald or likelihood-ratio p of the joint test
    of the k-1 product terms (:mod:`alsstats.reconstruct._joint`)."""
    if not getattr(modifier, "categorical", False) or not modifier.present:
        return []
    out: list[Target] = []
    source = next(m for m in getattr(summary, "modifiers", ()) or () if m.id == modifier.id)
    for category, share in (modifier.shares or {}).items():
        pop = {"kind": "subgroup", "modifier": modifier.id, "category": category}
        out.append(
            Target(
                f"{modifier.id}.shares.{category}", modifier.id, "subgroup_share",
                **_printed(source, f"shares.{category}", share, 2), population=pop,
            )
        )  # fmt: skip
    term = f"treatment:{modifier.id}"
    population = {"kind": "model_term", "term": term, "modifier": modifier.id, "at": None,
                  "per": None, "lower": None, "upper": None, "adjust": ()}  # fmt: skip
    for i in getattr(summary, "interactions", ()) or ():
        if i.modifier != modifier.id or not _active(i, include):
            continue
        common = {"population": population, "model": "interaction"}
        joint = joint_p_target(i, modifier, population)
        if joint is not None:
            out.append(dataclasses.replace(joint, **_printed(i, "p", i.p)))
        if len(modifier.categories) != 2:
            continue  # no single ratio of HRs: a value or CI is recorded (see verify_cohort)
        if i.value is not None:
            out.append(Target(f"{i.id}.hr", i.id, "hr", **_printed(i, "value", i.value, 2),
                              **common))  # fmt: skip
            for k, (name, stat) in enumerate(
                (("ci_lower", "hr_ci_lower"), ("ci_upper", "hr_ci_upper"))
            ):
                if i.ci is not None:
                    out.append(
                        Target(
                            f"{i.id}.{name}", i.id, stat, **_printed(i, f"ci[{k}]", i.ci[k], 2),
                            **common, level=float(i.level),
                        )
                    )  # fmt: skip
        if i.p is not None and (i.test or "wald") == "wald":
            # a Wald p of the product term; another test's p (likelihood ratio, unknown) is
            # not a statistic of this fit
            out.append(Target(f"{i.id}.p", i.id, "hr_p", **_printed(i, "p", i.p), **common,
                              test="wald"))  # fmt: skip
    return out


def joint_p_target(interaction: Any, modifier: Any, population: Mapping[str, Any]) -> Target | None:
    """The target of an interaction's p when it is the joint test of the k-1 product terms
    that a cohort fit recomputes: any likelihood-ratio p, and a Wald p over three or more
    categories (with two the Wald p is the product term's own, ``hr_p``). None otherwise
    (no p, or a test not named or not recomputed: recorded only)."""
    k = len(modifier.categories)
    test = interaction.test or "unknown"
    if interaction.p is None or test not in JOINT_TESTS or (k == 2 and test == "wald"):
        return None
    return Target(
        f"{interaction.id}.p", interaction.id, JOINT_P, "", float(interaction.p), None,
        population={**population, "categories": k}, model="interaction", test=test,
    )  # fmt: skip


def with_category_codes(targets: list[Target], modifier: Any) -> list[Target]:
    """The targets with each category's code interval as its ``lower``/``upper`` (see
    :class:`~alsstats.reconstruct._modifier.CategoryCodes`): the rebuild's fits, windows and
    cells then handle a category as a biomarker group."""
    if not getattr(modifier, "categorical", False):
        return targets
    index = {c: k for k, c in enumerate(modifier.categories)}
    out = []
    for t in targets:
        pop = t.population
        if pop.get("kind") == "subgroup" and pop.get("modifier") == modifier.id:
            lo, hi = category_bounds(index[pop["category"]], len(index))
            t = dataclasses.replace(t, population={**pop, "lower": lo, "upper": hi})
        out.append(t)
    return out


def category_groups(modifier: Any, targets: list[Target]) -> list[BiomarkerGroup]:
    """One group per category of a categorical modifier, in the summary's order, with its
    share (printed under ``modifiers:``, else a subgroup HR's ``share``)."""
    shares = {
        t.population.get("category"): t.value
        for t in targets
        if t.statistic == "subgroup_share" and t.population.get("kind") == "subgroup"
    }
    k = len(modifier.categories)
    return [
        BiomarkerGroup(c, *category_bounds(i, k), shares.get(c), category=c)
        for i, c in enumerate(modifier.categories)
    ]


def modifier_groups(
    summary: Any, targets: list[Target], values: Mapping[str, Any]
) -> tuple[list[BiomarkerGroup], Any]:
    """The groups of the summary's modifier and its distribution: biomarker ranges and a
    fitted continuous distribution, or categories and their codes (targets with codes)."""
    modifier = modifier_of(summary)
    if modifier.categorical:
        groups = category_groups(modifier, targets)
        weights = [g.share if g.share is not None else float("nan") for g in groups]
        known = sum(w for w in weights if w == w)
        free = [w for w in weights if w != w]
        rest = max(1.0 - known, 0.0) / len(free) if free else 0.0
        weights = [w if w == w else rest for w in weights]
        if not sum(weights) > 0:
            weights = [1.0] * len(groups)
        return groups, CategoryCodes(modifier.categories, tuple(weights))
    groups = biomarker_groups(targets, values.get("remaining_share", "below"))
    return groups, biomarker_from_assumptions(groups, values, summary)


def _per(per: Any) -> float | None:
    """Modifier units per step of a ratio of HRs: a number, or the first number of a text
    ("per 1,000 pg/mL"); None (one unit) otherwise."""
    if per is None:
        return None
    if isinstance(per, int | float):
        return float(per)
    found = re.search(r"\d[\d,]*(\.\d+)?(e[-+]?\d+)?", str(per))
    return float(found.group(0).replace(",", "")) if found else None


def _is_interaction_term(t: Target) -> bool:
    """A model term naming the treatment x modifier product (``treatment:nfl``): its value is
    a ratio of hazard ratios per unit of the modifier, never the treatment HR."""
    term = t.population.get("term") or ""
    return ":" in str(term) or "*" in str(term)


def _term_at(t: Target, log_scale: bool) -> float | None:
    """Where the treatment term is read (``at``): None when it is the model's origin."""
    at = t.population.get("at")
    if at is None or at == 0 or (log_scale and at <= 0):
        return None
    return float(at)


# ------------------------------------------------------------------------------- groups


@dataclass(frozen=True)
class BiomarkerGroup:
    """An interval of the biomarker axis (``lower <= x < upper``) or the missing values."""

    name: str
    lower: float | None
    upper: float | None
    share: float | None  # reported share, if any
    missing: bool = False
    category: str | None = None  # a category of a categorical modifier (its code interval)


def biomarker_groups(targets: list[Target], remaining: str = "below") -> list[BiomarkerGroup]:
    """Partition of the biomarker axis by the cut-offs of the subgroup hazard ratios.

    The part of the axis in no reported subgroup (MIROCALS: below 750 pg/mL) is an explicit
    group; with ``remaining="missing"`` those patients have no measured value instead.
    """
    ranges = [
        t for t in targets if t.statistic == "hr" and t.population.get("kind") == "biomarker_range"
    ]
    cuts = sorted(
        {c for t in ranges for c in (t.population["lower"], t.population["upper"]) if c is not None}
    )
    shares = {
        (t.population["lower"], t.population["upper"]): t.value
        for t in targets
        if t.statistic == "subgroup_share" and t.population.get("category") is None
    }
    edges: list[float | None] = [None, *cuts, None]
    groups = []
    for lo, hi in itertools.pairwise(edges):
        share = shares.get((lo, hi))
        name = f"{'' if lo is None else f'{lo:g}'}-{'' if hi is None else f'{hi:g}'}"
        groups.append(BiomarkerGroup(name, lo, hi, share))
    remaining = "below" if str(remaining).startswith("below") else str(remaining)
    if remaining == "missing":
        unreported = [g for g in groups if g.share is None]
        if len(unreported) != 1:
            raise ReconstructionError(
                "remaining_share=missing needs exactly one biomarker range without a share"
            )
        g = unreported[0]
        groups = [
            BiomarkerGroup("missing", None, None, None, missing=True) if h is g else h
            for h in groups
        ]
    elif remaining != "below":
        raise InputError("assumptions", "remaining_share", f"{remaining!r}: not below/missing")
    return groups


def biomarker_from_assumptions(
    groups: list[BiomarkerGroup], values: Mapping[str, Any], summary: Any = None
) -> Any:
    """The modifier's distribution: through the two outer cut-offs whose shares the summary
    fixes; with fewer, through the one there is with an assumed spread (see
    :func:`alsstats.reconstruct._modifier.fit_distribution`)."""
    modifier = modifier_of(summary)
    key = modifier_key(values, modifier, "distribution") or "biomarker_distribution"
    spec = values.get(key) or {}
    spec = dict(spec) if isinstance(spec, Mapping) else {"family": spec} if spec else {}
    if modifier.median and modifier.iqr and not {"median", "sigma_log"} & set(spec):
        # a printed median (IQR): the lognormal with that median and quartiles
        q1, q3 = modifier.iqr
        if 0 < q1 < q3:
            spec.update(median=float(modifier.median), sigma_log=math.log(q3 / q1) / 1.349)
    return fit_distribution(groups, spec, key)


# ------------------------------------------------------------------------------- level a

_N_X = 160  # equal-probability biomarker nodes per group
# death-risk residual (in SEs of the reported risk) above which a log-scale calibration is
# taken to have stopped where every patient dies at once (see calibrate_model)
SATURATED_RISK_SE = 5.0
_N_T = 800  # time cells on [0, follow-up]


def _group_nodes(
    biomarker: Any, group: BiomarkerGroup, groups: list[BiomarkerGroup]
) -> tuple[np.ndarray, float]:
    """Biomarker nodes (mid-quantiles) of a group and its probability."""
    if group.missing:  # missing completely at random: the measured distribution
        lo, hi = biomarker_cdf(biomarker, min(g.lower for g in groups if g.lower is not None)), 1.0
    else:
        lo = 0.0 if group.lower is None else biomarker_cdf(biomarker, group.lower)
        hi = biomarker_cdf(biomarker, group.upper)
    q = lo + (np.arange(_N_X) + 0.5) / _N_X * (hi - lo)
    return np.asarray(biomarker.quantile(q), dtype=float), hi - lo


@dataclass
class _Population:
    """Survival of a model's population by arm, biomarker node and time cell."""

    model: DataGeneratingModel
    x: dict[str, np.ndarray]

    def survival(self, name: str, arm: int, t: np.ndarray) -> np.ndarray:
        return self.model.survival(
            t[None, :], np.full((self.x[name].size, 1), arm), self.x[name][:, None]
        )


def _plim_treatment_hr(
    model: DataGeneratingModel, x: np.ndarray, w: np.ndarray, pi1: float
) -> float:
    """Probability limit of the treatment-only Cox log HR among patients with nodes ``x``
    (weights ``w``): the root of the population partial score."""
    t = np.linspace(0.0, model.follow_up, _N_T + 1)
    w = w / w.sum()
    s1 = w @ model.survival(t[None, :], np.ones((x.size, 1)), x[:, None])
    s0 = w @ model.survival(t[None, :], np.zeros((x.size, 1)), x[:, None])
    df1, df0 = -np.diff(s1), -np.diff(s0)  # death mass per time cell
    r1, r0 = 0.5 * (s1[1:] + s1[:-1]), 0.5 * (s0[1:] + s0[:-1])  # at risk mid-cell

    def score(beta: float) -> float:
        a1, a0 = pi1 * r1 * math.exp(beta), (1 - pi1) * r0
        total = a1 + a0
        # where nobody is at risk there is no death mass either: any share will do
        e = np.divide(a1, total, out=np.full_like(total, 0.5), where=total > 0)
        return float(np.sum(pi1 * df1 * (1 - e) - (1 - pi1) * df0 * e))

    return optimize.brentq(score, -8.0, 8.0, xtol=1e-12)


def expected_estimates(
    model: DataGeneratingModel,
    targets: list[Target],
    groups: list[BiomarkerGroup],
    pi1: float = 0.5,
) -> dict[str, float]:
    """Expected value of each modelled target statistic (hr, deaths share) under ``model``."""
    nodes = {g.name: _group_nodes(model.biomarker, g, groups) for g in groups}
    out: dict[str, float] = {}
    tau = np.array([model.follow_up])
    for arm in (0, 1):
        dead = sum(
            w * (1 - model.survival(tau[None, :], np.full((x.size, 1), arm), x[:, None]).mean())
            for x, w in nodes.values()
        )
        out[f"death_risk_{arm}"] = float(dead)
    for t in targets:
        if t.statistic != "hr":
            continue
        if t.population["kind"] == "model_term":
            if _is_interaction_term(t):
                per = float(t.population.get("per") or 1.0)
                out[t.id] = model.log_hr_interaction * per
            else:
                at = _term_at(t, model.scale == "log")
                shift = 0.0 if at is None else float(model.transform(np.array(at)))
                out[t.id] = model.log_hr_treatment + model.log_hr_interaction * shift
            continue
        lo, hi = t.population.get("lower"), t.population.get("upper")
        members = [
            g
            for g in groups
            if not g.missing
            and (lo is None or (g.lower is not None and g.lower >= lo))
            and (hi is None or (g.upper is not None and g.upper <= hi))
        ]
        x = np.concatenate([nodes[g.name][0] for g in members])
        w = np.concatenate([np.full(_N_X, nodes[g.name][1]) for g in members])
        out[t.id] = _plim_treatment_hr(model, x, w, pi1)
    return out


def calibrate_model(
    summary: Any,
    assumptions: Mapping[str, Any] | None = None,
    deaths: Mapping[str, float] | None = None,
) -> DataGeneratingModel:
    """Level a: the data-generating model whose expected estimates equal the reported ones.

    Unknowns: the Weibull scale (shape from assumption ``baseline_hazard``), the treatment,
    biomarker and interaction log hazard ratios. Equations, weighted by their precision: risk of
    death by the landmark in each arm (reported deaths / arm size), the overall and subgroup
    treatment-only hazard ratios (probability limits, see module notes) and the treatment term
    of the interaction model. Least squares on the log scale, weights 1/SE^2 (SE from the
    reported CI where there is one, else sqrt(1/d1 + 1/d0) from the expected deaths).

    Examples
    --------
    >>> from alsstats.summary import load_reported_summary
    >>> from alsstats import data_path
    >>> m = calibrate_model(load_reported_summary(data_path("mirocals", "reported.yaml")))
    >>> round(math.exp(m.log_hr_treatment), 2)
    0.32
    """
    values = resolve_assumptions(summary, assumptions)
    targets = with_category_codes(targets_from_summary(summary, assumptions), modifier_of(summary))
    groups, biomarker = modifier_groups(summary, targets, values)
    base = values.get("baseline_hazard") or {}
    shape = float(base.get("shape", 1.0)) if isinstance(base, Mapping) else 1.0
    scale_kind = modifier_value(values, modifier_of(summary), "scale", "linear")
    if isinstance(biomarker, CategoryCodes):
        scale_kind = "linear"  # category codes: the log of code 0 is no modifier value
    follow_up = follow_up_horizon(summary, values).end
    n = {a.id: float(a.n.value) for a in summary.arms}
    trt, ctl = summary.treatment_arm.id, summary.control_arm.id
    if deaths is None:
        deaths = {t.arm: t.value for t in targets if t.statistic == "deaths" and t.arm is not None}
    if set(deaths) != {trt, ctl}:
        total = next((t.value for t in targets if t.statistic == "deaths"), None)
        if total is None:
            raise ReconstructionError(f"{summary}: no deaths reported; cannot calibrate")
        deaths = {trt: total / 2, ctl: total / 2}
    risk = {a: deaths[a] / n[a] for a in (trt, ctl)}
    hr_targets = [t for t in targets if t.statistic == "hr"]
    ci = {
        t.figure: t.value
        for t in targets
        if t.statistic in ("hr_ci_lower", "hr_ci_upper") and t.id.endswith("ci_lower")
    }
    ci_hi = {t.figure: t.value for t in targets if t.id.endswith("ci_upper")}
    unit = float(biomarker.median) if scale_kind == "linear" else 1.0
    if isinstance(biomarker, CategoryCodes):
        unit = 1.0  # effects per category step (the median code may be 0)

    def model_of(theta: np.ndarray) -> DataGeneratingModel:
        return DataGeneratingModel(
            WeibullBaseline(shape, follow_up * math.exp(theta[0])),
            biomarker,
            float(theta[1]),
            float(theta[2]) / unit,
            float(theta[3]) / unit,
            scale=scale_kind,
            follow_up=follow_up,
        )

    d_all = sum(deaths.values())

    def residuals(theta: np.ndarray) -> np.ndarray:
        m = model_of(theta)
        est = expected_estimates(m, targets, groups, n[trt] / (n[trt] + n[ctl]))
        res = []
        for arm, key in ((ctl, "death_risk_0"), (trt, "death_risk_1")):
            p = risk[arm]
            res.append((est[key] - p) / math.sqrt(max(p * (1 - p), 1e-4) / n[arm]))
        for t in hr_targets:
            if t.figure in ci and t.figure in ci_hi:
                se = (math.log(ci_hi[t.figure]) - math.log(ci[t.figure])) / (2 * 1.959964)
            else:
                se = 2.0 / math.sqrt(max(d_all, 4.0))
            res.append((est[t.id] - math.log(t.value)) / se)
        return np.asarray(res)

    model_term = next(
        (
            t
            for t in hr_targets
            if t.population["kind"] == "model_term" and not _is_interaction_term(t)
        ),
        None,
    )
    b_t0 = math.log(model_term.value) if model_term else -0.2
    mid = min(float(np.mean([v for v in risk.values()])), 0.999)  # everyone may die
    theta0 = np.array(
        [
            math.log(1.0 / max(-math.log(1 - mid), 1e-3)) / shape,
            b_t0,
            0.4,
            0.4,
        ]
    )
    # without a figure that depends on the modifier its effects are not identified: zero
    free = np.array([True, True, True, True])
    if not any(
        t.population["kind"] != "all" or t.population.get("lower") is not None for t in hr_targets
    ):
        free[2:] = False
        theta0[2:] = 0.0

    def full(theta_free: np.ndarray) -> np.ndarray:
        theta = theta0.copy()
        theta[free] = theta_free
        return theta

    lo_b, hi_b = np.array([-6.0, -5.0, -5.0, -5.0]), np.array([6.0, 5.0, 5.0, 5.0])

    def solve(start: np.ndarray) -> optimize.OptimizeResult:
        # bounds keep every trial model finite (a log HR of 5 per biomarker unit is absurd)
        return optimize.least_squares(
            lambda th: residuals(full(th)),
            start,
            bounds=(lo_b[free], hi_b[free]),
            xtol=1e-10,
            ftol=1e-12,
            diff_step=1e-6,
        )

    fit = solve(theta0[free])
    if fit.success and scale_kind == "log" and free[2]:
        # On the log scale the modifier's term at the median, log(median) times its log HR,
        # is large: from a start whose baseline does not offset it every patient dies at once,
        # the death risks no longer move with the parameters and the fit can stop there (the
        # risks missed by many SEs). Then once more from a start whose baseline offsets it
        # (only then: a calibration that meets the risks is kept as it was).
        if np.abs(residuals(full(fit.x))[:2]).max() > SATURATED_RISK_SE:
            g_med = float(np.log(biomarker.median))
            start = theta0.copy()
            start[0] += (start[2] + 0.5 * start[3]) * g_med / shape
            start[0] = float(np.clip(start[0], lo_b[0] + 1e-6, hi_b[0] - 1e-6))
            again = solve(start[free])
            if again.success and np.all(np.isfinite(again.x)) and again.cost < fit.cost:
                fit = again
    if not fit.success or not np.all(np.isfinite(fit.x)):
        raise ReconstructionError(f"calibration did not converge: {fit.message}")
    return model_of(full(fit.x))
