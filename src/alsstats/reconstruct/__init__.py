"""From a reported summary to a patient-level cohort whose own fits reproduce every figure.

Targets from the summary, a calibrated data-generating model (level a), then a search for a
concrete cohort (level b) that meets every target at its printed precision; rebuilds under
alternative assumptions (:func:`sensitivity`); the range of a conclusion over every cohort that
reproduces the figures (:func:`bounds`, :func:`bounds_across`).
"""

from ._bounds import Bounds, BoundsAcross, QuantityBounds, bounds, bounds_across
from ._bounds_search import Quantity, parse_quantities
from ._calibrate import (
    CODE_ASSUMPTIONS,
    BiomarkerGroup,
    Target,
    biomarker_from_assumptions,
    biomarker_groups,
    calibrate_model,
    expected_estimates,
    resolve_assumptions,
    targets_from_summary,
)
from ._counts import count_conflicts
from ._fits import MARGIN, reconstructed_values
from ._follow_up import FollowUpHorizon, NoFollowUpLength, follow_up_horizon
from ._modifier import Modifier, modifier_of
from ._rebuild import Reconstruction, assign_biomarker, rebuild_cohort
from ._result import COHORT_COLUMNS, OUTCOMES, Proof
from ._search import ATTEMPT_STEPS, CANDIDATES
from ._sensitivity import (
    DEFAULT_ALTERNATIVES,
    default_alternatives,
    evaluation_points,
    interaction_fit,
    rebuild_many,
    search_spread,
    sensitivity,
)
from ._simulate import (
    CategoricalShape,
    TrialShape,
    random_shape,
    simulate_categorical_summary,
    simulate_follow_up_summary,
    simulate_km_landmark_summary,
    simulate_summary,
)
from ._simulate_arms import ArmsShape, simulate_arms_summary
from ._verify import Verification, assert_reproduces, verify_cohort

__all__ = [
    "ATTEMPT_STEPS",
    "CANDIDATES",
    "CODE_ASSUMPTIONS",
    "COHORT_COLUMNS",
    "DEFAULT_ALTERNATIVES",
    "MARGIN",
    "OUTCOMES",
    "ArmsShape",
    "BiomarkerGroup",
    "Bounds",
    "BoundsAcross",
    "CategoricalShape",
    "FollowUpHorizon",
    "Modifier",
    "NoFollowUpLength",
    "Proof",
    "Quantity",
    "QuantityBounds",
    "Reconstruction",
    "Target",
    "TrialShape",
    "Verification",
    "assert_reproduces",
    "assign_biomarker",
    "biomarker_from_assumptions",
    "biomarker_groups",
    "bounds",
    "bounds_across",
    "calibrate_model",
    "count_conflicts",
    "default_alternatives",
    "evaluation_points",
    "expected_estimates",
    "follow_up_horizon",
    "interaction_fit",
    "modifier_of",
    "parse_quantities",
    "random_shape",
    "rebuild_cohort",
    "rebuild_many",
    "reconstructed_values",
    "resolve_assumptions",
    "search_spread",
    "sensitivity",
    "simulate_arms_summary",
    "simulate_categorical_summary",
    "simulate_follow_up_summary",
    "simulate_km_landmark_summary",
    "simulate_summary",
    "targets_from_summary",
    "verify_cohort",
]
