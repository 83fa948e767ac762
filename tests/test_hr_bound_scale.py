"""The overall HR's reach given the death counts does not depend on the landmark's time scale.

``_hr_bound_conflicts`` fits the two extreme orders of deaths (every treatment death first, or
last); only the order matters to a Cox fit, so a landmark of 12 (months), 365 (days) or 10000
must give the same reach. (Before, deaths were placed at times 1, 2, ... up to twice the trial
size: past a landmark of 12 or 365 they followed the censored survivors, and nothing was
flagged.)
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from alsstats.reconstruct._calibrate import Target
from alsstats.reconstruct._counts import _hr_bound_conflicts


def _flagged(hr: float, landmark: float) -> list[str]:
    target = Target("overall.hr", "overall", "hr", f"{hr:.2f}", hr, 2, model="treatment")
    deaths = [Target("d", "d", "deaths", "30", 30.0, None)]
    design = SimpleNamespace(targets=[target], ties="efron")
    setup = SimpleNamespace(n_trt=100, n_ctl=100, landmark=landmark)
    return _hr_bound_conflicts(design, setup, (10, 20), deaths)


@pytest.mark.parametrize("landmark", [12.0, 365.0, 10000.0])
def test_reach_is_the_same_on_any_time_scale(landmark: float) -> None:
    # 10 vs 20 deaths of 100 per arm: an HR of 0.50 can be reached by some order of deaths,
    # 20.0 cannot (treatment deaths all first still gives a moderate HR)
    assert _flagged(0.50, landmark) == []
    assert _flagged(20.0, landmark) == ["overall.hr", "d"]
    assert _flagged(0.02, landmark) == ["overall.hr", "d"]


def test_a_fit_that_does_not_converge_bounds_nothing() -> None:
    # no treatment death: both extreme orders have a monotone likelihood (HR -> 0); the reach
    # is open on that side, so a small HR is not flagged
    target = Target("overall.hr", "overall", "hr", "0.02", 0.02, 2, model="treatment")
    design = SimpleNamespace(targets=[target], ties="efron")
    setup = SimpleNamespace(n_trt=100, n_ctl=100, landmark=12.0)
    assert _hr_bound_conflicts(design, setup, (0, 20), []) == []
