"""Time the batched Kaplan-Meier landmark evaluation the rebuild scores every search step with.

One search step scores 128 candidate cohorts (``_search.CANDIDATES``). Here: 180 patients (two
arms of 90, staggered censoring), per arm a KM survival at 18 months with its two CI bounds
(6 targets), against the same step's Cox fit of the overall HR (the engine) and the KM medians
of both arms (``median_for``). Target: the survival targets cost no more than the Cox fit.

Run: ``.venv/bin/python benchmarks/bench_km_landmark.py``
"""

from __future__ import annotations

import time

import numpy as np

from alsstats.reconstruct._calibrate import Target
from alsstats.reconstruct._fits import Design, _fit_stats
from alsstats.reconstruct._medians import median_for
from alsstats.survival import fit_cox_batch, warm_up

R, N = 128, 180


def best_of(fn, repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(2026)
    trt = (np.arange(N) < N // 2).astype(float)
    event = rng.exponential(20.0, (R, N))
    censor = rng.uniform(15.0, 30.0, (R, N))
    time_ = np.round(np.minimum(event, censor) * 100)  # the search's integer ticks
    death = (event <= censor).astype(np.int8)
    targets = []
    for arm in ("a", "c"):
        pop = {"kind": "all", "time": 18.0}
        targets.append(Target(f"{arm}", arm, "alive_proportion", "0.60", 0.6, 2, arm, pop))
        for side in ("lower", "upper"):
            targets.append(
                Target(
                    f"{arm}.{side}", arm, f"survival_ci_{side}", "0.5", 0.5, 2, arm,
                    {**pop, "ci_method": "log_log"},
                )
            )  # fmt: skip
    design = Design(
        targets=targets, groups=[], log_scale=False, x_unit=1.0, adjust=(), ties="efron",
        level_z=1.959963984540054, landmark=30.0, trt_id="a", ticks=100.0,
    )  # fmt: skip
    modifier = np.full(N, np.nan)
    warm_up()
    km = best_of(lambda: _fit_stats(design, trt, time_, death, modifier, {}))
    cox = best_of(
        lambda: fit_cox_batch(time_, death, np.broadcast_to(trt, (R, N))[..., None], ties="efron")
    )
    med = best_of(
        lambda: [median_for(1800.0, time_[:, trt == a], death[:, trt == a]) for a in (1, 0)]
    )
    print(f"{R} candidates x {N} patients, best of 7:")
    print(f"  6 KM landmark targets (S(18) and its log-log CI, both arms): {1e3 * km:7.2f} ms")
    print(f"  Cox fit of the overall HR (engine):                          {1e3 * cox:7.2f} ms")
    print(f"  KM medians of both arms (median_for):                        {1e3 * med:7.2f} ms")


if __name__ == "__main__":
    main()
