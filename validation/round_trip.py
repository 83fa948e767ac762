"""Round trips: simulate trials with known truth, print them as papers would, rebuild the
cohort from the print alone, and report how often and how fast the rebuild meets every figure.

Family mode (the default): trial i of the family is :func:`alsstats.reconstruct.random_shape`
drawn from the stream (seed, i): n 60 to 1,000; allocation 1:1, 2:1 or 3:2; 0 to 4 biomarker
groups with a random subset reported (with or without CI, p and share); continuous or binary
modifier; linear or log scale; interaction or none; days or months, ties on a month grid;
median age and share of men. Each is printed by :func:`alsstats.reconstruct.simulate_summary`
(HRs and CIs to 2 decimals; p to 2 decimals from 0.01, 3 below, left out below 0.001; shares
to 2 decimals; counts exact) and rebuilt with seed i. The truth meets every printed figure,
so every rebuild that is not feasible is the search's failure. Printed: the share feasible
(within the per-trial caps and within 120 s of CPU time), the outcomes, the distributions
of CPU and wall time (median, 90th percentile, max), the machine's load and the failures.

Load independence: each rebuild is capped by the CPU time of its worker process
(``--max-cpu-seconds``, default 120, :func:`time.process_time`, all threads of the worker),
which does not stretch when other work shares the machine; ``--max-seconds`` is the
wall-clock safety cap (default 600 s in family mode). CPU and wall time are reported side
by side: on an idle machine with one single-threaded worker per core they are close.

The trials run on any ``concurrent.futures`` executor (``--jobs`` processes here; a Dask
cluster through ``Client.get_executor()`` with :func:`run_family`); results do not depend on
the executor (the CPU cap assumes one rebuild per process at a time).

Usage: python validation/round_trip.py [N] [--max-cpu-seconds C] [--max-seconds S] [--jobs J]
                                      [--seed SEED]
       python validation/round_trip.py --mirocals-bias [N] ...   (the bias study below)

MIROCALS bias study (``--mirocals-bias``): for each round trip: a trial of 110 + 110 from a
DataGeneratingModel (the MIROCALS calibration,
or any model), its summary figures written in the reported-summary format (deaths and
survivors per arm, share alive, overall HR, low/high pNFH subgroup HRs with the low group's CI
and p, the interaction model's treatment HR at pNFH = 0 with CI and p, subgroup shares, median
age, share of men) at the usual reported precision; then ``rebuild_cohort`` on that file and
the interaction model refitted on the rebuilt cohort. Printed: share of feasible rebuilds, bias
of log HR at several pNFH values against the truth and against the fit of the simulated
trial itself, and coverage of the rebuilt cohort's 95% CI for the true log HR.

The trials are simulated in order from ``--seed`` in the parent process and trial i is rebuilt
with seed i, so the figures do not depend on ``--jobs`` (only on whether a rebuild reaches the
``--max-seconds`` safety cap).
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import sys
import tempfile
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from alsstats import data_path
from alsstats.reconstruct import (
    calibrate_model,
    interaction_fit,
    random_shape,
    rebuild_cohort,
    simulate_summary,
)
from alsstats.summary import load_reported_summary, summary_from_dict
from alsstats.survival import fit_cox_batch

VALUES = np.array([750.0, 2000.0, 3700.0, 6000.0])
Z = stats.norm.ppf(0.975)


def _fit(time_, event, X):
    res = fit_cox_batch(time_, event, X[None] if X.ndim == 2 else X[None, :, None])
    return res.coef[0], res.cov[0]


def simulate_report(model, rng: np.random.Generator, template: dict) -> tuple[dict, dict]:
    """One simulated trial and its report (a summary document) plus the trial's own fit."""
    trial = model.simulate((110, 110), rng)
    trt, x = trial["arm"].to_numpy(float), trial["biomarker"].to_numpy(float)
    t, e = trial["time"].to_numpy(float), trial["event"].to_numpy(np.int8)
    doc = copy.deepcopy(template)
    d_t, d_c = int(e[trt == 1].sum()), int(e[trt == 0].sum())
    doc["events"] = [
        {"id": "deaths_total", "arm": "all", "value": d_t + d_c, "source": "medwire2025"},
        {"id": "deaths_il2ld", "arm": "il2ld", "value": d_t, "source": "medwire2025"},
        {"id": "deaths_placebo", "arm": "placebo", "value": d_c, "source": "medwire2025"},
    ]
    doc["survival"] = [
        {
            "id": "alive_640_all",
            "arm": "all",
            "time": 640,
            "proportion": round(1 - (d_t + d_c) / 220, 2),
            "source": "medwire2025",
        },
        {
            "id": "alive_640_il2ld",
            "arm": "il2ld",
            "time": 640,
            "count": 110 - d_t,
            "source": "medwire2025",
        },
        {
            "id": "alive_640_placebo",
            "arm": "placebo",
            "time": 640,
            "count": 110 - d_c,
            "source": "medwire2025",
        },
    ]
    doc["event_shares"] = []
    low, high = (x >= 750) & (x < 3700), x >= 3700

    def hr(mask, ci=False):
        b, v = _fit(t[mask], e[mask], trt[mask])
        se = math.sqrt(v[0, 0])
        out = {"value": round(math.exp(b[0]), 2)}
        if ci:
            out["ci"] = [round(math.exp(b[0] - Z * se), 2), round(math.exp(b[0] + Z * se), 2)]
            out["p"] = round(2 * stats.norm.sf(abs(b[0] / se)), 3)
        return out

    coef, cov = _fit(t, e, np.column_stack([trt, x, trt * x]))
    se = math.sqrt(cov[0, 0])
    figures = {
        "overall_unadjusted": hr(np.ones(220, bool)),
        "low_pnfh": hr(low, ci=True),
        "high_pnfh": hr(high),
        "interaction_model_treatment": {
            "value": round(math.exp(coef[0]), 2),
            "ci": [round(math.exp(coef[0] - Z * se), 2), round(math.exp(coef[0] + Z * se), 2)],
            "p": round(2 * stats.norm.sf(abs(coef[0] / se)), 3),
        },
    }
    kept = []
    for h in doc["hazard_ratios"]:
        if h["id"] in figures:
            h = {k: v for k, v in h.items() if k not in ("ci", "p", "level")}
            h.update(figures[h["id"]])
            if "ci" in h:
                h["level"] = 0.95
            if h["id"] == "low_pnfh":
                h["population"]["share"] = round(low.mean(), 2)
            if h["id"] == "high_pnfh":
                h["population"]["share"] = round(high.mean(), 2)
            kept.append(h)
    doc["hazard_ratios"] = kept
    doc["biomarkers"] = [b for b in doc["biomarkers"] if b["id"] == "csf_pnfh"]
    return doc, {"coef": coef, "cov": cov}


