"""The batched Cox engine against R, a hand-worked case, lifelines, and its batch semantics."""

from __future__ import annotations

import math
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_CASES, load_reference
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from alsstats.survival import CoxBatchResult, fit_cox, fit_cox_batch

# ----------------------------------------------------------------------------------------------
# 1. R survival::coxph reference fits (eps 1e-12): held to 1e-8 relative.

R_RTOL = 1e-8


def _design(df: pd.DataFrame, terms: list[str]) -> np.ndarray:
    """Model matrix of R's terms; an interaction "a:b" is the product of its columns."""
    cols = []
    for term in terms:
        factors = term.split(":")
        cols.append(np.prod([df[f].to_numpy(float) for f in factors], axis=0))
    return np.column_stack(cols)


@pytest.mark.parametrize("case", REFERENCE_CASES)
def test_matches_r_coxph(case: str) -> None:
    df, ref = load_reference(case)
    event = df["event" if "event" in df else "death"].to_numpy()
    strata = df["sex"].to_numpy() if "strata(sex)" in ref["formula"] else None
    res = fit_cox(
        df["time"].to_numpy(), event, _design(df, ref["terms"]), strata=strata, ties=ref["ties"]
    )
    assert res.status[0] == "ok"
    assert (res.n[0], res.n_events[0]) == (ref["n"], ref["nevent"])
    np.testing.assert_allclose(res.coef[0], ref["coef"], rtol=R_RTOL)
    np.testing.assert_allclose(res.se[0], ref["se"], rtol=R_RTOL)
    np.testing.assert_allclose(res.cov[0], np.array(ref["var"]), rtol=R_RTOL)
    np.testing.assert_allclose(res.loglik[0], ref["loglik"], rtol=R_RTOL)
    np.testing.assert_allclose(res.loglik_null[0], ref["loglik_null"], rtol=R_RTOL)


# ----------------------------------------------------------------------------------------------
# 2. Hand-worked case: 8 subjects, unsorted, tied deaths, one binary covariate x.
#
#   subject  0  1  2  3  4  5  6  7
#   time     6  2  6  9  2  6  4  11
#   event    1  1  1  0  1  0  0  1
#   x        1  0  0  1  1  1  0  0
#
# Death times: t=2 (subjects 1, 4: x = 0, 1), t=6 (subjects 0, 2: x = 1, 0), t=11 (subject 7).
# Risk sets as (a, b) = (number with x = 0, number with x = 1): t=2 (4, 4), t=6 (2, 3), t=11 (1, 0).
# A risk set (a, b) weighs s0 = a + b e^beta, with mean mu = b e^beta / s0 and variance
# mu (1 - mu); sum over deaths of x is 2. Breslow uses each risk set once per death; Efron's
# second tied death sees the risk set less half the deaths' weight, (a - 1/2, b - 1/2) here
# since each tie has one death with x = 0 and one with x = 1.

HAND_TIME = np.array([6, 2, 6, 9, 2, 6, 4, 11], float)
HAND_EVENT = np.array([1, 1, 1, 0, 1, 0, 0, 1])
HAND_X = np.array([1, 0, 0, 1, 1, 1, 0, 0], float)
# (a, b, multiplicity) of each term of the partial likelihood.
HAND_TERMS = {
    "breslow": [(4, 4, 2), (2, 3, 2), (1, 0, 1)],
    "efron": [(4, 4, 1), (3.5, 3.5, 1), (2, 3, 1), (1.5, 2.5, 1), (1, 0, 1)],
}


def _hand(ties: str, beta: float) -> tuple[float, float, float]:
    """Closed-form partial log-likelihood, score and information of the hand-worked case."""
    loglik, score, info = 2 * beta, 2.0, 0.0
    for a, b, mult in HAND_TERMS[ties]:
        s0 = a + b * math.exp(beta)
        mu = b * math.exp(beta) / s0
        loglik -= mult * math.log(s0)
        score -= mult * mu
        info += mult * mu * (1 - mu)
    return loglik, score, info


