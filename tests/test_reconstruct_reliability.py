"""Causes of search stalls found on the validation family (issue 13, item 4), each with a test.

1. The pilot took death cells whose predicted subgroup SE was up to 2% off the window's
   centre, but a CI printed to 2 decimals leaves only a few tenths of a percent of the SE at
   the window's log HR, and with few censorings the cells set the SE almost alone: no order of
   deaths then prints the CI. Restarts now use cells inside the window's room
   (:func:`_se_room`, checked here against the closed form).
2. The interaction model's CIs leave a thin band in (coefficient, SE) that moves of one
   patient's modifier value step over; restarts also stretch or tilt a group's values by a
   small factor (:func:`_stretch`, checked here on its closed form).
3. The search required every figure inside 0.95 of its rounding half-width, but the truth
   itself may meet a figure only at 0.97 when the cells pin the SE. The acceptance rule is
   now: prints as reported and inside ACCEPT_MARGIN (0.999) for Cox figures, a margin that
   independent engines' disagreement (measured here) stays far inside; MARGIN (0.9) is only
   the search's preference.
4. A group with few deaths has a Cox fit that takes few values (one per order of its deaths'
   arms when survivors are censored at one time), and a trial with tied death times prints
   a fit none of those orders gives (shown here by enumeration). The search kept death
   times distinct; restarts from the third attempt on also tie deaths (``tie_time``), in
   trials with such groups or with more deaths than whole time units (heavy ties).
5. On the log scale the interaction model's treatment HR at the origin is an extrapolation
   far from the data: a CI bound printed to 2 decimals pins log HR + z SE to ~1e-4 while the
   HR pins log HR to ~1e-2, a thin segment in (log HR, SE) that random moves of single values
   leave. A polish step (a damped Gauss-Newton step on the shift and stretch of each block
   of log modifier values: deaths or survivors of one arm in one group) moves along it.

Each end-to-end test rebuilds a trial of the validation family (``validation/round_trip.py``,
trial i drawn from the stream (2026, i)) that the search missed before: the truth meets every
printed figure, so "feasible" is the only right outcome.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from lifelines import CoxPHFitter
from scipy import stats

from alsstats.reconstruct import TrialShape, random_shape, rebuild_cohort, simulate_summary
from alsstats.reconstruct._calibrate import Target
from alsstats.reconstruct._fits import (
    ACCEPT_MARGIN,
    MARGIN,
    _exact_window,
    _se_room,
    _subgroup_windows,
    _window,
    meets,
)
from alsstats.reconstruct._moves import (
    POLISH_MIN_VALUE,
    _move_blocks,
    _propose,
    _stretch,
    _value_blocks,
)
from alsstats.reconstruct._search import RELAXED_MARGIN, _relaxed, _wants_polish
from alsstats.summary import summary_from_dict
from alsstats.survival import fit_cox_batch

Z = float(stats.norm.ppf(0.975))


def _figure(hr: float, lo: float, hi: float, p: float) -> list[Target]:
    common = {"figure": "g", "model": "treatment", "population": {"kind": "all"}}
    return [
        Target(id="g.hr", statistic="hr", reported=f"{hr}", value=hr, digits=2, **common),
        Target(id="g.lo", statistic="hr_ci_lower", reported=f"{lo}", value=lo, digits=2, **common),
        Target(id="g.hi", statistic="hr_ci_upper", reported=f"{hi}", value=hi, digits=2, **common),
        Target(id="g.p", statistic="hr_p", reported=f"{p}", value=p, digits=2, **common),
    ]


def test_se_room_is_the_closed_form_interval_at_the_windows_log_hr():
    """At log HR b the SEs that print the CI bounds and p are an intersection of intervals
    (U, L the bounds, h their half-width 0.005, m the margin): (log(U -+ m h) - b) / z,
    (b - log(L +- m h)) / z and |b| / isf((P +- m h_p) / 2). Tolerance: the grid step, 1e-5
    of the SE."""
    targets = _figure(1.16, 0.62, 2.19, 0.64)  # trial 23's group_2
    b, se_c = _window(targets)
    m, h = MARGIN, 0.005
    lo = max(
        (math.log(2.19 - m * h) - b) / Z,
        (b - math.log(0.62 + m * h)) / Z,
        abs(b) / stats.norm.isf((0.64 - m * h) / 2),
    )
    hi = min(
        (math.log(2.19 + m * h) - b) / Z,
        (b - math.log(0.62 - m * h)) / Z,
        abs(b) / stats.norm.isf((0.64 + m * h) / 2),
    )
    assert hi > lo
    assert _se_room(targets) == pytest.approx((hi - lo) / 2 / se_c, abs=2e-5)
    # the cause: far less room than the 2% of the SE the pilot accepted
    assert _se_room(targets) < 0.005


def test_stretch_scales_the_spread_of_log_values_and_keeps_the_group():
    rng = np.random.default_rng(3)
    x = np.round(np.exp(rng.normal(5.0, 0.3, 400)), 1)
    for seed in range(20):
        new = _stretch(x, (100.0, 400.0), False, np.random.default_rng(seed))
        assert ((new >= 100.1) & (new <= 399.9)).all()
        assert np.allclose(new, np.round(new, 1))
        inside = (x > 110) & (x < 380)  # away from the clipped edges
        g, g_new = np.log(x[inside]), np.log(new[inside])
        centre = np.median(np.log(x))
        ratio = (g_new - centre) / np.where(np.abs(g - centre) > 0.05, g - centre, np.nan)
        ratio = ratio[np.isfinite(ratio)]
        # one factor exp(e), |e| in [0.002, 0.05], up to the 0.1 rounding of the values
        assert math.exp(-0.05) - 0.01 < np.median(ratio) < math.exp(0.05) + 0.01
        assert np.abs(ratio - np.median(ratio)).max() < 0.05
    tilted = _stretch(x, (0.0, math.inf), True, np.random.default_rng(1))
    factor = np.median(tilted / x)
    assert 0.95 < factor < 1.05 and factor != 1.0


def _family_trial(i: int):
    rng = np.random.default_rng([2026, i])
    shape = random_shape(rng)
    doc, _ = simulate_summary(shape, rng)
    return shape, summary_from_dict(doc, f"trial-{i}")


@pytest.mark.slow
def test_subgroup_ci_needs_cells_inside_the_windows_room():
    """Family trial 23 (n 746, 2:1, three groups, two with CI and p): the pilot's cells put
    group 2's SE 1.2% off; the search stalled with its CI one to three half-widths out."""
    shape, summary = _family_trial(23)
    assert shape.allocation == (2, 1) and len(shape.with_ci) == 2
    rec = rebuild_cohort(summary, seed=23, max_seconds=600)  # a safety cap: the steps decide
    assert rec.outcome_ == "feasible", rec.message()


