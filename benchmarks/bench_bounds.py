"""Speed of ``bounds``: the range of MIROCALS's HR = 1 crossing over compatible cohorts.

Two figures, each with the load average before and after (the machine may be shared):

* ``crossing``: bounds of the crossing under the stated assumptions (starts from seeds 0..3,
  the starts run on a process pool of ``--workers``). Target: <= 5 minutes on 2 cores.
* ``across``: the same under every alternative assumption of the summary and their union,
  one scenario per pool task. Target: <= 30 minutes on 2 cores.

Run: ``.venv/bin/python benchmarks/bench_bounds.py [crossing|across|both] [--workers 2]
[--starts 4] [--steps 600]``
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from alsstats import data_path
from alsstats.reconstruct import bounds, bounds_across
from alsstats.survival import fit_cox_batch


def _warm(_: int = 0) -> None:
    # compile (or load from cache) the Cox kernel in each worker before the timing
    import numpy as np

    fit_cox_batch(np.arange(1.0, 11.0), np.ones(10), np.arange(10.0)[:, None] % 2)


def _load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "part", nargs="?", default="crossing", choices=["crossing", "across", "both"]
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--starts", type=int, default=4)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    args = parser.parse_args()
    summary = data_path("mirocals", "reported.yaml")
    pd.set_option("display.width", 160)
    print(f"cores available: {os.cpu_count()}; workers {args.workers}; {_load()}")
    with ProcessPoolExecutor(args.workers) as pool:
        list(pool.map(_warm, range(args.workers)))
        if args.part in ("crossing", "both"):
            t0 = time.perf_counter()
            res = bounds(
                summary,
                "crossing",
                starts=args.starts,
                steps=args.steps,
                max_seconds=args.max_seconds,
                executor=pool,
            )
            dt = time.perf_counter() - t0
            print(res.summary.to_string(index=False))
            print(res["crossing"].ends.to_string(index=False))
            print(f"crossing bounds, stated assumptions: {dt:.1f} s (target <= 300); {_load()}")
        if args.part in ("across", "both"):
            t0 = time.perf_counter()
            across = bounds_across(
                summary,
                "crossing",
                executor=pool,
                starts=args.starts,
                steps=args.steps,
                max_seconds=args.max_seconds,
            )
            dt = time.perf_counter() - t0
            print(across.summary.drop(columns=["conflicts"]).to_string(index=False))
            for _, row in across.summary.iterrows():
                if not row["feasible"]:
                    print(
                        f"no compatible cohort found: {row['assumption']} = {row['value']}: "
                        f"best rebuild missed {row['conflicts']}"
                    )
            print(f"crossing bounds across assumptions: {dt:.1f} s (target <= 1800); {_load()}")


if __name__ == "__main__":
    main()
