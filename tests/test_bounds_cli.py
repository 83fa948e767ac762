"""``alsstats bounds``: the done-when checks of issue 15 with short budgets.

* MIROCALS: the crossing range has positive width and contains the shipped cohort's crossing
  (refitted here with lifelines), and both extreme cohorts reproduce every published figure in
  an independent lifelines refit;
* a round trip with known truth: a simulated trial's printed figures give bounds that contain
  the trial's own crossing;
* refusals and bad input: one clear message, exit code 2, no traceback, nothing written.
"""

from __future__ import annotations

import importlib.util
import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from lifelines import CoxPHFitter

from alsstats import data_path
from alsstats.cli import main
from alsstats.reconstruct import bounds, calibrate_model
from alsstats.summary import load_reported_summary

SUMMARY = data_path("mirocals", "reported.yaml")
ROOT = SUMMARY.parents[2]

# MIROCALS's figures as printed (data/mirocals/reported.yaml and its sources): the text a
# refit must reproduce when written at the same precision.
PRINTED = {
    "n_il2ld": "110",
    "n_placebo": "110",
    "deaths_il2ld": "41",
    "deaths_placebo": "49",
    "alive_il2ld": "69",
    "alive_placebo": "61",
    "alive_share": "0.59",
    "overall_hr": "0.81",
    "model_hr": "0.32",
    "model_lower": "0.14",
    "model_upper": "0.73",
    "model_p": "0.007",
    "low_hr": "0.52",
    "low_lower": "0.30",
    "low_upper": "0.89",
    "low_p": "0.016",
    "high_hr": "1.37",
    "low_share": "0.70",
    "high_share": "0.21",
    "age_median": "60",
    "male_share": "0.62",
}


# lifelines to tight convergence (its default stops ~1e-4 relative from the optimum)
FIT = {"precision": 1e-10}


def _cox(df: pd.DataFrame, cols: list[str]) -> pd.Series:
    cph = CoxPHFitter().fit(df[["time", "death", *cols]], "time", "death", fit_options=FIT)
    return cph.summary.loc["treatment"]


def _refit(df: pd.DataFrame) -> dict[str, str]:
    """Every MIROCALS figure from a cohort, by lifelines and counting, written as printed."""
    trt = df["treatment"] == 1
    x = df["pnfh"]
    m = df[x.notna()].assign(inter=lambda d: d["treatment"] * d["pnfh"])
    model = _cox(m, ["treatment", "pnfh", "inter"])
    low = _cox(df[(x >= 750) & (x < 3700)], ["treatment"])
    alive = (df["death"] == 0) & (df["time"] >= 640)

    def f2(v):
        return f"{v:.2f}"

    return {
        "n_il2ld": str(trt.sum()),
        "n_placebo": str((~trt).sum()),
        "deaths_il2ld": str(df.loc[trt, "death"].sum()),
        "deaths_placebo": str(df.loc[~trt, "death"].sum()),
        "alive_il2ld": str(alive[trt].sum()),
        "alive_placebo": str(alive[~trt].sum()),
        "alive_share": f2(alive.mean()),
        "overall_hr": f2(_cox(df, ["treatment"])["exp(coef)"]),
        "model_hr": f2(model["exp(coef)"]),
        "model_lower": f2(model["exp(coef) lower 95%"]),
        "model_upper": f2(model["exp(coef) upper 95%"]),
        "model_p": f"{model['p']:.3f}",
        "low_hr": f2(low["exp(coef)"]),
        "low_lower": f2(low["exp(coef) lower 95%"]),
        "low_upper": f2(low["exp(coef) upper 95%"]),
        "low_p": f"{low['p']:.3f}",
        "high_hr": f2(_cox(df[x >= 3700], ["treatment"])["exp(coef)"]),
        "low_share": f2(((x >= 750) & (x < 3700)).mean()),
        "high_share": f2((x >= 3700).mean()),
        "age_median": f"{df['age'].median():.0f}",
        "male_share": f2(df["male"].mean()),
    }


def _crossing(df: pd.DataFrame) -> float:
    m = df[df["pnfh"].notna()].assign(inter=lambda d: d["treatment"] * d["pnfh"])
    cols = ["time", "death", "treatment", "pnfh", "inter"]
    cph = CoxPHFitter().fit(m[cols], "time", "death", fit_options=FIT)
    return -cph.params_["treatment"] / cph.params_["inter"]


