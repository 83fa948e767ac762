"""Validate the Guyot reconstruction on real patient data shipped with lifelines 0.30.3.

For each two-arm data set, the true data are turned into what a paper shows
(:func:`alsstats.km.simulate_publication`: both corners of each Kaplan-Meier step, survival
rounded to 3 decimals, numbers at risk at regular times, with or without the total number of
events), the patient data are rebuilt from that, and the rebuilt data are compared with the
truth:

- log hazard ratio of arm 1 vs arm 0 (lifelines CoxPHFitter, Efron ties), target |diff| <= 0.03;
- median survival per arm (lifelines KaplanMeierFitter), target |diff| <= 2% of follow-up;
- largest vertical distance between the true and the rebuilt Kaplan-Meier curves, target <= 0.02.

Run: ``.venv/bin/python validation/km_validation.py``
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter, datasets

from alsstats.km import GuyotReconstruction, simulate_publication
from alsstats.survival import km_estimate

TARGET_LOG_HR, TARGET_MEDIAN, TARGET_SURVIVAL = 0.03, 0.02, 0.02


def cases() -> list[tuple[str, pd.DataFrame, str, str, str, float]]:
    """(name, data, time, event, arm (0/1), at-risk step) for each validation data set."""
    gbsg2 = datasets.load_gbsg2().assign(arm=lambda d: (d.horTh == "yes").astype(int))
    waltons = datasets.load_waltons().assign(arm=lambda d: (d.group != "control").astype(int))
    lung = datasets.load_lung().assign(arm=lambda d: d.sex - 1)
    kidney = datasets.load_kidney_transplant().assign(arm=lambda d: d.black_male + d.white_male)
    return [
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


def sup_distance(t1, s1, t2, s2) -> float:
    """sup_t |S1(t) - S2(t)| for two right-continuous step functions starting at 1."""
    grid = np.union1d(t1, t2)

    def at(t, s):
        return np.concatenate([[1.0], s])[np.searchsorted(t, grid, side="right")]

    return float(np.abs(at(t1, s1) - at(t2, s2)).max()) if grid.size else 0.0


def median(time, event) -> float:
    return float(KaplanMeierFitter().fit(time, event).median_survival_time_)


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
    for total_events in (True, False):
        print(f"== total number of events {'reported' if total_events else 'NOT reported'} ==")
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
