"""The shapes of summary papers print, each rebuilt from a simulated trial with known truth.

Each test simulates one small trial of a given shape (:func:`alsstats.reconstruct.
simulate_summary`; the truth meets every printed figure by construction), rebuilds a cohort
from the printed summary alone, and refits the rebuilt cohort independently with lifelines
(Efron ties, Wald CI and p, as the figures were printed). Tolerance: every figure must print
exactly as reported at its printed precision (2 decimals for HRs, CIs and shares, 3 for p,
counts exact); the rebuild accepts a Cox figure only inside 0.999 of its rounding
half-width (ACCEPT_MARGIN), 5e-6 of an HR printed to 2 decimals, and lifelines run to
precision 1e-14 agrees with the package's engine to ~1e-11 on log HRs (at precision 1e-10
lifelines stops early on the interaction model, log HRs off by up to 1e-5; at its default,
~1e-4 relative). Every rebuilt cohort also passes ``verify_cohort``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml
from lifelines import CoxPHFitter

from alsstats.reconstruct import (
    TrialShape,
    rebuild_cohort,
    reconstructed_values,
    simulate_summary,
    verify_cohort,
)
from alsstats.summary import summary_from_dict

BUDGET = 60.0  # seconds; each of these rebuilds takes a few seconds


def _summary(shape: TrialShape, seed: int):
    doc, _ = simulate_summary(shape, np.random.default_rng(seed))
    return summary_from_dict(yaml.safe_load(yaml.safe_dump(doc)), f"simulated-{seed}"), doc


def _cox(df: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' convergence chatter on small subsets
        cph = CoxPHFitter().fit(
            df[["time", "death", *cols]], "time", "death", fit_options={"precision": 1e-14}
        )
    return cph.params_[cols].to_numpy(), cph.standard_errors_[cols].to_numpy()


def _printed(value: float, reported: float, digits: int) -> bool:
    return f"{value:.{digits}f}" == f"{reported:.{digits}f}"


def _digits(x: float, least: int = 2) -> int:
    text = repr(float(x))
    return max(least, len(text.split(".")[1].rstrip("0")) if "." in text else 0)


def refit_and_compare(rec, doc: dict) -> list[str]:
    """Figures of ``doc`` that a lifelines refit of the rebuilt cohort does not print as
    reported (empty: every figure reproduced)."""
    cohort = rec.cohort
    column = rec.biomarker_column_
    bad = []
    n = {a["id"]: a["n"]["value"] for a in doc["arms"]}
    for a, size in n.items():
        if (cohort["arm"] == a).sum() != size:
            bad.append(f"n_{a}")
    for e in doc["events"]:
        sel = cohort if e["arm"] == "all" else cohort[cohort["arm"] == e["arm"]]
        if sel["death"].sum() != e["value"]:
            bad.append(e["id"])
    for s in doc.get("survival", []):
        sel = cohort if s["arm"] == "all" else cohort[cohort["arm"] == s["arm"]]
        alive = (~((sel["death"] == 1) & (sel["time"] <= s["time"]))).mean()
        if not _printed(alive, s["proportion"], _digits(s["proportion"])):
            bad.append(s["id"])
    for h in doc["hazard_ratios"]:
        pop, model = h["population"], h.get("model", {})
        df = cohort.copy()
        if pop["kind"] == "biomarker_range":
            x = df[column]
            keep = np.ones(len(df), bool)
            if pop.get("lower") is not None:
                keep &= x >= pop["lower"]
            if pop.get("upper") is not None:
                keep &= x < pop["upper"]
            if "share" in pop and not _printed(keep.mean(), pop["share"], 2):
                bad.append(f"{h['id']}.share")
            df = df[keep]
        if pop["kind"] == "model_term":
            g = np.log(df[column]) if rec.design.log_scale else df[column]
            df = df.assign(g=g, tg=df["treatment"] * g)
            b, se = _cox(df, ["treatment", "g", "tg"])
            k = 2 if ":" in pop["term"] else 0
            b, se = b[k], se[k]
        else:
            cols = ["treatment", *model.get("covariates", [])]
            b, se = _cox(df, cols)
            b, se = b[0], se[0]
        if not _printed(math.exp(b), h["value"], 2):
            bad.append(f"{h['id']}.hr")
        if "ci" in h:
            lo, hi = math.exp(b - 1.959964 * se), math.exp(b + 1.959964 * se)
            if not (_printed(lo, h["ci"][0], 2) and _printed(hi, h["ci"][1], 2)):
                bad.append(f"{h['id']}.ci")
        if "p" in h:
            from scipy import stats

            p = 2 * stats.norm.sf(abs(b / se))
            if not _printed(p, h["p"], _digits(h["p"], 2)):
                bad.append(f"{h['id']}.p")
    for c in doc.get("covariates", []):
        if c["name"] == "age" and cohort["age"].median() != c["value"]:
            bad.append("age")
        if c["name"] == "male" and not _printed(cohort["male"].mean(), c["value"], 2):
            bad.append("male")
    return bad


def _rebuild_and_check(
    shape: TrialShape,
    seed: int,
    *,
    figures: set[str] = frozenset(),
    budget: float = BUDGET,
    cpu_budget: float | None = None,
):
    """Rebuild the simulated summary, then check it: feasible, a lifelines refit prints every
    figure, and ``verify_cohort`` passes. ``cpu_budget`` caps the rebuild's CPU time instead
    (load-independent; the wall cap is then only a safety)."""
    summary, doc = _summary(shape, seed)
    ids = {h["id"] for h in doc["hazard_ratios"]}
    assert figures <= ids, f"the simulated summary lacks {figures - ids}"
    wall = budget if cpu_budget is None else 600.0
    rec = rebuild_cohort(summary, seed=seed, max_seconds=wall, max_cpu_seconds=cpu_budget)
    assert rec.outcome_ == "feasible", rec.message()
    assert refit_and_compare(rec, doc) == []
    assert verify_cohort(rec.cohort, summary).passed
    return rec, doc


def test_one_cut_off_two_groups():
    shape = TrialShape(n=240, groups=2, reported=(0, 1), with_ci=(0,), shares=(0, 1))
    rec, _ = _rebuild_and_check(shape, 11, figures={"group_1", "group_2"})
    assert rec.biomarker_column_ == "marker"
    assert not {"pnfh", "country", "onset"} & set(rec.cohort.columns)


@pytest.mark.parametrize(
    ("reported", "missing"), [((1, 2), "lowest"), ((0, 2), "middle"), ((0, 1), "highest")]
)
def test_three_groups_one_unreported(reported, missing):
    shape = TrialShape(n=300, groups=3, reported=reported, with_ci=reported[:1], shares=reported)
    figures = {f"group_{g + 1}" for g in reported}
    _rebuild_and_check(shape, 21, figures=figures)


def test_five_groups_some_reported():
    shape = TrialShape(n=400, groups=5, reported=(0, 2, 4), with_ci=(2,), shares=(0, 2, 4))
    _rebuild_and_check(shape, 5, figures={"group_1", "group_3", "group_5"})


def test_no_modifier_only_overall_figures():
    shape = TrialShape(n=200, groups=0, reported=(), with_ci=(), shares=())
    rec, _ = _rebuild_and_check(shape, 3)
    assert rec.biomarker_column_ is None


def test_binary_modifier():
    """Both groups' CI and p printed (seed 8): the truth meets group_2's CI lower bound only
    at 0.97 of a rounding half-width (near HR 1 the cells pin the SE: 400 orders of the
    truth's group_2 cells give 0.2570-0.2575 against a window centred on 0.2563 at the
    preferred margin 0.9). Accepted at ACCEPT_MARGIN (0.999), which the lifelines refit
    confirms; the search missed it while it required 0.95."""
    shape = TrialShape(n=220, groups=2, binary=True, reported=(0, 1), with_ci=(0, 1), shares=(0,))
    _rebuild_and_check(shape, 8, figures={"group_1", "group_2"}, budget=15)


@pytest.mark.parametrize("allocation", [(2, 1), (3, 2)])
def test_unequal_allocation(allocation):
    shape = TrialShape(n=180, allocation=allocation, groups=2, reported=(0, 1), with_ci=(1,))
    rec, doc = _rebuild_and_check(shape, 13, figures={"group_1", "group_2"})
    assert (rec.cohort["treatment"] == 1).sum() == doc["arms"][0]["n"]["value"]


def test_months_with_landmarks_per_arm():
    shape = TrialShape(n=260, unit="months", groups=2, reported=(0, 1), landmarks=(0.5,))
    rec, doc = _rebuild_and_check(shape, 17)
    assert len(doc["survival"]) == 2
    assert rec.cohort["time"].max() == 24.0  # follow-up in months, not days


@pytest.mark.parametrize("unit", ["weeks", "years"])
def test_weeks_and_years_with_a_mid_follow_up_landmark(unit):
    """Any time unit: the landmark (104 weeks, 2 years), a survival landmark per arm at half of
    it, and death times at 0.01 of the unit all stay in the trial's unit."""
    shape = TrialShape(n=240, unit=unit, groups=2, reported=(0, 1), with_ci=(0,), landmarks=(0.5,))
    rec, doc = _rebuild_and_check(shape, 3)
    assert rec.cohort["time"].max() == {"weeks": 104.0, "years": 2.0}[unit]
    assert {s["time"] for s in doc["survival"]} == {{"weeks": 52.0, "years": 1.0}[unit]}


