"""The fast kernel's guarantees: warm starts, identical bytes for any threads or chunks, one
compiled signature, and the compile-cache helpers."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from alsstats.survival import CoxBatchResult, fit_cox, fit_cox_batch
from alsstats.survival import _engine as engine

FIELDS = (
    "coef",
    "cov",
    "loglik",
    "loglik_null",
    "score_chi2",
    "n_iter",
    "converged",
    "status",
    "n",
    "n_events",
)


def _simulated(n_rep: int, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trials with a treatment, a biomarker in the thousands and their interaction; integer
    days, so many tied times."""
    rng = np.random.default_rng(seed)
    trt = rng.integers(0, 2, (n_rep, n)).astype(float)
    pnfh = np.exp(rng.normal(np.log(2000), 0.7, (n_rep, n)))
    lp = np.log(0.5) * trt + 2e-4 * trt * pnfh + 1e-4 * pnfh
    t = np.ceil(rng.exponential(300 / np.exp(lp)))
    return np.minimum(t, 640), (t < 640).astype(int), np.stack([trt, pnfh, trt * pnfh], axis=-1)


def _assert_same(a: CoxBatchResult, b: CoxBatchResult) -> None:
    for field in FIELDS:  # tolerance: identical bits
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


# ----------------------------------------------------------------------------------------------
# Warm starts


def test_warm_start_from_the_estimate_gives_it_back_in_fewer_iterations() -> None:
    t, e, X = _simulated(20, 150, seed=21)
    cold = fit_cox_batch(t, e, X)
    assert cold.ok.all()
    warm = fit_cox_batch(t, e, X, init=cold.coef)
    np.testing.assert_allclose(warm.coef, cold.coef, rtol=1e-8)
    np.testing.assert_allclose(warm.cov, cold.cov, rtol=1e-8)
    np.testing.assert_allclose(warm.loglik, cold.loglik, rtol=1e-12)
    np.testing.assert_array_equal(warm.loglik_null, cold.loglik_null)  # always at beta = 0
    assert (warm.n_iter < cold.n_iter).all()
    solo = fit_cox(t[0], e[0], X[0], init=cold.coef[0])  # (p,) for one data set
    np.testing.assert_allclose(solo.coef[0], cold.coef[0], rtol=1e-8)
    assert solo.n_iter[0] < cold.n_iter[0]


def test_warm_start_from_a_nearby_fit_as_in_the_bootstrap() -> None:
    # Resamples of one trial started from the trial's own fit (one (p,) init for all): the
    # estimates of the cold starts, in fewer iterations overall.
    t, e, X = _simulated(1, 220, seed=22)
    rows = np.random.default_rng(3).integers(0, 220, (40, 220))
    full = fit_cox(t[0], e[0], X[0])
    data = (t[0][rows], e[0][rows], X[0][rows])
    cold = fit_cox_batch(*data)
    warm = fit_cox_batch(*data, init=full.coef[0])
    ok = cold.ok
    assert ok.sum() >= 35 and (warm.ok == ok).all()
    np.testing.assert_allclose(warm.coef[ok], cold.coef[ok], rtol=1e-8)
    np.testing.assert_allclose(warm.cov[ok], cold.cov[ok], rtol=1e-8)
    assert warm.n_iter[ok].sum() < cold.n_iter[ok].sum()


# ----------------------------------------------------------------------------------------------
# Identical bytes whatever the threads and the chunks


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_threads_and_chunks_give_identical_bytes(ties: str) -> None:
    t, e, X = _simulated(50, 90, seed=23)
    mask = np.random.default_rng(5).random((50, 90)) < 0.9
    strata = np.random.default_rng(6).integers(0, 3, (50, 90))
    kw = {"mask": mask, "strata": strata, "ties": ties}
    one = fit_cox_batch(t, e, X, **kw, threads=1)
    for threads, chunk_size in ((2, None), (2, 1), (2, 7), (1, 13), (3, 4)):
        _assert_same(one, fit_cox_batch(t, e, X, **kw, threads=threads, chunk_size=chunk_size))


def test_shared_times_sorted_once_give_the_bytes_of_per_replicate_times() -> None:
    t, e, X = _simulated(12, 70, seed=24)
    shared = fit_cox_batch(t[0], e[0], X, threads=2, chunk_size=5)
    tiled = fit_cox_batch(np.tile(t[0], (12, 1)), np.tile(e[0], (12, 1)), X, threads=1)
    _assert_same(shared, tiled)


def test_only_the_order_of_times_matters() -> None:
    # Integer days, days + 0.5 and days / 7.3 (two different sorting paths) order the rows the
    # same way, ties included: the fits are identical to the bit.
    t, e, X = _simulated(6, 120, seed=25)
    days = fit_cox_batch(t, e, X)
    _assert_same(days, fit_cox_batch(t + 0.5, e, X))
    _assert_same(days, fit_cox_batch(t / 7.3, e, X))


def test_read_only_and_broadcast_inputs() -> None:
    t, e, X = _simulated(4, 60, seed=26)
    expected = fit_cox_batch(t, e, X)
    ro = [a.copy() for a in (t, e, X)]
    for a in ro:
        a.flags.writeable = False
    _assert_same(expected, fit_cox_batch(*ro))
    t1 = np.broadcast_to(t[0], (4, 60))  # read-only, stride 0 over replicates
    _assert_same(fit_cox_batch(np.tile(t[0], (4, 1)), e, X), fit_cox_batch(t1, e, X))


# ----------------------------------------------------------------------------------------------
# One compiled signature, and the cache helpers


def test_one_compiled_signature_for_every_kind_of_call() -> None:
    t, e, X = _simulated(3, 40, seed=27)
    ro = X[0].copy()
    ro.flags.writeable = False
    fit_cox(t[0], e[0], X[0])  # 1-D inputs
    fit_cox(list(t[0]), e[0].astype(bool), ro[:, 0], ties="breslow")  # list, bool, vector
    fit_cox(t[0].astype(np.float32), e[0], np.asfortranarray(X[0]), strata=e[0])
    fit_cox_batch(t[:1], e[:1], X[:1])  # batch, R = 1
    fit_cox_batch(t, e, X, mask=np.ones((3, 40), bool), init=np.zeros((3, 3)))  # R > 1
    fit_cox_batch(np.broadcast_to(t[0], (3, 40)), e[0], np.broadcast_to(ro, (3, 40, 3)))
    fit_cox_batch(t, e, X, threads=2, chunk_size=1)
    assert len(engine._fit_chunk_kernel.signatures) == 1


def test_kernel_compiled_and_warm_up() -> None:
    assert engine.warm_up() < 1.0  # compiled or loaded by now
    assert engine.kernel_compiled()


def test_kernel_compiled_is_false_with_an_empty_cache(tmp_path) -> None:
    # A fresh cache directory, nothing compiled in that process: False, without compiling.
    code = "from alsstats.survival import _engine; print(_engine.kernel_compiled())"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
    assert not any(tmp_path.rglob("*.nbc"))


def test_finiteness_check_when_the_sum_overflows() -> None:
    # Validation sums the values (one pass); a sum that overflows is checked value by value.
    from alsstats.errors import InputError

    t, e, X = _simulated(1, 40, seed=28)
    big = np.column_stack([X[0, :, 0], np.full(40, 1e308)])  # finite, sum inf
    assert fit_cox(t[0], e[0], big).n[0] == 40  # accepted (the fit itself fails, by name)
    big[3, 1] = np.nan
    with pytest.raises(InputError, match="X: contains NaN"):
        fit_cox(t[0], e[0], big)
