"""Joint start cells of the restarts (alsstats.reconstruct._split): the dynamic programme against
exhaustive search, and the cells of simulated trials against the truth's."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from alsstats.reconstruct import random_shape, simulate_summary
from alsstats.reconstruct._fits import _window_room
from alsstats.reconstruct._rebuild import _plan_rebuild
from alsstats.reconstruct._split import SplitTable, joint_cells, split_table
from alsstats.reconstruct._start import _cells
from alsstats.summary import summary_from_dict


def _table(rng: np.random.Generator, groups: int, windowed: int) -> SplitTable:
    """Random candidates (offsets within +-2, costs uniform) for the first ``windowed`` groups."""
    size = rng.integers(8, 15, (2, groups))
    dead = rng.integers(3, 7, (2, groups))
    rows = {}
    for g in range(windowed):
        offs = rng.integers(-2, 3, (12, 3))
        rows[g] = np.c_[offs[:, 0], np.zeros(12), offs[:, 1:], rng.random(12)].astype(float)
    return SplitTable(size, dead, rows)


def _cost_of(table: SplitTable, size: np.ndarray, dead: np.ndarray) -> float:
    """The table cost of the cells (inf when a group's cells are no candidate)."""
    total = 0.0
    for g, rows in table.rows.items():
        key = (
            size[0, g] - table.size[0, g],
            dead[0, g] - table.dead[0, g],
            dead[1, g] - table.dead[1, g],
        )
        hit = [r[4] for r in rows if tuple(r[[0, 2, 3]].astype(int)) == key]
        if not hit:
            return np.inf
        total += min(hit)
    return total


@pytest.mark.parametrize("seed", range(6))
def test_joint_cells_is_the_least_cost_combination(seed: int) -> None:
    """Every group windowed: the programme's cells cost exactly the least of every combination
    of candidates that keeps the per-arm totals (exhaustive search, 12^3 combinations)."""
    table = _table(np.random.default_rng(seed), 3, 3)
    best = np.inf
    for combo in itertools.product(*(table.rows[g] for g in range(3))):
        offs = np.array([c[[0, 2, 3]] for c in combo])
        if (offs.sum(axis=0) == 0).all():
            best = min(best, sum(c[4] for c in combo))
    got = joint_cells(table)
    if not np.isfinite(best):
        assert got is None
        return
    assert got is not None
    size, dead = got
    # totals per arm and group sizes kept
    np.testing.assert_array_equal(size.sum(axis=0), table.size.sum(axis=0))
    np.testing.assert_array_equal(size.sum(axis=1), table.size.sum(axis=1))
    np.testing.assert_array_equal(dead.sum(axis=1), table.dead.sum(axis=1))
    assert _cost_of(table, size, dead) == pytest.approx(best, abs=1e-12)


def test_joint_cells_groups_without_window_take_the_rest() -> None:
    """A group without a window absorbs the windowed groups' offsets: totals per arm and group
    sizes hold, and no cell has more deaths than patients."""
    rng = np.random.default_rng(7)
    for _ in range(20):
        table = _table(rng, 4, 2)
        got = joint_cells(table, rng, jitter=1.0)
        assert got is not None  # the free groups can absorb +-4 patients and deaths
        size, dead = got
        np.testing.assert_array_equal(size.sum(axis=0), table.size.sum(axis=0))
        np.testing.assert_array_equal(size.sum(axis=1), table.size.sum(axis=1))
        np.testing.assert_array_equal(dead.sum(axis=1), table.dead.sum(axis=1))
        assert (dead >= 0).all() and (dead <= size).all() and (size >= 0).all()


def _truth_cells(i: int) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Family trial i (validation/round_trip.py, seed 2026): the simulated trial's patients and
    deaths per arm and group, and the pilot's cells and joint cells of the rebuild's plan."""
    rng = np.random.default_rng([2026, i])
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
    free = frozenset(g for g, grp in enumerate(setup.groups) if grp.share is None)
    table = split_table(pilot[0], pilot[1], plan.windows, _window_room(plan.design), i, free=free)
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
