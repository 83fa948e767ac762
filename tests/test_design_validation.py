"""Simulation validation of alsstats.design against known truth.

* Type I error: under a model with no treatment effect (and no interaction), the rejection rate
  at alpha = 0.05 lies within 3 Monte Carlo SEs of 0.05 (2,000 trials: SE = 0.0049,
  tolerance 0.0146).
* Power: in a plain proportional-hazards design (exponential survival, no biomarker effect,
  1:1), an event-driven trial with Schoenfeld's D = 4 (z_{0.975} + z_{0.8})^2 / log(HR)^2 events
  has simulated log-rank power within 3 Monte Carlo SEs of 0.80.
"""

from __future__ import annotations

import math

import pytest

from alsstats import design as D
from alsstats.models import DataGeneratingModel, LogNormalBiomarker, WeibullBaseline

N_TRIALS = 2000


def _tolerance(p: float, n: int = N_TRIALS) -> float:
    return 3 * math.sqrt(p * (1 - p) / n)


def test_type_one_error_all_tests() -> None:
    # No treatment effect, no interaction; a prognostic biomarker and a prognostic stratum so
    # that stratification and the biomarker terms are exercised.
    null = DataGeneratingModel(
        WeibullBaseline(1.2, 1500.0),
        LogNormalBiomarker.from_shares(750, 0.09, 3700, 0.21),
        log_hr_treatment=0.0,
        log_hr_biomarker=2e-4,
        log_hr_interaction=0.0,
    )
    design = D.TrialDesign(
        n=160,
        accrual_rate=1.0,
        subgroup=(750, 3700),
        biomarker_strata=(3700,),
        prognostic_shares=(0.3, 0.7),
        prognostic_log_hr=(0.5, 0.0),
        target_events=70,
    )
    power = D.simulate_trials(null, design, N_TRIALS, seed=2025).power()
    for test in D.TESTS:
        assert abs(power.loc[test, "power"] - 0.05) <= _tolerance(0.05), test
        assert power.loc[test, "failed_fits"] == 0


def test_interaction_test_size_when_only_treatment_works() -> None:
    # A constant HR of 0.7: the interaction test must still reject only 5% of the time.
    no_interaction = DataGeneratingModel(
        WeibullBaseline(1.0, 1000.0),
        LogNormalBiomarker(2000.0, 0.74),
        log_hr_treatment=math.log(0.7),
        log_hr_biomarker=2e-4,
        log_hr_interaction=0.0,
    )
    design = D.TrialDesign(n=200, accrual_rate=1.0)
    power = D.simulate_trials(
        no_interaction, design, N_TRIALS, seed=7, tests=("interaction",)
    ).power()
    assert abs(power.loc["interaction", "power"] - 0.05) <= _tolerance(0.05)


@pytest.mark.parametrize("hazard_ratio", [0.7, 0.6])
def test_logrank_power_matches_schoenfeld(hazard_ratio: float) -> None:
    exponential = DataGeneratingModel(
        WeibullBaseline(1.0, 600.0),
        LogNormalBiomarker(2000.0, 0.74),
        log_hr_treatment=math.log(hazard_ratio),
        log_hr_biomarker=0.0,
        log_hr_interaction=0.0,
    )
    events = math.ceil(D.schoenfeld_events(hazard_ratio, power=0.8))
    expected = D.schoenfeld_power(events, hazard_ratio)  # 0.80 up to the rounding of D
    design = D.TrialDesign(n=3 * events, accrual_rate=2.0, target_events=events)
    sim = D.simulate_trials(exponential, design, N_TRIALS, seed=11, tests=("logrank",))
    assert sim.trials["events_reached"].all()
    assert (sim.trials["events"] == events).all()
    assert abs(sim.power().loc["logrank", "power"] - expected) <= _tolerance(expected)