@pytest.mark.slow
def test_interaction_model_band_needs_small_group_moves():
    """Family trial 22 (log scale, interaction term and treatment HR at the origin): the model
    stage stalled with the treatment HR two half-widths out and p one."""
    shape, summary = _family_trial(22)
    assert shape.model_term and shape.interaction_term and shape.scale == "log"
    rec = rebuild_cohort(summary, seed=22, max_seconds=600)  # a safety cap: the steps decide
    assert rec.outcome_ == "feasible", rec.message()


def test_acceptance_rule_prints_right_with_room_for_another_engine():
    """Hand-worked: HR 0.84 printed to 2 decimals has half-width 0.005; 0.97 of it (0.84485)
    is accepted, 0.9995 of it (0.8449975) prints right but is too close to the rounding
    edge for a Cox figure, not for a count share; 1.01 of it does not print right."""
    hr = _figure(0.84, 0.45, 1.58, 0.59)[0]
    assert meets(hr, 0.84 + 0.97 * 0.005)
    assert hr.rounds_to(0.84 + 0.9995 * 0.005) and not meets(hr, 0.84 + 0.9995 * 0.005)
    assert not meets(hr, 0.84 + 1.01 * 0.005)
    share = Target(
        id="s", figure="s", statistic="alive_proportion", reported="0.84", value=0.84, digits=2
    )
    assert meets(share, 0.84 + 0.9995 * 0.005)


