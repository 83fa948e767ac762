"""Landmark hazard ratios and the subgroup interaction, against hand-worked values and a
simulation with known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from alsstats.catalogue import landmark_hazard_ratio, subgroup_interaction
from alsstats.errors import InputError


def test_hand_worked_riluzole_bulbar():
    # 11/15 alive on riluzole vs 6/17 on placebo at 12 months (NEJM 1994 abstract)
    st, sc = 11 / 15, 6 / 17
    hr = math.log(st) / math.log(sc)  # -0.310155 / -1.041454 = 0.297810
    var = (1 - st) / (15 * st * math.log(st) ** 2) + (1 - sc) / (17 * sc * math.log(sc) ** 2)
    se = math.sqrt(var)
    res = landmark_hazard_ratio(11, 15, 6, 17)
    assert res.estimate == pytest.approx(0.297810, abs=1e-6)
    assert res.estimate == pytest.approx(hr, rel=1e-12)
    assert res.se == pytest.approx(se, rel=1e-12)
    assert res.ci[0] == pytest.approx(hr * math.exp(-1.959963984540054 * se), rel=1e-9)
    assert res.p == pytest.approx(2 * stats.norm.sf(abs(math.log(hr)) / se), rel=1e-9)


def test_interaction_hand_worked():
    a = landmark_hazard_ratio(11, 15, 6, 17)
    b = landmark_hazard_ratio(46, 62, 39, 61)
    res = subgroup_interaction(a, b)
    assert res.estimate == pytest.approx(a.estimate / b.estimate, rel=1e-12)
    assert res.se == pytest.approx(math.hypot(a.se, b.se), rel=1e-12)
    z = math.log(a.estimate / b.estimate) / math.hypot(a.se, b.se)
    assert res.p == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)


def test_simulation_known_hazard_ratio_bias_and_coverage():
    # exponential survival, true HR 0.6, landmark at control survival 0.5, no censoring: the
    # estimate's median is within 3% of the truth and the 95% CI covers it in 93-97% of 4,000
    # trials of 150 per arm (binomial SE of the coverage about 0.35%)
    rng = np.random.default_rng(2026)
    n, reps, true_hr = 150, 4000, 0.6
    s_c = 0.5
    s_t = s_c**true_hr
    alive_t = rng.binomial(n, s_t, reps)
    alive_c = rng.binomial(n, s_c, reps)
    est, cover = [], 0
    for at, ac in zip(alive_t, alive_c, strict=True):
        r = landmark_hazard_ratio(int(at), n, int(ac), n)
        est.append(r.estimate)
        cover += r.ci[0] <= true_hr <= r.ci[1]
    assert np.median(est) == pytest.approx(true_hr, rel=0.03)
    assert 0.93 <= cover / reps <= 0.97


@pytest.mark.parametrize(("alive", "n"), [(0, 10), (10, 10), (5, 0)])
def test_undefined_proportions_raise(alive, n):
    with pytest.raises(InputError):
        landmark_hazard_ratio(alive, n, 3, 10)
