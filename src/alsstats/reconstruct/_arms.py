"""Rebuild a trial with several arms (a control and two or more treatment arms).

Every hazard ratio, comparison and interaction of a summary names the two arms it compares;
a trial with k arms is read as k - 1 pairs, each treatment arm with the control. Each pair is
planned as a two-arm rebuild of its own figures (:func:`_pair_summary`: the arms' counts,
landmarks and medians and the pair's comparisons): count proofs, deaths per arm, the
calibrated model and start cells. A start cohort is the primary pair's start (the trial's
``treatment_arm`` and ``control_arm``) with each other treatment arm's rows from its own
pair's start; one search then moves the whole cohort (moves keep every arm's size and deaths)
and scores each figure on the rows of the two arms it compares
(:func:`alsstats.reconstruct._fits._fit_arms`). A trial with two arms never comes here: its
path is unchanged.

Modifier figures (subgroups, interaction terms, counts by category) are rebuilt on the
primary comparison; the other treatment arms get modifier values in the proportions of the
trial's printed shares. A modifier figure on another comparison, or a figure comparing two
arms that are not a treatment arm and the control, raises one ReconstructionError naming it.
"""

from __future__ import annotations

import dataclasses
import time as _time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ReconstructionError
from ._calibrate import (
    Target,
    _printed,
    resolve_assumptions,
    targets_from_summary,
    with_category_codes,
)
from ._counts import _integer_count, _largest_remainder
from ._follow_up import follow_up_horizon
from ._medians import LOG_RANK
from ._modifier import modifier_of
from ._rebuild import Plan, _plan_rebuild, _starter, _strata_columns, _ticks
from ._result import Proof, Reconstruction, _finish
from ._search import _restarts
from ._start import Setup, _covariates, _free_day

__all__ = ["rebuild_arms"]


@dataclass
class _ArmsSetup(Setup):
    """The search's setup of a trial with several arms: death times are drawn from the
    model calibrated on the patient's own pair (arm codes as in :class:`Design.arms`)."""

    pair_setups: tuple[Setup, ...] = ()

    def draw_day(self, arm: float, x: float, rng: np.random.Generator) -> int:
        code = int(arm)
        if code == 0:
            return self.pair_setups[0].draw_day(0.0, x, rng)
        return self.pair_setups[code - 1].draw_day(1.0, x, rng)


def _comparison(figure: Any) -> tuple[str, str]:
    c = figure.comparison
    return str(c["treatment"]), str(c["control"])


def _modifier_figures(summary: Any) -> list[tuple[str, tuple[str, str] | None, str | None]]:
    """(figure id, pair compared, arm) of every figure that depends on the modifier."""
    out = []
    for hr in summary.hazard_ratios:
        if getattr(hr.population, "kind", "all") != "all":
            out.append((hr.id, _comparison(hr), None))
    for i in getattr(summary, "interactions", None) or ():
        out.append((i.id, _comparison(i), None))
    for c in getattr(summary, "comparisons", None) or ():
        if getattr(c.population, "kind", "all") != "all":
            out.append((c.id, _comparison(c), None))
    for f in [*summary.events, *summary.survival]:
        if getattr(getattr(f, "population", None), "kind", "all") != "all":
            out.append((f.id, None, f.arm))
    return out


def _check_shapes(summary: Any) -> None:
    """One clear error for a figure the several-arms rebuild does not handle."""
    control, primary = summary.control_arm.id, summary.treatment_arm.id
    for section in ("hazard_ratios", "comparisons", "interactions"):
        for f in getattr(summary, section, None) or ():
            if getattr(f, "status", None) == "superseded":
                continue
            trt, ctl = _comparison(f)
            if ctl != control:
                raise ReconstructionError(
                    f"{section}.{f.id}: compares {trt} with {ctl}; a trial with several arms "
                    f"is rebuilt as each treatment arm against the control ({control}): a "
                    "comparison of two other arms is not supported yet"
                )
    for ident, pair, arm in _modifier_figures(summary):
        if pair not in (None, (primary, control)) or arm not in (None, "all", primary, control):
            where = f"{pair[0]} vs {pair[1]}" if pair else f"arm {arm}"
            raise ReconstructionError(
                f"{ident}: a modifier figure on {where}; with several arms modifier figures "
                f"(subgroups, interactions, counts by category) are rebuilt only on the "
                f"primary comparison ({primary} vs {control}): not supported yet"
            )


