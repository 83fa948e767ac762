"""`alsstats reproduce`: the MIROCALS reanalysis from shipped data, written as a report folder."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_OUT = "mirocals-report"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reproduce",
        help="the MIROCALS reanalysis from shipped data (the main job)",
        description=(
            "Check the reported MIROCALS figures against each other, rebuild the 220-patient "
            "cohort, fit the treatment x CSF-pNFH Cox model and write a report folder "
            "(index.html, PNG figures, CSV tables, the cohort). Prints a summary table. "
            "Refuses to replace an existing report unless --force."
        ),
    )
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"report folder (default {DEFAULT_OUT})")
    parser.add_argument("--force", action="store_true", help="replace an existing report folder")
    parser.add_argument(
        "--summary", default=None, help="a reported-summary file (default MIROCALS)"
    )
    parser.add_argument("--seed", type=int, default=None, help="reconstruction seed (default 2025)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..io import refuse_overwrite
    from ..report import MIROCALS_SEED, reanalyse, write_report

    out = refuse_overwrite(Path(args.out), args.force, folder=True)  # before the work
    seed = MIROCALS_SEED if args.seed is None else args.seed
    print("alsstats reproduce: checking figures, rebuilding the cohort, fitting models ...")
    result = reanalyse(args.summary, seed=seed, progress=True)
    write_report(result, out, force=args.force)
    print(result.headline().to_string(index=False))
    for message in result.guard_messages:
        print(f"\nNOTE: {message}")
    print(f"\nReport written to {out}/index.html")
    return 0
