"""``alsstats check FILE [--json]``: validate a reported summary and check its figures."""

from __future__ import annotations

import argparse

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``check`` subcommand."""
    parser = subparsers.add_parser(
        "check",
        help="validate a reported-summary file and check its figures against each other",
        description=(
            "Load a reported-summary YAML file (see docs/summary-format.md), validate it, and "
            "check every pair of figures that constrain each other: deaths per arm vs the "
            "hazard ratio, CI vs p-value (read with the test that made the p), subgroup "
            "shares and pooled subgroup HRs vs the overall HR, events implied by a CI's "
            "width, medians and Kaplan-Meier landmarks vs the HR and the deaths, survival vs "
            "death counts, event shares vs event counts. Each figure is read at its printed "
            'precision (format version 2: "0.60", "<0.001", "58%"); each row says the '
            "test and the precision it assumed (also in --json). Exit status: 0 when every "
            "check passes, 1 when a check fails, 2 when the file does not load or validate."
        ),
    )
    parser.add_argument("file", help="reported-summary YAML file, e.g. data/mirocals/reported.yaml")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the rows as JSON instead of a table (with each row's test and precision)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the check table (or JSON); 1 when a check fails. A SummaryError propagates (2)."""
    from ..checks import check_summary
    from ..summary import load_reported_summary

    report = check_summary(load_reported_summary(args.file))
    print(report.to_json() if args.json else report.to_text())
    return 0 if report.passed else 1