def _plain(value):
    """numpy scalars -> Python numbers, for YAML."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _rebuild(task: tuple[int, str, float]) -> tuple[np.ndarray, np.ndarray, bool, float, list]:
    """Rebuild trial i from its report; the rebuilt cohort's HR curve at VALUES."""
    i, path, max_seconds = task
    rec = rebuild_cohort(path, seed=i, max_seconds=max_seconds)
    coef, cov, _ = interaction_fit(rec)
    est = coef[0] + coef[2] * VALUES
    se = np.sqrt(cov[0, 0] + 2 * VALUES * cov[0, 2] + VALUES**2 * cov[2, 2])
    return est, se, rec.feasible, rec.seconds, list(rec.conflicts)


def _printable_trial(seed: int, i: int, tries: int = 10) -> tuple[Any, dict, int]:
    """Trial i of the family: its shape, printed summary and how many draws were set aside.

    A simulated trial whose own Cox fit fails (a small trial with no deaths in an arm of a
    printed subgroup) has no printed figure to rebuild: no paper prints it. It is drawn
    again from the stream (seed, i, k), k = 1, 2, ...; every other trial is the draw from
    (seed, i) as before."""
    for k in range(tries):
        rng = np.random.default_rng([seed, i] if k == 0 else [seed, i, k])
        shape = random_shape(rng)
        try:
            doc, _ = simulate_summary(shape, rng)
        except ValueError:  # "simulated trial: a Cox fit failed"
            continue
        return shape, doc, k
    raise RuntimeError(f"family trial {i}: no printable trial in {tries} draws")


