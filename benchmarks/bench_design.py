"""Speed of the trial simulator: 10,000 simulated MIROCALS-like phase 3 trials of n = 600.

Each trial: accrual, stratified permuted-block randomisation, event-driven analysis, then the
stratified log-rank test and three Cox fits (overall HR, HR in 750-3,700 pg/mL, interaction
Wald test). Target: <= 30 s on 2 cores.

Run: ``.venv/bin/python benchmarks/bench_design.py [--replicates 10000] [--workers 2]``
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

from alsstats import design as D


def _warm() -> None:
    # Each worker imports alsstats and loads the compiled Cox kernel before the timing starts.
    model = D.mirocals_reference_model()
    D.simulate_trials(model, D.TrialDesign(n=50, subgroup=(750, 3700)), 2, seed=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=10_000)
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=500)
    args = parser.parse_args()

    model = D.mirocals_reference_model()
    # ~41% die within 640 days: 35% of n is reached in all but ~0.1% of trials.
    events = int(0.35 * args.n)
    design = D.TrialDesign(
        n=args.n,
        accrual_rate=1.0,
        target_events=events,
        biomarker_strata=(3700,),
        subgroup=(750, 3700),
    )
    # Warm-up: compiles (or loads from cache) the numba Cox kernel outside the timing.
    D.simulate_trials(model, design, 10, seed=0)
    print(
        f"cores available: {os.cpu_count()}; design: n={args.n}, D={events} events, tests={D.TESTS}"
    )

    t0 = time.perf_counter()
    serial = D.simulate_trials(model, design, args.replicates, seed=1, chunk_size=args.chunk_size)
    t_serial = time.perf_counter() - t0
    print(f"serial:            {args.replicates} trials in {t_serial:6.1f} s")

    with ProcessPoolExecutor(args.workers, initializer=_warm) as pool:
        list(pool.map(time.sleep, [1.0] * args.workers))  # every worker started and warm
        t0 = time.perf_counter()
        par = D.simulate_trials(
            model, design, args.replicates, seed=1, chunk_size=args.chunk_size, executor=pool
        )
        t_par = time.perf_counter() - t0
    print(
        f"{args.workers} processes:       {args.replicates} trials in {t_par:6.1f} s "
        f"(target <= 30 s); identical to serial: {serial.trials.equals(par.trials)}"
    )
    print(par.summary[["power", "mc_se", "failed_fits", "mean_events"]].round(4).to_string())


if __name__ == "__main__":
    main()
