"""A trial simulated with known truth, printed as a paper prints it (90% CIs, "<0.001").

The truth is a :class:`~alsstats.models.DataGeneratingModel` (constant baseline hazard, a
lognormal biomarker, a treatment x biomarker interaction on the linear scale). One trial is
simulated and analysed with lifelines (independently of the package's engine); its figures are
printed with two decimals, 90% Wald CIs and p values to 3 decimals or "<0.001", as a format
version 2 summary. The summary must load, pass every check, and give reconstruction targets
that hold the lifelines fits at their printed precision and level. The rebuild from those
targets is the slow test at the end.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from alsstats.checks import check_summary
from alsstats.models import DataGeneratingModel, LogNormalBiomarker, WeibullBaseline
from alsstats.reconstruct import targets_from_summary
from alsstats.summary import summary_from_dict

LEVEL = 0.90
LOW, HIGH = 750.0, 3700.0  # biomarker cut-offs of the subgroups (pg/mL)
TRUTH = DataGeneratingModel(
    WeibullBaseline(1.0, 1200.0),
    LogNormalBiomarker(2000.0, 0.74),
    log_hr_treatment=math.log(0.30),
    log_hr_biomarker=2e-4,
    log_hr_interaction=2.4e-4,
    follow_up=640.0,
)


def _fit(df: pd.DataFrame, cols: list[str]) -> dict[str, float]:
    """The first column's HR, 90% CI and Wald p (lifelines, Efron ties)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter(alpha=1 - LEVEL).fit(df[["time", "event", *cols]], "time", "event")
    row = cph.summary.iloc[0]
    return {
        "hr": float(row["exp(coef)"]),
        "lower": float(row[f"exp(coef) lower {LEVEL:.0%}"]),
        "upper": float(row[f"exp(coef) upper {LEVEL:.0%}"]),
        "p": float(row["p"]),
    }


def _p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _printed(fit: dict[str, float]) -> dict:
    return {
        "value": f"{fit['hr']:.2f}",
        "ci": [f"{fit['lower']:.2f}", f"{fit['upper']:.2f}"],
        "level": LEVEL,
        "p": _p(fit["p"]),
        "test": "wald",
    }


def simulated_trial(n_per_arm: int = 220, seed: int = 12) -> tuple[dict, dict, pd.DataFrame]:
    """(summary document, lifelines fits by figure id, the simulated data)."""
    df = TRUTH.simulate((n_per_arm, n_per_arm), np.random.default_rng(seed))
    df["ix"] = df["arm"] * df["biomarker"]
    low = df[(df.biomarker >= LOW) & (df.biomarker < HIGH)]
    high = df[df.biomarker >= HIGH]
    fits = {
        "overall": _fit(df, ["arm"]),
        "low": _fit(low, ["arm"]),
        "high": _fit(high, ["arm"]),
        "model_treatment": _fit(df, ["arm", "biomarker", "ix"]),
    }
    comparison = {"treatment": "drug", "control": "placebo"}
    share = {"low": len(low) / len(df), "high": len(high) / len(df)}
    pops = {
        "overall": {"kind": "all"},
        "low": {"kind": "biomarker_range", "biomarker": "nfh", "lower": LOW, "upper": HIGH,
                "share": f"{100 * share['low']:.0f}%"},
        "high": {"kind": "biomarker_range", "biomarker": "nfh", "lower": HIGH, "upper": None,
                 "share": f"{100 * share['high']:.0f}%"},
        "model_treatment": {"kind": "model_term", "term": "treatment", "modifier": "nfh", "at": 0},
    }  # fmt: skip
    deaths = {a: int(df.event[df.arm == k].sum()) for a, k in (("drug", 1), ("placebo", 0))}
    doc = {
        "format": "alsstats.reported-summary",
        "format_version": 2,
        "trial": {
            "name": "SIMULATED-1",
            "time_unit": "days",
            "endpoint": {"name": "death", "definition": "death from any cause by day 640"},
            "treatment_arm": "drug",
            "control_arm": "placebo",
        },
        "sources": [{"key": "sim", "citation": "simulated from a known data-generating model"}],
        "arms": [
            {"id": "drug", "role": "treatment", "n": {"value": n_per_arm, "source": "sim"}},
            {"id": "placebo", "role": "control", "n": {"value": n_per_arm, "source": "sim"}},
        ],
        "follow_up": {
            "landmark": {"value": 640, "unit": "days", "source": "sim"},
            "lost_to_follow_up": {"value": 0, "source": "sim"},
        },
        "modifiers": [{"id": "nfh", "kind": "continuous", "unit": "pg/mL", "source": "sim"}],
        "events": [
            {"id": f"deaths_{a}", "arm": a, "value": d, "source": "sim"} for a, d in deaths.items()
        ],
        "hazard_ratios": [
            {
                "id": ident,
                "comparison": comparison,
                **_printed(fit),
                "population": pops[ident],
                "model": {"method": "cox", "adjusted": ident == "model_treatment"},
                "source": "sim",
            }
            for ident, fit in fits.items()
        ],
        "assumptions": [
            {"id": "nfh_distribution", "value": {"family": "lognormal"}, "reason": "truth"},
            {"id": "nfh_scale", "value": "linear", "reason": "truth"},
            {"id": "remaining_share", "value": "below", "reason": "truth"},
            {
                "id": "adjusted_model_covariates",
                "value": ["treatment", "nfh", "treatment:nfh"],
                "reason": "truth",
            },
            {
                "id": "baseline_hazard",
                "value": {"family": "weibull", "shape": 1.0},
                "reason": "truth",
            },
            {"id": "limit_of_quantification", "value": {"value": 1}, "reason": "none in truth"},
        ],
    }
    return doc, fits, df