def _pair_summary(summary: Any, trt: str) -> Any:
    """The summary of one treatment arm and the control: their arms, counts, landmarks and
    medians, and the figures comparing exactly these two (figures of the whole trial, of
    other arms and the covariates' summaries are the combined cohort's, not the pair's)."""
    ctl = summary.control_arm.id
    pair = {trt, ctl}

    def compares(f: Any) -> bool:
        return _comparison(f) == (trt, ctl)

    # a category's share printed with the pair's own hazard ratio is of the pair's patients;
    # the modifier's share of the whole trial then does not apply to them
    own = {
        (h.population.modifier, h.population.category)
        for h in summary.hazard_ratios
        if compares(h)
        and getattr(h.population, "kind", "all") == "subgroup"
        and getattr(h.population, "share", None) is not None
    }
    modifiers = [
        dataclasses.replace(
            m, shares={c: v for c, v in (m.shares or {}).items() if (m.id, c) not in own}
        )
        if getattr(m, "shares", None)
        else m
        for m in getattr(summary, "modifiers", None) or ()
    ]
    return dataclasses.replace(
        summary,
        modifiers=modifiers,
        trial={**summary.trial, "treatment_arm": trt, "control_arm": ctl},
        arms=[a for a in summary.arms if a.id in pair],
        events=[e for e in summary.events if e.arm in pair],
        survival=[s for s in summary.survival if s.arm in pair],
        event_shares=[],
        hazard_ratios=[h for h in summary.hazard_ratios if compares(h)],
        medians=[m for m in summary.medians if m.arm in pair],
        comparisons=[c for c in summary.comparisons if compares(c)],
        interactions=[i for i in summary.interactions if compares(i)],
        covariates=[],
        km_curves=[],
    )


def _comparison_targets(summary: Any, include: frozenset[str]) -> list[Target]:
    """Log-rank p values printed without a hazard ratio (``comparisons``) on the whole
    population: a statistic of the two arms' fit (other tests are left to ``verify``)."""
    out = []
    for c in getattr(summary, "comparisons", None) or ():
        status = getattr(c, "status", None) or "reported"
        if status == "superseded" or (status == "conflicting" and c.id not in include):
            continue
        if c.test not in LOG_RANK or c.time is not None:
            continue
        if getattr(c.population, "kind", "all") != "all":
            continue
        population = {"kind": "all", "lower": None, "upper": None, "adjust": ()}
        out.append(
            Target(
                f"{c.id}.p", c.id, "hr_p", **_printed(c, "p", c.p), population=population,
                model="treatment", test="log_rank",
            )
        )  # fmt: skip
    return out


def _count_proofs(summary: Any, targets: list[Target], deaths: Mapping[str, int]) -> list[Proof]:
    """Counts of the whole trial (arm ``all``) against the deaths per arm the pairs fixed."""
    total = sum(deaths.values())
    proofs = []
    for t in targets:
        if t.statistic == "deaths" and t.arm is None and not t.population.get("category"):
            if int(t.value) != total:
                ids = tuple(
                    c.id
                    for c in targets
                    if c.statistic == "deaths" and c.arm and not c.population.get("category")
                )
                proofs.append(
                    Proof(
                        (t.id, *ids),
                        f"count arithmetic: the deaths per arm add up to {total}, the trial's "
                        f"total is printed as {int(t.value)}",
                    )
                )
    return proofs


