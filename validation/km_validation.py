"""Validate the Guyot reconstruction on real patient data (lifelines 0.30.3 and R's ``aml``).

Each two-arm data set is turned into what a paper shows (:func:`alsstats.km.simulate_publication`:
both corners of each Kaplan-Meier step, as a careful digitiser clicks them, survival rounded to
3 decimals, numbers at risk at regular times, total events per arm), the patient data are
rebuilt from that, and the rebuilt data are compared with the truth.

1. Round trips with clicks at the step corners: events given vs rebuilt per arm (target: equal),
   largest vertical distance from a click to the rebuilt KM, and sup_t |S_true - S_rebuilt|
   (target <= 0.02).
2. The same with click noise (time sd 0.2% of follow-up, survival sd 0.003, seed 7): events,
   distance to the clicks (the curve read within 1% of follow-up in time, the digitiser's
   precision), the same sup distance to the true KM read within 1% of follow-up, and the mean
   |S_true - S_rebuilt| over 2,000 grid times.
3. Analysis figures: log hazard ratio of arm 1 vs arm 0 (lifelines CoxPHFitter, Efron ties),
   target |diff| <= 0.03; median survival per arm, target |diff| <= 2% of follow-up; largest
   vertical distance between the true and the rebuilt KM curves, target <= 0.02; with and without
   the total events reported.

Run: ``.venv/bin/python validation/km_validation.py``
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter, datasets

from alsstats.km import GuyotReconstruction, simulate_publication
from alsstats.survival import km_estimate

TARGET_LOG_HR, TARGET_MEDIAN, TARGET_SURVIVAL = 0.03, 0.02, 0.02
NOISE_TIME, NOISE_SURVIVAL, NOISE_SEED = 0.002, 0.003, 7


def aml() -> pd.DataFrame:
    """R's ``survival::aml`` (23 patients; weeks to relapse, + censored), typed in by hand."""
    maintained = "9 13 13+ 18 23 28+ 31 34 45+ 48 161+".split()
    nonmaintained = "5 5 8 8 12 16+ 23 27 30 33 43 45".split()
    rows = [
        (float(x.rstrip("+")), int(not x.endswith("+")), int(arm == "Maintained"))
        for arm, xs in (("Maintained", maintained), ("Nonmaintained", nonmaintained))
        for x in xs
    ]
    return pd.DataFrame(rows, columns=["time", "status", "arm"])


def cases() -> list[tuple[str, pd.DataFrame, str, str, str, float]]:
    """(name, data, time, event, arm (0/1), at-risk step) for each validation data set."""
    gbsg2 = datasets.load_gbsg2().assign(arm=lambda d: (d.horTh == "yes").astype(int))
    waltons = datasets.load_waltons().assign(arm=lambda d: (d.group != "control").astype(int))
    lung = datasets.load_lung().assign(arm=lambda d: d.sex - 1)
    kidney = datasets.load_kidney_transplant().assign(arm=lambda d: d.black_male + d.white_male)
    return [
        ("aml (weeks, maintained)", aml(), "time", "status", "arm", 20),
        ("gbsg2 (days, hormonal therapy)", gbsg2, "time", "cens", "arm", 250),
        ("rossi (weeks, financial aid)", datasets.load_rossi(), "week", "arrest", "fin", 10),
        ("lung (days, sex)", lung, "time", "status", "arm", 100),
        ("kidney_transplant (days, male)", kidney, "time", "death", "arm", 365),
        ("leukemia (weeks, treatment)", datasets.load_leukemia(), "t", "status", "Rx", 5),
        ("waltons (days, miR-137)", waltons, "T", "E", "arm", 10),
    ]


def log_hr(df: pd.DataFrame, time: str, event: str, arm: str) -> float:
    data = df[[time, event, arm]].astype(float)
    return float(CoxPHFitter().fit(data, time, event).params_[arm])


def _at(t, s, grid):
    return np.concatenate([[1.0], s])[np.searchsorted(t, grid, side="right")]


def sup_distance(t1, s1, t2, s2) -> float:
    """sup_t |S1(t) - S2(t)| for two right-continuous step functions starting at 1."""
    grid = np.union1d(t1, t2)
    return float(np.abs(_at(t1, s1, grid) - _at(t2, s2, grid)).max()) if grid.size else 0.0


def sup_distance_within(t1, s1, t2, s2, dt: float) -> float:
    """sup_t of the distance from S1(t) to S2 read anywhere in [t - dt, t + dt]."""
    grid = np.union1d(t1, t2)
    if not grid.size:
        return 0.0
    v = _at(t1, s1, grid)
    hi = np.concatenate([[1.0], s2])[np.searchsorted(t2, grid - dt, side="left")]
    lo = _at(t2, s2, grid + dt)
    return float(np.maximum(0.0, np.maximum(lo - v, v - hi)).max())


def median(time, event) -> float:
    return float(KaplanMeierFitter().fit(time, event).median_survival_time_)


