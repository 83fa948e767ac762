"""`alsstats reproduce`: a trial's reanalysis from its reported summary, as a report folder."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_OUT = "mirocals-report"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reproduce",
        help="a trial's reanalysis from its reported summary (default MIROCALS, the main job)",
        description=(
            "Check a trial's reported figures against each other, rebuild a patient-level "
            "cohort that reproduces them, fit the treatment x biomarker Cox model the summary "
            "implies (biomarker, cut-offs and units from the summary) and write a report folder "
            "(index.html, PNG figures, CSV tables, the cohort). Prints a summary table. Without "
            "--summary: MIROCALS from shipped data. Refuses to replace an existing report "
            "unless --force."
        ),
    )
    parser.add_argument(
        "--out", default=None, help=f"report folder (default {DEFAULT_OUT}, or NAME-report)"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing report folder")
    parser.add_argument(
        "--summary", default=None, help="a reported-summary file (default MIROCALS)"
    )
    parser.add_argument("--seed", type=int, default=None, help="reconstruction seed (default 2025)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from ..io import refuse_overwrite
    from ..report import MIROCALS_SEED, reanalyse, write_report
    from . import prepare_engine

    if args.out is not None:
        out_name = args.out
    elif args.summary is None:
        out_name = DEFAULT_OUT
    else:
        out_name = f"{Path(args.summary).stem}-report"
    out = refuse_overwrite(Path(out_name), args.force, folder=True)  # before the work
    seed = MIROCALS_SEED if args.seed is None else args.seed
    prepare_engine()
    print("alsstats reproduce: checking figures, rebuilding the cohort, fitting models ...")
    result = reanalyse(args.summary, seed=seed, progress=sys.stderr.isatty())
    write_report(result, out, force=args.force)
    print(f"{result.summary.name}:")
    print(result.headline().to_string(index=False))
    for message in result.guard_messages:
        print(f"\nNOTE: {message}")
    print(f"\nReport written to {out}/index.html")
    return 0
