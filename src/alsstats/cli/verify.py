"""``alsstats verify COHORT.csv SUMMARY.yaml [--json]``: does a cohort reproduce the figures?"""

from __future__ import annotations

import argparse

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``verify`` subcommand."""
    parser = subparsers.add_parser(
        "verify",
        help="check that a patient-level cohort reproduces a summary's figures as printed",
        description=(
            "Compute every figure of a reported summary from a patient-level cohort (a rebuilt "
            "one, another reconstruction or real patient data: CSV with columns arm, time in "
            "the summary's time unit, death; optional pnfh, age, male and modifier columns) and "
            "compare it with the figure at its printed precision. Exit status: 0 when every "
            "checkable figure is met, 1 when one is not, 2 when a file does not load."
        ),
    )
    parser.add_argument("cohort", help="cohort CSV, e.g. data/mirocals/cohort.csv")
    parser.add_argument("summary", help="reported-summary YAML, e.g. data/mirocals/reported.yaml")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="ID",
        help="also verify this conflicting figure (repeatable)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the match table; 1 when a figure is not met."""
    from ..reconstruct import verify_cohort

    result = verify_cohort(args.cohort, args.summary, include=frozenset(args.include))
    print(result.to_json() if args.json else result.to_text())
    return 0 if result.passed else 1
