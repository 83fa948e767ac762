"""Consistency checks: each check passes on agreeing figures and fails on disagreeing ones.

Expected numbers are worked by hand (shown in the comments) or come from a simulation with known
truth. Tolerances are stated at each assertion.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from alsstats import data_path
from alsstats.checks import (
    CheckReport,
    check_summary,
    hr_from_deaths_landmark,
    hr_from_deaths_logrank,
    rounding_interval,
)
from alsstats.summary import load_reported_summary, summary_from_dict

GENERIC = yaml.safe_load(
    (Path(__file__).parent / "data" / "summaries" / "generic_two_arm.yaml").read_text()
)


def _generic(change: Callable[[dict], object] | None = None) -> CheckReport:
    doc = copy.deepcopy(GENERIC)
    if change is not None:
        change(doc)
    return check_summary(summary_from_dict(doc, "generic.yaml"))


def _hr(doc: dict, hr_id: str) -> dict:
    return next(h for h in doc["hazard_ratios"] if h["id"] == hr_id)


def _rows(report: CheckReport, check: str, *inputs: str) -> pd.DataFrame:
    table = report.summary
    rows = table[table.check == check]
    for ident in inputs:
        rows = rows[rows.inputs.str.split(", ").apply(lambda ids, i=ident: i in ids)]
    assert len(rows) > 0, f"no {check} row with {inputs}"
    return rows


def _verdict(report: CheckReport, check: str, *inputs: str) -> str:
    verdicts = set(_rows(report, check, *inputs).verdict)
    assert len(verdicts) == 1, verdicts
    return verdicts.pop()


@pytest.fixture(scope="module")
def mirocals() -> CheckReport:
    return check_summary(load_reported_summary(data_path("mirocals", "reported.yaml")))


# ----------------------------------------------------------------------------- arithmetic
@pytest.mark.parametrize(
    ("x", "expected"),
    [(0.3, (0.295, 0.305)), (0.007, (0.0065, 0.0075)), (0.016, (0.0155, 0.0165)),
     (1, (0.995, 1.005)), (0.59, (0.585, 0.595))],
)  # fmt: skip
def test_rounding_interval(x: float, expected: tuple[float, float]) -> None:
    assert rounding_interval(x) == pytest.approx(expected, abs=1e-12)
    assert rounding_interval(41, exact=True) == (41.0, 41.0)


def test_logrank_approximation_by_hand() -> None:
    # p = 1/2: Peto exp(-4/22.5) = 0.8371, O/E ratio (41/45)/(49/45) = 0.8367;
    # p = 69/130: E = 47.769, V = 22.414, exp(-6.769/22.414) = 0.7393; O/E ratio 0.7397.
    lo, hi = hr_from_deaths_logrank(41, 49, 110, 110)
    assert lo == pytest.approx(0.7393, abs=5e-4)
    assert hi == pytest.approx(0.8371, abs=5e-4)


def test_landmark_approximation_by_hand() -> None:
    # log(69/110) / log(61/110) = -0.466363 / -0.589606 = 0.79097;
    # var landmark 0.024837 + 0.021006, var Cox 1/41 + 1/49 = 0.044798, SE sqrt(0.001045).
    hr, se = hr_from_deaths_landmark(69 / 110, 61 / 110, 110, 110)
    assert hr == pytest.approx(0.79097, abs=5e-5)
    assert se == pytest.approx(0.03233, abs=5e-4)


def _cox_binary(time: np.ndarray, event: np.ndarray, x: np.ndarray) -> float:
    """Cox partial-likelihood MLE for one binary covariate, no ties (Newton-Raphson)."""
    order = np.argsort(time)
    event, x = event[order], x[order]
    beta = 0.0
    for _ in range(50):
        w = np.exp(beta * x)
        at_risk = np.cumsum(w[::-1])[::-1]  # sum over the risk set at each time
        at_risk_x = np.cumsum((w * x)[::-1])[::-1]
        p = at_risk_x / at_risk
        score = np.sum(event * (x - p))
        info = np.sum(event * p * (1 - p))
        beta += score / info
        if abs(score / info) < 1e-10:
            break
    return beta


def test_cox_helper_matches_lifelines() -> None:
    from lifelines import CoxPHFitter

    rng = np.random.default_rng(7)
    x = np.repeat([1.0, 0.0], 60)
    t = rng.exponential(1 / np.where(x == 1, 0.6, 1.0))
    e = (t <= 1).astype(float)
    t = np.minimum(t, 1.0)
    df = pd.DataFrame({"t": t, "e": e, "x": x})
    ref = CoxPHFitter().fit(df, "t", "e").params_["x"]
    assert _cox_binary(t, e, x) == pytest.approx(ref, abs=1e-6)


def test_implied_hr_covers_cox_estimate_in_simulated_trials() -> None:
    # Known truth: exponential hazards, HR 0.8, 110 per arm, 55% control survival at the
    # landmark, no loss to follow-up. The check's expected range must contain the Cox estimate
    # of the same data in >= 95% of 300 trials and stay narrow (median width < 0.25 on log scale).
    rng = np.random.default_rng(2025)
    n, lam_c = 110, -math.log(0.55)
    x = np.repeat([1.0, 0.0], n)
    covered, widths = 0, []
    for _ in range(300):
        t = rng.exponential(1 / (lam_c * np.where(x == 1, 0.8, 1.0)))
        e = (t <= 1).astype(float)
        t = np.minimum(t, 1.0)
        d_t, d_c = int(e[x == 1].sum()), int(e[x == 0].sum())
        doc = copy.deepcopy(GENERIC)
        doc["arms"][0]["n"]["value"] = doc["arms"][1]["n"]["value"] = n
        doc["events"] = [
            {"id": "d_t", "arm": "drug", "value": d_t, "source": "paper"},
            {"id": "d_c", "arm": "placebo", "value": d_c, "source": "paper"},
        ]
        for key in ("survival", "event_shares"):
            doc.pop(key)
        hr = math.exp(_cox_binary(t, e, x))
        comparison = {"treatment": "drug", "control": "placebo"}
        doc["hazard_ratios"] = [
            {"id": "hr", "comparison": comparison, "value": round(hr, 2), "source": "paper"}
        ]
        s = summary_from_dict(doc)
        row = check_summary(s).results[0]
        assert row.check == "hr_vs_death_split"
        lo, hi = row.expected_range
        covered += lo <= hr <= hi
        widths.append(math.log(hi / lo))
    assert covered / 300 >= 0.95
    assert float(np.median(widths)) < 0.25


# ----------------------------------------------------------------------------- MIROCALS
def test_mirocals_flags_the_death_split(mirocals: CheckReport) -> None:
    assert not mirocals.passed
    split = "death_split_medwire"
    assert _verdict(mirocals, "hr_vs_death_split", split, "overall_unadjusted") == "fail"
    assert _verdict(mirocals, "death_split_vs_hr", split, "overall_unadjusted") == "fail"
    assert _verdict(mirocals, "event_shares_vs_survival", split, "alive_640_il2ld") == "fail"
    assert _verdict(mirocals, "event_shares_vs_events", split, "deaths_il2ld") == "fail"
    for check in ("hr_vs_death_split", "death_split_vs_hr", "event_shares_vs_survival"):
        assert "arms swapped" in _rows(mirocals, check, split).explanation.iloc[0]
    failed = {i for r in mirocals.failures for i in r.inputs}
    assert split in failed  # every failure involves the 54/46 statement
    assert all(split in r.inputs for r in mirocals.failures)


def test_mirocals_agreeing_figures_pass(mirocals: CheckReport) -> None:
    assert _verdict(mirocals, "hr_vs_death_split", "deaths_il2ld", "overall_unadjusted") == "pass"
    assert _verdict(mirocals, "death_split_vs_hr", "deaths_il2ld", "overall_unadjusted") == "pass"
    for hr in ("interaction_model_treatment", "low_pnfh"):
        assert _verdict(mirocals, "ci_vs_p", hr) == "pass"
        assert _verdict(mirocals, "ci_symmetry", hr) == "pass"
    assert _verdict(mirocals, "survival_vs_deaths", "alive_640_all", "deaths_total") == "pass"
    assert _verdict(mirocals, "subgroup_shares", "low_pnfh") == "pass"
    assert _verdict(mirocals, "subgroup_pooling", "low_pnfh") == "pass"
    assert _verdict(mirocals, "arms_vs_total", "deaths_total") == "pass"
    assert _verdict(mirocals, "superseded", "topline_adjusted_2022") == "not checkable"


def test_mirocals_p_from_ci_within_rounding(mirocals: CheckReport) -> None:
    # 0.52 (0.30-0.89): SE in [ln(0.885/0.305), ln(0.895/0.295)] / 3.91993 = [0.27175, 0.28315],
    # |log HR| in [0.64436, 0.66359]: p in [2 Phi(-2.4419), 2 Phi(-2.2757)] = [0.01461, 0.02286].
    row = _rows(mirocals, "ci_vs_p", "low_pnfh").iloc[0]
    result = next(r for r in mirocals if r.check == "ci_vs_p" and r.inputs == ("low_pnfh",))
    assert result.expected_range == pytest.approx((0.01461, 0.02286), abs=5e-5)
    assert result.observed_range == pytest.approx((0.0155, 0.0165))
    assert "0.0184" in row.explanation  # the point value 2 Phi(-0.65393 / 0.27741)


def test_mirocals_pooling_uses_events_when_no_ci(mirocals: CheckReport) -> None:
    # low: SE = ln(0.89/0.30)/3.91993 = 0.27741 (w 12.994); high: SE ~ 2/sqrt(0.21 x 90) = 0.46004
    # (w 4.7250); pooled log HR -0.39560 (HR 0.673), information 17.719. The groups leave 9% of
    # the patients out, so the overall HR does not pin the pooled one: the rest must have
    # information 1/var(overall) - 17.719 = 90/4 - 17.719 = 4.781 (no overall CI: var ~
    # 1/(90 x 1/4)) and log HR (22.5 ln 0.81 + 17.719 x 0.39560) / 4.781 = 0.47446 (HR 1.607),
    # SE 1/sqrt(4.781) = 0.45734: 0.644-4.01 at 2 SE. Possible, so the row passes.
    result = next(r for r in mirocals if r.check == "subgroup_pooling")
    assert result.verdict == "pass" and result.expected_range is None
    assert "HR 1.61 (0.644-4.01" in result.explanation
    assert "2/sqrt(0.21 x 90" in result.explanation
    assert "leave 0.08-0.1 of the patients out" in result.explanation  # 1 - (0.70 + 0.21)


# ----------------------------------------------------------------------------- each check
def test_generic_trial_passes_everything() -> None:
    report = _generic()
    assert report.passed
    assert set(report.summary.verdict) == {"pass", "not checkable"}
    assert _verdict(report, "superseded", "overall_abstract") == "not checkable"


def test_hr_vs_death_split_by_hand() -> None:
    # 45/150 vs 60/150: log-rank 0.6427 (p = 105/195) to 0.7515 (p = 1/2); landmark
    # ln 0.7 / ln 0.6 = 0.6982 x exp(+-2 x 0.02454) = 0.6648-0.7334: hull 0.6427-0.7515.
    result = next(r for r in _generic() if r.check == "hr_vs_death_split")
    assert result.expected_range == pytest.approx((0.6427, 0.7515), abs=5e-4)
    assert result.verdict == "pass"
    fail = _generic(lambda d: _hr(d, "overall").update(value=1.2, ci=[0.8, 1.8], p=0.4))
    assert _verdict(fail, "hr_vs_death_split", "deaths_drug", "overall") == "fail"


def test_death_split_from_survivors_when_no_counts() -> None:
    # 150 - 105 = 45 vs 150 - 90 = 60 deaths: the same split as the counts, same range
    report = _generic(lambda d: d.update(events=[d["events"][0]]))
    rows = _rows(report, "hr_vs_death_split", "alive_drug", "alive_placebo", "overall")
    assert rows.verdict.tolist() == ["pass"]
    assert "HR 0.643-0.751" in rows.explanation.iloc[0]


def test_death_split_vs_hr() -> None:
    swap = {"drug": 0.57, "placebo": 0.43}
    report = _generic(lambda d: d["event_shares"][0].update(shares=swap))
    assert _verdict(report, "death_split_vs_hr", "deaths_drug", "overall") == "pass"
    row = _rows(report, "death_split_vs_hr", "death_split").iloc[0]
    assert row.verdict == "fail" and "arms swapped" in row.explanation


def test_adjusted_overall_hr_is_not_checked_against_counts() -> None:
    report = _generic(lambda d: _hr(d, "overall").update(model={"adjusted": True}))
    assert _verdict(report, "hr_vs_death_split", "deaths_drug", "overall") == "not checkable"


def test_ci_symmetry_fails_on_lopsided_ci() -> None:
    # 0.5 (0.3, 0.95): ln(0.945) + ln(0.295) - 2 ln(0.505) = 0.0891 > 0 even at the rounding edges
    report = _generic(lambda d: _hr(d, "crp_low").update(value=0.5, ci=[0.3, 0.95], p=None))
    assert _verdict(report, "ci_symmetry", "crp_low") == "fail"
    assert _verdict(_generic(), "ci_symmetry", "crp_low") == "pass"


def test_ci_vs_p_by_hand() -> None:
    # 0.70 (0.48-1.03): SE in [ln(1.025/0.485), ln(1.035/0.475)] / 3.91993 = [0.19089, 0.19870],
    # |log HR| in [0.34956, 0.36384]: p in [0.05665, 0.07855]; 0.07 passes, 0.01 fails.
    result = next(r for r in _generic() if r.check == "ci_vs_p" and r.inputs == ("overall",))
    assert result.expected_range == pytest.approx((0.05665, 0.07855), abs=5e-5)
    assert result.verdict == "pass"
    fail = _generic(lambda d: _hr(d, "overall").update(p=0.01))
    assert _verdict(fail, "ci_vs_p", "overall") == "fail"


def test_subgroup_shares() -> None:
    report = _generic(lambda d: _hr(d, "crp_low")["population"].update(share=0.7))
    assert _verdict(report, "subgroup_shares", "crp_low") == "fail"  # 0.7 + 0.4 = 1.1 > 1
    overlap = _generic(lambda d: _hr(d, "crp_low")["population"].update(share=0.7, upper=6))
    assert _verdict(overlap, "subgroup_shares", "crp_low") == "not checkable"


def test_subgroup_pooling_by_hand() -> None:
    # Weights from SE ln(1.08/0.35)/3.91993 = 0.28745 (w 12.103), ln(1.37/0.47)/3.91993 =
    # 0.27292 (w 13.425); pooled over the rounding of 0.62 and 0.80: (12.103 ln 0.615 + 13.425
    # ln 0.795) / 25.528 = -0.35112 to (12.103 ln 0.625 + 13.425 ln 0.805) / 25.528 = -0.33690.
    # var(pooled) at the widest CIs: SE ln(1.085/0.345)/3.91993 = 0.29230, ln(1.375/0.465)/
    # 3.91993 = 0.27658: 1 / (11.7044 + 13.0723) = 0.040360; var(overall) at its narrowest CI,
    # ln(1.025/0.485)/3.91993 = 0.19089: 0.036439. SD of the gap sqrt(0.003921) = 0.06262:
    # exp(-0.35112 - 0.12524) = 0.62105 to exp(-0.33690 + 0.12524) = 0.80922. (The pooled CI,
    # the version-1 reading, let any overall HR from 0.48 to 1.05 pass.)
    result = next(r for r in _generic() if r.check == "subgroup_pooling")
    assert result.expected_range == pytest.approx((0.62105, 0.80922), abs=2e-4)
    assert result.verdict == "pass"
    off = _generic(lambda d: _hr(d, "overall").update(value=0.95, ci=[0.65, 1.39], p=0.79))
    assert _verdict(off, "subgroup_pooling", "overall") == "fail"
    fail = _generic(lambda d: _hr(d, "overall").update(value=1.5, ci=[1.0, 2.25], p=0.05))
    assert _verdict(fail, "subgroup_pooling", "overall") == "fail"


def test_survival_vs_deaths() -> None:
    # 300 - 105 = 195 alive = 0.650; a printed 0.62 (0.615-0.625) x 300 = 184.5-187.5 fails
    report = _generic(lambda d: d["survival"][0].update(proportion=0.62))
    assert _verdict(report, "survival_vs_deaths", "alive_all", "deaths_total") == "fail"
    lost = _generic(lambda d: d["follow_up"].pop("lost_to_follow_up"))
    assert _verdict(lost, "survival_vs_deaths", "alive_all") == "not checkable"
    count = _generic(lambda d: d["survival"][1].update(proportion=0.75))  # 105/150 = 0.70
    assert _verdict(count, "survival_count_vs_proportion", "alive_drug") == "fail"


def test_arms_vs_totals() -> None:
    report = _generic(lambda d: d["events"][0].update(value=100))  # 45 + 60 = 105, not 100
    assert _verdict(report, "arms_vs_total", "deaths_total") == "fail"
    alive = _generic(lambda d: d["survival"][2].update(count=80))  # 105 + 80 vs 0.65 x 300
    assert _verdict(alive, "arms_vs_total", "alive_all") == "fail"


def test_event_shares_vs_events() -> None:
    report = _generic(lambda d: d["event_shares"][0].update(shares={"drug": 0.5, "placebo": 0.5}))
    assert _verdict(report, "event_shares_vs_events", "death_split", "deaths_drug") == "fail"
    assert _verdict(report, "event_shares_vs_survival", "death_split") == "fail"
    total = _generic(lambda d: d["event_shares"][0].update(total=100))
    assert _verdict(total, "event_shares_vs_events", "death_split", "deaths_total") == "fail"


def test_superseded_figures_are_not_checked() -> None:
    # the superseded HR 0.72 has no CI, but a superseded lopsided CI must not fail either
    def change(d: dict) -> None:
        _hr(d, "overall_abstract").update(value=0.5, ci=[0.3, 0.95], p=0.5)

    report = _generic(change)
    assert report.passed
    assert "overall_abstract" not in {
        i for r in report if r.check != "superseded" for i in r.inputs
    }


# ----------------------------------------------------------------------------- rendering
def test_report_renderings(mirocals: CheckReport) -> None:
    text = mirocals.to_text()
    assert text.splitlines()[0].split() == ["VERDICT", "CHECK", "INPUTS", "OBSERVED", "EXPECTED"]
    assert "FAILED" in text.splitlines()[-1]
    rows = json.loads(mirocals.to_json())
    assert rows["passed"] is False and len(rows["checks"]) == len(mirocals)
    assert set(rows["checks"][0]) >= {"check", "inputs", "observed", "expected", "verdict"}
    assert "<table" in mirocals._repr_html_()
    assert list(mirocals.summary.columns) == list(CheckReport.columns)
    again = check_summary(load_reported_summary(data_path("mirocals", "reported.yaml")))
    assert again.to_json() == mirocals.to_json()  # deterministic