def test_independent_engines_agree_far_inside_the_acceptance_margin():
    """fit_cox_batch and lifelines (precision 1e-14) on the interaction model of family trial
    13 (log scale, where lifelines at precision 1e-10 is off by 1e-5): the largest gap in
    log HR and SE, times a safety factor of 100, stays inside 1 - ACCEPT_MARGIN of the
    half-width of an HR of 1 printed to 2 decimals (5e-6 on the log scale). Tolerance: the
    measured gap is ~1e-12; the bound asserted is 5e-8."""
    rng = np.random.default_rng([2026, 13])
    shape = random_shape(rng)
    assert shape.scale == "log" and not shape.binary
    _, truth = simulate_summary(shape, rng)
    tr = truth["trial"]
    t, e = tr["time"].astype(float), tr["event"].astype(np.int8)
    a, g = tr["arm"].astype(float), np.log(tr["modifier"].astype(float))
    X = np.column_stack([a, g, a * g])
    res = fit_cox_batch(t[None], e[None], X[None])
    b, se = res.coef[0], np.sqrt(np.diag(res.cov[0]))
    df = pd.DataFrame(X, columns=["trt", "g", "tg"]).assign(time=t, death=e)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter().fit(df, "time", "death", fit_options={"precision": 1e-14})
    gap = max(
        np.abs(b - cph.params_.to_numpy()).max(),
        np.abs(se / cph.standard_errors_.to_numpy() - 1).max() * Z * se.max(),
    )
    room = (1 - ACCEPT_MARGIN) * 0.005  # on the log scale at HR 1
    assert 100 * gap < room


def test_cpu_time_cap_stops_the_search_whatever_the_wall_cap():
    """max_cpu_seconds caps the CPU time of the process (load-independent) beside the wall
    cap: a rebuild the search cannot finish in 1 s of CPU (the log-scale interaction shape of
    tests/test_reconstruct_shapes.py) stops then, far before its 600 s wall cap. Tolerance:
    the rebuild's set-up before the search and one search step past the cap (well under 30 s
    of CPU)."""
    shape = TrialShape(
        n=300, groups=2, reported=(0, 1), scale="log", model_term=True, interaction_term=True
    )
    doc, _ = simulate_summary(shape, np.random.default_rng(23))
    summary = summary_from_dict(yaml.safe_load(yaml.safe_dump(doc)), "simulated-23")
    cpu = time.process_time()
    rec = rebuild_cohort(summary, seed=23, max_seconds=600, max_cpu_seconds=1.0)
    assert rec.outcome_ == "not found in the time given"
    assert time.process_time() - cpu < 30


def _fits_of_orders(n: tuple[int, int], d: tuple[int, int], tie: tuple[int, int] | None = None):
    """(HR, CI, p) printed to 2 decimals for every order of the arms of d[0] + d[1] deaths
    on distinct days 1, 2, ... (or with days ``tie`` equal), survivors censored at day 100."""
    deaths = d[0] + d[1]
    rows = []
    for pos in itertools.combinations(range(deaths), d[0]):
        arm = np.zeros(deaths)
        arm[list(pos)] = 1
        days = np.arange(1.0, deaths + 1)
        if tie is not None:
            if arm[tie[0]] == arm[tie[1]]:
                continue
            days[tie[1]] = days[tie[0]]
        alive = n[0] + n[1] - deaths
        rows.append(
            (
                np.r_[days, np.full(alive, 100.0)],
                np.r_[np.ones(deaths), np.zeros(alive)],
                np.r_[arm, np.ones(n[0] - d[0]), np.zeros(n[1] - d[1])],
            )
        )
    t, e, x = (np.array(c) for c in zip(*rows, strict=True))
    res = fit_cox_batch(t, e.astype(np.int8), x[..., None])
    b, se = res.coef[:, 0], np.sqrt(res.cov[:, 0, 0])
    p = 2 * stats.norm.sf(np.abs(b / se))
    return {
        tuple(f"{v:.2f}" for v in (math.exp(bb), math.exp(bb - Z * s), math.exp(bb + Z * s), pp))
        for bb, s, pp in zip(b, se, p, strict=True)
    }


def test_a_tie_prints_a_fit_no_order_of_distinct_days_gives():
    """Family trial 189 (n 64, months with ties): group 3 has 12 + 7 patients, 3 + 4 deaths,
    two of them (one per arm) in the same month, and prints HR 0.35 (0.08-1.58), p 0.17.
    Enumerated: none of the C(7, 3) = 35 orders of the deaths' arms on distinct days prints
    it; with the 6th and 7th deaths tied, one does (Efron ties, as printed)."""
    rng = np.random.default_rng([2026, 189])
    shape = random_shape(rng)
    doc, truth = simulate_summary(shape, rng)
    h = next(h for h in doc["hazard_ratios"] if h["id"] == "group_3")
    printed = (f"{h['value']:.2f}", f"{h['ci'][0]:.2f}", f"{h['ci'][1]:.2f}", f"{h['p']:.2f}")
    assert printed == ("0.35", "0.08", "1.58", "0.17")
    tr = truth["trial"]
    dead = (tr["modifier"] >= 2800) & (tr["event"] == 1)
    assert len(np.unique(tr["time"][dead])) == dead.sum() - 1  # one tie
    assert len(_fits_of_orders((12, 7), (3, 4))) <= 35
    assert printed not in _fits_of_orders((12, 7), (3, 4))
    assert printed in _fits_of_orders((12, 7), (3, 4), tie=(5, 6))


