"""ci_vs_p knows which test made the p; the new checks on CIs, medians and landmarks.

The log-rank and likelihood-ratio tolerances are derived in ``alsstats.checks._tests``; here
they are tested on simulated trials with known truth (exponential hazards, 20 to 70 deaths,
1:1 and 2:1), fitted and tested independently with lifelines and printed as papers print them
(HR and CI to 2 decimals, p to 3 decimals or "<0.001"): the check must falsely fail in at most
1% of them, and the Wald p must always pass (the Wald reading is exact).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from lifelines import CoxPHFitter
from lifelines.statistics import logrank_test

from alsstats.checks import check_summary
from alsstats.summary import summary_from_dict


def _trial(hr: dict, n=(45, 45), events=None, **extra) -> dict:
    """A version-2 summary with one overall hazard ratio (and optional deaths per arm)."""
    doc = {
        "format": "alsstats.reported-summary",
        "format_version": 2,
        "trial": {"name": "SIM", "time_unit": "months"},
        "sources": [{"key": "s", "citation": "simulated"}],
        "arms": [
            {"id": "t", "role": "treatment", "n": {"value": n[0], "source": "s"}},
            {"id": "c", "role": "control", "n": {"value": n[1], "source": "s"}},
        ],
        "hazard_ratios": [
            {"id": "hr", "comparison": {"treatment": "t", "control": "c"}, "source": "s", **hr}
        ],
    }
    if events is not None:
        doc["events"] = [
            {"id": "d_t", "arm": "t", "value": events[0], "source": "s"},
            {"id": "d_c", "arm": "c", "value": events[1], "source": "s"},
        ]
    doc.update(extra)
    return doc


def _row(doc: dict, check: str = "ci_vs_p"):
    report = check_summary(summary_from_dict(doc, "sim.yaml"))
    (row,) = [r for r in report if r.check == check]
    return row


# ----------------------------------------------------------------------------- CNM-Au8
CNM = {"value": "0.291", "ci": ["0.118", "0.718"], "p": "0.0115"}


def test_cnm_au8_log_rank_p_is_not_an_inconsistency() -> None:
    # 19 deaths, HR 0.291 (0.118-0.718): Wald |z| 2.669-2.691 over the rounding, p 0.0071-
    # 0.0076; the log-rank p 0.0115 (z 2.53) is 0.15 away on the z scale, within the log-rank
    # tolerance 2 x 2.691^3 x 0.4619^2 / 12 = 0.69; as a Wald p it is inconsistent.
    row = _row(_trial({**CNM, "test": "log_rank"}, n=(22, 23), events=(5, 14)))
    assert (row.verdict, row.test) == ("pass", "log_rank")
    wald = _row(_trial({**CNM, "test": "wald"}, n=(22, 23), events=(5, 14)))
    assert wald.verdict == "fail"
    assert wald.expected_range == pytest.approx((0.00712, 0.00761), abs=2e-5)


@pytest.mark.parametrize("test", ["joint_rank", "wilcoxon", "permutation", "unknown"])
def test_tests_unrelated_to_the_hr_are_not_checkable(test: str) -> None:
    row = _row(_trial({**CNM, "test": test}))
    assert (row.verdict, row.test) == ("not checkable", test)
    # the reason is said: a rank/combined/permutation statistic, or an unnamed test
    assert f"is a {test} p:" in row.explanation


def test_trial_primary_test_is_the_default() -> None:
    doc = _trial(CNM)
    doc["trial"]["primary_test"] = "log_rank"
    assert _row(doc).test == "log_rank"
    assert _row(_trial(CNM)).test == "wald"  # no primary test: a p beside a CI is Wald


def test_tolerance_grows_as_events_shrink() -> None:
    # the same HR and z at 4x the events: SE halves, the log-rank tolerance quarters
    wide = _row(_trial({"value": "0.50", "ci": ["0.27", "0.93"], "p": "0.03", "test": "log_rank"}))
    narrow = _row(
        _trial({"value": "0.50", "ci": ["0.37", "0.68"], "p": "0.00001", "test": "log_rank"})
    )
    w = math.log(wide.expected_range[1] / wide.expected_range[0])
    n = math.log(narrow.expected_range[1] / narrow.expected_range[0])
    assert w > 0 and n > 0
    assert "0.3" in wide.explanation or "0.2" in wide.explanation  # tolerance on z printed


# ----------------------------------------------------------------------------- simulation
def _printed_p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _simulate(rng: np.random.Generator):
    """One small trial: (HR, CI, Wald p, log-rank p, LR p) from lifelines, and the deaths."""
    ratio = int(rng.choice([1, 2]))
    n_c = int(rng.integers(25, 60))
    n_t = ratio * n_c
    hr = float(rng.choice([0.4, 0.6, 0.8, 1.0, 1.3]))
    lam = -math.log(rng.uniform(0.35, 0.7))  # control hazard: 30-65% dead by time 1
    arm = np.r_[np.ones(n_t), np.zeros(n_c)]
    t = rng.exponential(1 / (lam * np.where(arm == 1, hr, 1.0)))
    c = rng.uniform(0.5, 1.5, arm.size)  # staggered administrative censoring
    time, event = np.minimum(t, c), (t <= c).astype(float)
    import pandas as pd

    df = pd.DataFrame({"time": time, "event": event, "arm": arm})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter().fit(df, "time", "event")
        lr_p = float(cph.log_likelihood_ratio_test().p_value)
    b, se = float(cph.params_["arm"]), float(cph.standard_errors_["arm"])
    wald_p = float(cph.summary.loc["arm", "p"])
    lrk = logrank_test(time[arm == 1], time[arm == 0], event[arm == 1], event[arm == 0])
    ci = (math.exp(b - 1.959964 * se), math.exp(b + 1.959964 * se))
    deaths = (int(event[arm == 1].sum()), int(event[arm == 0].sum()))
    return (n_t, n_c), math.exp(b), ci, wald_p, float(lrk.p_value), lr_p, deaths


@pytest.mark.slow
def test_false_fail_rate_on_simulated_trials() -> None:
    # Two printings of each trial: as papers print (HR and CI to 2 decimals, p to 3 decimals
    # or "<0.001") and precise (3 decimals, p to 4 significant digits), where the tolerance
    # must carry the weight: read as a Wald p, the log-rank p then fails in most trials.
    rng = np.random.default_rng(20261130)
    tests = ("wald", "log_rank", "likelihood_ratio")
    fails = {(printing, t): 0 for printing in ("paper", "precise") for t in tests}
    log_rank_as_wald, deaths_seen, trials = 0, [], 0
    while trials < 200:
        n, hr, ci, wald_p, lrk_p, lr_p, deaths = _simulate(rng)
        if not 20 <= sum(deaths) <= 70 or min(deaths) == 0 or ci[0] < 0.01 or ci[1] > 99:
            continue
        trials += 1
        deaths_seen.append(sum(deaths))
        for printing, d in (("paper", 2), ("precise", 3)):
            figures = {"value": f"{hr:.{d}f}", "ci": [f"{ci[0]:.{d}f}", f"{ci[1]:.{d}f}"]}
            for test, p in zip(tests, (wald_p, lrk_p, lr_p), strict=True):
                text = _printed_p(p) if d == 2 else f"{p:.4g}" if p >= 1e-4 else "<0.0001"
                row = _row(_trial({**figures, "p": text, "test": test}, n=n))
                fails[(printing, test)] += row.verdict == "fail"
                if printing == "precise" and test == "log_rank":
                    wrong = _row(_trial({**figures, "p": text, "test": "wald"}, n=n))
                    log_rank_as_wald += wrong.verdict == "fail"
    assert min(deaths_seen) < 30 and max(deaths_seen) > 55  # small trials were covered
    assert fails[("paper", "wald")] == fails[("precise", "wald")] == 0  # exact
    for key, count in fails.items():
        assert count / trials <= 0.01, (key, count, trials)
    assert log_rank_as_wald / trials > 0.3  # the tolerance is needed, not decoration


@pytest.mark.slow
def test_events_implied_by_ci_width_on_simulated_trials() -> None:
    # the implied events (information over the risk-set shares) must contain the deaths
    rng = np.random.default_rng(7)
    bad, trials = 0, 0
    while trials < 120:
        n, hr, ci, _, _, _, deaths = _simulate(rng)
        if not 20 <= sum(deaths) <= 70 or min(deaths) == 0 or ci[1] > 99:
            continue
        trials += 1
        hr_fig = {"value": f"{hr:.2f}", "ci": [f"{ci[0]:.2f}", f"{ci[1]:.2f}"]}
        row = _row(_trial(hr_fig, n=n, events=deaths), "events_vs_ci_width")
        bad += row.verdict == "fail"
    assert bad / trials <= 0.02, bad


def test_events_implied_by_ci_width_by_hand() -> None:
    # 1:1, HR 0.70 (0.48-1.03) with 45 + 60 deaths: SE in [ln(1.025/0.485), ln(1.035/0.475)] /
    # 3.91993 = [0.19089, 0.19870]. Shares 0.5 (start) to 105/195 = 0.53846 (end), widened by
    # 2 sqrt(0.53846 x 0.46154 / 195) = 0.07140: [0.42860, 0.60986]; tilted by HR 0.695-0.705:
    # p in [0.34268, 0.52427]: f in [0.22525, 0.25]; D in [1 / (0.19870^2 x 0.25),
    # 1 / (0.19089^2 x 0.22525)] = [101.3, 121.8].
    row = _row(_trial({"value": 0.70, "ci": [0.48, 1.03]}, n=(150, 150), events=(45, 60)),
               "events_vs_ci_width")  # fmt: skip
    assert row.expected_range == pytest.approx((101.3, 121.8), abs=0.2)
    assert row.verdict == "pass"
    few = _row(_trial({"value": 0.70, "ci": [0.48, 1.03]}, n=(150, 150), events=(20, 30)),
               "events_vs_ci_width")  # fmt: skip
    assert few.verdict == "fail"  # 50 deaths cannot give a CI that narrow


def test_hr_vs_medians() -> None:
    # 2:1, medians 25.0 vs 18.5 months (CENTAUR-like): exponential reading 18.5/25 = 0.74;
    # SE sqrt(2/87 + 2/48) = 0.2541 from n/2 deaths per arm; log ratio -0.3011 +- 0.5082
    # over the rounding of the medians ln(18.45/25.05) = -0.30585 to ln(18.55/24.95) = -0.29643:
    # [-0.81405, 0.21177], times shapes 0.5-2: [-1.62810, 0.42354] -> HR 0.1963-1.5274 (wide
    # without CIs or deaths). HR 0.56 passes, 2.0 fails.
    medians = [
        {"id": "m_t", "arm": "t", "value": "25.0", "source": "s"},
        {"id": "m_c", "arm": "c", "value": "18.5", "source": "s"},
    ]
    ok = _row(_trial({"value": "0.56"}, n=(87, 48), medians=medians), "hr_vs_medians")
    assert ok.verdict == "pass" and "18.5/25 = 0.74" in ok.explanation
    assert ok.expected_range == pytest.approx((0.19618, 1.52832), abs=2e-4)
    bad = _row(_trial({"value": "2.0"}, n=(87, 48), medians=medians), "hr_vs_medians")
    assert bad.verdict == "fail"


def test_km_landmark_vs_deaths_bounds() -> None:
    # n = 100, 40 deaths to the landmark 12: KM S(12) must leave n (1 - S) >= 40; with 5 lost
    # to follow-up, n (1 - S) <= 45. "50%" -> 49.5-50.5 dead: above 45, fails; "58%" passes.
    def doc(proportion: str, time: float = 12) -> dict:
        return _trial(
            {"value": "0.80"},
            n=(100, 100),
            events=(40, 50),
            follow_up={
                "landmark": {"value": 12, "source": "s"},
                "lost_to_follow_up": {"value": 5, "source": "s"},
            },
            survival=[
                {"id": "s_t", "arm": "t", "time": time, "proportion": proportion, "source": "s"}
            ],
        )

    assert _row(doc("58%"), "km_landmark_vs_deaths").verdict == "pass"
    assert _row(doc("50%"), "km_landmark_vs_deaths").verdict == "fail"
    assert _row(doc("62%"), "km_landmark_vs_deaths").verdict == "fail"  # 38 dead < 40 deaths
    later = _row(doc("50%", time=24), "km_landmark_vs_deaths")  # after T: only d <= n (1 - S)
    assert later.verdict == "pass"
