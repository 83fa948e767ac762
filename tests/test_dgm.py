"""Data-generating model: checked against closed forms and simulations with known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from scipy import stats

from alsstats.errors import InputError
from alsstats.models import DataGeneratingModel, LogNormalBiomarker, WeibullBaseline


def mirocals_like(**changes) -> DataGeneratingModel:
    model = DataGeneratingModel(
        baseline=WeibullBaseline(shape=1.2, scale=2500.0),
        biomarker=LogNormalBiomarker.from_shares(750, 0.09, 3700, 0.21),
        log_hr_treatment=math.log(0.32),
        log_hr_biomarker=2.0e-4,
        log_hr_interaction=2.4e-4,
    )
    return model.with_(**changes)


def test_lognormal_from_shares_hits_both_shares_exactly() -> None:
    b = LogNormalBiomarker.from_shares(750, 0.09, 3700, 0.21)
    # tolerance: floating point only
    assert b.share_between(None, 750) == pytest.approx(0.09, abs=1e-12)
    assert b.share_between(3700, None) == pytest.approx(0.21, abs=1e-12)
    assert b.share_between(750, 3700) == pytest.approx(0.70, abs=1e-12)
    # hand-worked: sigma = log(3700/750) / (z(0.79) - z(0.09))
    sigma = math.log(3700 / 750) / (stats.norm.ppf(0.79) - stats.norm.ppf(0.09))
    assert b.sigma_log == pytest.approx(sigma, rel=1e-12)


def test_lognormal_sample_matches_its_quantiles() -> None:
    b = LogNormalBiomarker(2000.0, 0.75)
    x = b.sample(200_000, np.random.default_rng(3))
    q = np.array([0.1, 0.5, 0.9])
    # tolerance: 1% relative, several Monte Carlo SEs of a sample quantile at n = 200,000
    np.testing.assert_allclose(np.quantile(x, q), b.quantile(q), rtol=0.01)


def test_lognormal_quantile_and_shares_are_scipys_lognormal_to_the_bit() -> None:
    """The quantile and shares use scipy.special directly (speed); scipy.stats.lognorm is the
    independent reference. Tolerance: none for the quantile (the search's start cohorts and
    moves draw through it, and the shipped cohorts are byte-identical); 1e-15 for a share."""
    b = LogNormalBiomarker(2030.0, 0.76)
    q = np.r_[0.0, 1e-300, np.random.default_rng(5).random(1000), 0.5, 1.0]
    expected = b.median * np.exp(b.sigma_log * stats.norm.ppf(q))
    np.testing.assert_array_equal(b.quantile(q), expected)
    ref = stats.lognorm(b.sigma_log, scale=b.median)
    np.testing.assert_allclose(b.quantile(q[1:-1]), ref.ppf(q[1:-1]), rtol=1e-12)
    assert b.share_between(750, 3700) == pytest.approx(ref.cdf(3700) - ref.cdf(750), abs=1e-15)
    assert b.share_between(None, 750) == pytest.approx(ref.cdf(750), abs=1e-15)


def test_event_times_follow_the_model_survival() -> None:
    model = mirocals_like()
    rng = np.random.default_rng(11)
    n = 40_000
    x = np.full(n, 2000.0)
    arm = np.ones(n)
    t = model.sample_event_times(arm, x, rng)
    km = KaplanMeierFitter().fit(np.minimum(t, 640), t <= 640)
    for day in (100, 300, 640):
        expected = float(model.survival(day, 1, 2000.0))
        se = math.sqrt(expected * (1 - expected) / n)
        # tolerance: 4 binomial standard errors
        assert abs(float(km.survival_function_at_times(day).iloc[0]) - expected) < 4 * se


def test_log_hazard_ratio_is_linear_in_the_modifier() -> None:
    model = mirocals_like()
    assert model.log_hazard_ratio(0.0) == pytest.approx(math.log(0.32), rel=1e-15)
    assert model.log_hazard_ratio(4747.7) == pytest.approx(0.0, abs=1e-3)
    log_model = model.with_(scale="log", log_hr_interaction=0.5, log_hr_biomarker=0.3)
    assert log_model.log_hazard_ratio(math.e) == pytest.approx(math.log(0.32) + 0.5)


def test_cox_fit_recovers_the_true_coefficients() -> None:
    model = mirocals_like(follow_up=3000.0)
    df = model.simulate((3000, 3000), np.random.default_rng(5))
    df["x"] = df["biomarker"] / 1000.0
    df["arm_x"] = df["arm"] * df["x"]
    fit = CoxPHFitter().fit(df[["time", "event", "arm", "x", "arm_x"]], "time", "event")
    truth = np.array([math.log(0.32), 0.2, 0.24])
    se = fit.standard_errors_.to_numpy()
    # tolerance: 4 standard errors of each estimate (known truth, one simulation)
    assert np.all(np.abs(fit.params_.to_numpy() - truth) < 4 * se)


def test_censoring_is_administrative_and_dropout_has_its_rate() -> None:
    model = mirocals_like(dropout_rate=1 / 1000)
    rng = np.random.default_rng(2)
    latent = np.full(100_000, 1e9)  # nobody dies: every stop is dropout or end of follow-up
    time, event = model.censor(latent, rng)
    assert event.sum() == 0
    assert time.max() <= 640.0
    expected_dropout = 1 - math.exp(-640 / 1000)
    observed = float(np.mean(time < 640))
    # tolerance: 4 binomial standard errors
    se = math.sqrt(expected_dropout * (1 - expected_dropout) / 100_000)
    assert abs(observed - expected_dropout) < 4 * se


def test_simulate_is_deterministic_given_the_seed() -> None:
    model = mirocals_like()
    a = model.simulate((110, 110), np.random.default_rng(7))
    b = model.simulate((110, 110), np.random.default_rng(7))
    assert a.equals(b)
    assert a.to_csv().encode() == b.to_csv().encode()


@pytest.mark.parametrize(
    "make",
    [
        lambda: WeibullBaseline(0.0, 10.0),
        lambda: LogNormalBiomarker(-1.0, 0.5),
        lambda: LogNormalBiomarker.from_shares(3700, 0.09, 750, 0.21),
        lambda: mirocals_like(scale="sqrt"),
        lambda: mirocals_like(follow_up=-1.0),
    ],
    ids=["weibull-shape-0", "negative-median", "cuts-reversed", "unknown-scale", "negative-fu"],
)
def test_bad_parameters_raise_input_error(make) -> None:
    with pytest.raises(InputError):
        make()


def test_survival_is_zero_without_a_warning_when_the_hazard_overflows() -> None:
    """A linear predictor beyond float range (a calibration trying an extreme modifier effect
    at a large modifier value) gives S = exp(-inf) = 0 exactly; warnings are errors here."""
    model = mirocals_like(log_hr_biomarker=1.0)
    s = model.survival(np.array(720.0), np.array([0.0, 0.0]), np.array([1e4, 1.0]))
    assert s[0] == 0.0
    assert 0.0 < s[1] < 1.0
