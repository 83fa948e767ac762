"""Consistency checks between the figures of a reported summary.

Published figures constrain each other: deaths per arm and the hazard ratio, a CI and its
p-value, subgroup shares and their total, subgroup HRs and the overall HR, survival proportions
and death counts, event shares and event counts. :func:`check_summary` runs every check that the
figures of a :class:`~alsstats.summary.ReportedSummary` allow and returns a
:class:`CheckReport`, one row per check, with a verdict ("pass", "fail", "not checkable").

Every comparison allows for rounding: a figure stands for the values that print as it
(:func:`alsstats.summary.parse_printed`: "0.8" for [0.75, 0.85), a bare YAML number with at
least 2 decimals, "<0.001" for [0, 0.001]), and the checks use interval arithmetic over those
ranges. A p value is read with the test that made it (``ci_vs_p``). Each row records the test
and the precision it assumed. Figures with status
"superseded" are not checked (they get a "not checkable" row saying so).

Examples
--------
>>> from alsstats import data_path
>>> from alsstats.summary import load_reported_summary
>>> report = check_summary(load_reported_summary(data_path("mirocals", "reported.yaml")))
>>> report.passed
False
>>> sorted(set(report.summary.loc[report.summary.verdict == "fail", "check"]))[:2]
['death_split_vs_hr', 'event_shares_vs_events']
"""

from __future__ import annotations

from collections.abc import Callable

from ..summary import ReportedSummary
from ._counts import _check_arms_vs_totals, _check_event_shares, _check_survival_vs_deaths
from ._events import (
    _check_events_vs_ci_width,
    _check_hr_vs_medians,
    _check_km_landmark_vs_deaths,
)
from ._hr import (
    _check_ci,
    _check_death_split_vs_hr,
    _check_hr_vs_death_split,
    _check_subgroup_pooling,
    _check_subgroup_shares,
)
from ._proofs import _check_ci_width_vs_deaths, _check_count_proofs
from ._report import CheckReport, CheckResult, _row

__all__ = [
    "CHECKS",
    "check_summary",
]


def _superseded(s: ReportedSummary) -> list[CheckResult]:
    rows = []
    sections = (
        s.events, s.survival, s.event_shares, s.hazard_ratios, s.biomarkers, s.medians,
        s.comparisons, s.interactions, s.modifiers,
    )  # fmt: skip
    for section in sections:
        for x in section:
            if x.status == "superseded":
                text = "status superseded: later figures replace it; not checked"
                rows.append(_row("superseded", [x.id], "-", "-", None, text))
    return rows


CHECKS: tuple[Callable[[ReportedSummary], list[CheckResult]], ...] = (
    _check_hr_vs_death_split,
    _check_death_split_vs_hr,
    _check_ci,
    _check_subgroup_shares,
    _check_subgroup_pooling,
    _check_survival_vs_deaths,
    _check_arms_vs_totals,
    _check_event_shares,
    _check_events_vs_ci_width,
    _check_hr_vs_medians,
    _check_km_landmark_vs_deaths,
    _check_count_proofs,  # the proofs of infeasibility the reconstruction uses too
    _check_ci_width_vs_deaths,
    _superseded,
)


def check_summary(summary: ReportedSummary) -> CheckReport:
    """Run every consistency check the figures of ``summary`` allow.

    Parameters
    ----------
    summary
        A loaded reported summary (:func:`alsstats.summary.load_reported_summary`).

    Returns
    -------
    CheckReport
        One row per check (check, inputs, observed, expected, verdict, explanation);
        ``report.passed`` is False when any check fails.
    """
    results = [row for check in CHECKS for row in check(summary)]
    return CheckReport(results, summary.path, summary.sha256)
