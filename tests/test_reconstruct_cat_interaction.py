"""The p for interaction over a categorical modifier with three or more categories.

The joint (k-1)-df test of the treatment x category product terms of ``treatment + C +
treatment:C`` (Wald from the product coefficients and their covariance, likelihood ratio
against ``treatment + C``) is checked against R's ``survival::coxph``
(tests/data/reference/cat_interaction, made by its cat_interaction.R: p to 1e-6 relative,
the engine and R both converge to 1e-10 or better), against lifelines (p to 1e-5 relative:
lifelines at precision 1e-10) and by simulation with known truth (its size under no
interaction). Round trips: a trial simulated with a true interaction on one category
(:func:`simulate_categorical_summary`) is printed as a forest plot prints it, rebuilt from the
printed figures alone, and refitted with lifelines (Efron ties, Wald CIs and p): every figure,
the joint p included, must print as reported.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from lifelines import CoxPHFitter
from scipy import stats

from alsstats.reconstruct import (
    CategoricalShape,
    rebuild_cohort,
    simulate_categorical_summary,
    targets_from_summary,
    verify_cohort,
)
from alsstats.reconstruct._joint import JOINT_P, joint_interaction_p
from alsstats.reconstruct._joint_check import lifelines_joint_p
from alsstats.summary import summary_from_dict

REFERENCE = Path(__file__).parent / "data" / "reference" / "cat_interaction"
Z = 1.959963984540054
BUDGET = 60.0  # seconds; the round trips below finish in a few seconds (see the report)


def _reference(name: str) -> tuple[dict, pd.DataFrame, np.ndarray]:
    ref = json.loads((REFERENCE / f"{name}.json").read_text())
    df = pd.read_csv(REFERENCE / f"{name}.csv")
    index = {c: j for j, c in enumerate(ref["categories"])}
    return ref, df, df["category"].map(index).to_numpy(float)


# ------------------------------------------------------------------------------- statistic

R_CASES = ["veteran_trt_x_celltype", "veteran_trt_x_celltype_breslow", "pbc_dpen_x_edema"]


@pytest.mark.parametrize("name", R_CASES)
def test_joint_p_matches_r(name):
    ref, df, codes = _reference(name)
    k = len(ref["categories"])
    for test, key in (("wald", "wald_p"), ("likelihood_ratio", "lr_p")):
        p = joint_interaction_p(
            df["time"].to_numpy(float)[None],
            df["death"].to_numpy(np.int8)[None],
            df["treatment"].to_numpy(float),
            codes[None],
            k,
            test,
            ties=ref["ties"],
        )
        assert p[0] == pytest.approx(ref[key], rel=1e-6), test


@pytest.mark.parametrize("name", ["veteran_trt_x_celltype", "pbc_dpen_x_edema"])
def test_lifelines_recomputation_matches_r(name):
    # the verification's own refit (lifelines, Efron ties) against R
    ref, df, _ = _reference(name)
    for test, key in (("wald", "wald_p"), ("likelihood_ratio", "lr_p")):
        p = lifelines_joint_p(df, "category", ref["categories"], test)
        assert p == pytest.approx(ref[key], rel=1e-5), test


def _lifelines_joint(df: pd.DataFrame, column: str, categories, test: str) -> float:
    """The joint p by lifelines, written out here (independent of the package)."""
    d = pd.DataFrame({"time": df["time"], "death": df["death"], "trt": df["treatment"]})
    ind, prod = [], []
    for j, c in enumerate(categories[1:], start=1):
        d[f"c{j}"] = (df[column] == c).astype(float)
        d[f"t{j}"] = d["trt"] * d[f"c{j}"]
        ind.append(f"c{j}")
        prod.append(f"t{j}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' chatter on small subsets
        opts = {"precision": 1e-10, "step_size": 0.5}  # half steps: converge where 0.95 fails
        full = CoxPHFitter().fit(d, "time", "death", fit_options=opts)
        if test == "wald":
            b = full.params_[prod].to_numpy()
            v = full.variance_matrix_.loc[prod, prod].to_numpy()
            chi2 = float(b @ np.linalg.inv(v) @ b)
        else:
            reduced = CoxPHFitter().fit(d[["time", "death", "trt", *ind]], "time", "death",
                                        fit_options=opts)  # fmt: skip
            chi2 = 2 * (full.log_likelihood_ - reduced.log_likelihood_)
    return float(stats.chi2.sf(chi2, len(categories) - 1))


@pytest.mark.parametrize("k", [3, 4])
def test_batch_matches_lifelines_one_cohort_at_a_time(k):
    # a batch of 3 cohorts (one trial, treatment permuted twice) against lifelines per cohort
    rng = np.random.default_rng(k)
    n = 240
    code = rng.integers(0, k, n)
    trt = np.r_[np.ones(n // 2), np.zeros(n // 2)]
    lp = -0.4 * trt + 0.8 * trt * (code == k - 1) + 0.3 * code
    time = np.round(rng.exponential(12 / np.exp(lp)), 1)
    death = (time < 20).astype(np.int8)
    time = np.minimum(time, 20.0)
    trts = np.stack([trt, rng.permutation(trt), rng.permutation(trt)])
    cats = [f"c{j}" for j in range(k)]
    for test in ("wald", "likelihood_ratio"):
        batch = np.array(
            [
                joint_interaction_p(time[None], death[None], t, code[None].astype(float), k, test)[
                    0
                ]
                for t in trts
            ]
        )
        # the engine fits cohorts with their own treatment column in one call too
        together = joint_interaction_p(
            np.tile(time, (3, 1)), np.tile(death, (3, 1)), trts, np.tile(code, (3, 1)), k, test
        )
        np.testing.assert_allclose(together, batch, rtol=1e-10)
        for r in range(3):
            df = pd.DataFrame(
                {"time": time, "death": death, "treatment": trts[r], "onset": np.array(cats)[code]}
            )
            assert batch[r] == pytest.approx(_lifelines_joint(df, "onset", cats, test), rel=1e-5)


def test_size_under_no_interaction_and_power_under_one():
    # known truth: 400 trials of 300 patients, 3 categories, batched. With no interaction
    # each p is uniform: the share below 0.05 must lie within 3 binomial SEs (0.011) of 0.05.
    # With a ratio of HRs of 3 in one category (20% of patients) the test rejects most often.
    rng = np.random.default_rng(2024)
    R, n, k = 400, 300, 3
    code = rng.choice(k, size=(R, n), p=[0.5, 0.3, 0.2]).astype(float)
    trt = np.r_[np.ones(n // 2), np.zeros(n // 2)]
    for effect, check in ((0.0, "size"), (math.log(3.0), "power")):
        lp = -0.3 * trt + effect * trt * (code == 2) + 0.4 * (code == 1)
        latent = rng.exponential(10.0 / np.exp(lp))
        death = (latent < 12).astype(np.int8)
        time = np.minimum(np.round(latent, 3), 12.0)
        for test in ("wald", "likelihood_ratio"):
            p = joint_interaction_p(time, death, trt, code, k, test)
            assert np.isfinite(p).all()
            share = float((p < 0.05).mean())
            if check == "size":
                assert abs(share - 0.05) < 3 * math.sqrt(0.05 * 0.95 / R), (test, share)
                # uniform p: Kolmogorov-Smirnov at a strict level (fixed seed: no flakiness)
                assert stats.kstest(p, "uniform").pvalue > 0.001, test
            else:
                assert share > 0.6, (test, share)


def test_bad_test_name_is_an_error():
    with pytest.raises(ValueError, match="score"):
        joint_interaction_p(np.ones((1, 4)), np.ones((1, 4)), np.ones(4), np.zeros((1, 4)), 3,
                            "score")  # fmt: skip


# ------------------------------------------------------------------------------- targets

THREE = {"categories": ("bulbar", "limb", "axial"), "shares": (0.3, 0.5, 0.2)}
FOUR = {"categories": ("bulbar", "limb", "axial", "resp"), "shares": (0.25, 0.4, 0.2, 0.15)}


def _summary(shape: CategoricalShape, seed: int, edit=None):
    doc, truth = simulate_categorical_summary(shape, np.random.default_rng(seed))
    doc = yaml.safe_load(yaml.safe_dump(doc))
    if edit is not None:
        edit(doc)
    return summary_from_dict(doc, f"simulated-categorical-{seed}"), doc, truth


def _truth_cohort(truth: dict) -> pd.DataFrame:
    tr = truth["trial"]
    return pd.DataFrame(
        {"arm": np.where(tr["arm"] == 1, "active", "control"), "treatment": tr["arm"].astype(int),
         "time": tr["time"], "death": tr["event"], "onset": tr["onset"]}
    )  # fmt: skip


def _shape(cats: dict, test: str, n: int = 360) -> CategoricalShape:
    # a true interaction on the last category only (ratio of HRs exp(0.9) = 2.5 to the first)
    k = len(cats["categories"])
    return CategoricalShape(n=n, **cats, interaction=0.9, interaction_on=(k - 1,), joint_test=test)


def test_joint_p_is_a_target_and_the_truth_meets_it():
    summary, doc, truth = _summary(_shape(THREE, "wald"), 4)
    (inter,) = doc["interactions"]
    assert "value" not in inter and inter["test"] == "wald"
    (t,) = [t for t in targets_from_summary(summary) if t.figure == "interaction"]
    assert (t.statistic, t.test, t.reported) == (JOINT_P, "wald", inter["p"])
    assert t.population["categories"] == 3 and t.model == "interaction"
    # the simulated truth prints its own joint p (lifelines, written out above)
    cohort = _truth_cohort(truth)
    p = _lifelines_joint(cohort, "onset", THREE["categories"], "wald")
    assert _same(p, inter["p"])
    row = verify_cohort(cohort, summary).table.set_index("figure").loc["interaction.p"]
    assert row["verdict"] == "met" and "lifelines" in row["note"]
    # a p the cohort does not give is flagged (printed 0.50 for the truth's 0.03)
    wrong, _, _ = _summary(
        _shape(THREE, "wald"), 4, lambda d: d["interactions"][0].update(p="0.50")
    )
    result = verify_cohort(cohort, wrong)
    assert result.failures == ["interaction.p"]


@pytest.mark.parametrize("test", ["unknown", "score"])
def test_an_unrecomputed_test_is_recorded_and_verify_says_why(test):
    def edit(doc):
        doc["interactions"][0]["test"] = test

    summary, _, truth = _summary(_shape(THREE, "wald"), 4, edit)
    assert not [t for t in targets_from_summary(summary) if t.figure == "interaction"]
    table = verify_cohort(_truth_cohort(truth), summary).table.set_index("figure")
    row = table.loc["interaction.p"]
    assert row["verdict"] == "not checkable"
    assert "recorded, not a target" in row["note"] and "Wald or likelihood-ratio" in row["note"]
    assert "interaction" not in table.index  # listed once, with its reason


def test_a_ratio_over_three_categories_is_not_a_target_and_verify_says_why():
    def edit(doc):
        doc["interactions"][0].update(value="1.80", ci=["1.10", "2.95"])

    summary, _, truth = _summary(_shape(THREE, "wald"), 4, edit)
    ts = [t for t in targets_from_summary(summary) if t.figure == "interaction"]
    assert [t.statistic for t in ts] == [JOINT_P]  # the p only
    table = verify_cohort(_truth_cohort(truth), summary).table.set_index("figure")
    for fig in ("interaction.hr", "interaction.ci"):
        assert table.loc[fig, "verdict"] == "not checkable"
        assert "no single ratio" in table.loc[fig, "note"]
    assert table.loc["interaction.p", "verdict"] == "met"


def test_a_likelihood_ratio_p_of_two_categories_is_a_target():
    shape = CategoricalShape(interaction_figure=True)

    def edit(doc):
        doc["interactions"][0]["test"] = "likelihood_ratio"

    summary, doc, truth = _summary(shape, 1, edit)
    (t,) = [t for t in targets_from_summary(summary) if t.id == "interaction.p"]
    assert (t.statistic, t.test) == (JOINT_P, "likelihood_ratio")
    cohort = _truth_cohort(truth)
    lr = _lifelines_joint(cohort, "onset", ("bulbar", "limb"), "likelihood_ratio")
    row = verify_cohort(cohort, summary).table.set_index("figure").loc["interaction.p"]
    assert row["cohort"] == pytest.approx(lr, rel=1e-5)
    assert row["verdict"] == ("met" if _same(lr, doc["interactions"][0]["p"]) else "not met")


# ------------------------------------------------------------------------------- round trips


def _same(value: float, printed: str) -> bool:
    """``value`` written at the precision of ``printed`` ("0.81", "0.004", "73%")."""
    if printed.endswith("%"):
        return f"{100 * value:.0f}%" == printed
    digits = len(printed.split(".")[1]) if "." in printed else 0
    return f"{value:.{digits}f}" == printed


def refit_and_compare(cohort: pd.DataFrame, doc: dict) -> list[str]:
    """Figures of ``doc`` that an independent refit of ``cohort`` does not print as reported
    (empty: every figure reproduced). Reads the document, not the package's targets."""
    modifier = doc["modifiers"][0]
    column, categories = modifier["id"], modifier["categories"]
    bad = []
    for a in doc["arms"]:
        if (cohort["arm"] == a["id"]).sum() != a["n"]["value"]:
            bad.append(f"n_{a['id']}")
    for e in doc["events"]:
        if cohort.loc[cohort["arm"] == e["arm"], "death"].sum() != e["value"]:
            bad.append(e["id"])
    for c, share in modifier["shares"].items():
        if not _same(float((cohort[column] == c).mean()), share):
            bad.append(f"share {c}")
    for s in doc["survival"]:
        sel = cohort[(cohort["arm"] == s["arm"]) & (cohort[column] == s["population"]["category"])]
        alive = int((~((sel["death"] == 1) & (sel["time"] <= s["time"]))).sum())
        if (
            len(sel) != s["n"]
            or alive != s["count"]
            or not _same(alive / len(sel), s["proportion"])
        ):
            bad.append(s["id"])
    for h in doc["hazard_ratios"]:
        df = cohort
        if h["population"]["kind"] == "subgroup":
            df = cohort[cohort[column] == h["population"]["category"]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cph = CoxPHFitter().fit(df[["time", "death", "treatment"]], "time", "death",
                                    fit_options={"precision": 1e-10})  # fmt: skip
        b, se = float(cph.params_["treatment"]), float(cph.standard_errors_["treatment"])
        ok = _same(math.exp(b), h["value"])
        if "ci" in h:
            ok &= _same(math.exp(b - Z * se), h["ci"][0]) and _same(
                math.exp(b + Z * se), h["ci"][1]
            )
        if "p" in h:
            ok &= _same(2 * stats.norm.sf(abs(b / se)), h["p"])
        if not ok:
            bad.append(h["id"])
    for i in doc.get("interactions", []):
        if not _same(_lifelines_joint(cohort, column, categories, i["test"]), i["p"]):
            bad.append(f"{i['id']}.p")
    return bad


ROUND_TRIPS = [
    pytest.param(THREE, "wald", 4, id="3-categories-wald"),
    pytest.param(THREE, "likelihood_ratio", 4, id="3-categories-lr"),
    pytest.param(FOUR, "wald", 5, id="4-categories-wald"),
]


@pytest.mark.parametrize(("cats", "test", "seed"), ROUND_TRIPS)
def test_round_trip(cats, test, seed):
    n = 360 if len(cats["categories"]) == 3 else 480
    summary, doc, truth = _summary(_shape(cats, test, n), seed)
    assert doc["interactions"][0]["test"] == test
    assert refit_and_compare(_truth_cohort(truth), doc) == []  # the truth prints its figures
    rec = rebuild_cohort(summary, seed=seed, max_seconds=BUDGET)
    assert rec.outcome_ == "feasible", rec.message()
    assert refit_and_compare(rec.cohort, doc) == []
    assert verify_cohort(rec.cohort, summary).passed