def round_trip_table(noise: bool) -> pd.DataFrame:
    """Per data set and arm: events given vs rebuilt and the survival errors (section 1 or 2)."""
    rows = []
    for name, df, time, event, arm, step in cases():
        follow_up = float(df[time].max())
        jitter = {}
        if noise:
            jitter = dict(
                time_sd=NOISE_TIME * follow_up, survival_sd=NOISE_SURVIVAL, seed=NOISE_SEED
            )
        arms = simulate_publication(df, time, event, arm, np.arange(0, follow_up, step), **jitter)
        dt = 0.01 * follow_up
        rec = GuyotReconstruction(time_tolerance=dt).fit(arms)
        grid = np.linspace(0, follow_up, 2000)
        for label in arms:
            true, rebuilt = df[df[arm] == label], rec.ipd_[rec.ipd_.arm == label]
            km_true = km_estimate(true[time], true[event])
            km_rebuilt = km_estimate(rebuilt.time, rebuilt.event)
            row = {
                "data set": name.split(" ")[0],
                "arm": label,
                "n": len(true),
                "events given": int(rec.events_given_[label]),
                "events rebuilt": int(rec.events_rebuilt_[label]),
                "max |S - clicks|": rec.max_abs_error_[label],
            }
            if noise:
                row["max |S - true KM| (1% time)"] = sup_distance_within(*km_true, *km_rebuilt, dt)
                row["mean |S - true KM|"] = float(
                    np.mean(np.abs(_at(*km_true, grid) - _at(*km_rebuilt, grid)))
                )
            else:
                row["max |S - true KM|"] = sup_distance(*km_true, *km_rebuilt)
            rows.append(row)
    return pd.DataFrame(rows)


def validate(df, time, event, arm, step, total_events=True) -> dict:
    """Figures for one data set: true vs rebuilt log HR, medians, KM distance."""
    follow_up = float(df[time].max())
    arms = simulate_publication(
        df, time, event, arm, np.arange(0, follow_up, step), total_events=total_events
    )
    ipd = GuyotReconstruction().fit(arms).ipd_
    out = {
        "log_hr_true": log_hr(df, time, event, arm),
        "log_hr_rebuilt": log_hr(ipd, "time", "event", "arm"),
    }
    out["log_hr_diff"] = out["log_hr_rebuilt"] - out["log_hr_true"]
    worst_median, worst_km = 0.0, 0.0
    for label in arms:
        true = df[df[arm] == label]
        rebuilt = ipd[ipd.arm == label]
        m_true, m_rebuilt = median(true[time], true[event]), median(rebuilt.time, rebuilt.event)
        out[f"median_true[{label}]"], out[f"median_rebuilt[{label}]"] = m_true, m_rebuilt
        if np.isfinite(m_true) or np.isfinite(m_rebuilt):
            gap = abs(m_true - m_rebuilt) / follow_up if np.isfinite(m_true - m_rebuilt) else np.inf
            worst_median = max(worst_median, gap)
        worst_km = max(
            worst_km,
            sup_distance(
                *km_estimate(true[time], true[event]), *km_estimate(rebuilt.time, rebuilt.event)
            ),
        )
    out["median_diff_over_follow_up"] = worst_median
    out["max_survival_error"] = worst_km
    out["pass"] = bool(
        abs(out["log_hr_diff"]) <= TARGET_LOG_HR
        and worst_median <= TARGET_MEDIAN
        and worst_km <= TARGET_SURVIVAL
    )
    return out


def main() -> None:
    print(__doc__.split("Run:")[0].strip(), end="\n\n")
    fmt = {"float_format": lambda v: f"{v:.4f}", "index": False}
    print("== 1. Round trips, clicks at the step corners ==")
    exact = round_trip_table(noise=False)
    print(exact.to_string(**fmt))
    met = int((exact["events given"] == exact["events rebuilt"]).sum())
    print(
        f"totals met: {met} of {len(exact)} arms; largest |S - true KM|: "
        f"{exact['max |S - true KM|'].max():.4f} (target <= {TARGET_SURVIVAL})\n"
    )
    print(
        f"== 2. Round trips with click noise (time sd {NOISE_TIME:.1%} of follow-up, "
        f"survival sd {NOISE_SURVIVAL}, seed {NOISE_SEED}) =="
    )
    noisy = round_trip_table(noise=True)
    print(noisy.to_string(**fmt))
    met = int((noisy["events given"] == noisy["events rebuilt"]).sum())
    print(
        f"totals met: {met} of {len(noisy)} arms; largest mean |S - true KM|: "
        f"{noisy['mean |S - true KM|'].max():.4f}\n"
    )
    print("== 3. Analysis figures ==")
    for total_events in (True, False):
        print(f"-- total number of events {'reported' if total_events else 'NOT reported'} --")
        for name, df, time, event, arm, step in cases():
            r = validate(df, time, event, arm, step, total_events)
            medians = ", ".join(
                f"arm {key[12:-1]}: {r[key]:g} vs {r[key.replace('true', 'rebuilt')]:g}"
                for key in r
                if key.startswith("median_true[")
            )
            print(
                f"{name:34s} n={len(df):4d}  log HR {r['log_hr_true']:+.4f} -> "
                f"{r['log_hr_rebuilt']:+.4f} (diff {r['log_hr_diff']:+.4f}); "
                f"max |S diff| {r['max_survival_error']:.4f}; "
                f"median diff/follow-up {r['median_diff_over_follow_up']:.4f} ({medians}); "
                f"{'PASS' if r['pass'] else 'FAIL'}"
            )
        print()


if __name__ == "__main__":
    main()
