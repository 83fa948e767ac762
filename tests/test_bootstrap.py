"""Bootstrap bands of Cox contrasts: reproducibility, coverage with known truth, BCa by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from alsstats.errors import InputError, ModelError
from alsstats.survival import bootstrap_contrasts, fit_cox
from alsstats.survival._bootstrap import _resample_indices


def _trial(n: int, log_hr: float, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Two equal arms, exponential survival, administrative censoring at 1.5 (about 70% events)."""
    trt = np.repeat([0.0, 1.0], n // 2)
    t = rng.exponential(1 / np.exp(log_hr * trt))
    return np.minimum(t, 1.5), (t < 1.5).astype(int), trt


def _interaction_trial(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    trt = np.repeat([0.0, 1.0], 60)
    pnfh = np.exp(rng.normal(np.log(2000), 0.7, 120))
    t = rng.exponential(400 / np.exp(np.log(0.4) * trt + 2e-4 * trt * pnfh))
    X = np.column_stack([trt, pnfh, trt * pnfh])
    contrasts = np.array([[1.0, 0.0, x] for x in (1000.0, 2000.0, 4000.0)])
    return np.minimum(t, 640), (t < 640).astype(int), X, contrasts, trt


def test_same_seed_gives_identical_bands() -> None:
    t, e, X, d, trt = _interaction_trial()
    for method in ("percentile", "bca"):
        a = bootstrap_contrasts(t, e, X, d, resample_by=trt, n_resamples=300, seed=7, method=method)
        b = bootstrap_contrasts(t, e, X, d, resample_by=trt, n_resamples=300, seed=7, method=method)
        for field in ("estimate", "lower", "upper", "replicates"):
            assert getattr(a, field).tobytes() == getattr(b, field).tobytes(), field
        assert (a.n_failed, a.seed, a.method) == (b.n_failed, 7, method)
    c = bootstrap_contrasts(t, e, X, d, resample_by=trt, n_resamples=300, seed=8)
    assert not np.array_equal(a.replicates, c.replicates)


def test_estimate_is_the_contrast_of_the_full_fit() -> None:
    t, e, X, d, _ = _interaction_trial(1)
    band = bootstrap_contrasts(t, e, X, d, n_resamples=100)
    np.testing.assert_allclose(band.estimate, d @ fit_cox(t, e, X).coef[0], rtol=1e-13)
    assert band.replicates.shape == (100 - band.n_failed, 3)
    assert np.all(band.lower < band.estimate) and np.all(band.estimate < band.upper)


def test_resampling_within_groups_keeps_group_sizes() -> None:
    groups = np.array([0] * 7 + [1] * 13)
    rows = _resample_indices(20, groups, 50, np.random.default_rng(0))
    assert rows.shape == (50, 20)
    assert np.all((groups[rows] == 0).sum(axis=1) == 7)


def test_percentile_coverage_near_nominal() -> None:
    # 200 trials of 100 patients with true log HR -0.5; 200 resamples each. The share of 90%
    # bands that cover the truth is within 3 Monte Carlo SE (sqrt(0.9 * 0.1 / 200) = 0.021).
    rng = np.random.default_rng(2024)
    truth, n_trials, covered = -0.5, 200, 0
    for _ in range(n_trials):
        t, e, trt = _trial(100, truth, rng)
        band = bootstrap_contrasts(
            t, e, trt, [[1.0]], n_resamples=200, level=0.9, seed=int(rng.integers(2**31))
        )
        covered += bool(band.lower[0] <= truth <= band.upper[0])
    assert abs(covered / n_trials - 0.9) <= 3 * np.sqrt(0.9 * 0.1 / n_trials)


def test_bca_matches_a_hand_computation() -> None:
    # Efron (1987): z0 = Phi^-1(share of replicates below the estimate), acceleration
    # a = sum(dev^3) / (6 sum(dev^2)^1.5) over leave-one-out estimates (dev = their mean - each),
    # limits at the replicate quantiles Phi(z0 + (z0 + z) / (1 - a (z0 + z))), z = Phi^-1(alpha).
    t, e, X, d, _ = _interaction_trial(3)
    keep = np.r_[0:20, 60:80]  # 20 per arm
    t, e, X = t[keep], e[keep], X[keep]
    band = bootstrap_contrasts(t, e, X, d, n_resamples=400, level=0.8, method="bca", seed=3)
    reps = band.replicates
    est = d @ fit_cox(t, e, X).coef[0]
    jack = np.array(
        [
            d @ fit_cox(np.delete(t, i), np.delete(e, i), np.delete(X, i, 0)).coef[0]
            for i in range(40)
        ]
    )
    for g in range(3):
        z0 = norm.ppf(np.mean(reps[:, g] < est[g]))  # continuous replicates: no ties
        dev = jack[:, g].mean() - jack[:, g]
        a = (dev**3).sum() / (6 * (dev**2).sum() ** 1.5)
        for z, limit in ((norm.ppf(0.1), band.lower[g]), (norm.ppf(0.9), band.upper[g])):
            q = norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
            assert limit == pytest.approx(np.quantile(reps[:, g], q), rel=1e-9)


def test_bca_close_to_percentile_for_a_symmetric_unbiased_case() -> None:
    # A large trial with one binary covariate: the bootstrap distribution of the log HR is
    # nearly normal and centred, so z0 and a are small and the two bands nearly agree.
    t, e, trt = _trial(400, -0.3, np.random.default_rng(5))
    pct = bootstrap_contrasts(t, e, trt, [[1.0]], n_resamples=1000, seed=1)
    bca = bootstrap_contrasts(t, e, trt, [[1.0]], n_resamples=1000, seed=1, method="bca")
    width = pct.upper[0] - pct.lower[0]
    assert abs(bca.lower[0] - pct.lower[0]) < 0.1 * width
    assert abs(bca.upper[0] - pct.upper[0]) < 0.1 * width


def test_errors() -> None:
    t, e, X, d, _ = _interaction_trial()
    with pytest.raises(InputError, match="method"):
        bootstrap_contrasts(t, e, X, d, method="basic")
    with pytest.raises(InputError, match="contrasts"):
        bootstrap_contrasts(t, e, X, d[:, :2])
    with pytest.raises(ModelError, match="no events"):
        bootstrap_contrasts(t, np.zeros_like(e), X, d)