@pytest.fixture(scope="module")
def trial():
    return simulated_trial()


def test_simulated_trial_loads_and_passes_every_check(trial) -> None:
    doc, _, _ = trial
    s = summary_from_dict(doc, "simulated.yaml")
    assert {h.level for h in s.hazard_ratios} == {LEVEL}
    assert any(h.printed_form("p").text == "<0.001" for h in s.hazard_ratios)  # a bound printed
    report = check_summary(s)
    assert report.passed, report.to_text()
    assert {r.verdict for r in report if r.check == "ci_vs_p"} == {"pass"}


def test_targets_hold_the_fits_at_printed_precision_and_level(trial) -> None:
    doc, fits, _ = trial
    targets = {t.id: t for t in targets_from_summary(summary_from_dict(doc, "simulated.yaml"))}
    for ident, fit in fits.items():
        hr, lo, hi = (targets[f"{ident}.{k}"] for k in ("hr", "ci_lower", "ci_upper"))
        assert hr.half_width == pytest.approx(0.005, abs=1e-12)  # two decimals printed
        assert (lo.level, hi.level) == (LEVEL, LEVEL)  # a 90% CI stays a 90% CI
        assert hr.rounds_to(fit["hr"]) and lo.rounds_to(fit["lower"]), ident
        assert hi.rounds_to(fit["upper"]), ident
        p = targets[f"{ident}.p"]
        assert p.rounds_to(fit["p"]), (ident, p.reported, fit["p"])
        if fit["p"] < 0.001:
            assert (p.lower, p.upper, p.reported) == (0.0, 0.001, "<0.001")
        else:
            assert p.half_width == pytest.approx(0.0005, abs=1e-12)
    # a 95% reading of the same printed bounds would not hold the fit: the level matters
    b = math.log(fits["overall"]["hr"])
    se = (math.log(fits["overall"]["upper"]) - b) / 1.6448536
    assert not targets["overall.ci_lower"].rounds_to(math.exp(b - 1.959964 * se))


@pytest.mark.slow
def test_rebuilt_cohort_reproduces_every_figure_at_printed_digits_and_level(trial) -> None:
    # the rebuild meets its targets; an independent lifelines refit of the rebuilt cohort
    # prints every hazard ratio, 90% CI and p exactly as the summary does
    from alsstats.reconstruct import rebuild_cohort

    doc, _, _ = trial
    rec = rebuild_cohort(summary_from_dict(doc, "simulated.yaml"), seed=0, max_seconds=120)
    assert rec.feasible and rec.match_table()["agrees"].all(), rec.match_table()
    cohort = pd.DataFrame(
        {
            "time": rec.cohort["time"].to_numpy(float),
            "event": rec.cohort["death"].to_numpy(int),
            "arm": rec.cohort["treatment"].to_numpy(int),
            "biomarker": rec.cohort[rec.biomarker_column_].to_numpy(float),
        }
    )
    cohort["ix"] = cohort["arm"] * cohort["biomarker"]
    x = cohort["biomarker"]
    refits = {
        "overall": _fit(cohort, ["arm"]),
        "low": _fit(cohort[(x >= LOW) & (x < HIGH)], ["arm"]),
        "high": _fit(cohort[x >= HIGH], ["arm"]),
        "model_treatment": _fit(cohort, ["arm", "biomarker", "ix"]),
    }
    for h in doc["hazard_ratios"]:
        got = _printed(refits[h["id"]])
        assert (got["value"], got["ci"], got["p"]) == (h["value"], h["ci"], h["p"]), h["id"]
    for e in doc["events"]:
        arm = 1 if e["arm"] == "drug" else 0
        assert int(cohort.event[cohort.arm == arm].sum()) == e["value"]