def test_tie_time_gives_a_death_the_day_of_another_arms_death_in_its_group():
    state = {
        "trt": np.array([1, 1, 0, 0, 0, 1, 1, 0], float),
        "death": np.array([1, 1, 1, 1, 0, 0, 1, 1], np.int8),
        "time": np.array([5, 10, 7, 12, 100, 100, 20, 30], float),
        "group": np.array([0, 0, 0, 0, 0, 1, 1, 1]),
        "modifier": np.array([1, 2, 3, 4, 5, 6, 7, 8], float),
    }
    setup = SimpleNamespace(groups=[0, 1], end=100)
    cand = _propose(state, setup, ("tie_time",), (), np.random.default_rng(0), 64)
    changed = 0
    for r in range(64):
        diff = np.flatnonzero(cand["time"][r] != state["time"])
        assert diff.size <= 1
        assert (cand["death"][r] == state["death"]).all()  # counts and arms kept
        if diff.size:
            changed += 1
            i = diff[0]
            same = np.flatnonzero(
                (state["group"] == state["group"][i])
                & (state["death"] == 1)
                & (state["trt"] != state["trt"][i])
            )
            assert cand["time"][r, i] in state["time"][same]
    assert changed > 32


@pytest.mark.slow
def test_tied_deaths_of_a_small_trial_are_reached():
    """Family trial 189 (above): the search kept distinct days and missed group 3 on every
    attempt; with tie_time it is feasible."""
    shape, summary = _family_trial(189)
    assert shape.n == 64 and shape.ties
    rec = rebuild_cohort(summary, seed=189, max_seconds=600)  # a safety cap: the steps decide
    assert rec.outcome_ == "feasible", rec.message()


@pytest.mark.slow
def test_heavily_tied_months_are_reached():
    """Family trial 55 (n 163, binary modifier, log scale, whole months: 91 deaths in 20
    distinct months over 24): the truth meets six figures only at 0.93-0.985 of a half-width
    and the search on distinct days missed group 1's CI and p; with tie_time it is feasible."""
    shape, summary = _family_trial(55)
    assert shape.ties and shape.unit == "months" and shape.binary
    rec = rebuild_cohort(summary, seed=55, max_seconds=600)  # a safety cap: the steps decide
    assert rec.outcome_ == "feasible", rec.message()


def _block_state():
    rng = np.random.default_rng(5)
    n = 400
    x = np.round(np.exp(rng.normal(np.log(2000.0), 0.8, n)), 1)
    return {
        "trt": (rng.random(n) < 0.5).astype(float),
        "death": (rng.random(n) < 0.4).astype(np.int8),
        "time": np.full(n, 100.0),
        "group": (x >= 1500.0).astype(int),
        "modifier": x,
    }


def test_polish_blocks_shift_and_stretch_log_values_inside_their_group():
    """Closed form: block k's log values move to c + s + (g - c) exp(e) (c the block's median
    log value, s the shift, e the stretch), rounded to the 0.1 grid and clipped to the group's
    bounds; membership, arms, deaths and every other patient are kept. Tolerance: the 0.1
    rounding (0.05 / value in log) away from the clipped edges."""
    state = _block_state()
    groups = [
        SimpleNamespace(missing=False, category=None, lower=None, upper=1500.0),
        SimpleNamespace(missing=False, category=None, lower=1500.0, upper=None),
    ]
    bounds = [(0.0, 1500.0), (1500.0, math.inf)]
    setup = SimpleNamespace(groups=groups, bounds=lambda g: bounds[g])
    blocks = _value_blocks(state, setup)
    assert len(blocks) == 8  # 2 groups x 2 arms x deaths or survivors
    for b in blocks:
        for key in ("group", "trt", "death"):
            assert np.unique(state[key][b]).size == 1
        assert (state["modifier"][b] >= POLISH_MIN_VALUE).all()
    theta = np.zeros((3, 16))
    theta[0, 2 * 3] = 0.02  # shift block 3
    theta[1, 2 * 5 + 1] = -0.05  # stretch block 5
    theta[2, :] = 0.5  # far: clipped to the bounds
    cand = _move_blocks(state, setup, blocks, theta)
    for r, k, shift, scale in ((0, 3, 0.02, 1.0), (1, 5, 0.0, math.exp(-0.05))):
        members = blocks[k]
        g = np.log(state["modifier"][members])
        c = np.median(g)
        want = np.exp(c + shift + (g - c) * scale)
        lo, hi = bounds[int(state["group"][members[0]])]
        inside = (want > lo + 1) & (want < hi - 1)
        assert inside.sum() > 10
        new = cand["modifier"][r, members]
        assert np.abs(np.log(new[inside]) - np.log(want[inside])).max() <= 0.05 / 100
        others = np.setdiff1d(np.arange(state["modifier"].size), members)
        assert (cand["modifier"][r, others] == state["modifier"][others]).all()
    moved = cand["modifier"][2]
    assert (moved < 1500.0).sum() == (state["modifier"] < 1500.0).sum()  # no one crosses
    assert np.allclose(moved, np.round(moved, 1))


