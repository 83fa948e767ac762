"""`alsstats reproduce`: a trial's reanalysis from its reported summary, as a report folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import nonnegative_int, positive_float, positive_int

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
    parser.add_argument(
        "--max-seconds",
        type=positive_float,
        default=60.0,
        help="safety cap of the reconstruction search, wall clock (default 60)",
    )
    parser.add_argument(
        "--bounds-starts",
        type=nonnegative_int,
        default=None,
        help=(
            "start cohorts of the search for the range of the HR = 1 crossing over compatible "
            "cohorts (default: the report's budget, 2; 0 leaves the range out)"
        ),
    )
    parser.add_argument(
        "--bounds-steps",
        type=positive_int,
        default=None,
        help="steps per start of that search (default: the report's budget, 150)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from ..io import refuse_overwrite
    from ..report import MIROCALS_SEED, REPORT_BOUNDS_SEARCH, reanalyse, write_report
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
    given = {"starts": args.bounds_starts, "steps": args.bounds_steps}
    budget = {**REPORT_BOUNDS_SEARCH, **{k: v for k, v in given.items() if v is not None}}
    result = reanalyse(
        args.summary,
        seed=seed,
        progress=sys.stderr.isatty(),
        bounds_search=budget if budget["starts"] else None,
        max_seconds=args.max_seconds,
    )
    write_report(result, out, force=args.force)
    print(f"{result.summary.name}:")
    print(result.headline().to_string(index=False))
    for message in result.guard_messages:
        print(f"\nNOTE: {message}")
    print(f"\nReport written to {out}/index.html")
    return 0
