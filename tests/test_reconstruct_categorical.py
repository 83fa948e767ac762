"""Figures by a categorical modifier (site of onset) as rebuild targets, from simulated trials.

Each rebuild test simulates a trial with a categorical modifier and known truth
(:func:`alsstats.reconstruct.simulate_categorical_summary`: the truth meets every printed
figure by construction), rebuilds a cohort from the printed summary alone and refits it
independently: lifelines Cox fits (Efron ties, Wald CI and p) per category and for the
treatment x category interaction model (reference = first category), pandas counts per arm and
category. Tolerance: every figure must print exactly as reported (HRs, CIs and p as printed,
2 decimals or 3 below 0.01; shares to their printed digits; proportions to whole percent;
counts exact); lifelines runs to precision 1e-14, where it agrees with the package's engine to
~1e-11 on log HRs, far inside the 0.1% of a rounding half-width the rebuild keeps as room for
another engine (at 1e-10 lifelines can stop 1e-5 short on an interaction model).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml
from lifelines import CoxPHFitter
from scipy import stats

from alsstats.errors import ReconstructionError, SummaryError
from alsstats.reconstruct import (
    CategoricalShape,
    rebuild_cohort,
    reconstructed_values,
    simulate_categorical_summary,
    targets_from_summary,
    verify_cohort,
)
from alsstats.reconstruct._modifier import CategoryCodes
from alsstats.reconstruct._start import _fix_cells
from alsstats.summary import summary_from_dict

BUDGET = 60.0  # seconds; these rebuilds take 1-10 s (see the report's sweep)
Z = 1.959963984540054


def _summary(shape: CategoricalShape, seed: int):
    doc, truth = simulate_categorical_summary(shape, np.random.default_rng(seed))
    doc = yaml.safe_load(yaml.safe_dump(doc))
    return summary_from_dict(doc, f"simulated-categorical-{seed}"), doc, truth


def _cox(df: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' convergence chatter on small subsets
        cph = CoxPHFitter().fit(
            df[["time", "death", *cols]], "time", "death", fit_options={"precision": 1e-14}
        )
    return cph.params_[cols].to_numpy(), cph.standard_errors_[cols].to_numpy()


def _same(value: float, printed: str) -> bool:
    """``value`` written at the precision of ``printed`` ("0.81", "0.004", "73%")."""
    if printed.endswith("%"):
        return f"{100 * value:.0f}%" == printed
    digits = len(printed.split(".")[1]) if "." in printed else 0
    return f"{value:.{digits}f}" == printed


def _ratio_misses(b: float, se: float, fig: dict) -> list[str]:
    bad = []
    if not _same(math.exp(b), fig["value"]):
        bad.append(f"{fig['id']}.hr")
    if "ci" in fig and not (
        _same(math.exp(b - Z * se), fig["ci"][0]) and _same(math.exp(b + Z * se), fig["ci"][1])
    ):
        bad.append(f"{fig['id']}.ci")
    if "p" in fig and not _same(2 * stats.norm.sf(abs(b / se)), fig["p"]):
        bad.append(f"{fig['id']}.p")
    return bad


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
        sel = cohort["arm"] == e["arm"]
        if "population" in e:
            sel &= cohort[column] == e["population"]["category"]
        if cohort.loc[sel, "death"].sum() != e["value"]:
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
        b, se = _cox(df, ["treatment"])
        bad += _ratio_misses(b[0], se[0], h)
    for i in doc.get("interactions", []):
        x = (cohort[column] == categories[1]).astype(float)
        df = cohort.assign(x=x, tx=cohort["treatment"] * x)
        b, se = _cox(df, ["treatment", "x", "tx"])
        bad += _ratio_misses(b[2], se[2], i)
    return bad


def _truth_cohort(truth: dict) -> pd.DataFrame:
    tr = truth["trial"]
    return pd.DataFrame(
        {"arm": np.where(tr["arm"] == 1, "active", "control"), "treatment": tr["arm"].astype(int),
         "time": tr["time"], "death": tr["event"], "onset": tr["onset"]}
    )  # fmt: skip


# ------------------------------------------------------------------------------- targets


def test_figures_by_category_are_targets_and_the_truth_meets_them():
    summary, doc, truth = _summary(CategoricalShape(), 1)
    targets = targets_from_summary(summary)
    by_id = {t.id: t for t in targets}
    for c in ("bulbar", "limb"):
        for stat in ("hr", "ci_lower", "ci_upper", "p"):
            assert by_id[f"hr_{c}.{stat}"].population["category"] == c
        assert by_id[f"onset.shares.{c}"].statistic == "subgroup_share"
        for arm in ("active", "control"):
            assert by_id[f"alive_{arm}_{c}_12.n"].statistic == "subgroup_size"
            assert by_id[f"alive_{arm}_{c}_12"].statistic == "alive_count"
            assert by_id[f"alive_{arm}_{c}_end.proportion"].arm == arm
    assert by_id["interaction.hr"].population["term"] == "treatment:onset"
    # the truth's own cohort meets every target by the package's statistics, and by the
    # independent refit above (which reads the document, not the targets)
    cohort = _truth_cohort(truth)
    assert refit_and_compare(cohort, doc) == []
    rec = rebuild_cohort(summary, seed=1, max_seconds=0.5)  # for its design only
    values = reconstructed_values(cohort, rec.targets, rec.design)
    assert [t.id for t in rec.targets if not t.rounds_to(values[t.id])] == []


def test_a_count_in_a_category_is_not_an_arm_count():
    # 6 of 17 bulbar patients alive must not be read as 6 alive in the whole arm (which the
    # count proof would call infeasible next to the arm's deaths)
    summary, _, _ = _summary(CategoricalShape(), 1)
    rec = rebuild_cohort(summary, seed=1, max_seconds=0.5)
    assert rec.outcome_ != "infeasible", rec.message()


def test_category_codes_distribution_by_hand():
    codes = CategoryCodes(("bulbar", "limb", "axial"), (0.2, 0.5, 0.3))
    assert codes.share_between(None, 0.5) == pytest.approx(0.2)
    assert codes.share_between(0.5, 1.5) == pytest.approx(0.5)
    assert codes.share_between(1.5, None) == pytest.approx(0.3)
    assert codes.quantile(np.array([0.1, 0.3, 0.69, 0.71, 0.99])).tolist() == [0, 1, 1, 2, 2]
    assert codes.median == 1.0
    assert np.isnan(codes.codes(["limb", "other"])).tolist() == [False, True]


def test_fixed_cells_keep_the_arm_totals():
    # arm 0: cells (10, 20, 30) with the middle fixed at 26: the other two share 34 as 10:30
    cells = np.array([[10, 20, 30], [5, 5, 5]])
    out = _fix_cells(cells, {(0, 1): 26}, (60, 15), None, "patients")
    assert out.tolist() == [[9, 26, 25], [5, 5, 5]]  # 34 * (1/4, 3/4) = 8.5, 25.5
    with pytest.raises(ReconstructionError, match="do not add up"):
        _fix_cells(cells, {(0, 0): 30, (0, 1): 20, (0, 2): 20}, (60, 15), None, "patients")


# ------------------------------------------------------------------------------- rebuilds


@pytest.mark.parametrize("seed", [1, 2])
def test_two_categories_with_interaction(seed):
    summary, doc, _ = _summary(CategoricalShape(), seed)
    rec = rebuild_cohort(summary, seed=seed, max_seconds=BUDGET)
    assert rec.outcome_ == "feasible", rec.message()
    assert set(rec.cohort["onset"]) == {"bulbar", "limb"}
    assert rec.biomarker_column_ == "onset"
    assert refit_and_compare(rec.cohort, doc) == []


def test_three_categories():
    shape = CategoricalShape(n=360, categories=("bulbar", "limb", "axial"), shares=(0.3, 0.5, 0.2))
    summary, doc, _ = _summary(shape, 2)
    assert "interactions" not in doc  # a ratio of HRs per category: not printed for three
    rec = rebuild_cohort(summary, seed=2, max_seconds=BUDGET)
    assert rec.outcome_ == "feasible", rec.message()
    assert refit_and_compare(rec.cohort, doc) == []


def test_events_by_category_fix_the_cells():
    shape = CategoricalShape(end_counts=False, category_events=True)
    summary, doc, _ = _summary(shape, 5)
    assert {e.id for e in summary.events_in("control")} == {"deaths_control"}  # the arm's only
    rec = rebuild_cohort(summary, seed=5, max_seconds=BUDGET)
    assert rec.outcome_ == "feasible", rec.message()
    assert refit_and_compare(rec.cohort, doc) == []
    assert "deaths_control_bulbar" in set(verify_cohort(rec.cohort, summary).table["figure"])


def test_event_population_is_format_version_2_and_names_a_category():
    _, doc, _ = _summary(CategoricalShape(category_events=True), 1)
    bad = yaml.safe_load(yaml.safe_dump(doc))
    bad["events"][-1]["population"]["category"] = "axial"
    with pytest.raises(SummaryError, match="'axial' is not a category of 'onset'"):
        summary_from_dict(bad, "bad")


def test_rebuild_is_byte_identical_and_verify_flags_a_moved_death():
    summary, doc, _ = _summary(CategoricalShape(), 4)
    rec = rebuild_cohort(summary, seed=4, max_seconds=BUDGET)
    again = rebuild_cohort(summary, seed=4, max_seconds=BUDGET)
    assert rec.outcome_ == "feasible", rec.message()
    assert rec.to_csv() == again.to_csv()
    assert verify_cohort(rec.cohort, summary).passed
    # one death moved from a bulbar to a limb patient of the same arm (same day)
    moved = rec.cohort.copy()
    arm = moved["arm"] == "control"
    i = moved.index[arm & (moved["onset"] == "bulbar") & (moved["death"] == 1)][0]
    j = moved.index[arm & (moved["onset"] == "limb") & (moved["death"] == 0)][0]
    moved.loc[j, ["time", "death"]] = [moved.loc[i, "time"], 1]
    moved.loc[i, ["time", "death"]] = [24.0, 0]
    result = verify_cohort(moved, summary)
    assert not result.passed
    assert {"alive_control_bulbar_end", "alive_control_limb_end"} <= set(result.failures)
    assert refit_and_compare(moved, doc) != []
