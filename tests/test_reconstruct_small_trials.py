"""Joint start cells of the restarts (alsstats.reconstruct._split): the dynamic programme against
exhaustive search, and the cells of simulated trials against the truth's."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from alsstats.reconstruct import random_shape, rebuild_cohort, simulate_summary
from alsstats.reconstruct._fits import _window_room
from alsstats.reconstruct._rebuild import _plan_rebuild
from alsstats.reconstruct._split import SplitTable, _exact_cost, joint_cells, split_table
from alsstats.reconstruct._start import _cells, _hr_implied
from alsstats.summary import summary_from_dict


def _table(rng: np.random.Generator, groups: int, windowed: int, trade: bool = False) -> SplitTable:
    """Random candidates (offsets within +-2, costs uniform) for the first ``windowed`` groups;
    with ``trade``, every group is free and the candidates also move patients between groups."""
    size = rng.integers(8, 15, (2, groups))
    dead = rng.integers(3, 7, (2, groups))
    rows = {}
    for g in range(windowed):
        offs = rng.integers(-2, 3, (12, 4))
        if not trade:
            offs[:, 1] = 0
        # only cells a split table could hold (no arm with more deaths than patients)
        s_t, s_c = size[0, g] + offs[:, 0], size[1, g] + offs[:, 1] - offs[:, 0]
        d_t, d_c = dead[0, g] + offs[:, 2], dead[1, g] + offs[:, 3]
        valid = (d_t <= s_t) & (d_c <= s_c)
        rows[g] = np.c_[offs, rng.random(12)][valid].astype(float)
    return SplitTable(size, dead, rows, frozenset(range(groups)) if trade else frozenset())


def _cost_of(table: SplitTable, size: np.ndarray, dead: np.ndarray) -> float:
    """The table cost of the cells (inf when a group's cells are no candidate)."""
    total = 0.0
    for g, rows in table.rows.items():
        key = (
            size[0, g] - table.size[0, g],
            size[:, g].sum() - table.size[:, g].sum(),
            dead[0, g] - table.dead[0, g],
            dead[1, g] - table.dead[1, g],
        )
        hit = [r[4] for r in rows if tuple(r[:4].astype(int)) == key]
        if not hit:
            return np.inf
        total += min(hit)
    return total


@pytest.mark.parametrize("trade", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_joint_cells_is_the_least_cost_combination(seed: int, trade: bool) -> None:
    """Every group windowed: the programme's cells cost exactly the least of every combination
    of candidates that keeps the per-arm totals and, with groups free to trade patients, the
    groups' total (exhaustive search, 12^3 combinations)."""
    table = _table(np.random.default_rng(seed), 3, 3, trade)
    best = np.inf
    for combo in itertools.product(*(table.rows[g] for g in range(3))):
        offs = np.array([c[:4] for c in combo])
        if (offs.sum(axis=0) == 0).all():
            best = min(best, sum(c[4] for c in combo))
    got = joint_cells(table)
    if not np.isfinite(best):
        assert got is None
        return
    assert got is not None
    size, dead = got
    # totals per arm kept, and group sizes unless the groups trade patients
    if not trade:
        np.testing.assert_array_equal(size.sum(axis=0), table.size.sum(axis=0))
    np.testing.assert_array_equal(size.sum(axis=1), table.size.sum(axis=1))
    np.testing.assert_array_equal(dead.sum(axis=1), table.dead.sum(axis=1))
    assert _cost_of(table, size, dead) == pytest.approx(best, abs=1e-12)


@pytest.mark.parametrize("trade", [False, True])
def test_joint_cells_groups_without_window_take_the_rest(trade: bool) -> None:
    """A group without a window absorbs the windowed groups' offsets (and, when free, the
    patients they take or give): totals per arm and group sizes hold, and no cell has more
    deaths than patients."""
    rng = np.random.default_rng(7)
    for _ in range(20):
        table = _table(rng, 4, 2, trade)
        got = joint_cells(table, rng, jitter=1.0)
        assert got is not None  # the free groups can absorb +-4 patients and deaths
        size, dead = got
        if not trade:
            np.testing.assert_array_equal(size.sum(axis=0), table.size.sum(axis=0))
        np.testing.assert_array_equal(size.sum(axis=1), table.size.sum(axis=1))
        np.testing.assert_array_equal(dead.sum(axis=1), table.dead.sum(axis=1))
        assert (dead >= 0).all() and (dead <= size).all() and (size >= 0).all()


def _truth_cells(
    i: int, family: int = 2026, tables: list | None = None, pilots: list | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Family trial i (validation/round_trip.py, seed ``family``): the simulated trial's
    patients and deaths per arm and group, and the joint cells of the rebuild's plan (its
    split table appended to ``tables``, the pilot's cells to ``pilots``)."""
    rng = np.random.default_rng([family, i])
    doc, truth = simulate_summary(random_shape(rng), rng)
    plan, deaths, _ = _plan_rebuild(summary_from_dict(doc, f"trial-{i}"), i, None, frozenset())
    setup = plan.setup
    x = np.asarray(truth["trial"]["modifier"], float)
    arm = np.asarray(truth["trial"]["arm"])
    event = np.asarray(truth["trial"]["event"])
    size = np.zeros((2, len(setup.groups)), int)
    dead = np.zeros_like(size)
    for g, grp in enumerate(setup.groups):
        lo = -np.inf if grp.lower is None else grp.lower
        hi = np.inf if grp.upper is None else grp.upper
        inside = (x >= lo) & (x < hi)
        for a, value in enumerate((1, 0)):
            size[a, g] = (inside & (arm == value)).sum()
            dead[a, g] = (inside & (arm == value) & (event == 1)).sum()
    ranges = {
        (t.population.get("lower"), t.population.get("upper"))
        for t in plan.design.targets
        if t.model == "treatment" and t.statistic == "hr"
    }
    floored = np.array([(g.lower, g.upper) in ranges and not g.missing for g in setup.groups])
    pilot = _cells(setup, deaths, np.random.default_rng([i, 1 << 20]), plan.windows, floored)
    if pilots is not None:
        pilots.append(pilot)
        return size, dead, pilot  # the pilot's cells only: no split table
    free = frozenset(g for g, grp in enumerate(setup.groups) if grp.share is None)
    table = split_table(pilot[0], pilot[1], plan.windows, _window_room(plan.design), i, free=free)
    if tables is not None:
        tables.append(table)
    joint = joint_cells(table)
    assert joint is not None
    return size, dead, joint


def test_joint_cells_find_a_split_the_subgroup_cis_pin() -> None:
    """Simulated trial (family trial 68: 541 patients 2:1, two groups of a binary modifier,
    both printed with CI and p): the truth's split of the first group is 196/80, 12 patients
    away from the proportional 184/92 the pilot starts from; its deaths per arm are 31/16 and
    54/47. The joint cells find the truth's deaths per arm exactly and its split within 2
    patients (tolerances: the SE model scores 48 random orders per candidate)."""
    size, dead, (j_size, j_dead) = _truth_cells(68)
    np.testing.assert_array_equal(size, [[196, 165], [80, 100]])  # the simulation's truth
    np.testing.assert_array_equal(j_dead, dead)
    assert np.abs(j_size - size).max() <= 2


def test_pilot_cells_follow_the_printed_hr_when_the_models_split_misses() -> None:
    """Family 2028 trial 154 (647 patients 3:2, two groups printed with HR, CI and share:
    0.25 (0.14-0.45) below the cut-off, 1.01 (0.62-1.62) above). The calibrated model put
    33/48 deaths (treatment/control) in the low group, whose crude ratio cannot give HR 0.25
    with most patients alive, and no pair near it meets the CI; the rebuild then missed the
    figures for 120 s. Pairs implied by the printed HR (deaths per arm over time at risk)
    and CI (1/d_t + 1/d_c = SE^2) give the truth's deaths per cell within 2 (tolerance: the
    pilot's SE model scores 48 random orders per pair)."""
    pilots: list = []
    size, dead, _ = _truth_cells(154, 2028, pilots=pilots)
    np.testing.assert_array_equal(dead, [[17, 42], [40, 28]])  # the simulation's truth
    p_size, p_dead = pilots[0]
    np.testing.assert_array_equal(p_dead.sum(axis=1), dead.sum(axis=1))
    assert np.abs(p_dead - dead).max() <= 2
    assert np.abs(p_size - size).max() <= 5  # the split between arms: no figure fixes it


def test_hr_implied_deaths_meet_a_simulated_groups_fit() -> None:
    """A group of 300 patients 1:1, exponential deaths with HR 0.4, censored at a time where
    about 20% of the control arm has died. Given the lifelines fit's own (log HR, SE), the
    implied deaths per arm are the simulated ones within 15% (tolerance: the equations take
    deaths at half time and the information of a rare-event Cox fit)."""
    rng = np.random.default_rng(5)
    n = 150
    trt = np.r_[np.ones(n), np.zeros(n)]
    t = rng.exponential(1.0, 2 * n) / np.where(trt == 1, 0.4, 1.0)
    end = -np.log(0.8)
    event = (t < end).astype(int)
    time_ = np.minimum(t, end)
    b, se = _efron_fit(time_, event, trt)
    d_t, d_c = _hr_implied(np.array([[n], [n]]), 0, (b, se))
    assert d_t == pytest.approx(event[trt == 1].sum(), rel=0.15)
    assert d_c == pytest.approx(event[trt == 0].sum(), rel=0.15)


def test_log_scale_calibration_meets_the_death_risks() -> None:
    """Family trial 160 (309 patients 3:2, log-scale modifier, median 2010): the calibrated
    model's risk of death by the landmark in each arm, by Monte Carlo over the modifier's
    distribution (200,000 draws, SE < 0.0011), is the reported deaths / patients within one
    binomial SE of it (the calibration weighs the risks against the hazard ratios), and the
    modifier's log HR per log unit is within 0.2 of the simulation's 0.3 (before, the fit
    stopped where every patient dies at once: risk 1.0, log HR 1.9)."""
    from alsstats.reconstruct import calibrate_model

    rng = np.random.default_rng([2026, 160])
    doc, _ = simulate_summary(random_shape(rng), rng)
    summary = summary_from_dict(doc, "trial-160")
    model = calibrate_model(summary)
    x = model.biomarker.sample(200_000, np.random.default_rng(1))
    deaths = {e["arm"]: e["value"] for e in doc["events"] if e["arm"] != "all"}
    for arm_id, arm in (("active", 1.0), ("control", 0.0)):
        n = next(a["n"]["value"] for a in doc["arms"] if a["id"] == arm_id)
        risk = float(np.mean(1 - model.survival(np.array(720.0), np.full(x.size, arm), x)))
        p = deaths[arm_id] / n
        assert risk == pytest.approx(p, abs=float(np.sqrt(p * (1 - p) / n)))
    assert model.log_hr_biomarker == pytest.approx(0.3, abs=0.2)


def test_candidates_reach_the_proportional_split_beyond_the_pilots() -> None:
    """Family 2027 trial 62 (142 patients 3:2, three groups, each printed with CI and p): the
    pilot split the middle group 35/16, 4 patients from the proportional 31/20, and the truth's
    25/25 lay 10 from the pilot's, outside a reach of 2.5 binomial SDs (9) around it. With the
    reach also around the proportional split, the truth's cells of every windowed group are
    candidates. (The rebuild was then feasible in about 15 s of CPU; since the search relaxes
    its margin in its last stage (af2e277) it misses group_2.p again after 120 s: no
    end-to-end test here, see the validation's seed-2027 report.)"""
    tables: list[SplitTable] = []
    size, dead, _ = _truth_cells(62, 2027, tables)
    table = tables[0]
    assert size[:, 1].tolist() == [25, 25] and table.size[:, 1].tolist() == [35, 16]
    for g, rows in table.rows.items():
        key = (
            size[0, g] - table.size[0, g],
            dead[0, g] - table.dead[0, g],
            dead[1, g] - table.dead[1, g],
        )
        assert key in {tuple(r) for r in rows[:, [0, 2, 3]].astype(int).tolist()}, g


def _efron_fit(time: np.ndarray, event: np.ndarray, trt: np.ndarray) -> tuple[float, float]:
    """(log HR, SE) by lifelines (Efron ties), independent of the package's engine."""
    df = pd.DataFrame({"time": time, "event": event, "trt": trt})
    cph = CoxPHFitter().fit(df, "time", "event", fit_options={"precision": 1e-12})
    return float(cph.params_["trt"]), float(cph.standard_errors_["trt"])


def test_exact_cost_counts_a_tie_between_the_arms() -> None:
    """Cells of 5 treated (3 dead) and 6 control (2 dead): the window is the lifelines fit of
    deaths on days 1 (treated), 2 (control), 3 (treated and control) and 4 (treated). The exact
    cost meets it (~0) through its tie variants; no order of distinct days comes within 1% of
    its SE."""
    arms = np.array([1, 0, 1, 0, 1] + [1, 1] + [0] * 4, float)
    time = np.array([1, 2, 3, 3, 4] + [5.0] * 6)
    event = np.array([1] * 5 + [0] * 6)
    window = _efron_fit(time, event, arms)
    assert _exact_cost(s_t=5, s_c=6, dt=3, dc=2, window=window) == pytest.approx(0, abs=1e-6)
    distinct = []
    for dead_trt in itertools.combinations(range(5), 3):
        a = np.array([1.0 if k in dead_trt else 0.0 for k in range(5)] + [1, 1] + [0] * 4)
        distinct.append(_efron_fit(np.array([1, 2, 3, 4, 5] + [6.0] * 6), event, a))
    b, se = np.array(distinct).T
    dist = ((se - window[1]) / (0.01 * window[1])) ** 2 + (
        (b - window[0]) / (0.01 * window[1])
    ) ** 2
    assert dist.min() > 1.0


def test_joint_cells_of_a_small_group_with_a_tied_pair_of_deaths() -> None:
    """Family 2027 trial 181 (98 patients 1:1, days, log scale, two of four groups printed with
    CI and p): the lowest group's truth is 10/12 patients with 3/2 deaths, two of them (one per
    arm) on day 320. No order of distinct days prints its HR 2.13 (0.36-12.79), so the exact
    score ranked the truth's cells 4th and the joint cells were 6/16; with tie variants they
    are the truth's, and the rebuild (not found in 120 s of CPU before) takes about 3 s."""
    size, dead, (j_size, j_dead) = _truth_cells(181, 2027)
    np.testing.assert_array_equal(j_size[:, 0], size[:, 0])
    np.testing.assert_array_equal(j_dead[:, 0], dead[:, 0])
    rng = np.random.default_rng([2027, 181])
    doc, _ = simulate_summary(random_shape(rng), rng)
    rec = rebuild_cohort(summary_from_dict(doc, "trial-181"), seed=181, max_cpu_seconds=60)
    assert rec.outcome_ == "feasible", rec.message()