def _extra_groups(
    summary: Any,
    targets: list[Target],
    primary: Setup,
    primary_counts: np.ndarray,
    n_extra: list[int],
) -> list[np.ndarray]:
    """Patients per modifier group in each other treatment arm: the trial's printed shares
    (``modifiers``) less the primary pair's patients, the rest in the primary's proportions."""
    n_all = sum(int(a.n.value) for a in summary.arms)
    groups = primary.groups
    whole = {
        t.population.get("category"): t
        for t in targets
        if t.statistic == "subgroup_share" and t.figure == modifier_of(summary).id
    }
    need = primary_counts.astype(float) * sum(n_extra) / max(primary_counts.sum(), 1)
    fixed = np.zeros(len(groups), bool)
    for g, grp in enumerate(groups):
        t = whole.get(grp.category) if grp.category is not None else None
        if t is not None:
            need[g] = max(_integer_count(t, n_all, t.value) - int(primary_counts[g]), 0)
            fixed[g] = True
    left = sum(n_extra) - need[fixed].sum()
    if (~fixed).any():
        free = need[~fixed]
        need[~fixed] = free * max(left, 0) / free.sum() if free.sum() > 0 else max(left, 0)
    total = _largest_remainder(np.maximum(need, 0), sum(n_extra))
    out, done = [], np.zeros(len(groups), int)
    for k, n in enumerate(n_extra):
        share = total - done if k == len(n_extra) - 1 else total * n / sum(n_extra)
        counts = _largest_remainder(np.maximum(share, 0), n, cap=total - done)
        done += counts
        out.append(counts)
    return out


