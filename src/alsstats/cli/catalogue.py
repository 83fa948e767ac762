"""``alsstats catalogue [--json] [--rebuild]``: the shipped ALS trials in one table."""

from __future__ import annotations

import argparse

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``catalogue`` subcommand."""
    parser = subparsers.add_parser(
        "catalogue",
        help="the shipped ALS trials: figures, checks, gaps and rebuildability, one row each",
        description=(
            "One row per trial shipped under data/trials/: endpoint, arms and their sizes, the "
            "headline hazard ratio as printed, the consistency checks passed / failed / not "
            "checkable (failing checks named), what is missing (no CI, no events, no curves) "
            "and the figures kept as conflicting between sources. With --rebuild, whether a "
            "cohort can be rebuilt from the figures (feasible / infeasible with the conflict / "
            "not enough figures). Exit status 0; 2 on a usage error."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="also say whether a cohort can be rebuilt (verifies shipped cohorts, tries others)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=20.0,
        help="time limit of each rebuild attempt with --rebuild (default 20)",
    )
    parser.add_argument(
        "--root", default=None, help="a folder of trial folders (default: the shipped data)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the catalogue; 0 (a trial whose summary does not load is a row, not a failure)."""
    from ..catalogue import build_catalogue

    catalogue = build_catalogue(args.root, rebuild=args.rebuild, max_seconds=args.seconds)
    print(catalogue.to_json() if args.json else catalogue.to_text())
    return 0
