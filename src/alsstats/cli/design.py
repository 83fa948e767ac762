"""``alsstats design``: simulated power of phase 3 designs for the MIROCALS question.

Example::

    alsstats design --sizes 300 600 900 --replicates 500 --workers 2
    alsstats design --sizes 600 --events 250 --size-for 0.8 0.9
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

from ..errors import InputError
from . import nonnegative_int, positive_float, positive_int, probability

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``design`` parser."""
    p = subparsers.add_parser(
        "design",
        help="power of all-comers, pNFH-enriched and interaction-powered phase 3 designs",
        description=(
            "Simulate phase 3 trials of low-dose IL-2 from the MIROCALS model (calibrated if "
            "alsstats.reconstruct is available, else the reference model rebuilt from the "
            "reported figures) and print the power of three designs: all-comers (stratified "
            "log-rank), enriched on low CSF-pNFH (log-rank) and all-comers powered for the "
            "treatment x pNFH interaction (Wald test). Power is +/- one Monte Carlo SE."
        ),
    )
    p.add_argument(
        "--sizes",
        type=positive_int,
        nargs="+",
        default=[300, 600, 900],
        help="patients randomised (default: 300 600 900)",
    )
    p.add_argument(
        "--replicates", type=positive_int, default=500, help="trials per point (default 500)"
    )
    p.add_argument("--seed", type=nonnegative_int, default=2025, help="random seed (default 2025)")
    p.add_argument(
        "--accrual-rate",
        type=positive_float,
        default=1.0,
        help="patients screened per day (default 1.0)",
    )
    p.add_argument(
        "--follow-up",
        type=positive_float,
        default=640.0,
        help="longest follow-up per patient, days (default 640)",
    )
    p.add_argument(
        "--events",
        type=positive_int,
        default=None,
        help="event-driven analysis at this many deaths (default: calendar analysis "
        "when every patient has reached --follow-up)",
    )
    p.add_argument(
        "--low",
        type=positive_float,
        nargs=2,
        default=[750.0, 3700.0],
        metavar=("LOWER", "UPPER"),
        help="CSF-pNFH range (pg/mL) of the enriched design (default 750 3700)",
    )
    p.add_argument(
        "--model",
        choices=("auto", "reference"),
        default="auto",
        help="auto: calibrated model when available; reference: the fallback",
    )
    p.add_argument(
        "--size-for",
        type=probability,
        nargs="*",
        default=[],
        metavar="POWER",
        help="also search the n reaching these powers (e.g. 0.8 0.9)",
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="processes for the simulations (default 1: serial)",
    )
    p.add_argument("--progress", action="store_true", help="show progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the power table (and sample sizes); return the exit code."""
    import pandas as pd

    from .. import design as D

    if any(n < 4 for n in args.sizes):
        raise InputError("--sizes", "", "need at least 4 patients per trial")
    if args.low[0] >= args.low[1]:
        raise InputError("--low", "", "LOWER must be below UPPER")
    if args.model == "reference":
        model, source = D.mirocals_reference_model(), "reference"
    else:
        model, source = D.mirocals_model()
    designs = D.standard_designs(
        accrual_rate=args.accrual_rate,
        follow_up=args.follow_up,
        low_range=tuple(args.low),
        target_events=args.events,
    )
    pool = ProcessPoolExecutor(args.workers) if args.workers > 1 else None
    try:
        curves = D.power_curve(
            model,
            designs,
            args.sizes,
            args.replicates,
            seed=args.seed,
            tests="primary",
            executor=pool,
            progress=args.progress,
        )
        sizes = [
            (
                name,
                target,
                D.sample_size(
                    model,
                    d,
                    target,
                    n_replicates=args.replicates,
                    seed=args.seed,
                    executor=pool,
                    progress=args.progress,
                ),
            )
            for target in args.size_for
            for name, d in designs.items()
        ]
    finally:
        if pool is not None:
            pool.shutdown()
    analysis = (
        f"event-driven at {args.events} deaths"
        if args.events
        else f"calendar, every patient followed {args.follow_up:g} days"
    )
    print(
        f"MIROCALS {source} model; {args.replicates} trials per point, seed {args.seed}; "
        f"{analysis}; accrual {args.accrual_rate:g} screened/day"
    )
    print(f"enriched design: CSF-pNFH {args.low[0]:g}-{args.low[1]:g} pg/mL\n")
    primary = curves[curves["primary"]]
    table = pd.DataFrame(
        {
            "design": primary["design"],
            "test": primary["test"],
            "n": primary["n"],
            "power": [
                f"{p:.3f} ± {s:.3f}"
                for p, s in zip(primary["power"], primary["mc_se"], strict=True)
            ],
            "events": primary["mean_events"].round(1),
            "screened": primary["mean_screened"].round(0).astype(int),
            "analysis_day": primary["mean_analysis_day"].round(0).astype(int),
        }
    )
    print(table.to_string(index=False))
    if sizes:
        print("\nsample size (smallest n, multiple of the block, reaching the target power):")
        for name, target, res in sizes:
            print(
                f"  {name:12s} {res.test:11s} {target:.0%}: n = {res.n} "
                f"(power {res.power:.3f} ± {res.mc_se:.3f})"
            )
    return 0
