"""The shipped MIROCALS cohort reproduces every reported figure at its reported precision.

The hazard ratios are refitted here independently of the search code: with lifelines
(CoxPHFitter, Efron ties) and with the package's engine, columns built by hand.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import assert_regenerates_shipped
from lifelines import CoxPHFitter
from scipy import stats

from alsstats import data_path
from alsstats.reconstruct import rebuild_cohort
from alsstats.survival import fit_cox_batch

Z = stats.norm.ppf(0.975)


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return pd.read_csv(data_path("mirocals", "cohort.csv"))


def lifelines_fit(df: pd.DataFrame, cols: list[str]) -> tuple[float, float]:
    """(b, se) of the first column, lifelines with tight convergence (Efron ties)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' own convergence chatter
        cph = CoxPHFitter().fit(
            df[["time", "death", *cols]],
            "time",
            "death",
            fit_options={"step_size": 1.0, "precision": 1e-12},
        )
    return float(cph.params_.iloc[0]), float(cph.standard_errors_.iloc[0])


def figures(b: float, se: float) -> tuple[str, str, str, str]:
    return (
        f"{np.exp(b):.2f}",
        f"{np.exp(b - Z * se):.2f}",
        f"{np.exp(b + Z * se):.2f}",
        f"{2 * stats.norm.sf(abs(b / se)):.3f}",
    )


def test_counts_and_covariates(cohort):
    assert len(cohort) == 220
    assert cohort.groupby("arm").size().to_dict() == {"il2ld": 110, "placebo": 110}
    assert cohort.groupby("arm")["death"].sum().to_dict() == {"il2ld": 41, "placebo": 49}
    survivors = cohort[cohort["death"] == 0]
    assert (survivors["time"] == 640).all()  # no one lost to follow-up
    assert (cohort.loc[cohort["death"] == 1, "time"] < 640).all()
    assert f"{(cohort['death'] == 0).mean():.2f}" == "0.59"
    assert cohort["age"].median() == 60
    assert f"{cohort['male'].mean():.2f}" == "0.62"
    x = cohort["pnfh"]
    assert f"{((x >= 750) & (x <= 3700)).mean():.2f}" == "0.70"
    assert f"{(x > 3700).mean():.2f}" == "0.21"
    assert cohort.loc[cohort["death"] == 1, "time"].is_unique  # no tied death days


def test_overall_hr(cohort):
    df = cohort.assign(trt=cohort["treatment"])
    b, _ = lifelines_fit(df, ["trt"])
    assert f"{np.exp(b):.2f}" == "0.81"


def test_low_subgroup(cohort):
    df = cohort[(cohort["pnfh"] >= 750) & (cohort["pnfh"] <= 3700)]
    b, se = lifelines_fit(df.assign(trt=df["treatment"]), ["trt"])
    assert figures(b, se) == ("0.52", "0.30", "0.89", "0.016")


def test_high_subgroup(cohort):
    df = cohort[cohort["pnfh"] > 3700]
    b, _ = lifelines_fit(df.assign(trt=df["treatment"]), ["trt"])
    assert f"{np.exp(b):.2f}" == "1.37"


def test_interaction_model_hr_at_zero(cohort):
    # pNFH linear, in thousands of pg/mL for lifelines' conditioning (b_trt is unchanged)
    df = cohort.assign(trt=cohort["treatment"], x=cohort["pnfh"] / 1000)
    df["trt_x"] = df["trt"] * df["x"]
    b, se = lifelines_fit(df, ["trt", "x", "trt_x"])
    assert figures(b, se) == ("0.32", "0.14", "0.73", "0.007")
    # the engine in pg/mL gives the same treatment coefficient (to 1e-6)
    X = np.column_stack([df["trt"], cohort["pnfh"], df["trt"] * cohort["pnfh"]])
    res = fit_cox_batch(cohort["time"].to_numpy(float), cohort["death"].to_numpy(), X[None])
    assert res.coef[0, 0] == pytest.approx(b, abs=1e-6)


def test_provenance_matches_the_shipped_cohort():
    prov = json.loads(data_path("mirocals", "cohort.provenance.json").read_text())
    assert prov["seed"] == 2025 and prov["feasible"] and prov["engine"]["ties"] == "efron"
    assert all(row["agrees"] for row in prov["match_table"])
    assert len(prov["match_table"]) == 22
    assert prov["engine"]["wider_margins"] == {}  # every MIROCALS figure has room at 0.9
    # the acceptance rule the cohort was judged by (a figure inside 0.999 of its half-width)
    assert prov["engine"]["margin"] == 0.9 and prov["engine"]["accept_margin"] == 0.999


def test_rebuild_regenerates_the_shipped_csv_byte_for_byte():
    prov = json.loads(data_path("mirocals", "cohort.provenance.json").read_text())
    rec = rebuild_cohort(data_path("mirocals", "reported.yaml"), seed=prov["seed"])
    assert rec.summary_sha256 == prov["summary_sha256"]
    shipped = data_path("mirocals", "cohort.csv").read_bytes()
    assert_regenerates_shipped(rec.to_csv().encode(), shipped, "MIROCALS cohort (seed 2025)")
