"""Johnson-Neyman closed form, the spread across searches, and a rebuild under an alternative
assumption."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from alsstats import data_path
from alsstats.errors import ModelError
from alsstats.interaction import johnson_neyman_linear
from alsstats.reconstruct import (
    default_alternatives,
    evaluation_points,
    interaction_fit,
    rebuild_cohort,
    search_spread,
    sensitivity,
)
from alsstats.summary import load_reported_summary


def test_johnson_neyman_bounds_solve_the_quadratic():
    coef = np.array([-1.14, 0.2, 2.4e-4])
    cov = np.array([[0.18, 0.0, -4e-5], [0.0, 1e-8, 0.0], [-4e-5, 0.0, 1.2e-8]])
    region = johnson_neyman_linear(coef[0], coef[2], cov[0, 0], cov[0, 2], cov[2, 2])
    z = stats.norm.ppf(0.975)
    for lo, hi in region:
        for x in (lo, hi):
            if math.isfinite(x):  # at a bound the CI just touches HR = 1
                est = coef[0] + coef[2] * x
                se = math.sqrt(cov[0, 0] + 2 * x * cov[0, 2] + x * x * cov[2, 2])
                assert abs(est) == pytest.approx(z * se, rel=1e-9)
    # inside the first interval (x = 0) the CI excludes 1: |b_t| / se_t > z
    assert region[0][0] == -math.inf and abs(coef[0]) / math.sqrt(cov[0, 0]) > z


def test_johnson_neyman_linear_hand_worked_and_degenerate_cases():
    # b_t = -1, b_i = 0.5, V = diag(0.04, 0.01): (0.25 - 0.01 z^2) x^2 - x + (1 - 0.04 z^2) = 0,
    # roots by the textbook formula (well conditioned here); tolerance 1e-12 relative
    z2 = stats.norm.ppf(0.975) ** 2
    a, b, c = 0.25 - 0.01 * z2, -1.0, 1 - 0.04 * z2
    r1 = (-b - math.sqrt(b * b - 4 * a * c)) / (2 * a)
    r2 = (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    (lo1, hi1), (lo2, hi2) = johnson_neyman_linear(-1.0, 0.5, 0.04, 0.0, 0.01)
    assert (lo1, hi2) == (-math.inf, math.inf)
    assert hi1 == pytest.approx(r1, rel=1e-12) and lo2 == pytest.approx(r2, rel=1e-12)
    # slope known exactly but the HR at 0 uncertain: a bounded region would need a < 0
    assert johnson_neyman_linear(0.0, 0.0, 1.0, 0.0, 1.0) == []  # nowhere excludes 1
    assert johnson_neyman_linear(2.0, 0.0, 0.01, 0.0, 0.0) == [(-math.inf, math.inf)]
    # a < 0 (slope uncertain): one bounded interval around where the HR is estimated best
    ((lo, hi),) = johnson_neyman_linear(-1.0, 0.1, 0.04, 0.0, 0.01)
    assert lo < 0 < hi and math.isfinite(lo) and math.isfinite(hi)


@pytest.fixture(scope="module")
def shipped():
    return rebuild_cohort(data_path("mirocals", "reported.yaml"), seed=2025)


def test_search_spread_by_hand(shipped):
    # a second "reconstruction": the same cohort with pNFH of two deaths exchanged
    cohort = shipped.cohort.copy()
    i, j = cohort.index[cohort["death"] == 1][:2]
    cohort.loc[[i, j], "pnfh"] = cohort.loc[[j, i], "pnfh"].to_numpy()
    other = dataclasses.replace(shipped, cohort=cohort)
    out = search_spread([shipped, other], [2000.0])
    ests = []
    for rec in (shipped, other):
        coef, cov, _ = interaction_fit(rec)
        ests.append((coef[0] + 2000 * coef[2], cov[0, 0] + 4000 * cov[0, 2] + 2000**2 * cov[2, 2]))
    (q1, u1), (q2, u2) = ests
    w, b = (u1 + u2) / 2, (q1 - q2) ** 2 / 2  # within, between (K = 2, ddof 1)
    # tolerance: floating point (the same sums by hand)
    assert out["within"].iloc[0] == pytest.approx(w, rel=1e-12)
    assert out["between"].iloc[0] == pytest.approx(b, rel=1e-12)
    assert out["between_share"].iloc[0] == pytest.approx(b / (b + w), rel=1e-12)
    assert out["hr_mean"].iloc[0] == pytest.approx(math.exp((q1 + q2) / 2))
    assert out["hr_min"].iloc[0] == pytest.approx(math.exp(min(q1, q2)))
    assert out["hr_max"].iloc[0] == pytest.approx(math.exp(max(q1, q2)))
    assert "lower" not in out.columns  # a spread, not an interval
    with pytest.raises(ModelError):
        search_spread([shipped], [2000.0])


def test_sensitivity_reports_each_alternative():
    table = sensitivity(
        data_path("mirocals", "reported.yaml"),
        {"limit_of_quantification": [{"value": 300, "unit": "pg/mL"}]},
        seed=2025,
        max_seconds=30,
    )
    assert isinstance(table, pd.DataFrame) and list(table["assumption"]) == [
        "default",
        "limit_of_quantification",
    ]
    default = table.iloc[0]
    assert default["feasible"]
    # evaluated by default at the summary's cut-offs (750 and 3,700 pg/mL): the rebuilt model
    # reproduces HR 0.32 at 0 and rises with pNFH
    assert [c for c in table.columns if c.startswith("hr_")] == ["hr_750", "hr_3700"]
    assert default["hr_750"] < default["hr_3700"]
    assert 750 < default["hr1_crossing"] < 10000


def test_spread_of_identical_cohorts_is_zero(shipped):
    out = search_spread([shipped, shipped, shipped], [750.0, 3700.0])
    assert np.all(out["between"] == 0) and np.all(out["between_share"] == 0)
    np.testing.assert_array_equal(out["hr_min"], out["hr_max"])


def test_default_alternatives_follow_the_summary_ids_and_values():
    summary = load_reported_summary(data_path("mirocals", "reported.yaml"))
    alt = default_alternatives(summary)
    # the modifier's scale under the summary's own id (pnfh_scale), not biomarker_scale
    assert alt["pnfh_scale"] == ["log"] and "biomarker_scale" not in alt
    # the stated limit (100 pg/mL) times 0.2 and 3, in its unit
    assert alt["limit_of_quantification"] == [
        {"value": 20.0, "unit": "pg/mL"},
        {"value": 300.0, "unit": "pg/mL"},
    ]
    assert alt["adjusted_model_covariates"] == [
        ["treatment", "csf_pnfh", "treatment:csf_pnfh", "age", "male"]
    ]


def test_evaluation_points_are_the_printed_cut_offs():
    summary = load_reported_summary(data_path("mirocals", "reported.yaml"))
    assert evaluation_points(summary) == [750.0, 3700.0]
    bare = dataclasses.replace(
        summary,
        hazard_ratios=tuple(
            h for h in summary.hazard_ratios if h.population.kind != "biomarker_range"
        ),
    )
    with pytest.raises(ModelError, match="where to evaluate"):
        evaluation_points(bare)
