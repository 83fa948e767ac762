"""Proofs of infeasibility (alsstats.checks._proofs): exact count arithmetic and the overall
HR's reach, run by ``check`` and used by ``rebuild``.

Independent values: the count conflicts are worked by hand (n - deaths = alive); the HR reach
is compared with lifelines fits of the two extreme orders of death, and checked to contain
the HRs of 200 random orders (tolerance 1e-6 on the log HR); the CI width's floor holds on
2,000 random trials and is attained in a hand-worked case.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from lifelines import CoxPHFitter

from alsstats import data_path
from alsstats.checks import (
    check_summary,
    count_figures,
    count_proof,
    cox_se_floor,
    overall_hr_reach,
)
from alsstats.reconstruct import rebuild_cohort
from alsstats.summary import load_reported_summary, summary_from_dict
from alsstats.survival import fit_cox_batch

GENERIC = (
    data_path("mirocals", "reported.yaml").parents[2] / "tests/data/summaries/generic_two_arm.yaml"
)


def _generic(**changes):
    doc = yaml.safe_load(GENERIC.read_text())
    doc.update(changes)
    return summary_from_dict(doc, "generic")


def test_counts_decide_the_only_pair():
    s = load_reported_summary(GENERIC)
    sets, pairs = count_proof(count_figures(s), (150, 150), ("drug", "placebo"), 365)
    assert sets == [] and pairs.tolist() == [[45, 60]]


def test_smallest_conflicting_set_is_named():
    # 150 - 45 = 105 alive on the drug arm, not 110; so do 105 total - 60 placebo deaths
    s = _generic(
        survival=[
            {"id": "alive_drug", "arm": "drug", "time": 365, "count": 110, "source": "paper"}
        ],
        event_shares=[],
    )
    sets, _ = count_proof(count_figures(s), (150, 150), ("drug", "placebo"), 365)
    assert sets == [["deaths_drug", "alive_drug"], ["deaths_total", "deaths_placebo", "alive_drug"]]
    report = check_summary(s).summary
    row = report[report.check == "counts_jointly"].iloc[0]
    assert row.verdict == "fail" and "deaths_drug with alive_drug;" in row.explanation
    rec = rebuild_cohort(s, seed=0, max_seconds=1)
    assert rec.outcome_ == "infeasible"
    assert [p.figures for p in rec.proofs_] == [tuple(m) for m in sets]


def _lifelines_hr(time, death, trt):
    df = pd.DataFrame({"time": time, "death": death, "trt": trt})
    return float(np.exp(CoxPHFitter().fit(df, "time", "death").params_["trt"]))


def test_hr_reach_is_the_extreme_orders():
    n, d = (30, 25), (12, 9)
    lo, hi = overall_hr_reach(n, np.array([d]))
    trt = np.r_[np.ones(30), np.zeros(25)]
    death = np.r_[np.arange(30) < 12, np.arange(25) < 9].astype(int)
    rank = np.arange(55, dtype=float)
    t_first = np.where(death == 1, np.where(trt == 1, rank, 100 + rank), 1000.0)
    c_first = np.where(death == 1, np.where(trt == 1, 100 + rank, rank), 1000.0)
    assert abs(np.log(hi[0]) - np.log(_lifelines_hr(t_first, death, trt))) < 1e-6
    assert abs(np.log(lo[0]) - np.log(_lifelines_hr(c_first, death, trt))) < 1e-6
    rng = np.random.default_rng(1)
    times = np.where(death == 1, rng.random((200, 55)), 2.0)
    res = fit_cox_batch(
        times, np.broadcast_to(death, times.shape), trt[None, :, None] + 0 * times[..., None]
    )
    hr = np.exp(res.coef[:, 0])
    assert (hr >= lo[0] - 1e-9).all() and (hr <= hi[0] + 1e-9).all()


def test_check_passes_what_rebuild_meets():
    report = check_summary(load_reported_summary(GENERIC)).summary
    rows = report[report.check.isin(["counts_jointly", "overall_hr_vs_counts"])]
    assert set(rows.verdict) == {"pass"} and len(rows) == 2


# ------------------------------------------------------------ the CI width's floor
def test_cox_se_floor_holds_on_random_trials_and_is_attained():
    # a theorem (Cauchy-Schwarz at the score's zero): no fit goes below it. 2,000 random
    # small trials, ties on a coarse grid, censoring, both tie methods; tolerance 1e-9.
    rng = np.random.default_rng(7)
    k, n = 2000, 24
    trt = (np.arange(n) < n // 2).astype(float)
    time = rng.integers(1, 8, size=(k, n)).astype(float)
    death = (rng.random((k, n)) < 0.6).astype(np.int8)
    x = np.broadcast_to(trt[None, :, None], (k, n, 1))
    for ties in ("efron", "breslow"):
        res = fit_cox_batch(time, death, x, ties=ties)
        d_t, d_c = (death * trt).sum(axis=1), (death * (1 - trt)).sum(axis=1)
        floor = np.array([cox_se_floor(a, b) for a, b in zip(d_t, d_c, strict=True)])
        se = np.sqrt(res.cov[:, 0, 0])
        fitted = res.ok & np.isfinite(floor)
        assert fitted.sum() > 1500
        assert np.all(se[fitted] >= floor[fitted] * (1 - 1e-9)), ties
    # attained: one treated and one control death at each time, equal risk sets: HR 1 and
    # information d/4 = d_t d_c / d (hand-worked), so SE = sqrt(1/d_t + 1/d_c)
    t = np.repeat(np.arange(1.0, 6.0), 2)
    arm = np.tile([1.0, 0.0], 5)
    res = fit_cox_batch(t, np.ones(10, np.int8), arm[:, None])
    assert abs(res.coef[0, 0]) < 1e-12
    assert np.sqrt(res.cov[0, 0, 0]) == pytest.approx(cox_se_floor(5, 5), rel=1e-12)


def test_cnm_au8_ci_is_narrower_than_its_deaths_allow():
    # 5 and 14 deaths (hand: sqrt(1/5 + 1/14) = 0.5207); the CI 0.118-0.718 prints from at
    # most log(0.7185 / 0.1175) / 3.92 = 0.462: no Cox Wald CI, in check and in rebuild alike
    s = load_reported_summary(data_path("trials", "cnm_au8_rescue_als", "reported.yaml"))
    row = next(r for r in check_summary(s) if r.check == "ci_width_vs_deaths")
    assert row.verdict == "fail" and "0.521" in row.explanation and "0.462" in row.explanation
    rec = rebuild_cohort(s, max_seconds=1)
    assert rec.outcome_ == "infeasible"
    assert any("os.ci_lower" in p.figures for p in rec.proofs_)


def test_ci_width_passes_when_wide_enough():
    s = load_reported_summary(GENERIC)
    rows = [r for r in check_summary(s) if r.check == "ci_width_vs_deaths"]
    assert rows and {r.verdict for r in rows} == {"pass"}