def test_hand_case_at_zero_by_hand() -> None:
    # Worked out on paper: Breslow U0 = 2 - (2 * 4/8 + 2 * 3/5 + 0) = -1/5,
    # I0 = 2 * 1/4 + 2 * 6/25 = 49/50; Efron U0 = 2 - (1/2 + 1/2 + 3/5 + 5/8) = -9/40,
    # I0 = 1/4 + 1/4 + 6/25 + 15/64.
    assert _hand("breslow", 0.0) == pytest.approx(
        (-2 * math.log(8) - 2 * math.log(5), -1 / 5, 49 / 50), rel=1e-14
    )
    assert _hand("efron", 0.0) == pytest.approx(
        (-math.log(8 * 7 * 5 * 4), -9 / 40, 1 / 4 + 1 / 4 + 6 / 25 + 15 / 64), rel=1e-14
    )


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_hand_case_null_one_step_and_convergence(ties: str) -> None:
    tol = 1e-12
    l0, u0, i0 = _hand(ties, 0.0)
    res = fit_cox(HAND_TIME, HAND_EVENT, HAND_X, ties=ties)
    assert res.loglik_null[0] == pytest.approx(l0, rel=tol)
    assert res.score_chi2[0] == pytest.approx(u0**2 / i0, rel=tol)

    # One Newton step from 0: beta1 = U0 / I0, with the log-likelihood and information there.
    one = fit_cox(HAND_TIME, HAND_EVENT, HAND_X, ties=ties, max_iter=1)
    beta1 = u0 / i0
    l1, _, i1 = _hand(ties, beta1)
    assert one.status[0] == "did not converge in 1 iterations"
    assert one.coef[0, 0] == pytest.approx(beta1, rel=tol)
    assert one.loglik[0] == pytest.approx(l1, rel=tol)
    assert one.cov[0, 0, 0] == pytest.approx(1 / i1, rel=tol)

    # Convergence: the root of the closed-form score by plain Newton iterations.
    beta = 0.0
    for _ in range(50):
        _, u, i = _hand(ties, beta)
        beta += u / i
    lhat, uhat, ihat = _hand(ties, beta)
    assert abs(uhat) < 1e-14
    assert res.status[0] == "ok" and res.converged[0]
    assert res.coef[0, 0] == pytest.approx(beta, rel=1e-10)
    assert res.se[0, 0] == pytest.approx(1 / math.sqrt(ihat), rel=1e-10)
    assert res.loglik[0] == pytest.approx(lhat, rel=1e-12)


# ----------------------------------------------------------------------------------------------
# 3. Property test against lifelines' CoxPHFitter (Efron) at tight convergence: 1e-6 relative.
# lifelines stops when the Newton decrement falls below `precision`, ~1e-6 from the optimum for
# 1e-12, and on a relative log-likelihood change of `r_precision`; hence 1e-18 and 0.


