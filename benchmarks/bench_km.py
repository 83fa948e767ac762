"""Time the Guyot reconstruction: 1,000 patients in two arms (target: under 1 s).

Simulated trial (seeded): 500 patients per arm, exponential survival with medians 18 and 24
months, uniform censoring over 0-48 months, curves rounded to 3 decimals, numbers at risk every
6 months, total events reported. Times :func:`alsstats.km.reconstruct_ipd` (cleaning, the
algorithm, diagnostics including the Cox hazard ratio) and the algorithm alone.

A harder case follows: 3,000 patients per arm, numbers at risk only every 12 months (wide
dynamic-programming states), clicks with noise (time sd 0.1 month, survival sd 0.003), so the
reported totals are met by the price-per-death search.

Run: ``.venv/bin/python benchmarks/bench_km.py``
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from alsstats.km import GuyotReconstruction, clean_arm, guyot, simulate_publication


def trial(n_per_arm: int = 500, seed: int = 2012) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arms = np.repeat([0, 1], n_per_arm)
    event_time = rng.exponential(np.where(arms == 0, 18, 24) / np.log(2))
    censor_time = rng.uniform(0, 48, arms.size)
    return pd.DataFrame(
        {
            "time": np.round(np.minimum(event_time, censor_time), 2),
            "event": (event_time <= censor_time).astype(int),
            "arm": np.where(arms == 0, "control", "active"),
        }
    )


def best_of(fn, repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    df = trial()
    arms = simulate_publication(df, "time", "event", "arm", np.arange(0, 48, 6))
    clicks = sum(a.time.size for a in arms.values())
    start = time.perf_counter()
    GuyotReconstruction().fit(arms)
    first = time.perf_counter() - start
    full = best_of(lambda: GuyotReconstruction().fit(arms))
    clean = [clean_arm(a)[0] for a in arms.values()]

    def algorithm_only() -> None:
        for c in clean:
            guyot(c.time, c.survival, c.at_risk_times, c.at_risk, c.total_events)

    algo = best_of(algorithm_only)
    print(f"1,000 patients, 2 arms, {clicks} digitised points")
    print(f"first call (imports, JIT of the Cox engine and the Guyot kernel): {first:.3f} s")
    print(f"full reconstruction with diagnostics (best of 7): {full:.3f} s  (target < 1 s)")
    print(f"Guyot algorithm alone, both arms (best of 7): {algo:.4f} s")

    hard = simulate_publication(
        trial(3000, seed=7), "time", "event", "arm", np.arange(0, 48, 12),
        time_sd=0.1, survival_sd=0.003, seed=7,
    )  # fmt: skip
    rec = GuyotReconstruction().fit(hard)
    hard_time = best_of(lambda: GuyotReconstruction().fit(hard), repeats=3)
    met = ", ".join(
        f"{arm}: {rec.events_rebuilt_[arm]}/{rec.events_given_[arm]}" for arm in rec.summary.index
    )
    print(
        f"6,000 patients, at risk every 12 months, noisy clicks (best of 3): {hard_time:.3f} s; "
        f"events rebuilt/given {met}"
    )


if __name__ == "__main__":
    main()
