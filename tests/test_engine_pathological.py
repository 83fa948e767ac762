"""Data sets the Cox engine cannot fit, each with its named reason, and misuse of the API."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alsstats.errors import InputError
from alsstats.survival import fit_cox, fit_cox_batch

N = 60


def _arms(seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two arms of 30 with a continuous modifier: time, event, treatment, modifier."""
    rng = np.random.default_rng(seed)
    trt = np.repeat([0.0, 1.0], N // 2)
    x = rng.normal(size=N)
    return rng.exponential(size=N), (rng.random(N) < 0.7).astype(int), trt, x


def test_no_events_in_one_arm_is_monotone_likelihood() -> None:
    t, e, trt, x = _arms()
    e[trt == 1] = 0  # the treatment coefficient runs to -inf while the loglik converges
    res = fit_cox(t, e, np.column_stack([trt, x, trt * x]))
    assert res.status[0] == "monotone likelihood (coefficient 0 -> -inf)"
    assert not res.ok[0] and not res.converged[0]
    assert res.coef[0, 0] < -10  # the last iterate, well on its way
    e2 = _arms()[1]
    e2[trt == 0] = 0
    assert fit_cox(t, e2, np.column_stack([trt, x])).status[0] == (
        "monotone likelihood (coefficient 0 -> +inf)"
    )


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_all_events_tied_at_one_time(ties: str) -> None:
    from lifelines import CoxPHFitter

    t, _, trt, x = _arms(2)
    t = np.where(np.arange(N) % 3 == 0, 5.0, 1.0)  # every death at t = 1, the rest censored at 5
    e = (t == 1).astype(int)
    res = fit_cox(t, e, np.column_stack([trt, x]), ties=ties)
    assert res.status[0] == "ok"
    assert res.n_events[0] == 40
    if ties == "efron":  # lifelines implements Efron only; tight convergence as in test_engine
        cph = CoxPHFitter().fit(
            pd.DataFrame({"T": t, "E": e, "trt": trt, "x": x}),
            "T",
            "E",
            fit_options={"precision": 1e-18, "r_precision": 0.0, "max_steps": 200},
        )
        np.testing.assert_allclose(res.coef[0], cph.params_.to_numpy(), rtol=1e-6)
        np.testing.assert_allclose(res.se[0], cph.standard_errors_.to_numpy(), rtol=1e-6)


def test_constant_covariate_is_singular() -> None:
    t, e, trt, x = _arms()
    res = fit_cox(t, e, np.column_stack([x, np.full(N, 3.0)]))
    assert res.status[0] == "singular information (column 1 of X is constant or collinear)"
    assert np.isnan(res.coef).all() and np.isnan(res.score_chi2).all()
    collinear = fit_cox(t, e, np.column_stack([trt, x, 2 * x - trt]))
    assert collinear.status[0].startswith("singular information (column 2")


def test_no_events() -> None:
    t, _, trt, x = _arms()
    res = fit_cox(t, np.zeros(N, int), np.column_stack([trt, x]))
    assert res.status[0] == "no events"
    assert res.n_events[0] == 0 and res.n[0] == N
    assert np.isnan(res.coef).all() and np.isnan(res.loglik_null).all()


def test_iteration_limit_is_reported() -> None:
    t, e, trt, x = _arms()
    X = np.column_stack([trt, x, trt * x])
    # n_iter counts the final step taken after convergence is established.
    k = int(fit_cox(t, e, X).n_iter[0]) - 2
    assert k >= 1
    res = fit_cox(t, e, X, max_iter=k)
    assert res.status[0] == f"did not converge in {k} iterations"
    assert res.n_iter[0] == k and not res.converged[0]


def test_one_failing_replicate_leaves_the_others_alone() -> None:
    rng = np.random.default_rng(4)
    R = 4
    trt = np.tile(np.repeat([0.0, 1.0], N // 2), (R, 1))
    x = rng.normal(size=(R, N))
    t = rng.exponential(size=(R, N))
    e = (rng.random((R, N)) < 0.7).astype(int)
    e[1, trt[1] == 1] = 0  # replicate 1: monotone
    e[3] = 0  # replicate 3: no events
    X = np.stack([trt, x, trt * x], axis=-1)
    res = fit_cox_batch(t, e, X)
    assert list(res.ok) == [True, False, True, False]
    assert res.status[1].startswith("monotone likelihood (coefficient 0 -> -inf)")
    assert res.status[3] == "no events"
    for r in (0, 2):
        solo = fit_cox(t[r], e[r], X[r])
        np.testing.assert_array_equal(res.coef[r], solo.coef[0])
        np.testing.assert_array_equal(res.cov[r], solo.cov[0])


def test_nan_input_raises_input_error() -> None:
    t, e, trt, x = _arms()
    x[5] = np.nan
    with pytest.raises(InputError, match=r"fit_cox_batch: X: contains NaN"):
        fit_cox(t, e, np.column_stack([trt, x]))


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (lambda a: {**a, "time": -a["time"]}, "time", "negative"),
        (lambda a: {**a, "event": a["event"] * 2}, "event", "0/1"),
        (lambda a: {**a, "X": a["X"][:-1]}, "X", "rows"),
        (
            lambda a: {**a, "time": np.tile(a["time"], (3, 1)), "X": np.tile(a["X"], (2, 1, 1))},
            "X",
            "replicates",
        ),
        (lambda a: {**a, "ties": "exact"}, "ties", "unknown ties"),
        (lambda a: {**a, "mask": np.ones(N, int)}, "mask", "boolean"),
        (lambda a: {**a, "init": np.zeros(5)}, "init", "shape"),
    ],
)
def test_misuse_raises_input_error(change, field: str, problem: str) -> None:
    t, e, trt, x = _arms()
    args = change({"time": t, "event": e, "X": np.column_stack([trt, x]), "ties": "efron"})
    with pytest.raises(InputError, match=f"{field}: .*{problem}"):
        fit_cox_batch(**args)