@st.composite
def small_data_sets(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(12, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "T": rng.integers(1, 8, n).astype(float),  # few distinct times: many ties
            "E": (rng.random(n) < 0.7).astype(int),
            "trt": rng.integers(0, 2, n).astype(float),
            "x": rng.normal(size=n).round(2),
        }
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(small_data_sets())
def test_matches_lifelines(df: pd.DataFrame) -> None:
    from lifelines import CoxPHFitter

    X = np.column_stack([df["trt"], df["x"], df["trt"] * df["x"]])
    res = fit_cox(df["T"].to_numpy(), df["E"].to_numpy(), X)
    assume(res.status[0] == "ok")
    data = df.assign(trt_x=df["trt"] * df["x"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # recorded only, to reject data lifelines warns about
        cph = CoxPHFitter().fit(
            data, "T", "E", fit_options={"precision": 1e-18, "r_precision": 0.0, "max_steps": 200}
        )
    assume(not caught)
    np.testing.assert_allclose(res.coef[0], cph.params_.to_numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(res.se[0], cph.standard_errors_.to_numpy(), rtol=1e-6)


# ----------------------------------------------------------------------------------------------
# 4. Batch semantics.


def _simulated(n_rep: int, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    trt = rng.integers(0, 2, (n_rep, n)).astype(float)
    pnfh = np.exp(rng.normal(np.log(2000), 0.7, (n_rep, n)))
    lp = np.log(0.5) * trt + 2e-4 * trt * pnfh + 1e-4 * pnfh
    t = np.ceil(rng.exponential(300 / np.exp(lp)))
    event = (t < 640).astype(int)
    return np.minimum(t, 640), event, np.stack([trt, pnfh, trt * pnfh], axis=-1)


def _assert_same(a: CoxBatchResult, b: CoxBatchResult) -> None:
    for field in (
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
    ):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


def test_batch_equals_solo_fits() -> None:
    t, e, X = _simulated(6, 80)
    batch = fit_cox_batch(t, e, X)
    assert batch.ok.all() and batch.ok().all()  # ok is a property that can also be called
    for r in range(6):
        _assert_same(
            CoxBatchResult(**{f: getattr(batch, f)[r : r + 1] for f in batch.__dataclass_fields__}),
            fit_cox(t[r], e[r], X[r]),
        )


def test_shared_inputs_broadcast() -> None:
    t, e, X = _simulated(1, 100)
    both = fit_cox_batch(t[0], e[0], np.stack([X[0], X[0] * 2]))  # time/event shared
    np.testing.assert_allclose(both.coef[1], both.coef[0] / 2, rtol=1e-10)
    np.testing.assert_allclose(both.loglik[1], both.loglik[0], rtol=1e-12)


def test_masked_ragged_replicates_equal_unpadded_fits() -> None:
    sizes = [30, 55, 80]
    t, e, X = _simulated(3, 80, seed=3)
    mask = np.arange(80) < np.array(sizes)[:, None]
    t_pad = np.where(mask, t, np.nan)  # padding may hold anything, NaN included
    X_pad = np.where(mask[..., None], X, np.nan)
    ragged = fit_cox_batch(t_pad, e, X_pad, mask=mask)
    for r, size in enumerate(sizes):
        solo = fit_cox(t[r, :size], e[r, :size], X[r, :size])
        assert ragged.n[r] == size
        np.testing.assert_array_equal(ragged.coef[r], solo.coef[0])
        np.testing.assert_array_equal(ragged.cov[r], solo.cov[0])
        np.testing.assert_array_equal(ragged.loglik[r], solo.loglik[0])


def test_strata_are_separate_risk_sets() -> None:
    t, e, X = _simulated(2, 60, seed=5)
    # Two data sets stacked with a stratum label each: at beta = 0 the log-likelihoods add up.
    stacked = fit_cox(
        np.r_[t[0], t[1]], np.r_[e[0], e[1]], np.r_[X[0], X[1]], strata=np.repeat(["a", "b"], 60)
    )
    null = fit_cox_batch(t, e, X, max_iter=1)
    assert stacked.loglik_null[0] == pytest.approx(null.loglik_null.sum(), rel=1e-13)


def test_chunking_and_executors_give_identical_results() -> None:
    t, e, X = _simulated(40, 60, seed=7)
    serial = fit_cox_batch(t, e, X)
    _assert_same(serial, fit_cox_batch(t, e, X, chunk_size=1))
    _assert_same(serial, fit_cox_batch(t, e, X, chunk_size=7, progress=True))
    with ProcessPoolExecutor(max_workers=2) as pool:
        _assert_same(serial, fit_cox_batch(t, e, X, chunk_size=7, executor=pool))
    with ThreadPoolExecutor(max_workers=2) as pool:
        _assert_same(serial, fit_cox_batch(t, e, X, executor=pool))


def test_init_changes_path_not_estimate() -> None:
    t, e, X = _simulated(3, 120, seed=11)
    cold = fit_cox_batch(t, e, X)
    warm = fit_cox_batch(t, e, X, init=cold.coef)
    np.testing.assert_allclose(warm.coef, cold.coef, rtol=1e-9)
    assert (warm.n_iter <= 2).all()


def test_platform_fingerprint_is_stable_and_sees_one_last_bit(monkeypatch):
    """The fingerprint is the same call after call, and a single ulp in one fitted coefficient
    changes it (what it is for: telling machines that round differently apart)."""
    from alsstats.survival import _fingerprint, platform_fingerprint

    first = platform_fingerprint()
    assert platform_fingerprint() == first and len(first) == 16
    real = _fingerprint.fit_cox_batch

    def one_ulp_off(*args, **kwargs):
        res = real(*args, **kwargs)
        res.coef[0, 0] = np.nextafter(res.coef[0, 0], np.inf)
        return res

    monkeypatch.setattr(_fingerprint, "fit_cox_batch", one_ulp_off)
    assert platform_fingerprint() != first
