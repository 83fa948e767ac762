"""Reported summaries: a trial's published figures as data.

The ``alsstats.reported-summary`` YAML format, versions 1 and 2 (see ``docs/summary-format.md``
and ``schema.json``): loading with one clear :class:`~alsstats.errors.SummaryError` per problem,
the figure classes, provenance, and the one precision rule for printed figures.
"""

from pathlib import Path

from ._figures import (
    ALL_ARMS,
    ARM_ROLES,
    FIGURE_ROLES,
    POPULATION_KINDS,
    STATUSES,
    SURVIVAL_CI_METHODS,
    TESTS,
    Arm,
    ArmComparison,
    Assumption,
    Biomarker,
    CovariateSummary,
    DigitisedCurve,
    EligibilityRange,
    EventCount,
    EventShare,
    Figure,
    HazardRatio,
    Interaction,
    Median,
    Modifier,
    Population,
    Source,
    Statement,
    SurvivalLandmark,
)
from ._precision import (
    DAYS_PER,
    MIN_DECIMALS,
    TIME_UNITS,
    Printed,
    convert_time,
    parse_printed,
    printed_interval,
)
from ._schema import FORMAT_NAME, FORMAT_VERSION, FORMAT_VERSIONS, SHARE_SUM_TOLERANCE
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
    "DAYS_PER",
    "FIGURE_ROLES",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "FORMAT_VERSIONS",
    "MIN_DECIMALS",
    "POPULATION_KINDS",
    "SCHEMA_PATH",
    "SHARE_SUM_TOLERANCE",
    "STATUSES",
    "SURVIVAL_CI_METHODS",
    "TESTS",
    "TIME_UNITS",
    "Arm",
    "ArmComparison",
    "Assumption",
    "Biomarker",
    "CovariateSummary",
    "DigitisedCurve",
    "EligibilityRange",
    "EventCount",
    "EventShare",
    "Figure",
    "HazardRatio",
    "Interaction",
    "Median",
    "Modifier",
    "Population",
    "Printed",
    "ReportedSummary",
    "Source",
    "Statement",
    "SurvivalLandmark",
    "as_reported_summary",
    "convert_time",
    "load_reported_summary",
    "parse_printed",
    "parse_reported_summary",
    "printed_interval",
    "summary_from_dict",
]

# The JSON Schema of the format (versions 1 and 2), for editors and other tools.
SCHEMA_PATH = Path(__file__).with_name("schema.json")