def family_trial(task: tuple) -> dict:
    """Simulate trial i of the family (stream (seed, i)), print it, rebuild it (seed i).

    ``task`` is (i, seed, max_seconds) or (i, seed, max_seconds, max_cpu_seconds); the row
    holds the rebuild's wall time (``seconds``) and the CPU time of this process during it
    (``cpu_seconds``: meaningful when the process runs one rebuild at a time)."""
    i, seed, max_seconds = task[:3]
    max_cpu_seconds = task[3] if len(task) > 3 else None
    shape, doc, redrawn = _printable_trial(seed, i)
    summary = summary_from_dict(doc, f"trial-{i}")
    clock, cpu = time.perf_counter(), time.process_time()
    try:
        rec = rebuild_cohort(
            summary, seed=i, max_seconds=max_seconds, max_cpu_seconds=max_cpu_seconds
        )
        outcome, missed = rec.outcome_, list(rec.conflicts)
    except Exception as exc:  # a crash is a failure of the rebuild, reported as such
        outcome, missed = "error", [f"{type(exc).__name__}: {exc}"]
    return {
        "trial": i,
        "n": shape.n,
        "allocation": f"{shape.allocation[0]}:{shape.allocation[1]}",
        "groups": shape.groups,
        "binary": shape.binary,
        "scale": shape.scale,
        "interaction": shape.interaction != 0,
        "unit": shape.unit,
        "ties": shape.ties,
        "figures": len(doc["hazard_ratios"]),
        "redrawn": redrawn,
        "outcome": outcome,
        "seconds": time.perf_counter() - clock,
        "cpu_seconds": time.process_time() - cpu,
        "missed": ", ".join(missed[:6]),
    }


def run_family(
    n: int,
    executor: Executor,
    *,
    seed: int = 2026,
    max_seconds: float = 120.0,
    max_cpu_seconds: float | None = None,
    echo=None,
) -> pd.DataFrame:
    """Rebuild ``n`` simulated trials of the family on ``executor``; one row per trial.
    ``max_cpu_seconds`` caps each rebuild's CPU time (use it with process workers, one
    rebuild per process at a time); ``max_seconds`` is the wall-clock cap."""
    tasks = [(i, seed, max_seconds, max_cpu_seconds) for i in range(n)]
    rows = []
    for row in executor.map(family_trial, tasks):
        rows.append(row)
        if echo is not None:
            echo(row)
    return pd.DataFrame(rows)