def test_ties_on_a_month_grid():
    shape = TrialShape(n=300, unit="months", ties=True, groups=2, reported=(0, 1))
    _, truth = simulate_summary(shape, np.random.default_rng(19))
    t, e = truth["trial"]["time"], truth["trial"]["event"]
    assert len(np.unique(t[e == 1])) < int(e.sum()) / 2  # the truth has many tied deaths
    _rebuild_and_check(shape, 19)


def test_interaction_term_is_read_as_a_ratio_of_hazard_ratios():
    """The truth's own data meet the term's targets (a ratio of HRs per log unit, never the
    treatment HR); its rebuild is the next test."""
    shape = TrialShape(
        n=300, groups=2, reported=(0, 1), scale="log", model_term=True, interaction_term=True
    )
    doc, truth = simulate_summary(shape, np.random.default_rng(23))
    summary = summary_from_dict(yaml.safe_load(yaml.safe_dump(doc)), "simulated-23")
    rec = rebuild_cohort(summary, seed=23, max_seconds=0.5)
    tr = truth["trial"]
    trial = pd.DataFrame(
        {"id": np.arange(300), "arm": np.where(tr["arm"] == 1, "active", "control"),
         "treatment": tr["arm"].astype(int), "time": tr["time"], "death": tr["event"],
         "marker": tr["modifier"], "age": tr["age"], "male": tr["male"]}
    )  # fmt: skip
    values = reconstructed_values(trial, rec.targets, rec.design)
    terms = [t for t in rec.targets if t.figure.startswith("model_")]
    assert {t.figure for t in terms} == {"model_treatment", "model_interaction"}
    assert all(t.rounds_to(values[t.id]) for t in terms)
    # the ratio is the product term's exp(coefficient), not the treatment HR
    ratio = next(t for t in terms if t.id == "model_interaction.hr")
    treatment = next(t for t in terms if t.id == "model_treatment.hr")
    assert not treatment.rounds_to(values[ratio.id])


