"""``alsstats rebuild``: rebuild a patient-level cohort from a reported-summary file.

Writes the cohort CSV and, next to it, ``<name>.provenance.json`` (summary hash, seed, package
version, assumptions, engine settings, the match table). Existing files are kept unless
``--force``; both files are written through a temporary file and a rename.

Three outcomes, each with its own exit code (:data:`EXIT_CODES`): every figure met (0, files
written); infeasible, with the proof naming the smallest sets of conflicting figures (3);
not found in the time given, with the closest cohort's residuals and a hint (4; the closest
cohort is written only with ``--write-closest``). Bad input exits with 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io import atomic_write_text, refuse_overwrite
from . import positive_float, prepare_engine

__all__ = ["EXIT_CODES", "provenance_path", "register", "run"]

EXIT_CODES = {"feasible": 0, "infeasible": 3, "not found in the time given": 4}

EPILOG = """\
outcomes and exit codes:
  0  feasible: every reported figure is reproduced; the cohort and provenance are written
  2  bad input (file, field and problem named)
  3  infeasible: no cohort can meet some figures jointly; the proof names the smallest
     conflicting sets and the arithmetic (counts, or an HR out of reach of the deaths)
  4  not found in the time given: the search stopped at --max-seconds before meeting every
     figure (they may still be met); the closest cohort's residuals are shown; try more
     time or another --seed (--write-closest writes that cohort anyway)
"""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "rebuild",
        help="rebuild a patient-level cohort from reported summary figures",
        description=(
            "Rebuild a cohort whose fitted models reproduce every figure of a reported-summary "
            "file, and write it with its provenance."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("summary", metavar="SUMMARY.yaml", help="reported-summary file")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", required=True, metavar="COHORT.csv", help="cohort CSV to write")
    p.add_argument("--force", action="store_true", help="replace existing files")
    p.add_argument(
        "--max-seconds",
        type=positive_float,
        default=300.0,
        help="safety cap on the search time (default 300)",
    )
    p.add_argument(
        "--write-closest",
        action="store_true",
        help="when not found in the time given, write the closest cohort anyway (exit 4)",
    )
    p.set_defaults(func=run)


def provenance_path(out: str | os.PathLike[str]) -> Path:
    """``cohort.csv`` -> ``cohort.provenance.json``."""
    out = Path(out)
    return out.with_name(f"{out.stem}.provenance.json")


def run(args: argparse.Namespace) -> int:
    from ..km import rebuild_from_curves
    from ..reconstruct import rebuild_cohort
    from ..summary import load_reported_summary

    out = refuse_overwrite(args.out, args.force)  # both files, before any work
    prov = refuse_overwrite(provenance_path(out), args.force)
    if not Path(args.summary).is_file():
        raise InputError(args.summary, "", "no such file")
    summary = load_reported_summary(args.summary)
    progress = sys.stderr.isatty()  # a bar on a terminal; quiet in logs and pipes
    prepare_engine()  # says so when the first call compiles the Cox engine
    if summary.km_curves:  # published curves give time, death and arm (Guyot)
        rec = rebuild_from_curves(summary, seed=args.seed, max_seconds=args.max_seconds)
    else:
        rec = rebuild_cohort(
            summary, seed=args.seed, max_seconds=args.max_seconds, progress=progress
        )
    outcome = getattr(rec, "outcome_", "feasible" if rec.feasible else "infeasible")
    code = EXIT_CODES.get(outcome, 1)
    if outcome != "feasible":
        print(rec.match_table().to_string(index=False))
        message = rec.message() if hasattr(rec, "message") else ", ".join(rec.conflicts)
        if outcome == "infeasible" or not args.write_closest:
            print(f"not written: {message}")
            return code
        print(message)
    atomic_write_text(out, rec.to_csv(), force=args.force)
    atomic_write_text(
        prov, json.dumps(rec.provenance(), indent=2, sort_keys=True) + "\n", force=args.force
    )
    table = rec.match_table()
    print(
        f"{int(table['agrees'].sum())}/{len(table)} reported figures reproduced; "
        f"wrote {out} and {prov}"
    )
    return code
