"""Time of the MIROCALS rebuild (target: <= 60 s on 2 cores) and of the search's Cox batches.

Usage: python benchmarks/bench_reconstruct.py [SEEDS...]   (default: 2025 and 0-9; target: every
seed <= 60 s, issue 13)
"""

from __future__ import annotations

import sys
import time

import numpy as np

from alsstats import data_path
from alsstats.reconstruct import CANDIDATES, rebuild_cohort
from alsstats.summary import load_reported_summary
from alsstats.survival import fit_cox_batch


def main(argv: list[str]) -> int:
    seeds = [int(s) for s in argv] or [2025, *range(10)]
    summary = load_reported_summary(data_path("mirocals", "reported.yaml"))
    rng = np.random.default_rng(0)
    t, e = rng.exponential(size=(CANDIDATES, 220)), rng.random((CANDIDATES, 220)) < 0.4
    x = rng.normal(size=(CANDIDATES, 220, 3))
    fit_cox_batch(t[:2], e[:2], x[:2])  # compile
    for p in (1, 3):
        clock = time.perf_counter()
        fit_cox_batch(t, e, x[:, :, :p])
        dt = time.perf_counter() - clock
        print(
            f"engine: {CANDIDATES} cohorts x 220 patients, p={p}: {dt * 1000:.1f} ms "
            f"({CANDIDATES / dt:.0f} fits/s)"
        )
    rebuild_cohort(summary, seed=2025)  # warm caches
    times = []
    for seed in seeds:
        clock = time.perf_counter()
        rec = rebuild_cohort(summary, seed=seed, max_seconds=300)
        times.append(time.perf_counter() - clock)
        agree = int(rec.match_table()["agrees"].sum())
        print(
            f"rebuild seed {seed}: {times[-1]:.1f} s, {rec.steps} steps, "
            f"{agree}/{len(rec.targets)} figures, feasible={rec.feasible}"
        )
    print(f"median {np.median(times):.1f} s, max {max(times):.1f} s over {len(times)} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