@pytest.mark.slow
def test_interaction_term_is_a_ratio_of_hazard_ratios():
    """The log-scale interaction term with the treatment HR at marker = 1 (both groups with CI
    and p). Was the known search failure of issue 13 (stalled on the model's thin (log HR, SE)
    band); with the search's polish step it is feasible in about 43 s of CPU (8,906 steps).
    Capped by CPU time, so a loaded machine does not turn it into a failure."""
    shape = TrialShape(
        n=300, groups=2, reported=(0, 1), scale="log", model_term=True, interaction_term=True
    )
    figures = {"model_treatment", "model_interaction"}
    _rebuild_and_check(shape, 23, figures=figures, cpu_budget=120.0)


def test_adjusted_overall_hr_with_reported_covariates():
    shape = TrialShape(n=200, groups=0, reported=(), adjusted_overall=True)
    rec, _ = _rebuild_and_check(shape, 29, figures={"overall_adjusted"})
    assert {"age", "male"} <= set(rec.cohort.columns)


def _as_version_2(doc: dict, truth: dict) -> dict:
    """The same summary in format version 2: figures as printed strings ("0.60"), the
    modifier under ``modifiers:`` with its median (IQR) instead of an assumption."""
    import copy

    v2 = copy.deepcopy(doc)
    v2["format_version"] = 2
    for h in v2["hazard_ratios"]:
        h["value"] = f"{h['value']:.2f}"
        if "ci" in h:
            h["ci"] = [f"{c:.2f}" for c in h["ci"]]
        if "p" in h:
            h["p"] = f"{h['p']:.3f}" if h["p"] < 0.01 else f"{h['p']:.2f}"
    x = truth["trial"]["modifier"]
    q1, med, q3 = (float(f"{v:.3g}") for v in np.quantile(x, [0.25, 0.5, 0.75]))
    v2["modifiers"] = [
        {"id": "marker", "kind": "continuous", "unit": "u", "median": med, "iqr": [q1, q3],
         "source": "sim"}
    ]  # fmt: skip
    v2.pop("biomarkers")
    v2["assumptions"] = [a for a in v2["assumptions"] if a["id"] != "marker_distribution"]
    return v2


def test_format_version_2_printed_strings_and_modifier_median():
    shape = TrialShape(n=240, groups=2, reported=(0, 1), with_ci=(1,), shares=(0, 1))
    doc, truth = simulate_summary(shape, np.random.default_rng(31))
    v2 = _as_version_2(doc, truth)
    summary = summary_from_dict(yaml.safe_load(yaml.safe_dump(v2)), "simulated-v2")
    rec = rebuild_cohort(summary, seed=31, max_seconds=BUDGET)
    assert rec.outcome_ == "feasible", rec.message()
    assert refit_and_compare(rec, doc) == []  # the same figures, read from version 1
    median = rec.model.biomarker.median
    assert abs(median - v2["modifiers"][0]["median"]) < 1e-9  # the printed median is used
