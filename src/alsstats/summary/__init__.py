"""Reported summaries: a trial's published figures as data.

The ``alsstats.reported-summary`` YAML format (see ``docs/summary-format.md``): loading with
one clear :class:`~alsstats.errors.SummaryError` per problem, the figure classes, provenance.
"""

from ._figures import (
    ALL_ARMS,
    ARM_ROLES,
    POPULATION_KINDS,
    STATUSES,
    Arm,
    Assumption,
    Biomarker,
    CovariateSummary,
    DigitisedCurve,
    EligibilityRange,
    EventCount,
    EventShare,
    Figure,
    HazardRatio,
    Population,
    Source,
    Statement,
    SurvivalLandmark,
)
from ._schema import FORMAT_NAME, FORMAT_VERSION, SHARE_SUM_TOLERANCE
from ._summary import (
    ReportedSummary,
    as_reported_summary,
    load_reported_summary,
    parse_reported_summary,
    summary_from_dict,
)

__all__ = [
    "ALL_ARMS",
    "ARM_ROLES",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "POPULATION_KINDS",
    "SHARE_SUM_TOLERANCE",
    "STATUSES",
    "Arm",
    "Assumption",
    "Biomarker",
    "CovariateSummary",
    "DigitisedCurve",
    "EligibilityRange",
    "EventCount",
    "EventShare",
    "Figure",
    "HazardRatio",
    "Population",
    "ReportedSummary",
    "Source",
    "Statement",
    "SurvivalLandmark",
    "as_reported_summary",
    "load_reported_summary",
    "parse_reported_summary",
    "summary_from_dict",
]
