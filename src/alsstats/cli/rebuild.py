"""``alsstats rebuild``: rebuild a patient-level cohort from a reported-summary file.

Writes the cohort CSV and, next to it, ``<name>.provenance.json`` (summary hash, seed, package
version, assumptions, engine settings, the match table). Existing files are kept unless
``--force``; both files are written through a temporary file and a rename.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io import atomic_write_text, refuse_overwrite
from ..km import rebuild_from_curves
from ..reconstruct import rebuild_cohort
from ..summary import load_reported_summary
from . import positive_float

__all__ = ["provenance_path", "register", "run"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "rebuild",
        help="rebuild a patient-level cohort from reported summary figures",
        description=(
            "Rebuild a cohort whose fitted models reproduce every figure of a reported-summary "
            "file, and write it with its provenance."
        ),
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
    p.set_defaults(func=run)


def provenance_path(out: str | os.PathLike[str]) -> Path:
    """``cohort.csv`` -> ``cohort.provenance.json``."""
    out = Path(out)
    return out.with_name(f"{out.stem}.provenance.json")


def run(args: argparse.Namespace) -> int:
    out = refuse_overwrite(args.out, args.force)  # both files, before any work
    prov = refuse_overwrite(provenance_path(out), args.force)
    if not Path(args.summary).is_file():
        raise InputError(args.summary, "", "no such file")
    summary = load_reported_summary(args.summary)
    if summary.km_curves:  # published curves give time, death and arm (Guyot)
        rec = rebuild_from_curves(summary, seed=args.seed, max_seconds=args.max_seconds)
    else:
        rec = rebuild_cohort(summary, seed=args.seed, max_seconds=args.max_seconds)
    table = rec.match_table()
    if not rec.feasible:
        print(table.to_string(index=False))
        print(f"not written: figures that cannot be met jointly: {', '.join(rec.conflicts)}")
        return 1
    atomic_write_text(out, rec.to_csv(), force=args.force)
    atomic_write_text(
        prov, json.dumps(rec.provenance(), indent=2, sort_keys=True) + "\n", force=args.force
    )
    print(
        f"{int(table['agrees'].sum())}/{len(table)} reported figures reproduced; "
        f"wrote {out} and {prov}"
    )
    return 0
