"""Speed of the batched Cox engine against R's own core (``survival::coxph.fit``) and lifelines.

Run: ``.venv/bin/python benchmarks/bench_engine.py`` (``--quick`` for fewer repeats; the cold
start -- compilation with an empty numba cache, import time -- is ``bench_cold_start.py``).

Workloads, the same data sets for every implementation:

- bootstrap: 10,000 resamples (within arm) of one MIROCALS-like trial, n = 220, terms treatment,
  pNFH, treatment:pNFH, Efron ties; cold starts (beta = 0), and warm starts from the trial's
  own fit (as :func:`alsstats.survival.bootstrap_contrasts` passes ``init``);
- one large fit, n = 200,000;
- n x replicates from 220 x 10,000 to 200,000 x 10 (the cost per row-fit shows linearity).

Printed: per-fit CPU time (``time.process_time``, best and median of the repeats) for the engine
on one thread and for R's ``coxph.fit`` timed inside R (``proc.time``, the same data written to
disk and read by an ``Rscript`` child of this process; skipped with a message when ``Rscript``
with survival is not installed: ``apt-get install r-base-core r-cran-survival``); the ratio;
the wall-time speedup of 2 threads over 1, next to that of a bare GIL-free loop (what the
machine gives at that moment); the distance to the counted floor; the load average
(``os.getloadavg()``) next to every figure, since a shared machine makes all of them noisy.

The counted floor of a fit: its likelihood evaluations (1 + n_iter, measured) times the
arithmetic of one evaluation done one scalar operation at a time, at this machine's measured
throughput, with no wait on memory or on dependencies: per row one exp and p (eta) + (p + 1)
(risk-set sums) + p(p + 1)/2 (second moments) multiply-adds; per death one log, one division
and p + p(p + 1)/2 multiply-adds. Sorting, standardising, the Newton solves and the bookkeeping
are not counted. (The kernel vectorises exp and the per-row passes, so it can beat this count.)

Targets (issue 16): <= 50 us CPU per fit at n = 220 (>= 5x R's coxph.fit) and within 2x of the
counted floor; >= 1.5x R on the single n = 200,000 fit; linear in n x replicates; >= 1.7x
serial on 2 idle cores.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numba
import numpy as np
import pandas as pd

from alsstats.survival import bootstrap_contrasts, fit_cox, fit_cox_batch
from alsstats.survival._engine import warm_up

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


def resamples(n_resamples: int, seed: int) -> tuple[np.ndarray, ...]:
    """One trial of n = 220 and bootstrap resamples of it within arm (as bootstrap_contrasts)."""
    t, e, X = (a[0] for a in simulate(1, 220, seed))
    rng = np.random.default_rng(seed + 1)
    arms = [np.flatnonzero(X[:, 0] == a) for a in (0.0, 1.0)]
    rows = np.concatenate([g[rng.integers(0, g.size, (n_resamples, g.size))] for g in arms], 1)
    return t, e, X, t[rows], e[rows], X[rows]


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def cpu_times(repeats: int, fn) -> list[float]:
    """CPU seconds (this process, all threads) of each of `repeats` calls."""
    out = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        out.append(time.process_time() - start)
    return out


def summary(per_fit_us: list[float]) -> str:
    return f"best {min(per_fit_us):.1f}, median {statistics.median(per_fit_us):.1f} us"


# ----------------------------------------------------------------------------------------------
# R


R_SCRIPT = r"""
suppressMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]; B <- as.integer(args[2]); n <- as.integer(args[3]); p <- as.integer(args[4])
repeats <- as.integer(args[5]); big_n <- as.integer(args[6])
rd <- function(name, len) readBin(file.path(dir, name), "double", n = len)
tt <- rd("t.bin", B * n); ee <- rd("e.bin", B * n); xx <- rd("X.bin", B * n * p)
init_full <- rd("init.bin", p)
ys <- vector("list", B); xs <- vector("list", B)
for (r in seq_len(B)) {
  idx <- ((r - 1) * n + 1):(r * n)
  ys[[r]] <- Surv(tt[idx], ee[idx])
  xs[[r]] <- matrix(xx[((r - 1) * n * p + 1):(r * n * p)], nrow = n, ncol = p, byrow = TRUE)
}
ctl <- coxph.control()  # defaults: eps = 1e-9, iter.max = 20
fit_all <- function(init) {
  iters <- 0
  t0 <- proc.time()
  for (r in seq_len(B)) {
    fit <- suppressWarnings(coxph.fit(xs[[r]], ys[[r]], strata = NULL, offset = NULL,
      init = init, control = ctl, weights = NULL, method = "efron", rownames = NULL,
      resid = FALSE))
    iters <- iters + fit$iter
  }
  el <- proc.time() - t0
  c((el[["user.self"]] + el[["sys.self"]]) / B, iters / B)
}
for (k in seq_len(repeats)) {
  cold <- fit_all(NULL)
  warm <- fit_all(init_full)
  cat(sprintf("boot %.9f %.3f %.9f %.3f\n", cold[1], cold[2], warm[1], warm[2]))
}
bt <- rd("big_t.bin", big_n); be <- rd("big_e.bin", big_n)
bx <- matrix(rd("big_X.bin", big_n * p), nrow = big_n, ncol = p, byrow = TRUE)
by <- Surv(bt, be)
for (k in seq_len(repeats)) {
  t0 <- proc.time()
  fit <- coxph.fit(bx, by, strata = NULL, offset = NULL, init = NULL, control = ctl,
    weights = NULL, method = "efron", rownames = NULL, resid = FALSE)
  el <- proc.time() - t0
  cat(sprintf("big %.6f %d\n", el[["user.self"]] + el[["sys.self"]], fit$iter))
}
"""


def run_r(boot: tuple, init: np.ndarray, big: tuple, repeats: int) -> dict | None:
    """R's coxph.fit on the same data sets, timed inside R; None when R is not available."""
    if shutil.which("Rscript") is None:
        print(
            "R: Rscript not found, comparison skipped (apt-get install r-base-core r-cran-survival)"
        )
        return None
    check = subprocess.run(
        ["Rscript", "-e", "library(survival)"], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        print("R: the survival package is missing, comparison skipped")
        return None
    t, e, X = boot
    bt, be, bX = big
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for name, a in {
            "t.bin": t,
            "e.bin": e,
            "X.bin": X,
            "init.bin": init,
            "big_t.bin": bt,
            "big_e.bin": be,
            "big_X.bin": bX,
        }.items():
            np.ascontiguousarray(a, dtype=np.float64).tofile(d / name)
        (d / "bench.R").write_text(R_SCRIPT)
        out = subprocess.run(
            [
                "Rscript",
                str(d / "bench.R"),
                tmp,
                str(t.shape[0]),
                str(t.shape[1]),
                str(X.shape[2]),
                str(repeats),
                str(bt.shape[0]),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    version = subprocess.run(
        ["Rscript", "-e", 'cat(R.version.string, "survival", format(packageVersion("survival")))'],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    res = {"version": version, "cold": [], "warm": [], "big": []}
    for line in out.stdout.splitlines():
        f = line.split()
        if f[0] == "boot":
            res["cold"].append((float(f[1]) * 1e6, float(f[2])))
            res["warm"].append((float(f[3]) * 1e6, float(f[4])))
        elif f[0] == "big":
            res["big"].append((float(f[1]) * 1e3, int(f[2])))
    return res


# ----------------------------------------------------------------------------------------------
# The counted floor


@numba.njit(cache=True)
def _exp_only(x, reps):  # timing helpers: independent scalar operations (throughput)
    s = 0.0
    for _ in range(reps):
        for i in range(x.shape[0]):
            s += math.exp(x[i])
    return s


@numba.njit(cache=True)
def _log_only(x, reps):
    s = 0.0
    for _ in range(reps):
        for i in range(x.shape[0]):
            s += math.log(x[i] + 2.0)
    return s


@numba.njit(cache=True)
def _div_only(x, reps):
    s = 0.0
    for _ in range(reps):
        for i in range(x.shape[0]):
            s += 1.0 / (x[i] + 2.0)
    return s


@numba.njit(cache=True)
def _fma_only(x, reps):
    s = np.zeros(8)
    for _ in range(reps):
        for i in range(x.shape[0]):
            for k in range(8):  # 8 independent chains
                s[k] = s[k] * 0.999 + x[i]
    return s


@numba.njit(cache=True, nogil=True)
def _spin(n):
    s = 0.0
    for i in range(n):
        s += math.sqrt(i)
    return s


def control_speedup(repeats: int) -> float:
    """Wall-time speedup of 2 threads over 1 for a trivial GIL-free loop: what this machine
    gives right now (a shared machine may give a process less than its cores)."""
    from threading import Thread

    _spin(10)
    work = 50_000_000
    ratios = []
    for _ in range(repeats):
        start = time.perf_counter()
        _spin(work)
        one = time.perf_counter() - start
        threads = [Thread(target=_spin, args=(work // 2,)) for _ in range(2)]
        start = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        ratios.append(one / (time.perf_counter() - start))
    return statistics.median(ratios)


def op_costs_ns() -> dict[str, float]:
    """Nanoseconds per scalar exp, log, division, multiply-add on this machine (best of 5)."""
    x = np.random.default_rng(0).normal(size=1000) * 0.5
    reps = 2000
    out = {}
    for op, fn, per in (
        ("exp", _exp_only, 1),
        ("log", _log_only, 1),
        ("div", _div_only, 1),
        ("fma", _fma_only, 8),
    ):
        fn(x, 1)
        best = min(cpu_times(5, lambda fn=fn: fn(x, reps)))
        out[op] = best / (reps * x.size * per) * 1e9
    return out


def floor_us(costs: dict[str, float], evaluations: float, n: float, deaths: float, p: int) -> float:
    per_row = costs["exp"] + (p + (p + 1) + p * (p + 1) / 2) * costs["fma"]
    per_death = costs["log"] + costs["div"] + (p + p * (p + 1) / 2) * costs["fma"]
    return evaluations * (n * per_row + deaths * per_death) / 1e3


# ----------------------------------------------------------------------------------------------


def bench_lifelines(t: np.ndarray, e: np.ndarray, X: np.ndarray, n_fits: int) -> float:
    from lifelines import CoxPHFitter

    start = time.perf_counter()
    for r in range(n_fits):
        df = pd.DataFrame({"T": t[r], "E": e[r], "trt": X[r, :, 0], "pnfh": X[r, :, 1]})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a benchmark: lifelines' advice is not wanted here
            CoxPHFitter().fit(df, "T", "E", formula="trt + pnfh + trt:pnfh")
    return (time.perf_counter() - start) / n_fits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--no-r", action="store_true", help="skip the R comparison")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    print(
        f"python {sys.version.split()[0]}, numpy {np.__version__}, numba {numba.__version__}, "
        f"cores {os.cpu_count()}; {load()}"
    )
    print(f"engine first call in this process (cache load or compile): {warm_up():.2f} s")

    B = 10_000
    t0, e0, X0, t, e, X = resamples(B, seed=1)
    full = fit_cox(t0, e0, X0)
    print(
        f"workload: {B:,} bootstrap resamples (within arm) of one trial, n = 220, "
        f"{e.sum(axis=1).mean():.1f} deaths on average, 3 terms, Efron"
    )

    # Engine, one thread: CPU per fit, cold and warm starts, repeats interleaved.
    res = fit_cox_batch(t, e, X, threads=1)
    res_warm = fit_cox_batch(t, e, X, init=full.coef[0], threads=1)
    cold_us, warm_us = [], []
    for _ in range(repeats):
        cold_us += [s / B * 1e6 for s in cpu_times(1, lambda: fit_cox_batch(t, e, X, threads=1))]
        warm_us += [
            s / B * 1e6
            for s in cpu_times(1, lambda: fit_cox_batch(t, e, X, init=full.coef[0], threads=1))
        ]
    ev_cold = 1 + res.n_iter.mean()
    ev_warm = 1 + res_warm.n_iter.mean()  # the null model, then n_iter evaluations
    print(
        f"engine, 1 thread, cold start: {summary(cold_us)} CPU per fit "
        f"({res.ok.sum():,} ok, mean n_iter {res.n_iter.mean():.2f}); {load()}"
    )
    print(
        f"engine, 1 thread, warm start (init = the trial's fit): {summary(warm_us)} CPU per fit "
        f"(mean n_iter {res_warm.n_iter.mean():.2f}); {load()}"
    )

    # Two threads against one: wall time, pairs interleaved so that the load hits both alike.
    serial, threaded = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        fit_cox_batch(t, e, X, threads=1)
        serial.append(time.perf_counter() - start)
        start = time.perf_counter()
        fit_cox_batch(t, e, X, threads=2)
        threaded.append(time.perf_counter() - start)
    ratios = [s / p for s, p in zip(serial, threaded, strict=True)]
    print(
        f"engine, 2 threads vs 1 (wall): best {min(serial) / min(threaded):.2f}x "
        f"({min(threaded) / B * 1e6:.1f} vs {min(serial) / B * 1e6:.1f} us per fit), "
        f"pairs median {statistics.median(ratios):.2f}x; control (a bare GIL-free loop, 2 "
        f"threads vs 1): {control_speedup(repeats):.2f}x; {load()}"
    )

    # The single large fit.
    bt, be, bX = (a[0] for a in simulate(1, 200_000, seed=2))
    big_ms = [s * 1e3 for s in cpu_times(repeats, lambda: fit_cox(bt, be, bX))]
    big = fit_cox(bt, be, bX)
    print(
        f"engine, one fit at n = 200,000: {min(big_ms):.1f} ms best, "
        f"{statistics.median(big_ms):.1f} median CPU (n_iter {big.n_iter[0]}); {load()}"
    )

    # R's core on the same data sets.
    if not args.no_r:
        r = run_r((t, e, X), full.coef[0], (bt, be, bX), 3 if args.quick else 5)
        if r is not None:
            rc = min(c for c, _ in r["cold"])
            rw = min(c for c, _ in r["warm"])
            rb = min(c for c, _ in r["big"])
            print(f"R: {r['version']}, coxph.fit (eps 1e-9, its default; ours tol 1e-10)")
            print(
                f"R coxph.fit, bootstrap, cold start: {rc:.1f} us CPU per fit (best of "
                f"{len(r['cold'])}; mean iter {r['cold'][0][1]:.2f}) -> engine "
                f"{rc / min(cold_us):.1f}x faster (best vs best), "
                f"{rc / statistics.median(cold_us):.1f}x (vs engine median); {load()}"
            )
            print(
                f"R coxph.fit, bootstrap, warm start: {rw:.1f} us CPU per fit (mean iter "
                f"{r['warm'][0][1]:.2f}) -> engine {rw / min(warm_us):.1f}x faster"
            )
            print(
                f"R coxph.fit, one fit at n = 200,000: {rb:.1f} ms CPU (iter "
                f"{r['big'][0][1]}) -> engine {rb / min(big_ms):.2f}x faster; {load()}"
            )

    # The counted floor (see the module docstring).
    costs = op_costs_ns()
    deaths = e.sum(axis=1).mean()
    fl = floor_us(costs, ev_cold, 220, deaths, 3)
    fl_warm = floor_us(costs, ev_warm, 220, deaths, 3)
    print(
        "counted floor: scalar exp {exp:.2f}, log {log:.2f}, division {div:.2f}, "
        "multiply-add {fma:.2f} ns".format(**costs)
        + f"; {ev_cold:.2f} evaluations per cold fit -> floor {fl:.1f} us, engine at "
        f"{min(cold_us) / fl:.2f}x (best) / {statistics.median(cold_us) / fl:.2f}x (median); "
        f"warm: floor {fl_warm:.1f} us, engine at {min(warm_us) / fl_warm:.2f}x; {load()}"
    )

    # Linear in n x replicates.
    for n, n_rep in ((220, 10_000), (2_000, 1_000), (20_000, 100), (200_000, 10)):
        tn, en, Xn = simulate(n_rep, n, seed=3)
        fit_cox_batch(tn[:1], en[:1], Xn[:1], threads=1)
        secs = min(
            cpu_times(
                3 if args.quick else 5,
                lambda tn=tn, en=en, Xn=Xn: fit_cox_batch(tn, en, Xn, threads=1),
            )
        )
        iters = fit_cox_batch(tn, en, Xn, threads=1).n_iter.mean()
        print(
            f"engine, {n_rep:,} fits at n = {n:,}, 1 thread: {secs / n_rep * 1e3:.3f} ms CPU "
            f"per fit, {secs / (n_rep * n) * 1e9:.1f} ns per row-fit, "
            f"{secs / (n_rep * n * (1 + iters)) * 1e9:.2f} ns per row-evaluation; {load()}"
        )

    ll = bench_lifelines(t, e, X, 50)
    print(
        f"lifelines CoxPHFitter, 50 fits at n = 220: {ll * 1e3:.1f} ms per fit (wall) -> engine "
        f"{ll / (min(cold_us) * 1e-6):.0f}x"
    )

    tracemalloc.start()
    fit_cox_batch(t, e, X)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    d = np.array([[1.0, 0.0, x] for x in (750.0, 2000.0, 3700.0, 6000.0)])
    for method in ("percentile", "bca"):
        start = time.perf_counter()
        band = bootstrap_contrasts(
            t0, e0, X0, d, resample_by=X0[:, 0], n_resamples=2000, method=method, seed=1
        )
        print(
            f"bootstrap band, 2,000 resamples at n = 220, {method}: "
            f"{time.perf_counter() - start:.2f} s wall ({band.n_failed} failed); {load()}"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak memory: {rss:.0f} MB resident (whole process, lifelines included); "
        f"{traced_peak / 2**20:.0f} MB traced during the 10,000-fit call"
    )


if __name__ == "__main__":
    main()
