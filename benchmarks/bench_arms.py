"""Round trips of the several-arms rebuild on simulated trials (known truth).

For each shape, ``--seeds`` simulated trials (seeds 0..N-1, :func:`alsstats.reconstruct.
simulate_arms_summary`) are rebuilt with seed 0 and a ``--max-seconds`` cap; prints per shape
how many rebuilt feasibly and the median and largest wall time, with the load average before
and after (the machine may be shared).

Run: ``.venv/bin/python benchmarks/bench_arms.py [--seeds 8] [--max-seconds 60] [--only TEXT]
[--per-seed]``
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import yaml

from alsstats.reconstruct import ArmsShape, rebuild_cohort, simulate_arms_summary
from alsstats.summary import summary_from_dict

SHAPES = {
    "3 arms 1:1:1, n 300": ArmsShape(),
    "3 arms 2:1:1, n 240, log-rank p": ArmsShape(n=240, allocation=(2, 1, 1), logrank=("low",)),
    "4 arms 1:1:1:1, n 400, 2 log-rank p": ArmsShape(
        n=400,
        arms=(("d200", -0.5), ("d50", -0.25), ("d100", -0.3)),
        allocation=(1, 1, 1, 1),
        logrank=("d50", "d100"),
    ),
    "3 arms, n 400, onset subgroups on the primary": ArmsShape(n=400, subgroups=True),
    "3 arms 1:1:1, n 300, HR high vs low": ArmsShape(between=("high", "low")),
    "3 arms, n 400, bulbar HR on both comparisons": ArmsShape(
        n=400, subgroups=True, subgroups_everywhere=True, printed_categories=("bulbar",)
    ),
    "3 arms, n 400, onset subgroups on both comparisons": ArmsShape(
        n=400, subgroups=True, subgroups_everywhere=True
    ),
}


def _load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--only", default="", help="run the shapes whose name contains this")
    parser.add_argument("--per-seed", action="store_true", help="print each seed's outcome")
    args = parser.parse_args()
    print(_load())
    for name, shape in SHAPES.items():
        if args.only not in name:
            continue
        times, ok = [], 0
        for seed in range(args.seeds):
            doc, _ = simulate_arms_summary(shape, np.random.default_rng(seed))
            summary = summary_from_dict(yaml.safe_load(yaml.safe_dump(doc)), f"sim-{seed}")
            clock = time.perf_counter()
            rec = rebuild_cohort(summary, seed=0, max_seconds=args.max_seconds)
            times.append(time.perf_counter() - clock)
            ok += rec.outcome_ == "feasible"
            if args.per_seed:
                print(f"  seed {seed}: {rec.outcome_}, {times[-1]:.1f} s", flush=True)
        print(
            f"{name}: {ok}/{args.seeds} feasible; median {np.median(times):.1f} s, "
            f"largest {max(times):.1f} s"
        )
    print(_load())


if __name__ == "__main__":
    main()
