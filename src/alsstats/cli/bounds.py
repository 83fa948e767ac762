"""``alsstats bounds``: the range of a conclusion over every cohort that reproduces a summary.

Prints the lower and upper end of each quantity asked for (the HR = 1 crossing by default) as
a table, or as JSON with ``--json`` (a ``crossing`` object with ``lower`` and ``upper`` in the
modifier's unit, and the other quantities). With ``--out-dir`` the two extreme cohorts of each
quantity are written there as CSV, each with ``<name>.provenance.json`` (how it was made, its
match table and the search); existing files are kept unless ``--force``. With ``--across`` the
bounds are repeated under each alternative assumption and their union is added.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io import atomic_write_text, refuse_overwrite
from . import nonnegative_int, positive_float, positive_int

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "bounds",
        help="range of the crossing, slope or HRs over cohorts that reproduce the figures",
        description=(
            "Smallest and largest value of a conclusion of the interaction model over cohorts "
            "whose fits reproduce every figure of a reported-summary file at its printed "
            "precision (found by directed search from several rebuilds; the true range is at "
            "least this wide)."
        ),
    )
    p.add_argument("summary", metavar="SUMMARY.yaml", help="reported-summary file")
    p.add_argument(
        "--quantity",
        action="append",
        nargs="+",
        metavar="Q",
        help=(
            "crossing (default), slope, jn (Johnson-Neyman bounds), or hr-at X,... "
            "(treatment HR at modifier values); repeat for several"
        ),
    )
    p.add_argument(
        "--seed", type=nonnegative_int, default=0, help="seed of the first start (default 0)"
    )
    p.add_argument(
        "--starts", type=positive_int, default=4, help="rebuilds to start from (default 4)"
    )
    p.add_argument(
        "--steps", type=nonnegative_int, default=600, help="search steps per direction (600)"
    )
    p.add_argument(
        "--max-seconds",
        type=positive_float,
        default=600.0,
        help="wall-clock safety cap (default 600)",
    )
    p.add_argument("--across", action="store_true", help="also under each alternative assumption")
    p.add_argument("--out-dir", metavar="DIR", help="existing folder for the extreme cohorts")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--force", action="store_true", help="replace existing files")
    p.set_defaults(func=run)


def _quantities(spec: list[list[str]] | None) -> list[str]:
    if not spec:
        return ["crossing"]
    out = []
    for words in spec:
        name, values = words[0], ",".join(words[1:])
        if name.replace("-", "_") == "hr_at" and not values:
            raise InputError("--quantity", "hr-at", "needs modifier values: hr-at 750,3700")
        out.append(f"{name}:{values}" if values else name)
    return out


def run(args: argparse.Namespace) -> int:
    if not Path(args.summary).is_file():
        raise InputError(args.summary, "", "no such file")
    from ..reconstruct import bounds, bounds_across
    from ..summary import load_reported_summary

    quantities = _quantities(args.quantity)
    paths = _paths(args, quantities)  # refuse before any work
    summary = load_reported_summary(args.summary)
    kwargs = dict(
        seed=args.seed, starts=args.starts, steps=args.steps, progress=sys.stderr.isatty()
    )
    if args.across:
        kwargs["max_seconds"] = args.max_seconds
        across = bounds_across(summary, quantities, **kwargs)
        result = across.results[0]
    else:
        result = bounds(summary, quantities, max_seconds=args.max_seconds, **kwargs)
        across = None
    written: dict[str, str] = {}
    if args.out_dir and result.feasible:
        written = _write_cohorts(paths, result, args)
    doc = result.to_dict()
    if written:
        doc["cohorts"] = written
    if across is not None:
        doc["across"] = across.to_dict()["scenarios"]
    if args.json:
        print(json.dumps(doc, indent=2, sort_keys=True, allow_nan=False))
    else:
        _print_text(result, across, written)
    if not result.feasible:
        print(
            f"no rebuild met every figure ({result.search['starts']} starts): nothing to "
            f"bound; figures the best rebuild missed: {', '.join(result.conflicts)}",
            file=sys.stderr,
        )
        return 1
    return 0


def _paths(args: argparse.Namespace, quantities: list[str]) -> dict[str, tuple[Path, Path]]:
    """CSV and provenance path of each extreme cohort in the existing folder ``--out-dir``;
    refuses existing files (no --force) before any work, so a refusal costs nothing and leaves
    nothing half-written."""
    from ..reconstruct import parse_quantities

    if not args.out_dir:
        return {}
    out_dir = Path(args.out_dir)
    paths = {}
    for q in parse_quantities(quantities):
        for end in ("lower", "upper"):
            name = f"{q.name}_{end}"
            csv, prov = out_dir / f"{name}.csv", out_dir / f"{name}.provenance.json"
            paths[name] = (refuse_overwrite(csv, args.force), refuse_overwrite(prov, args.force))
    return paths


def _write_cohorts(
    paths: dict[str, tuple[Path, Path]], result: Any, args: argparse.Namespace
) -> dict[str, str]:
    """Both extreme cohorts of each quantity, each with its provenance."""
    cohorts = result.cohorts()
    search = result.to_dict()
    written = {}
    for name, rec in cohorts.items():
        csv, prov = paths[name]
        quantity, _, end = name.rpartition("_")
        provenance = rec.provenance()
        provenance["bounds"] = {
            "quantity": quantity,
            "end": end,
            "value": search.get(quantity, {}).get(end)
            if quantity in search
            else search.get("hr_at", {}).get(quantity.removeprefix("hr_at_"), {}).get(end),
            "summary": args.summary,
            "search": search["search"],
        }
        atomic_write_text(csv, rec.to_csv(), force=args.force)
        atomic_write_text(
            prov,
            json.dumps(provenance, indent=2, sort_keys=True, default=str) + "\n",
            force=args.force,
        )
        written[name] = str(csv)
    return written


def _print_text(result: Any, across: Any, written: dict[str, str]) -> None:
    if result.feasible:
        print(result.summary.to_string(index=False))
        s = result.search
        print(
            f"\n{s['feasible_starts']}/{s['starts']} starts, {s['steps_per_direction']} steps "
            f"per direction, {s['seconds']} s"
            + (" (time cap reached)" if s["capped"] else "")
            + "; ends found by a search: the true range is at least this wide"
        )
    if across is not None:
        print("\nacross assumptions:")
        print(across.summary.to_string(index=False))
    for name, path in written.items():
        print(f"wrote {path} ({name})")
