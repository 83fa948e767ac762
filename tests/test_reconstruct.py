"""Targets, calibration (level a), count conflicts and the search (level b) on small cases."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from alsstats import data_path
from alsstats.errors import InputError
from alsstats.models import DataGeneratingModel, LogNormalBiomarker, WeibullBaseline
from alsstats.reconstruct import (
    CODE_ASSUMPTIONS,
    assign_biomarker,
    biomarker_groups,
    calibrate_model,
    count_conflicts,
    expected_estimates,
    rebuild_cohort,
    resolve_assumptions,
    targets_from_summary,
)
from alsstats.reconstruct._calibrate import _plim_treatment_hr
from alsstats.reconstruct._fits import _window
from alsstats.summary import load_reported_summary
from alsstats.survival import fit_cox_batch


@pytest.fixture(scope="module")
def summary():
    return load_reported_summary(data_path("mirocals", "reported.yaml"))


def by_id(targets):
    return {t.id: t for t in targets}


def test_targets_carry_reported_precision(summary):
    t = by_id(targets_from_summary(summary))
    # 0.81 -> [0.805, 0.815]; "59%" -> +-0.005; p 0.007 -> +-0.0005; counts exact
    assert t["overall_unadjusted.hr"].lower == pytest.approx(0.805)
    assert t["overall_unadjusted.hr"].upper == pytest.approx(0.815)
    assert t["alive_640_all"].half_width == pytest.approx(0.005)
    assert t["interaction_model_treatment.p"].half_width == pytest.approx(0.0005)
    assert t["low_pnfh.ci_lower"].reported == "0.30"  # YAML's 0.3 keeps the CI's 2 decimals
    assert t["low_pnfh.share"].half_width == pytest.approx(0.005)
    assert t["deaths_il2ld"].half_width == 0 and t["deaths_il2ld"].value == 41
    assert t["age.median"].reported == "60"
    assert t["low_pnfh.hr"].rounds_to(0.5249) and not t["low_pnfh.hr"].rounds_to(0.5251)


def test_superseded_never_and_conflicting_only_on_request(summary):
    ids = {t.figure for t in targets_from_summary(summary)}
    assert "topline_adjusted_2022" not in ids and "death_split_medwire" not in ids
    asked = {t.figure for t in targets_from_summary(summary, include={"death_split_medwire"})}
    assert "death_split_medwire" in asked and "topline_adjusted_2022" not in asked


def test_unknown_assumption_is_an_input_error(summary):
    with pytest.raises(InputError, match="unknown assumption"):
        targets_from_summary(summary, {"no_such_choice": 1})


def test_groups_partition_the_biomarker_axis(summary):
    groups = biomarker_groups(targets_from_summary(summary))
    assert [(g.lower, g.upper, g.share) for g in groups] == [
        (None, 750, None),
        (750, 3700, 0.7),
        (3700, None, 0.21),
    ]
    missing = biomarker_groups(targets_from_summary(summary), "missing")
    assert missing[0].missing


def test_plim_equals_true_log_hr_under_proportional_hazards():
    # no biomarker effect: the treatment-only model is correct, its limit is b_trt exactly
    m = DataGeneratingModel(
        WeibullBaseline(1.3, 900.0), LogNormalBiomarker(2000.0, 0.7), -0.4, 0.0, 0.0
    )
    x = np.array([2000.0])
    assert _plim_treatment_hr(m, x, np.ones(1), 0.5) == pytest.approx(-0.4, abs=1e-4)


def test_calibrated_model_expectations_hold_by_simulation(summary):
    """Level a: the probability limits the calibration uses agree with the mean of fitted
    estimates over 300 simulated trials of 220 (tolerance: 4 Monte Carlo SE + 0.03 for the
    O(1/events) finite-sample bias)."""
    m = calibrate_model(summary)
    targets = targets_from_summary(summary)
    groups = biomarker_groups(targets)
    expect = expected_estimates(m, targets, groups)
    rng = np.random.default_rng(11)
    R, n = 300, 220
    arm = np.r_[np.ones(110), np.zeros(110)]
    x = m.biomarker.sample((R, n), rng)
    time, event = m.censor(m.sample_event_times(arm, x, rng), rng)
    assert event[:, :110].mean() == pytest.approx(expect["death_risk_1"], abs=0.01)
    assert event[:, 110:].mean() == pytest.approx(expect["death_risk_0"], abs=0.01)
    for fid, mask in (
        ("overall_unadjusted.hr", np.ones((R, n), bool)),
        ("low_pnfh.hr", (x >= 750) & (x < 3700)),
        ("high_pnfh.hr", x >= 3700),
    ):
        res = fit_cox_batch(time, event, np.broadcast_to(arm[None, :, None], (R, n, 1)), mask=mask)
        b = res.coef[res.ok, 0]
        assert abs(b.mean() - expect[fid]) < 4 * b.std() / math.sqrt(b.size) + 0.03, fid
    X = np.stack([np.broadcast_to(arm, (R, n)), x / 1000, arm * x / 1000], axis=-1)
    res = fit_cox_batch(time, event, X)
    b = res.coef[res.ok, 0]
    assert abs(b.mean() - m.log_hr_treatment) < 4 * b.std() / math.sqrt(b.size) + 0.05


def test_low_subgroup_window_is_narrow_but_not_empty(summary):
    ts = [
        t
        for t in targets_from_summary(summary)
        if t.figure == "low_pnfh" and t.statistic.startswith("hr")
    ]
    b, se = _window(ts)
    # hand-worked: b in [log .515, log .525], SE from the CI width 0.2718 - 0.2767
    assert math.log(0.515) < b < math.log(0.525)
    assert 0.2718 < se < 0.2767


def test_count_conflicts_exact(summary):
    assert count_conflicts(summary, targets_from_summary(summary)) == ([], (41, 49))
    ts = targets_from_summary(summary, include={"death_split_medwire"})
    names, best = count_conflicts(summary, ts)
    assert {"death_split_medwire.il2ld", "alive_640_il2ld", "deaths_il2ld"} <= set(names)
    assert best == (41, 49)  # the compromise gives up the one conflicting figure


def test_infeasible_request_is_reported_not_fitted(summary):
    rec = rebuild_cohort(summary, seed=2025, include={"death_split_medwire"}, max_seconds=30)
    assert not rec.feasible
    assert "death_split_medwire.il2ld" in rec.conflicts
    assert "overall_unadjusted.hr" not in rec.conflicts  # HR 0.81 met by the compromise
    assert rec.residuals["death_split_medwire.il2ld"] < -1  # 41/90 = 0.456, not 0.54


def test_hr_out_of_reach_of_counts_is_named(summary):
    # only the total and the 54/46 split: 49 vs 41 deaths, then HR 0.81 is out of reach
    s = dataclasses.replace(
        summary,
        events=tuple(e for e in summary.events if e.id == "deaths_total"),
        survival=tuple(x for x in summary.survival if x.id == "alive_640_all"),
    )
    # counts decide this before the search: a short search cap is enough
    rec = rebuild_cohort(s, seed=0, include={"death_split_medwire"}, max_seconds=0.5)
    assert not rec.feasible
    assert "overall_unadjusted.hr" in rec.conflicts
    assert rec.cohort.groupby("arm")["death"].sum().to_dict() == {"il2ld": 49, "placebo": 41}


def test_assign_biomarker_keeps_outcomes_and_meets_subgroups(summary):
    shipped = pd.read_csv(data_path("mirocals", "cohort.csv"))
    ipd = shipped[["arm", "time", "death"]].rename(columns={"death": "event"})
    ipd = ipd.sample(frac=1.0, random_state=3).reset_index(drop=True)
    rec = assign_biomarker(ipd, summary, seed=4, max_seconds=40)
    got = rec.cohort.sort_values(["arm", "time", "death"]).reset_index(drop=True)
    want = ipd.rename(columns={"event": "death"}).sort_values(["arm", "time", "death"])
    assert (got[["arm", "time", "death"]].to_numpy() == want.to_numpy()).all()
    table = rec.match_table().set_index("figure")
    assert table["agrees"].all(), table[~table["agrees"]]


def test_ties_and_p_test_are_named_assumptions_with_code_fallbacks(summary):
    named = {a.id: a.value for a in summary.assumptions}
    assert named["ties"] == "efron" and named["p_value_test"] == "wald"
    bare = dataclasses.replace(
        summary,
        assumptions=tuple(a for a in summary.assumptions if a.id not in ("ties", "p_value_test")),
    )
    assert resolve_assumptions(bare)["ties"] == CODE_ASSUMPTIONS["ties"]
    assert resolve_assumptions(summary, {"ties": "breslow"})["ties"] == "breslow"
    with pytest.raises(InputError, match="ties: 'exact'"):
        resolve_assumptions(summary, {"ties": "exact"})
    with pytest.raises(InputError, match="p_value_test"):
        resolve_assumptions(summary, {"p_value_test": "score"})


def test_missing_remaining_share_keeps_the_distribution_shape(summary):
    """remaining_share = missing: the measured patients follow the same lognormal, fitted
    through the reported cut-off shares (9% of its mass below 750 pg/mL is then unmeasured)."""
    from alsstats.reconstruct import biomarker_from_assumptions, biomarker_groups

    targets = targets_from_summary(summary)
    below = biomarker_from_assumptions(biomarker_groups(targets, "below"), {})
    missing = biomarker_from_assumptions(biomarker_groups(targets, "missing"), {})
    assert missing == below
    # hand-worked: 9% below 750 and 21% above 3,700 pg/mL (tolerance: floating point)
    assert below.share_between(None, 750) == pytest.approx(0.09, abs=1e-12)
    assert below.share_between(3700, None) == pytest.approx(0.21, abs=1e-12)