def test_refit_helper_reads_the_shipped_cohort():
    """The independent refit itself: the shipped cohort reproduces every printed figure."""
    assert _refit(pd.read_csv(data_path("mirocals", "cohort.csv"))) == PRINTED


@pytest.mark.slow
def test_mirocals_crossing_bounds(tmp_path, capsys):
    shipped = _crossing(pd.read_csv(data_path("mirocals", "cohort.csv")))
    out = tmp_path / "ends"
    out.mkdir()
    args = ["bounds", str(SUMMARY), "--out-dir", str(out), "--json"]
    assert main([*args, "--starts", "1", "--steps", "150"]) == 0
    doc = json.loads(capsys.readouterr().out)
    lower, upper = doc["crossing"]["lower"], doc["crossing"]["upper"]
    assert doc["crossing"]["unit"] == "pg/mL"
    # the shipped cohort (seed 2025) is not a start (seed 0 is): its crossing, about 4,155
    # pg/mL, must be reached from another compatible cohort
    assert lower < shipped < upper
    for end, value in (("lower", lower), ("upper", upper)):
        df = pd.read_csv(out / f"crossing_{end}.csv")
        assert _refit(df) == PRINTED, end  # every figure, independent lifelines refit
        # tolerance: lifelines and the batched engine converge to 1e-9 relative
        assert _crossing(df) == pytest.approx(value, rel=1e-6)
        prov = json.loads((out / f"crossing_{end}.provenance.json").read_text())
        assert prov["bounds"]["quantity"] == "crossing" and prov["bounds"]["end"] == end
        assert all(row["agrees"] for row in prov["match_table"])


def test_existing_files_are_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "crossing_upper.csv").write_text("mine")
    code = main(["bounds", str(SUMMARY), "--out-dir", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "crossing_upper.csv" in err and "--force" in err and "Traceback" not in err
    assert (tmp_path / "crossing_upper.csv").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crossing_upper.csv"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope.yaml"], "nope.yaml: no such file"),
        ([str(SUMMARY), "--quantity", "hr-at"], "needs modifier values"),
        ([str(SUMMARY), "--quantity", "median"], "unknown"),
        ([str(SUMMARY), "--starts", "0"], "positive whole number"),
        ([str(SUMMARY), "--out-dir", "no/such/folder"], "does not exist"),
    ],
)
def test_bad_input_is_one_clear_error(args, message, capsys):
    assert main(["bounds", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def _round_trip_module():
    spec = importlib.util.spec_from_file_location(
        "round_trip", ROOT / "validation" / "round_trip.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_round_trip_bounds_contain_the_true_crossing(tmp_path):
    """A trial of 110 + 110 simulated from the MIROCALS calibration (known truth), reported as
    a paper would (validation/round_trip.py: deaths, survivors, overall and subgroup HRs, the
    interaction model's HR at 0 with CI and p, shares), then bounded from that report alone.

    Why the truth must lie inside: the trial's own patients reproduce every printed figure
    (the figures were computed from them), so the trial is one of the compatible cohorts and
    its crossing lies in the range of the crossing over all compatible cohorts. The search
    starts from a rebuild, not from the trial, so the test checks that it reaches past the
    truth on both sides.
    """
    if not (ROOT / "validation" / "round_trip.py").is_file():
        pytest.skip("validation/round_trip.py is not shipped with an installed package")
    rt = _round_trip_module()
    template = yaml.safe_load(SUMMARY.read_text())
    model = calibrate_model(load_reported_summary(SUMMARY))
    doc, own = rt.simulate_report(model, np.random.default_rng(7), template)
    path = tmp_path / "reported.yaml"
    path.write_text(yaml.safe_dump(rt._plain(doc), sort_keys=False))
    truth = -own["coef"][0] / own["coef"][2]  # the trial's own crossing, pg/mL
    # Two starts: from one start (seed 0) the downward search stalls at 3,597 pg/mL even with
    # 300 steps; the second start reaches 2,904 (measured on the search of this commit).
    res = bounds(path, "crossing", starts=2, steps=150, seed=0)
    qb = res["crossing"]
    assert qb.lower < truth < qb.upper, (qb.lower, truth, qb.upper)
    # The population's crossing (-b_trt / b_int of the model) is not a cohort: nothing
    # guarantees it is inside (the trial's sampling error could push it out); for this trial
    # it is (regression pin, 3,789 pg/mL).
    population = -model.log_hr_treatment / model.log_hr_interaction
    assert math.isclose(population, 3788.6, rel_tol=1e-3)
    assert qb.lower < population < qb.upper