def test_polish_runs_only_on_an_interaction_model_of_a_continuous_modifier():
    """Either scale; not on categories (no values to shift) nor without a figure of the
    interaction model (the blocks keep every subgroup's membership: nothing else moves)."""
    interaction = SimpleNamespace(model="interaction")
    treatment = SimpleNamespace(model="treatment")
    for log_scale in (True, False):
        design = SimpleNamespace(log_scale=log_scale, categories=())
        assert _wants_polish(design, [treatment, interaction])
        assert not _wants_polish(design, [treatment])
    assert not _wants_polish(SimpleNamespace(log_scale=True, categories=("a", "b")), [interaction])


def test_polish_reaches_a_ratio_per_unit_printed_as_one_on_the_linear_scale():
    """Family 2027 trial 84 (n 112, 1:1, months, linear scale): the ratio of HRs per unit
    prints 1.02 (0.98-1.06), p 0.44; with the treatment HR at 0 and its p it pins the
    interaction's SE to a few per cent. With the polish on log-scale models only, the
    search missed three of them after 120 s of CPU; with it the rebuild is feasible in about 2 s
    (the CPU cap is a safety cap)."""
    rng = np.random.default_rng([2027, 84])
    shape = random_shape(rng)
    doc, _ = simulate_summary(shape, rng)
    assert shape.scale == "linear" and shape.interaction_term
    rec = rebuild_cohort(summary_from_dict(doc, "trial-84"), seed=84, max_cpu_seconds=60)
    assert rec.outcome_ == "feasible", rec.message()


def test_polish_reaches_the_thin_band_of_the_treatment_hr_at_the_origin():
    """Family trial 180 (n 205, 3:2, months, log scale): the interaction model's treatment HR
    at log marker 0 prints 0.52 (0.01-28.96), p 0.75. The upper bound pins log HR + z SE to
    +-1.7e-4; without the polish step the search missed the HR and p after 120 s of CPU, with
    it the rebuild is feasible in a few seconds (the CPU cap is a safety cap)."""
    shape, summary = _family_trial(180)
    assert shape.scale == "log" and shape.model_term and not shape.interaction_term
    rec = rebuild_cohort(summary, seed=180, max_seconds=600, max_cpu_seconds=60)
    assert rec.outcome_ == "feasible", rec.message()


def _prints(targets: list[Target], b: float, se: float, margin: float) -> bool:
    """Whether (log HR b, SE se) gives every target within ``margin`` of its half-width."""
    stat = {
        "hr": math.exp(b),
        "hr_ci_lower": math.exp(b - Z * se),
        "hr_ci_upper": math.exp(b + Z * se),
        "hr_p": 2 * stats.norm.sf(abs(b) / se),
    }
    return all(abs(stat[t.statistic] - t.value) <= margin * t.half_width for t in targets)


def test_exact_window_finds_the_thin_band_a_grid_steps_over():
    """Family 2027 trial 82's model term at marker = 1: HR 13.32 (0.07-2685.33), p 0.34. The
    upper bound to 2 decimals pins log HR + 1.96 SE within 1.9e-6, far below the grid's SE
    step, so the grid found no point and the rebuild declared a false proof. Solved exactly
    the region is there (at the search's margin 0.9): b = log 13.32 and the SE that prints
    2685.33 give 0.066 and p 0.339."""
    targets = _figure(13.32, 0.07, 2685.33, 0.34)
    assert _window(targets, 1.0) is None  # the grid's miss, the cause
    b, se, room = _exact_window(targets, MARGIN)
    assert _prints(targets, b, se, MARGIN)
    assert 0 < room < 1e-5  # relative SE room: the band is that thin
    # the figure is not inconsistent: no proof, a window at the search's margin
    design = type("D", (), {"targets": targets, "groups": ()})()
    _, inconsistent, margins = _subgroup_windows(design)
    assert inconsistent == [] and margins == {}


