"""Joint start cells of a several-arms trial whose subgroups are printed on every comparison
with the control (:mod:`alsstats.reconstruct._arms_cells`).

Hand-worked checks of the cell arithmetic (sizes balanced to the trial's counts, the size
trades between arms, candidate rows of deaths), then round trips on simulated trials with
known truth: the rebuild is feasible and an independent lifelines refit (CoxPHFitter, Efron,
on the rows of the two arms compared) prints every figure as reported (tolerance: the
printed precision; counts exactly; helpers of tests/test_reconstruct_arms.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_reconstruct_arms import FIT_14, _check_against_lifelines, _summary

from alsstats.reconstruct import ArmsShape, rebuild_cohort, verify_cohort
from alsstats.reconstruct._arms_cells import (
    REACH,
    _rows,
    balanced_sizes,
    cells_of,
    shifted_sizes,
)

BOTH = ArmsShape(n=400, subgroups=True, subgroups_everywhere=True)
BULBAR = ArmsShape(n=400, subgroups=True, subgroups_everywhere=True, printed_categories=("bulbar",))


def test_cells_of_counts_patients_and_deaths_per_arm_and_group():
    state = {
        "trt": np.array([1, 1, 1, 0, 0, 0, 0.0]),
        "group": np.array([0, 1, 1, 0, 0, 1, 1]),
        "death": np.array([1, 0, 1, 1, 1, 0, 0], np.int8),
    }
    size, dead = cells_of(state, 2)
    assert size.tolist() == [[1, 2], [2, 2]]
    assert dead.tolist() == [[1, 1], [2, 0]]


def test_balanced_sizes_meet_the_trials_counts_moving_only_the_other_arms():
    # control 30 + 100, primary 35 + 95, other 40 + 90: group 0 totals 105, printed 100
    # -> 5 of the other arm's group-0 patients move to group 1 (hand-worked)
    control = np.array([30, 100])
    rows = balanced_sizes(control, [np.array([35, 95]), np.array([40, 90])], {0: 100})
    assert rows[0].tolist() == [35, 95]  # the primary's split is its plan's
    assert rows[1].tolist() == [35, 95]
    assert (control + sum(rows))[0] == 100
    # already met: unchanged
    same = balanced_sizes(control, [np.array([35, 95]), np.array([35, 95])], {0: 100})
    assert [r.tolist() for r in same] == [[35, 95], [35, 95]]
    # the other arm cannot give enough: None (the start balances as before)
    assert balanced_sizes(control, [np.array([35, 95]), np.array([0, 130])], {1: 100}) is None


def test_shifted_sizes_trade_patients_between_the_first_two_arms_keeping_counts():
    sizes = [np.array([35, 95]), np.array([36, 94])]
    out = shifted_sizes(sizes, [0])
    assert [r.tolist() for r in out[0]] == [[35, 95], [36, 94]]  # the plan's split first
    assert len(out) == 7
    for split in out:
        assert (split[0] + split[1]).tolist() == [71, 189]  # every group's count kept
        assert [r.sum() for r in split] == [130, 130]  # every arm's size kept
    assert [r.tolist() for r in out[1]] == [[33, 97], [38, 92]]  # shift -2 (hand-worked)


def test_candidate_rows_keep_the_total_and_stay_within_reach():
    centre, size = np.array([20, 48]), np.array([35, 99])
    rows = _rows(centre, size, [0])  # group 0 windowed, group 1 takes the rest
    assert len(rows) == 2 * REACH + 1
    assert all(r.sum() == 68 and abs(r[0] - 20) <= REACH for r in rows)
    both = _rows(centre, size, [0, 1])  # both windowed: the last one takes the rest
    assert {tuple(r) for r in both} == {tuple(r) for r in rows}
    tight = _rows(np.array([3, 5]), np.array([4, 99]), [0])  # a group's deaths <= its size
    assert sorted(int(r[0]) for r in tight) == [0, 1, 2, 3, 4]


def _round_trip(shape: ArmsShape, seed: int, figures: int) -> None:
    summary, doc, _ = _summary(shape, seed)
    rec = rebuild_cohort(summary, seed=0, max_seconds=60.0)
    assert rec.outcome_ == "feasible", rec.conflicts
    assert _check_against_lifelines(rec.cohort, doc, FIT_14) >= figures
    v = verify_cohort(rec.cohort, summary)
    assert v.passed, v.failures


@pytest.mark.parametrize("seed", [SEED_BOTH := 3])
def test_onset_subgroups_on_both_comparisons_rebuild_and_lifelines_refit_prints_them(seed):
    # bulbar and limb HR (CI, p) of high vs placebo and of low vs placebo: 9 counts, 2 x 4
    # whole-population figures, 4 x 4 subgroup figures, 2 shares
    _round_trip(BOTH, seed, 9 + 8 + 16 + 2)


@pytest.mark.parametrize("seed", [SEED_BULBAR := 4])
def test_bulbar_hr_on_both_comparisons_rebuild_and_lifelines_refit_prints_them(seed):
    _round_trip(BULBAR, seed, 9 + 8 + 8 + 2)
