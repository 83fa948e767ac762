"""Round trips with known truth for the shapes without a landmark: a simulated trial followed to
a maximum follow-up (staggered entry, patients lost to follow-up), printed at the usual
precision (HR and CI to 2 decimals, p as journals print it, medians to 0.1 month, counts
exact), rebuilt, and refitted independently with lifelines (fits written out here).

Shapes: deaths per arm with a log-rank p; medians without deaths with a p whose test is not
named; medians and deaths with a log-rank p at a 3:2 allocation. The truth meets every figure,
so a miss would be the rebuild's fault.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test

from alsstats.reconstruct import rebuild_cohort, simulate_follow_up_summary
from alsstats.summary import load_reported_summary

SHAPES = {
    "deaths_log_rank": {"deaths": True, "medians": False, "test": "log_rank"},
    "medians_unknown_test": {"deaths": False, "medians": True, "test": "unknown"},
    "medians_deaths_3_2": {"n": (120, 80), "deaths": True, "medians": True, "test": "log_rank"},
}
FIT = {"precision": 1e-10}


def _fmt(x: float, printed: str) -> str:
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return f"{x:.{decimals}f}"


def _refit_agrees(cohort: pd.DataFrame, doc: dict) -> list[str]:
    """Figures of ``doc`` that an independent lifelines refit of ``cohort`` does not print."""
    bad = []
    for arm in doc["arms"]:
        if int((cohort["arm"] == arm["id"]).sum()) != arm["n"]["value"]:
            bad.append(f"n {arm['id']}")
    for e in doc.get("events", []):
        if int(cohort.loc[cohort["arm"] == e["arm"], "death"].sum()) != e["value"]:
            bad.append(e["id"])
    df = pd.DataFrame(
        {
            "time": cohort["time"],
            "death": cohort["death"],
            "treatment": (cohort["arm"] == "active").astype(int),
        }
    )
    row = CoxPHFitter().fit(df, "time", "death", fit_options=FIT).summary.loc["treatment"]
    hr = doc["hazard_ratios"][0]
    for value, printed in (
        (row["exp(coef)"], hr["value"]),
        (row["exp(coef) lower 95%"], hr["ci"][0]),
        (row["exp(coef) upper 95%"], hr["ci"][1]),
    ):
        if _fmt(value, printed) != printed:
            bad.append(f"hr {printed}")
    a, c = df[df["treatment"] == 1], df[df["treatment"] == 0]
    p_lr = logrank_test(a["time"], c["time"], a["death"], c["death"]).p_value
    p_wald = float(row["p"])
    allowed = {"log_rank": [p_lr], "wald": [p_wald], "unknown": [p_lr, p_wald]}[hr["test"]]
    if hr["p"] not in [_fmt(p, hr["p"]) for p in allowed]:
        bad.append(f"p {hr['p']}")
    for m in doc.get("medians", []):
        sel = cohort[cohort["arm"] == m["arm"]]
        median = KaplanMeierFitter().fit(sel["time"], sel["death"]).median_survival_time_
        if not math.isfinite(median) or _fmt(median, m["value"]) != m["value"]:
            bad.append(m["id"])
    return bad


@pytest.mark.parametrize("seed", [1, 4])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_rebuild_without_landmark_round_trip(shape, seed, tmp_path):
    doc, truth = simulate_follow_up_summary(np.random.default_rng(seed), **SHAPES[shape])
    assert "landmark" not in doc["follow_up"]
    assert _refit_agrees(truth, doc) == []  # the truth meets its own printed figures
    path = tmp_path / "reported.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    rec = rebuild_cohort(load_reported_summary(path), seed=0, max_seconds=60)
    assert rec.outcome_ == "feasible", rec.message()
    assert _refit_agrees(rec.cohort, doc) == []
    # followed no longer than the printed maximum; survivors censored over the second half
    maximum = float(doc["follow_up"]["maximum_follow_up"]["value"])
    alive = rec.cohort[rec.cohort["death"] == 0]
    assert rec.cohort["time"].max() <= maximum + 1e-9
    lost = doc["follow_up"]["lost_to_follow_up"]["value"]
    assert int((alive["time"] < 0.5 * maximum - 1e-9).sum()) <= lost
    if not SHAPES[shape]["deaths"]:
        # deaths per arm were free: the rebuild chose them
        assert rec.cohort["death"].sum() > 0
