"""The batched (stratified) log-rank test against a hand-worked case, lifelines and statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from lifelines.statistics import logrank_test
from statsmodels.duration.survfunc import survdiff

from alsstats.errors import InputError
from alsstats.survival import logrank_batch


def test_hand_worked_stratified_example() -> None:
    # Stratum 0: times 1(g1,death) 2(g0,death) 2(g1,death) 3(g0,cens) 4(g1,death)
    #   t=1: n=5, n1=3, d=1 -> E=3/5, V=(3/5)(2/5)=0.24
    #   t=2: n=4, n1=2, d=2 -> E=1,   V=2(1/2)(1/2)(4-2)/(4-1)=1/3
    #   t=4: n=1, n1=1, d=1 -> E=1,   V=0            => O=3, E=2.6, V=0.24+1/3
    # Stratum 1: 1(g0,death) 5(g1,death)
    #   t=1: n=2, n1=1, d=1 -> E=1/2, V=1/4; t=5: E=1, V=0 => O=1, E=1.5, V=0.25
    time = [1, 2, 2, 3, 4, 1, 5]
    event = [1, 1, 1, 0, 1, 1, 1]
    group = [1, 0, 1, 0, 1, 0, 1]
    strata = [0, 0, 0, 0, 0, 1, 1]
    res = logrank_batch(time, event, group, strata=strata)
    v = 0.24 + 1 / 3 + 0.25
    assert res.observed[0] == 4.0
    assert res.expected[0] == pytest.approx(4.1, abs=1e-12)
    assert res.variance[0] == pytest.approx(v, abs=1e-12)
    assert res.z[0] == pytest.approx(-0.1 / math.sqrt(v), abs=1e-12)
    assert res.p_value[0] == pytest.approx(math.erfc(0.1 / math.sqrt(v) / math.sqrt(2)), abs=1e-12)
    # Strata given in a shuffled row order give the same answer (rows are sorted internally).
    perm = [6, 3, 0, 5, 2, 4, 1]
    res2 = logrank_batch(
        *(np.asarray(a)[perm] for a in (time, event, group)), strata=np.asarray(strata)[perm]
    )
    assert res2.z[0] == pytest.approx(res.z[0], abs=1e-14)


@pytest.fixture(scope="module")
def tied_data() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(20250611)
    r, n = 8, 80
    time = np.round(rng.exponential(10.0, (r, n)))  # rounded: many tied times, some zeros
    event = rng.integers(0, 2, (r, n))
    group = rng.integers(0, 2, (r, n))
    strata = rng.integers(0, 3, (r, n))
    mask = rng.random((r, n)) > 0.2
    return time, event, group, strata, mask


def test_unstratified_matches_lifelines(tied_data: tuple[np.ndarray, ...]) -> None:
    time, event, group, _, _ = tied_data
    res = logrank_batch(time, event, group)
    for r in range(time.shape[0]):
        g = group[r] == 1
        ref = logrank_test(time[r][g], time[r][~g], event[r][g], event[r][~g])
        assert res.chi2[r] == pytest.approx(ref.test_statistic, rel=1e-10)
        assert res.p_value[r] == pytest.approx(ref.p_value, rel=1e-8)


def test_stratified_masked_matches_statsmodels(tied_data: tuple[np.ndarray, ...]) -> None:
    time, event, group, strata, mask = tied_data
    res = logrank_batch(time, event, group, strata=strata, mask=mask)
    for r in range(time.shape[0]):
        k = mask[r]
        chi2, p = survdiff(time[r][k], event[r][k], group[r][k], strata=strata[r][k])
        assert res.chi2[r] == pytest.approx(chi2, rel=1e-10)
        assert res.p_value[r] == pytest.approx(p, rel=1e-8)
        assert res.n[r] == k.sum()


def test_mask_equals_dropping_rows(tied_data: tuple[np.ndarray, ...]) -> None:
    time, event, group, strata, mask = tied_data
    res = logrank_batch(time, event, group, strata=strata, mask=mask)
    k = mask[0]
    one = logrank_batch(time[0][k], event[0][k], group[0][k], strata=strata[0][k])
    assert one.observed[0] == res.observed[0]
    assert one.variance[0] == pytest.approx(res.variance[0], rel=1e-13)


def test_sign_follows_group_one() -> None:
    # Group 1 dies late: fewer deaths than expected, z < 0.
    res = logrank_batch([5, 6, 7, 1, 2, 3], [1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0])
    assert res.z[0] < 0 and res.observed[0] < res.expected[0]


def test_no_events_gives_nan_not_warning() -> None:
    res = logrank_batch([1.0, 2.0], [0, 0], [1, 0])
    assert math.isnan(res.z[0])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"time": [[[1.0]]], "event": [[[1]]], "group": [[[1]]]}, "time"),
        ({"time": [1.0, 2.0], "event": [1], "group": [1, 0]}, "event"),
        ({"time": [1.0, -2.0], "event": [1, 1], "group": [1, 0]}, "time"),
        ({"time": [1.0, 2.0], "event": [2, 1], "group": [1, 0]}, "event"),
        ({"time": [1.0, 2.0], "event": [1, 1], "group": [1, 3]}, "group"),
    ],
)
def test_bad_input_raises_input_error(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError, match=field):
        logrank_batch(**kwargs)