def family_report(
    df: pd.DataFrame, max_seconds: float, max_cpu_seconds: float | None = None
) -> str:
    """Share feasible, outcomes and the time distributions (CPU and wall) of a family run."""
    ok = df["outcome"] == "feasible"
    t = df["seconds"]
    c = df["cpu_seconds"] if "cpu_seconds" in df else t
    caps = f"wall cap {max_seconds:g} s"
    if max_cpu_seconds is not None:
        caps = f"CPU cap {max_cpu_seconds:g} s, " + caps
    lines = [
        f"trials: {len(df)}; feasible: {int(ok.sum())} ({100 * ok.mean():.1f}%); "
        f"feasible within 120 s CPU: {int((ok & (c <= 120)).sum())} "
        f"({100 * (ok & (c <= 120)).mean():.1f}%); within 120 s wall: "
        f"{int((ok & (t <= 120)).sum())}; {caps} per trial",
        "outcomes: " + ", ".join(f"{k} {v}" for k, v in df["outcome"].value_counts().items()),
    ]
    if "redrawn" in df and df["redrawn"].any():
        ids = ", ".join(str(i) for i in df.loc[df["redrawn"] > 0, "trial"])
        lines.append(f"drawn again (the first draw's own Cox fit failed, nothing to print): {ids}")
    for name, x in (("CPU seconds", c), ("wall seconds", t)):
        lines.append(
            f"{name}: median {x.median():.1f}, 90th percentile {x.quantile(0.9):.1f}, "
            f"max {x.max():.1f}; feasible only: median {x[ok].median():.1f}"
        )
    bad = df[~ok]
    if len(bad):
        lines.append("not feasible:")
        cols = ["trial", "n", "allocation", "groups", "binary", "scale", "unit", "ties"]
        cols += ["outcome", "seconds"] + (["cpu_seconds"] if "cpu_seconds" in df else [])
        cols += ["missed"]
        lines.append(bad[cols].to_string(index=False))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="?", default=200)
    ap.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="wall-clock cap per rebuild (default 600 in family mode, 120 in the bias study)",
    )
    ap.add_argument(
        "--max-cpu-seconds",
        type=float,
        default=120.0,
        help="CPU-time cap per rebuild in family mode (default 120; 0 for none)",
    )
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--mirocals-bias", action="store_true", help="the MIROCALS bias study")
    args = ap.parse_args(argv)
    if not args.mirocals_bias:
        clock = time.perf_counter()
        wall = 600.0 if args.max_seconds is None else args.max_seconds
        cpu = args.max_cpu_seconds or None
        load = os.getloadavg()

        def echo(row: dict) -> None:
            print(
                f"trial {row['trial']}: {row['outcome']} ({row['cpu_seconds']:.1f} s CPU, "
                f"{row['seconds']:.1f} s wall) n={row['n']} groups={row['groups']} "
                f"{row['unit']} {row['missed']}",
                file=sys.stderr,
                flush=True,
            )

        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            df = run_family(
                args.n, pool, seed=args.seed, max_seconds=wall, max_cpu_seconds=cpu, echo=echo
            )
        print(family_report(df, wall, cpu))
        end = os.getloadavg()
        print(
            f"wall clock {time.perf_counter() - clock:.0f} s with {args.jobs} process(es); "
            f"load average (1, 5, 15 min) at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
            f"at end {end[0]:.2f} {end[1]:.2f} {end[2]:.2f}; {os.cpu_count()} cores"
        )
        return 0
    if args.max_seconds is None:
        args.max_seconds = 120.0
    template = yaml.safe_load(data_path("mirocals", "reported.yaml").read_text())
    truth_model = calibrate_model(load_reported_summary(data_path("mirocals", "reported.yaml")))
    truth = truth_model.log_hr_treatment + truth_model.log_hr_interaction * VALUES
    rng = np.random.default_rng(args.seed)
    clock = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tasks, own = [], []
        for i in range(args.n):
            doc, fit = simulate_report(truth_model, rng, template)
            path = Path(tmp) / f"trial{i}.yaml"
            path.write_text(yaml.safe_dump(_plain(doc), sort_keys=False))
            tasks.append((i, str(path), args.max_seconds))
            own.append(fit["coef"][0] + fit["coef"][2] * VALUES)
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            rows = []
            for i, row in enumerate(pool.map(_rebuild, tasks)):
                rows.append(row)
                print(
                    f"round trip {i + 1}/{args.n}: feasible={row[2]} ({row[3]:.1f} s) "
                    f"{', '.join(row[4])}",
                    file=sys.stderr,
                    flush=True,
                )
    est = np.array([r[0] for r in rows])
    se = np.array([r[1] for r in rows])
    ok = np.array([r[2] for r in rows])
    own_est = np.array(own)
    print(
        f"round trips: {args.n}, feasible rebuilds: {int(ok.sum())}, "
        f"{time.perf_counter() - clock:.0f} s with {args.jobs} process(es)"
    )
    for label, keep in (("all round trips", np.ones_like(ok)), ("feasible only", ok)):
        print(f"{label} ({int(keep.sum())}):")
        print("  pNFH   true logHR  bias vs truth  bias vs trial fit  coverage of 95% CI")
        for j, v in enumerate(VALUES):
            e, s_, o = est[keep, j], se[keep, j], own_est[keep, j]
            cover = np.mean(np.abs(e - truth[j]) <= Z * s_)
            print(
                f"  {v:5.0f}   {truth[j]:+.3f}      {np.mean(e - truth[j]):+.4f}"
                f"         {np.mean(e - o):+.4f}            {cover:.3f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
