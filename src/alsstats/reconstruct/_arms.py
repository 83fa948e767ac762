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

Modifier figures (subgroups, interaction terms, counts by category) are rebuilt on every
treatment arm's comparison with the control that prints them, when they use the modifier
(same categories or cut-offs) of the primary comparison's: such an arm's rows keep the groups
and modifier values of its own pair's start (its plan's cells fit its subgroup figures), a few
of them moved between groups so that the whole trial's counts print as the modifier's shares
(:func:`_balance`); the search then fits every pair on the shared control rows. A treatment
arm without modifier figures gets modifier values in the proportions of the trial's printed
shares (:func:`_regroup`). A hazard ratio or log-rank p of two treatment arms (whole
population) is a figure of the search on their rows, treatment the first arm named, with no
plan of its own. Any other shape (a modifier figure whose modifier or category the primary
comparison does not print, or of two treatment arms) raises one ReconstructionError naming
the figure. Trials with none of these figures take the path they took before (unchanged
cohorts).
"""

from __future__ import annotations

import dataclasses
import time as _time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ReconstructionError
from ._arms_cells import balanced_sizes, cells_of, shared_control_cells, shifted_sizes
from ._calibrate import (
    Target,
    _printed,
    resolve_assumptions,
    targets_from_summary,
    with_category_codes,
)
from ._counts import _integer_count, _largest_remainder
from ._fits import _window_room
from ._follow_up import follow_up_horizon
from ._medians import LOG_RANK
from ._modifier import modifier_of
from ._rebuild import Plan, _plan_rebuild, _starter, _strata_columns, _ticks
from ._result import Proof, Reconstruction, _finish
from ._search import _restarts
from ._start import Setup, _covariates, _free_day, _start

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


def _population_key(figure: Any) -> tuple:
    """What a modifier figure selects: kind, modifier, category and cut-offs."""
    pop = getattr(figure, "population", None)
    return tuple(getattr(pop, k, None) for k in ("kind", "modifier", "category", "lower", "upper"))


def _check_shapes(summary: Any) -> set[str]:
    """One clear error for a figure the several-arms rebuild does not handle; returns the
    treatment arms (other than the primary) whose comparison with the control has modifier
    figures of its own (rebuilt from their own pair's start, see :func:`rebuild_arms`)."""
    control, primary = summary.control_arm.id, summary.treatment_arm.id
    treatment = {a.id for a in summary.arms if a.role == "treatment"}
    for section in ("hazard_ratios", "comparisons", "interactions"):
        for f in getattr(summary, section, None) or ():
            if getattr(f, "status", None) == "superseded":
                continue
            trt, ctl = _comparison(f)
            if ctl == control:
                continue
            modifier = section == "interactions" or (
                getattr(getattr(f, "population", None), "kind", "all") != "all"
            )
            if not ({trt, ctl} <= treatment) or modifier:
                raise ReconstructionError(
                    f"{section}.{f.id}: compares {trt} with {ctl}; a trial with several arms "
                    f"is rebuilt as each treatment arm against the control ({control}), and "
                    "a comparison of two treatment arms on the whole population (a hazard "
                    "ratio or a log-rank p, no subgroup): this figure is not supported yet"
                )
    # modifier figures on another comparison: only with the primary comparison's modifier
    # (same categories or cut-offs), whose start cells and groups every pair then shares
    figures = {
        f.id: f
        for section in ("hazard_ratios", "comparisons", "interactions", "events", "survival")
        for f in getattr(summary, section, None) or ()
    }
    mods = _modifier_figures(summary)
    primary_keys = {
        _population_key(figures[i])
        for i, pair, arm in mods
        if pair == (primary, control) or arm in (primary, control)
    }
    primary_interaction = any(
        pair == (primary, control) for i, pair, _ in mods if _is_interaction(summary, i)
    )
    own: set[str] = set()
    for ident, pair, arm in mods:
        if pair in (None, (primary, control)) and arm in (None, "all", primary, control):
            continue
        where = f"{pair[0]} vs {pair[1]}" if pair else f"arm {arm}"
        same = (
            primary_interaction
            if _is_interaction(summary, ident)
            else _population_key(figures[ident]) in primary_keys
        )
        if not same:  # (a modifier figure of two treatment arms was refused above)
            raise ReconstructionError(
                f"{ident}: a modifier figure on {where}; with several arms modifier figures "
                f"(subgroups, interactions, counts by category) are rebuilt on a comparison "
                f"with the control when they use the primary comparison's ({primary} vs "
                f"{control}) modifier, categories and cut-offs: the primary comparison has "
                "no modifier figure of that kind"
            )
        own.add(pair[0] if pair else arm)
    return own


def _is_interaction(summary: Any, ident: str) -> bool:
    return any(i.id == ident for i in getattr(summary, "interactions", None) or ())


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
    own = _check_shapes(summary)
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
    for k, trt in enumerate(others):
        mine = plans[k + 1][0].setup.groups
        if trt in own and [_group_key(g) for g in mine] != [
            _group_key(g) for g in first.setup.groups
        ]:
            raise ReconstructionError(
                f"{trt} vs {control}: its modifier figures split the modifier into other "
                f"groups than the primary comparison's ({primary} vs {control}); with several "
                "arms every comparison's subgroups must use the same categories or cut-offs"
            )

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
        if t.id in pairs and pairs[t.id][1] != control and t.statistic.startswith("hr"):
            # a hazard ratio (CI, p) of two treatment arms: a figure of the search on their
            # rows, treatment the first arm named; no pair plans for it
            search_targets[t.id] = t
        elif t.statistic == "hr_p" and t.test == "log_rank" and t.figure in compared:
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
    regrouped = [a for a in others if a not in own]
    held = first.setup.group_count.astype(float)
    for k, trt in enumerate(others):
        if trt in own:  # its rows keep its own pair's groups: about its share of the pair's
            s = plans[k + 1][0].setup
            held = held + s.group_count * s.n_trt / max(s.n_trt + s.n_ctl, 1)
    extra_counts = _extra_groups(
        summary, targets, first.setup, np.rint(held).astype(int), [n[a] for a in regrouped]
    )
    totals = _trial_counts(summary, targets, first.setup) if own else None
    joint = _joint_starts(plans, starts, own, others, totals, seed)

    def start(rng: np.random.Generator, attempt: int = 0) -> dict[str, np.ndarray]:
        parts: dict[str, dict[str, np.ndarray]] = {}
        if joint:
            # the control's cells chosen for every pair (see _joint_starts)
            cells = joint[(attempt // 2) % len(joint)]
            for p, trt in enumerate((primary, *others)):
                child = rng if p == 0 else np.random.default_rng(rng.integers(0, 2**63, 2))
                state = _start(plans[p][0].setup, cells[p], child)
                mine = state["trt"] == 1
                parts[trt] = {k: state[k][mine] for k in ("time", "death", "modifier", "group")}
                if p == 0:
                    parts[control] = {
                        k: state[k][~mine] for k in ("time", "death", "modifier", "group")
                    }
            return _assemble(parts, order, codes, n, setup, covariates, cov)
        for p, (trt, begin) in enumerate(zip((primary, *others), starts, strict=True)):
            child = rng if p == 0 else np.random.default_rng(rng.integers(0, 2**63, 2))
            state = begin(child, attempt)
            keep = ("time", "death", "modifier", "group")
            mine = state["trt"] == 1
            parts[trt] = {k: state[k][mine] for k in keep}
            if p == 0:
                parts[control] = {k: state[k][~mine] for k in keep}
            elif trt not in own:
                _regroup(parts[trt], extra_counts[regrouped.index(trt)], first.setup, child)
        if totals is not None:
            _balance(parts, others, totals, first.setup, rng)
        return _assemble(parts, order, codes, n, setup, covariates, cov)

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


def _assemble(
    parts: Mapping[str, Mapping[str, np.ndarray]],
    order: list[str],
    codes: tuple[str, ...],
    n: Mapping[str, int],
    setup: Setup,
    covariates: tuple[str, ...],
    cov: Mapping[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """One start cohort from each arm's rows, in the summary's order of arms."""
    state = {
        k: np.concatenate([parts[a][k] for a in order])
        for k in ("time", "death", "modifier", "group")
    }
    state["trt"] = np.concatenate([np.full(n[a], float(codes.index(a))) for a in order])
    _distinct_days(state, setup.end)
    for c in covariates:
        state[c] = cov[c].astype(float)
    return state


def _joint_starts(
    plans: list[tuple[Plan, tuple[int, int]]],
    starts: list[Any],
    own: set[str],
    others: list[str],
    totals: Mapping[int, int] | None,
    seed: int,
) -> list[list[tuple[np.ndarray, np.ndarray]]] | None:
    """Cells of the start cohorts when subgroups are printed on every comparison with the
    control: the control's deaths per group chosen for all pairs at once
    (:func:`alsstats.reconstruct._arms_cells.shared_control_cells`), each pair's sizes its own
    plan's (the other treatment arms' balanced to the trial's printed shares). None for any other
    shape (a treatment arm without modifier figures, a staggered follow-up, counts that fix
    cells): those start as before."""
    if not own or set(others) - own or totals is None:
        return None
    for plan, _ in plans:
        s = plan.setup
        if plan.horizon is not None or s.fixed_size or s.fixed_dead or s.free_deaths:
            return None
    groups = len(plans[0][0].setup.groups)
    pair_cells = [cells_of(begin(np.random.default_rng([seed, 0]), 0), groups) for begin in starts]
    control = pair_cells[0][0][1]
    sizes = balanced_sizes(control, [c[0][0] for c in pair_cells], totals)
    if sizes is None:
        return None
    # each treatment arm's planned deaths per group, within its balanced sizes
    planned = [
        (
            _largest_remainder(np.maximum(dead[0], 0.01), int(dead[0].sum()), size),
            dead[1],
        )
        for (_, dead), size in zip(pair_cells, sizes, strict=True)
    ]
    # the treatment arms' splits of the groups a few patients either way (the trial's counts
    # kept), every split's best joint cells, the best of all
    windows = [p.windows for p, _ in plans]
    rooms = [_window_room(p.design) for p, _ in plans]
    windowed = sorted(set().union(*(set(w) for w in windows)))
    ranked = []
    for split in shifted_sizes(sizes, windowed):
        dead = [
            _largest_remainder(np.maximum(t, 0.01), int(t.sum()), size)
            for (t, _), size in zip(planned, split, strict=True)
        ]
        pairs = [(t, planned[0][1]) for t in dead]
        found = shared_control_cells(control, split, pairs, windows, rooms)
        ranked += found or []
    ranked.sort(key=lambda r: r[0])  # stable: ties keep the proportional split first
    return [cells for _, cells in ranked[:3]] or None


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


def _group_key(group: Any) -> tuple:
    return (group.lower, group.upper, group.missing, group.category)


def _trial_counts(summary: Any, targets: list[Target], setup: Setup) -> dict[int, int]:
    """Patients per modifier group in the whole trial, for the groups whose share of the
    trial is printed (``modifiers``: the count that prints as the share)."""
    n_all = sum(int(a.n.value) for a in summary.arms)
    whole = {
        t.population.get("category"): t
        for t in targets
        if t.statistic == "subgroup_share" and t.figure == modifier_of(summary).id
    }
    out = {}
    for g, grp in enumerate(setup.groups):
        t = whole.get(grp.category) if grp.category is not None else None
        if t is not None:
            out[g] = _integer_count(t, n_all, t.value)
    return out


def _balance(
    parts: dict[str, dict[str, np.ndarray]],
    others: list[str],
    totals: Mapping[int, int],
    setup: Setup,
    rng: np.random.Generator,
) -> None:
    """Move patients of the non-primary treatment arms between modifier groups until the
    whole trial's count of each printed group is the one its share prints as. Each pair's own
    start fits its pair's share, not the trial's; the primary pair (and the control, which
    every pair shares) keep their start cells. Moves of the search then keep these counts
    (modifier swaps exchange two patients' groups)."""
    groups = np.concatenate([parts[a]["group"] for a in parts])
    count = np.bincount(groups.astype(int), minlength=len(setup.groups))
    for _ in range(sum(int(a["group"].size) for a in parts.values())):
        over = [g for g, k in totals.items() if count[g] > k]
        under = [g for g, k in totals.items() if count[g] < k]
        free = [g for g in range(len(setup.groups)) if g not in totals]
        src = over[0] if over else (free[0] if under and free else None)
        dst = under[0] if under else (free[0] if over and free else None)
        if src is None or dst is None:
            return
        rows = [(a, i) for a in others for i in np.flatnonzero(parts[a]["group"] == src)]
        if not rows:
            return
        a, i = rows[int(rng.integers(len(rows)))]
        part = parts[a]
        part["group"][i] = dst
        part["modifier"][i] = setup.draw_modifier(dst, rng, 1, int(part["death"][i]), 1)[0]
        count[src] -= 1
        count[dst] += 1


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
