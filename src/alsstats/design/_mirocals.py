"""Phase 3 trial design for MIROCALS: the candidate designs and the truth to simulate from.

:func:`standard_designs` gives the three confirmatory designs (all-comers, enriched,
interaction-powered); :func:`mirocals_reference_model` is the MIROCALS truth rebuilt from the
reported figures alone, :func:`mirocals_model` the calibrated one when available, and
:func:`rescale_baseline` a "what if survival differs" variant of any model.

The simulator (:class:`TrialDesign`, :func:`simulate_trials`, ...) and the sizing tools
(:func:`power_curve`, :func:`sample_size`, ...) live in their own modules of
:mod:`alsstats.design`, whose public face reaches the whole workflow.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from ..errors import InputError
from ..models import DataGeneratingModel, LogNormalBiomarker, WeibullBaseline
from ._trials import TrialDesign, _Range

__all__ = [
    "mirocals_model",
    "mirocals_reference_model",
    "rescale_baseline",
    "standard_designs",
]


def standard_designs(
    n: int = 600,
    *,
    accrual_rate: float = 1.0,
    follow_up: float = 640.0,
    low_range: _Range = (750.0, 3700.0),
    strata_cut: float = 3700.0,
    target_events: int | None = None,
) -> dict[str, TrialDesign]:
    """The three confirmatory designs the MIROCALS comment points to.

    * ``all-comers``: everyone randomised, stratified by pNFH above/below ``strata_cut``;
      primary test the stratified log-rank; the HR in ``low_range`` is a secondary analysis.
    * ``enriched``: only patients with pNFH in ``low_range`` randomised (the rest are screen
      failures); primary test the log-rank.
    * ``interaction``: all-comers, powered for the Wald test of treatment x pNFH.

    ``target_events`` makes all three event-driven (capped at n); otherwise every patient is
    followed ``follow_up`` days (calendar analysis when the last one reaches it).
    """
    common = {
        "n": n,
        "accrual_rate": accrual_rate,
        "follow_up": follow_up,
        "target_events": target_events,
        "subgroup": low_range,
    }
    return {
        "all-comers": TrialDesign(**common, biomarker_strata=(strata_cut,)),
        "enriched": TrialDesign(**common, enrichment=low_range),
        "interaction": TrialDesign(
            **common, biomarker_strata=(strata_cut,), primary_test="interaction"
        ),
    }


# ----------------------------------------------------------------------------------------------
# The MIROCALS truth from the reported figures


def _landmark_survival(model: DataGeneratingModel, day: float) -> float:
    """Survival at ``day`` averaged over a 1:1 trial's arms and the biomarker.

    Midpoint rule on 4,000 biomarker quantiles (any biomarker with ``quantile``).
    """
    x = np.asarray(model.biomarker.quantile((np.arange(4000) + 0.5) / 4000), dtype=float)
    with np.errstate(over="ignore"):  # exp overflow at extreme values: survival 0, as it should
        s = 0.5 * (model.survival(day, 1, x) + model.survival(day, 0, x))
    return float(np.mean(s))


def rescale_baseline(
    model: DataGeneratingModel, alive: float, day: float | None = None
) -> DataGeneratingModel:
    """The model with its Weibull scale changed so that a 1:1 trial has ``alive`` alive at
    ``day`` (default: the model's follow-up); everything else kept (a "what if survival is
    better than planned" truth).

    Examples
    --------
    >>> m = rescale_baseline(mirocals_reference_model(), 0.70)
    >>> round(_landmark_survival(m, 640.0), 3)
    0.7
    """
    if not 0 < alive < 1:
        raise InputError("rescale_baseline", "alive", f"{alive!r}: must be in (0, 1)")
    day = model.follow_up if day is None else day
    shape = model.baseline.shape

    def gap(log_scale: float) -> float:
        m = model.with_(baseline=WeibullBaseline(shape, math.exp(log_scale)))
        return _landmark_survival(m, day) - alive

    log_scale = optimize.brentq(gap, math.log(1e-3 * day), math.log(1e6 * day), xtol=1e-12)
    return model.with_(baseline=WeibullBaseline(shape, math.exp(log_scale)))


def mirocals_model() -> tuple[DataGeneratingModel, str]:
    """The MIROCALS model calibrated to its reported figures; returns ``(model, "calibrated")``.

    The second element is kept for callers that also handle :func:`mirocals_reference_model`.
    """
    from ..paths import data_path
    from ..reconstruct import calibrate_model
    from ..summary import load_reported_summary

    summary = load_reported_summary(data_path("mirocals", "reported.yaml"))
    return calibrate_model(summary), "calibrated"


def mirocals_reference_model(
    *,
    prognostic_hr_per_1000: float = 1.25,
    weibull_shape: float = 1.2,
    alive_at_640: float = 0.59,
) -> DataGeneratingModel:
    """MIROCALS rebuilt from its reported figures alone (the documented fallback truth).

    Calibration (each line an explicit assumption where nothing was reported):

    * treatment effect, linear scale: log HR(x) = log 0.32 + 2.4e-4 x, x = CSF-pNFH in pg/mL
      (HR 0.32 at pNFH = 0, reported; 2.4e-4 reproduces HR 0.52 near 2,000 and 1.37 near
      6,000 pg/mL; HR = 1 near 4,700 pg/mL);
    * pNFH lognormal with 9% below 750 and 21% above 3,700 pg/mL (70% between, reported; the
      9% below 750 is an assumption): median ~2,030 pg/mL, sigma_log ~0.74;
    * prognostic pNFH effect in the placebo arm: HR ``prognostic_hr_per_1000`` per 1,000 pg/mL
      (not reported; pNFH was an independent predictor of survival);
    * Weibull baseline of shape ``weibull_shape`` (assumed: no Kaplan-Meier curve published),
      scale solved so that a 1:1 trial has ``alive_at_640`` (59%, reported) alive at 640 days;
    * follow-up 640 days, nobody lost (reported).

    Examples
    --------
    >>> m = mirocals_reference_model()
    >>> round(float(np.exp(m.log_hazard_ratio(2000.0))), 2)
    0.52
    """
    if not prognostic_hr_per_1000 > 0 or not weibull_shape > 0 or not 0 < alive_at_640 < 1:
        raise InputError("mirocals_reference_model", "arguments", "out of range")
    base = DataGeneratingModel(
        baseline=WeibullBaseline(weibull_shape, 1000.0),
        biomarker=LogNormalBiomarker.from_shares(750, 0.09, 3700, 0.21),
        log_hr_treatment=math.log(0.32),
        log_hr_biomarker=math.log(prognostic_hr_per_1000) / 1000.0,
        log_hr_interaction=2.4e-4,
        scale="linear",
        follow_up=640.0,
        dropout_rate=0.0,
    )
    return rescale_baseline(base, alive_at_640, 640.0)
