"""``alsstats km``: rebuild patient-level data from digitised Kaplan-Meier curves (Guyot 2012).

Example::

    alsstats km --arm placebo placebo_curve.csv placebo_risk.csv \\
                --arm active active_curve.csv active_risk.csv \\
                --events placebo 41 --events active 32 -o rebuilt.csv
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from ..errors import EventTotalNotMetWarning, InputError
from ..io import atomic_write_text, refuse_overwrite

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``km`` parser."""
    p = subparsers.add_parser(
        "km",
        help="rebuild patient data from digitised Kaplan-Meier curves (Guyot algorithm)",
        description=(
            "Rebuild patient-level data (arm, time, event) from per-arm digitised Kaplan-Meier "
            "points (CSV: time, survival; header optional; survival as proportion or percent) "
            "and numbers-at-risk tables (CSV: time, number at risk), with the Guyot et al. "
            "(2012) algorithm. Prints the cleaning report and diagnostics."
        ),
    )
    p.add_argument(
        "--arm",
        nargs=3,
        action="append",
        required=True,
        metavar=("LABEL", "CURVE_CSV", "AT_RISK_CSV"),
        help="one arm: its label, digitised-curve CSV and at-risk CSV (repeat per arm)",
    )
    p.add_argument(
        "--events",
        nargs=2,
        action="append",
        default=[],
        metavar=("LABEL", "N"),
        help="reported total number of events in an arm (optional, repeat per arm)",
    )
    p.add_argument("-o", "--output", required=True, type=Path, help="CSV to write (arm,time,event)")
    p.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")
    p.add_argument(
        "--scale",
        choices=("auto", "proportion", "percent"),
        default="auto",
        help="survival scale of the digitised points (default: detect)",
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=0.02,
        help="largest rise in digitised survival smoothed as noise (proportion; default 0.02)",
    )
    p.add_argument("--plot", type=Path, help="also save a plot (PNG, PDF, SVG) to this file")
    p.add_argument("--time-unit", default="months", help="time unit for the plot axis label")
    p.set_defaults(func=run)


def _events(pairs: list[list[str]], labels: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for label, value in pairs:
        if label not in labels:
            raise InputError("--events", label, f"no --arm with this label (arms: {labels})")
        try:
            out[label] = int(value)
        except ValueError:
            raise InputError("--events", label, f"not a whole number: {value!r}") from None
    return out


def run(args: argparse.Namespace) -> int:
    """Rebuild, write the CSV, print the cleaning report and diagnostics; return 0."""
    import pandas as pd

    from ..km import GuyotReconstruction, read_arm

    labels = [a[0] for a in args.arm]
    if len(set(labels)) != len(labels):
        raise InputError("--arm", "LABEL", f"arm labels must differ: {labels}")
    out = refuse_overwrite(args.output, args.force)  # before doing any work
    if not out.parent.is_dir():
        raise InputError(out, "--output", "its folder does not exist")
    events = _events(args.events, labels)
    arms = {label: read_arm(curve, risk, events.get(label)) for label, curve, risk in args.arm}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EventTotalNotMetWarning)
        rec = GuyotReconstruction(tolerance=args.tolerance, scale=args.scale).fit(arms)
    missed = [w for w in caught if issubclass(w.category, EventTotalNotMetWarning)]
    for w in caught:  # hand every warning on, to stderr as usual
        warnings.warn(w.message, w.category, stacklevel=1)
    atomic_write_text(out, rec.ipd_.to_csv(index=False, lineterminator="\n"), force=args.force)
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print("Cleaning report:")
        print(rec.cleaning_report_.to_string(index=False))
        print("\nNumbers at risk, reported vs rebuilt:")
        print(rec.at_risk_table_.to_string(index=False))
        print("\nDiagnostics per arm:")
        print(rec.summary.to_string())
        if len(rec.hazard_ratio_):
            print("\nHazard ratio from the rebuilt data (Cox, Efron ties):")
            print(rec.hazard_ratio_.to_string(index=False))
        print("\nAccuracy (events rebuilt vs given; largest vertical distance, as a proportion,")
        print("between a digitised point and the rebuilt Kaplan-Meier curve):")
        print(repr(rec))
        for w in missed:
            print(f"WARNING: {w.message}")
    if args.plot is not None:
        from matplotlib.figure import Figure  # no pyplot: no GUI backend, nothing to close

        ax = Figure(figsize=(6, 4)).subplots()
        rec.plot(ax=ax, time_unit=args.time_unit)
        ax.figure.savefig(args.plot, dpi=150, bbox_inches="tight")
        print(f"\nplot written to {args.plot}")
    print(f"\n{len(rec.ipd_)} patients written to {out}")
    return 0