def rebuild_arms(
    summary: Any,
    *,
    seed: int = 0,
    assumptions: Mapping[str, Any] | None = None,
    max_seconds: float = 60.0,
    progress: bool = False,
    include: frozenset[str] = frozenset(),
    max_cpu_seconds: float | None = None,
) -> Reconstruction:
    """:func:`alsstats.reconstruct.rebuild_cohort` of a summary with three or more arms."""
    _check_shapes(summary)
    control, primary = summary.control_arm.id, summary.treatment_arm.id
    others = [a.id for a in summary.arms if a.id not in (control, primary)]
    for a in others:
        if next(x for x in summary.arms if x.id == a).role != "treatment":
            raise ReconstructionError(
                f"arms.{a}: a trial with several arms needs one control and treatment arms "
                f"({a} has role {next(x for x in summary.arms if x.id == a).role!r})"
            )
    codes = (control, primary, *others)
    values = resolve_assumptions(summary, assumptions)
    modifier = modifier_of(summary)
    targets = with_category_codes(
        targets_from_summary(summary, assumptions, include=include), modifier
    )
    targets += _comparison_targets(summary, include)
    n = {a.id: int(a.n.value) for a in summary.arms}
    # one time grid for every pair: enough free steps for every death of the trial
    landmark = follow_up_horizon(summary, values).end
    known = {t.arm: int(t.value) for t in targets if t.statistic == "deaths" and t.arm}
    d_max = sum(known.values()) if set(known) >= set(codes) else sum(n.values())
    ticks, _ = _ticks(landmark, d_max)

    plans, starts, searches = [], [], []
    for trt in (primary, *others):
        plan, deaths, search = _plan_rebuild(
            _pair_summary(summary, trt), seed, assumptions, include, ticks=ticks
        )
        start = _starter(plan, deaths, None, search)
        plans.append((plan, deaths))
        starts.append(start)
        searches.append(search)
    first = plans[0][0]

    pairs: dict[str, tuple[str, str]] = {}
    for section in ("hazard_ratios", "comparisons", "interactions"):
        for f in getattr(summary, section, None) or ():
            pairs[f.id] = _comparison(f)
    pairs = {t.id: pairs[t.figure] for t in targets if t.figure in pairs}
    search_targets: dict[str, Target] = {}
    margins: dict[str, float] = {}
    for plan, _ in plans:
        search_targets.update({t.id: t for t in plan.design.targets})
        margins.update(plan.design.margins)
    compared = {c.id for c in summary.comparisons}
    for t in targets:
        if t.statistic == "hr_p" and t.test == "log_rank" and t.figure in compared:
            search_targets[t.id] = t
        elif t.statistic == "subgroup_share" and t.id in pairs:
            # the pair's share of a subgroup: moves of the modifier between arms change it; a
            # ratio of counts, no margin (as a proportion alive)
            search_targets[t.id] = t
            margins[t.id] = 1.0
    design = dataclasses.replace(
        first.design,
        targets=list(search_targets.values()),
        margins=margins,
        arms=codes,
        pairs=pairs,
    )
    base = {f.name: getattr(first.setup, f.name) for f in dataclasses.fields(Setup)}
    setup = _ArmsSetup(**base, pair_setups=tuple(p.setup for p, _ in plans))

    # rows in the summary's order of arms; covariates of the whole trial
    order = [a.id for a in summary.arms]
    cov = _covariates(tuple(n[a] for a in order), targets, values, np.random.default_rng(seed))
    covariates = design.covariates
    extra_counts = _extra_groups(
        summary,
        targets,
        first.setup,
        first.setup.group_count,
        [n[a] for a in others],
    )

    def start(rng: np.random.Generator, attempt: int = 0) -> dict[str, np.ndarray]:
        parts: dict[str, dict[str, np.ndarray]] = {}
        for p, (trt, begin) in enumerate(zip((primary, *others), starts, strict=True)):
            child = rng if p == 0 else np.random.default_rng(rng.integers(0, 2**63, 2))
            state = begin(child, attempt)
            keep = ("time", "death", "modifier", "group")
            mine = state["trt"] == 1
            parts[trt] = {k: state[k][mine] for k in keep}
            if p == 0:
                parts[control] = {k: state[k][~mine] for k in keep}
            else:
                _regroup(parts[trt], extra_counts[p - 1], first.setup, child)
        state = {
            k: np.concatenate([parts[a][k] for a in order])
            for k in ("time", "death", "modifier", "group")
        }
        state["trt"] = np.concatenate([np.full(n[a], float(codes.index(a))) for a in order])
        _distinct_days(state, setup.end)
        for c in covariates:
            state[c] = cov[c].astype(float)
        return state

    proofs, conflicts = [], []
    for plan, _ in plans:
        proofs += [p for p in plan.proofs if p not in proofs]
        conflicts += [c for c in plan.conflicts if c not in conflicts]
    deaths = {primary: plans[0][1][0], control: plans[0][1][1]}
    deaths.update({trt: plans[k + 1][1][0] for k, trt in enumerate(others)})
    if not any(p.setup.free_deaths for p, _ in plans):
        for proof in _count_proofs(summary, targets, deaths):
            proofs.append(proof)
            conflicts += [i for i in proof.figures if i not in conflicts]
    plan = Plan(
        summary, targets, first.values, design, setup, first.model, seed, cov, first.windows,
        conflicts, proofs, modifier, _strata_columns(values), first.horizon,
    )  # fmt: skip
    clock = _time.perf_counter()
    state, steps, _ = _restarts(
        design, setup, start, seed, max_seconds, progress,
        max_cpu_seconds=max_cpu_seconds, **searches[0],
    )  # fmt: skip
    result = _finish(plan, state, steps, _time.perf_counter() - clock)
    return result


def _regroup(
    part: dict[str, np.ndarray], counts: np.ndarray, setup: Setup, rng: np.random.Generator
) -> None:
    """Modifier groups and values of another treatment arm's rows (no figure of theirs
    depends on the modifier): ``counts`` patients per group of the primary pair's groups, at
    random, values drawn within the group given the patient's outcome."""
    size = part["death"].size
    group = rng.permutation(np.repeat(np.arange(len(setup.groups)), counts))[:size]
    part["group"] = group
    modifier = np.empty(size)
    for g in range(len(setup.groups)):
        for d in (1, 0):
            rows = np.flatnonzero((group == g) & (part["death"] == d))
            if rows.size:
                modifier[rows] = setup.draw_modifier(g, rng, 1, d, rows.size)
    part["modifier"] = modifier


def _distinct_days(state: dict[str, np.ndarray], end: int) -> None:
    """Death times as distinct steps across the arms (each pair's start keeps its own
    distinct): a later death on a step already used moves to the nearest free one."""
    used: set[int] = set()
    for i in np.flatnonzero(state["death"] == 1):
        day = int(state["time"][i])
        if day in used:
            day = _free_day(day, used, end)
            state["time"][i] = day
        used.add(day)
