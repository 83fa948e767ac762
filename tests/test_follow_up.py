"""A rebuild without a landmark: the follow-up horizon, Kaplan-Meier medians and log-rank /
unnamed-test p values as search statistics, checked against lifelines fits written out here."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test

from alsstats import data_path
from alsstats.catalogue import rebuild_status
from alsstats.catalogue._entries import TrialEntry
from alsstats.reconstruct import (
    NoFollowUpLength,
    Target,
    follow_up_horizon,
    rebuild_cohort,
    simulate_follow_up_summary,
    targets_from_summary,
    verify_cohort,
)
from alsstats.reconstruct._fits import Design, _fit_stats, _subgroup_windows
from alsstats.reconstruct._medians import km_median_batch, median_for
from alsstats.summary import load_reported_summary

TRIALS = data_path("trials")


def _summary(trial: str):
    return load_reported_summary(TRIALS / trial / "reported.yaml")


def test_horizon_from_maximum_follow_up_with_lost_patients():
    h = follow_up_horizon(_summary("cnm_au8_rescue_als"))
    assert (h.source, h.end, h.earliest, h.lost) == ("maximum_follow_up", 31.5, 15.75, 2)
    c = h.censoring_times(18, np.random.default_rng(0))
    assert c.max() == 31.5  # the longest follow-up is the printed maximum
    assert (c < 15.75).sum() == 2  # the lost to follow-up, censored earlier
    assert c.min() > 0


def test_horizon_from_a_censoring_assumption_in_days():
    # riluzole 1994: {median_days: 573} in a trial counted in months; censoring over
    # [m/2, 3m/2] months, m = 573 days = 573 / (365.25 / 12) months, except that its
    # ``earliest: 12`` (months, the trial's unit) replaces m/2: the 12-month counts are over
    # every randomised patient, so nobody is censored before 12 months
    h = follow_up_horizon(_summary("riluzole_1994"))
    m = 573 / (365.25 / 12)
    assert h.source == "censoring assumption"
    assert h.end == pytest.approx(1.5 * m, rel=1e-12)
    assert 0.5 * m < 12.0 and h.earliest == 12.0
    masitinib = follow_up_horizon(_summary("masitinib"))
    assert (masitinib.end, masitinib.earliest) == (96.0, 48.0)


def _without_censoring(tmp_path: Path) -> Path:
    doc = yaml.safe_load((TRIALS / "masitinib" / "reported.yaml").read_text())
    doc["assumptions"] = [a for a in doc["assumptions"] if a["id"] != "censoring"]
    path = tmp_path / "reported.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_no_follow_up_length_is_one_clear_outcome(tmp_path):
    path = _without_censoring(tmp_path)
    summary = load_reported_summary(path)
    with pytest.raises(NoFollowUpLength, match="no follow-up length; give a censoring"):
        follow_up_horizon(summary)
    status = rebuild_status(TrialEntry("masitinib", path, summary=summary))
    assert status == "not enough figures: no follow-up length; give a censoring assumption"


def test_km_median_batch_equals_lifelines():
    rng = np.random.default_rng(7)
    R, m = 40, 30
    time = rng.exponential(10.0, (R, m))
    death = (rng.random((R, m)) < 0.8).astype(np.int8)
    got = km_median_batch(time, death)
    for r in range(R):
        km = KaplanMeierFitter().fit(time[r], death[r])
        expected = km.median_survival_time_
        if math.isinf(expected):
            assert got[r] > time[r].max()  # not reached: a value past the last time
        else:
            assert got[r] == pytest.approx(expected, abs=1e-12)


def test_km_median_exactly_half_needs_both_conventions():
    # S = 0.5 on [2, 4): lifelines says 2 (first time S <= 0.5), R's survfit the midpoint to
    # the next death, 3 (hand-worked); a printed median holds only if both print as it
    time = np.array([[1.0, 2.0, 3.0, 4.0]])
    death = np.array([[1, 1, 0, 1]], np.int8)
    km = KaplanMeierFitter().fit(time[0], death[0])
    assert km_median_batch(time, death, "first")[0] == km.median_survival_time_ == 2.0
    assert km_median_batch(time, death, "midpoint")[0] == 3.0
    assert median_for(2.0, time, death)[0] == 3.0  # the farther from the printed value
    assert median_for(3.0, time, death)[0] == 2.0


def _design(targets: list[Target]) -> Design:
    return Design(
        targets=targets,
        groups=[],
        log_scale=False,
        x_unit=1.0,
        adjust=(),
        ties="efron",
        level_z=1.959963984540054,
        landmark=40.0,
        trt_id="a",
    )


def test_log_rank_and_unnamed_test_p_in_the_search_match_lifelines():
    rng = np.random.default_rng(3)
    n, R = 60, 5
    trt = np.r_[np.ones(30), np.zeros(30)]
    time = np.round(rng.exponential(20.0, (R, n)) * np.where(trt == 1, 1.6, 1.0), 2) + 0.01
    death = (time < 40).astype(np.int8)
    time = np.minimum(time, 40.0)
    p_lr = Target("p.lr", "p", "hr_p", "0.05", 0.05, 2, model="treatment", test="log_rank")
    p_wald = Target("p.w", "p", "hr_p", "0.05", 0.05, 2, model="treatment", test="wald")
    values = _fit_stats(_design([p_lr, p_wald]), trt, time, death, np.full((R, n), np.nan), {})
    for r in range(R):
        df = pd.DataFrame({"t": time[r], "e": death[r], "x": trt})
        lr = logrank_test(
            df.t[df.x == 1], df.t[df.x == 0], df.e[df.x == 1], df.e[df.x == 0]
        ).p_value
        cox = CoxPHFitter().fit(df, "t", "e", fit_options={"precision": 1e-10})
        wald = float(cox.summary.loc["x", "p"])
        assert values[r, 0] == pytest.approx(lr, rel=1e-8)
        assert values[r, 1] == pytest.approx(wald, rel=1e-5)
        # test unknown: the p holds if either prints as reported -> the closer of the two
        for centre in (lr, wald, 0.8 * lr + 0.2 * wald, 0.2 * lr + 0.8 * wald):
            unknown = Target("p.u", "p", "hr_p", "x", centre, 4, model="treatment", test="unknown")
            v = _fit_stats(_design([unknown]), trt, time[r : r + 1], death[r : r + 1],
                           np.full((1, n), np.nan), {})[0, 0]  # fmt: skip
            closer = lr if abs(lr - centre) <= abs(wald - centre) else wald
            assert v == pytest.approx(closer, rel=1e-5)


def test_medians_are_targets_in_the_trial_unit():
    centaur = {t.id: t for t in targets_from_summary(_summary("centaur"))}
    assert centaur["median_2021_pb_turso"].statistic == "median"
    assert centaur["median_2021_pb_turso"].rounds_to(25.04)
    assert not centaur["median_2021_pb_turso"].rounds_to(25.06)
    assert "median_2022_pb_turso" not in centaur  # conflicting: only on request
    # riluzole 1994 prints days (449) in a months trial: the interval converts
    ril = {t.id: t for t in targets_from_summary(_summary("riluzole_1994"))}
    month = 365.25 / 12
    assert ril["median_placebo"].rounds_to(449.4 / month)
    assert not ril["median_placebo"].rounds_to(449.6 / month)


def test_cnm_au8_ci_is_narrower_than_any_cox_fit_with_its_deaths():
    # 5 and 14 deaths: SE(log HR) >= sqrt(1/5 + 1/14) = 0.521; the printed CI 0.118-0.718
    # gives at most (log 0.7185 - log 0.1175) / (2 * 1.96) = 0.462
    se_min = math.sqrt(1 / 5 + 1 / 14)
    se_max = (math.log(0.7185) - math.log(0.1175)) / (2 * 1.959964)
    assert se_max < se_min
    rec = rebuild_cohort(_summary("cnm_au8_rescue_als"), seed=0, max_seconds=1.0)
    assert rec.outcome_ == "infeasible"
    assert any("CI narrower than any Cox fit" in p.reason for p in rec.proofs_)
    assert {"os.ci_lower", "os.ci_upper"} <= set(rec.conflicts)


def test_verify_reads_an_unnamed_test_p_as_wald_or_log_rank(tmp_path):
    doc, truth = simulate_follow_up_summary(np.random.default_rng(4), test="unknown")
    t, e = truth["time"], truth["death"]
    a, c = truth["arm"] == "active", truth["arm"] == "control"
    lr = logrank_test(t[a], t[c], e[a], e[c]).p_value
    df = pd.DataFrame({"t": t, "e": e, "x": a.astype(int)})
    wald = float(CoxPHFitter().fit(df, "t", "e", fit_options={"precision": 1e-10}).summary.p["x"])
    assert f"{lr:.3f}" != f"{wald:.3f}"  # the two tests print differently here
    path = tmp_path / "s.yaml"
    for printed, met in ((f"{lr:.3f}", True), (f"{wald:.3f}", True), ("0.500", False)):
        doc["hazard_ratios"][0]["p"] = printed
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        table = verify_cohort(truth, path).table.set_index("figure")
        assert (table.loc["os.p", "verdict"] == "met") is met, printed


def test_hr_with_only_a_log_rank_p_is_not_called_inconsistent():
    hr = Target("os.hr", "os", "hr", "0.291", 0.291, 3, model="treatment")
    p = Target("os.p", "os", "hr_p", "0.0115", 0.0115, 4, model="treatment", test="log_rank")
    windows, inconsistent, _ = _subgroup_windows(_design([hr, p]))
    assert inconsistent == [] and windows == {}
    # the same p read as Wald gives a window (and no conflict) too
    wald = Target("os.p", "os", "hr_p", "0.0115", 0.0115, 4, model="treatment", test="wald")
    assert _subgroup_windows(_design([hr, wald]))[1] == []


def test_a_survival_count_and_its_share_are_not_an_inconsistent_hr_figure():
    pop = {"kind": "all", "time": 12.0}
    count = Target("alive", "alive", "alive_count", "45", 45.0, None, arm="a", population=pop)
    share = Target("alive.p", "alive", "alive_proportion", "58%", 0.58, 2, arm="a", population=pop)
    assert _subgroup_windows(_design([count, share]))[1] == []


def test_counts_over_the_whole_arm_push_censoring_past_their_time():
    # CNM-Au8 with a printed "15 of 23 alive at 24 months": everyone's status is known at 24
    # months, so administrative censoring starts there, not at half the maximum (15.75)
    from alsstats.summary import summary_from_dict

    doc = yaml.safe_load((TRIALS / "cnm_au8_rescue_als" / "reported.yaml").read_text())
    row = {"id": "alive_24", "arm": "cnm_au8", "time": 24, "count": 15, "source": "aan2023"}
    doc["survival"] = [row]
    assert follow_up_horizon(summary_from_dict(doc, "x")).earliest == 24.0
    # a count over fewer patients than the arm (status known for some) moves nothing
    doc["survival"] = [{**row, "n": 20}]
    assert follow_up_horizon(summary_from_dict(doc, "x")).earliest == 15.75
