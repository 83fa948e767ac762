"""Speed of the batched Cox engine against lifelines, and of a bootstrap band.

Run: ``.venv/bin/python benchmarks/bench_engine.py`` (add ``--cold`` to also time the numba
compilation from an empty cache in a subprocess). Prints, in one run: lifelines ms per fit at
n = 220; the engine's time for 10,000 fits at n = 220 (serial and two threads), 1,000 at
n = 2,000 and 100 at n = 20,000, with the cost per row-fit to show it is linear; peak memory;
and 2,000-resample bootstrap bands (percentile, BCa) at n = 220.

Targets (2 cores): 10,000 fits of n = 220 in <= 1 s (>= 200x lifelines), peak memory <= 2 GB,
a bootstrap band in <= 5 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from alsstats.survival import bootstrap_contrasts, fit_cox_batch

FOLLOW_UP = 640.0  # days (MIROCALS primary endpoint, 21 months)


def simulate(n_rep: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MIROCALS-like trials: 1:1 arms, CSF-pNFH lognormal with median 2,000 pg/mL, log HR of
    treatment log(0.32) + 2.4e-4 x pNFH, about 41% deaths by day 640, death days as integers."""
    rng = np.random.default_rng(seed)
    trt = np.tile((np.arange(n) >= n // 2).astype(float), (n_rep, 1))
    pnfh = np.exp(rng.normal(np.log(2000.0), 0.7, (n_rep, n)))
    lp = np.log(0.32) * trt + 2.4e-4 * trt * pnfh + 2.0e-4 * (pnfh - 2000.0)
    days = np.ceil(rng.exponential(1 / (8.0e-4 * np.exp(lp))))
    event = (days <= FOLLOW_UP).astype(np.int8)
    return np.minimum(days, FOLLOW_UP), event, np.stack([trt, pnfh, trt * pnfh], axis=-1)


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_lifelines(t: np.ndarray, e: np.ndarray, X: np.ndarray, n_fits: int) -> float:
    from lifelines import CoxPHFitter

    start = time.perf_counter()
    for r in range(n_fits):
        df = pd.DataFrame({"T": t[r], "E": e[r], "trt": X[r, :, 0], "pnfh": X[r, :, 1]})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a benchmark: lifelines' advice is not wanted here
            CoxPHFitter().fit(df, "T", "E", formula="trt + pnfh + trt:pnfh")
    return (time.perf_counter() - start) / n_fits


def cold_compile_seconds() -> float:
    """First call in a fresh interpreter with an empty numba cache (compilation included)."""
    code = (
        "import time; t = time.perf_counter(); from alsstats.survival import fit_cox; "
        "fit_cox([3.0, 1.0, 2.0, 4.0], [1, 1, 0, 1], [[0.0], [1.0], [1.0], [0.0]]); "
        "print(time.perf_counter() - t)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="also time compilation, empty cache")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, cores {os.cpu_count()}")

    t, e, X = simulate(10_000, 220, seed=1)
    print(
        f"simulated: n = 220 (110/110), mean deaths {e.sum(axis=1).mean():.1f}, "
        f"median pNFH {np.median(X[..., 1]):.0f} pg/mL"
    )

    start = time.perf_counter()
    fit_cox_batch(t[:1], e[:1], X[:1])
    print(
        f"engine first call in this process (cache load or compile): "
        f"{time.perf_counter() - start:.2f} s"
    )
    if args.cold:
        print(
            f"engine first call with an empty numba cache (compilation): "
            f"{cold_compile_seconds():.1f} s"
        )

    ll = bench_lifelines(t, e, X, 50)
    print(f"lifelines CoxPHFitter, 50 fits at n = 220: {ll * 1e3:.1f} ms per fit")

    tracemalloc.start()
    res = fit_cox_batch(t, e, X)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"engine: {res.ok.sum()} of {len(res)} ok, mean n_iter {res.n_iter.mean():.2f}")
    serial = best_of(3, lambda: fit_cox_batch(t, e, X))
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = best_of(3, lambda: fit_cox_batch(t, e, X, executor=pool))
    for label, secs in (("serial", serial), ("2 threads", threaded)):
        print(
            f"engine, 10,000 fits at n = 220, {label}: {secs:.3f} s, "
            f"{secs / 1e4 * 1e6:.1f} us per fit, {ll / (secs / 1e4):.0f}x lifelines, "
            f"{secs / (1e4 * 220) * 1e9:.0f} ns per row-fit"
        )

    for n, n_rep in ((2_000, 1_000), (20_000, 100)):
        tn, en, Xn = simulate(n_rep, n, seed=2)
        with ThreadPoolExecutor(max_workers=2) as pool:
            secs = best_of(
                2, lambda tn=tn, en=en, Xn=Xn, pool=pool: fit_cox_batch(tn, en, Xn, executor=pool)
            )
        print(
            f"engine, {n_rep:,} fits at n = {n:,}, 2 threads: {secs:.3f} s, "
            f"{secs / n_rep * 1e3:.2f} ms per fit, {secs / (n_rep * n) * 1e9:.0f} ns per row-fit"
        )
        del tn, en, Xn

    d = np.array([[1.0, 0.0, x] for x in (750.0, 2000.0, 3700.0, 6000.0)])
    for method in ("percentile", "bca"):
        start = time.perf_counter()
        band = bootstrap_contrasts(
            t[0], e[0], X[0], d, resample_by=X[0, :, 0], n_resamples=2000, method=method, seed=1
        )
        secs = time.perf_counter() - start
        hr = ", ".join(
            f"{np.exp(lo):.2f}-{np.exp(hi):.2f}"
            for lo, hi in zip(band.lower, band.upper, strict=True)
        )
        print(
            f"bootstrap band, 2,000 resamples at n = 220, {method}: {secs:.2f} s serial "
            f"({band.n_failed} failed; HR bands at pNFH 750/2000/3700/6000: {hr})"
        )

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak memory: {rss:.0f} MB resident (whole process, lifelines included); "
        f"{traced_peak / 2**20:.0f} MB traced by tracemalloc during the 10,000-fit call"
    )


if __name__ == "__main__":
    main()