def test_exact_window_never_misses_a_region_a_dense_grid_finds():
    """No false proofs: over 400 figures (printed from random (log HR, SE), then half of them
    with the p or a CI bound moved), wherever a dense 401 x 401 grid finds a point that prints
    every figure, the exact solution finds a region, and every point it returns prints every
    figure (exact: the checks are the printed values' own half-widths, margin 1)."""
    rng = np.random.default_rng(7)
    found = both = empty = 0
    for k in range(400):
        b0, se0 = rng.uniform(-1.5, 1.5), rng.uniform(0.05, 1.2)
        hr, lo, hi = (round(math.exp(b0 + d * Z * se0), 2) for d in (0, -1, 1))
        p = round(float(2 * stats.norm.sf(abs(b0) / se0)), 2)
        if min(hr, lo) <= 0 or not 0 < p < 1:
            continue
        if k % 2:
            p = round(min(max(p + rng.choice([-1, 1]) * rng.uniform(0.01, 0.2), 0.01), 0.99), 2)
            hi = round(hi * math.exp(rng.uniform(-0.1, 0.1)), 2)
        targets = _figure(hr, lo, hi, p)
        exact = _exact_window(targets, 1.0)
        empty += exact is None
        if exact is not None:
            found += 1
            assert _prints(targets, exact[0], exact[1], 1.0 + 1e-9), targets
        bb = np.linspace(math.log(hr - 0.005), math.log(hr + 0.005), 401)[:, None]
        ss = np.linspace(0.5 * se0, 1.5 * se0, 401)[None, :]
        ok = (
            (np.abs(np.exp(bb) - hr) <= 0.005)
            & (np.abs(np.exp(bb - Z * ss) - lo) <= 0.005)
            & (np.abs(np.exp(bb + Z * ss) - hi) <= 0.005)
            & (np.abs(2 * stats.norm.sf(np.abs(bb) / ss) - p) <= 0.005)
        )
        if ok.any():
            both += 1
            assert exact is not None, targets
    assert found > 120 and both > 120 and empty > 120  # both kinds of figure were drawn


def test_a_thin_model_term_band_is_rebuilt_not_declared_infeasible():
    """Family 2027 trial 82 (n 288, log scale, interaction term): was "infeasible" with a
    false proof (see above); the truth meets every figure, and the rebuild finds a cohort
    (about 9 s of CPU)."""
    rng = np.random.default_rng([2027, 82])
    doc, _ = simulate_summary(random_shape(rng), rng)
    summary = summary_from_dict(doc, "trial-82")
    rec = rebuild_cohort(summary, seed=82, max_seconds=600, max_cpu_seconds=120)
    assert rec.outcome_ == "feasible", rec.message()


def test_a_search_stalled_next_to_the_figures_aims_at_the_acceptance_rule():
    """Family 2027 trial 156 (n 574, 2:1, binary modifier): the overall HR prints 0.68
    (0.54-0.86), p 0.002, and with 175 and 116 deaths the region of (log HR, SE) that prints
    all four is about 3e-4 wide in log HR and has no point inside the preferred 0.9
    half-widths. The objective's minimum sat at p 1.00 and the CI bound 0.90 half-widths (not
    found after 120 s of CPU); holding a stalled near cohort to 0.99 half-widths, the rebuild
    is feasible in about 5 s."""
    rng = np.random.default_rng([2027, 156])
    shape = random_shape(rng)
    doc, _ = simulate_summary(shape, rng)
    assert shape.binary and shape.n == 574
    rec = rebuild_cohort(summary_from_dict(doc, "trial-156"), seed=156, max_cpu_seconds=60)
    assert rec.outcome_ == "feasible", rec.message()
    residuals = rec.match_table()
    assert residuals["agrees"].all()


def test_relaxed_margins_keep_a_wider_margin_and_raise_the_rest():
    targets = [SimpleNamespace(id="a"), SimpleNamespace(id="b"), SimpleNamespace(id="c")]
    got = _relaxed(targets, {"a": 0.95, "b": 0.999})
    assert got == {"a": RELAXED_MARGIN, "b": 0.999, "c": RELAXED_MARGIN}
    assert MARGIN < RELAXED_MARGIN < ACCEPT_MARGIN
