"""verify_cohort / assert_reproduces / `alsstats verify`: any cohort against a summary's figures.

The cohort's hazard ratios are checked against an independent lifelines refit (Efron ties, the
engine's default), to 1e-5 relative (lifelines stops its Newton steps at a 1e-7 decrement); the
shipped MIROCALS cohort meets every checkable figure (its provenance says so); moving one death
across arms is flagged (exit 1).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from alsstats.cli import main
from alsstats.errors import InputError
from alsstats.paths import data_path
from alsstats.reconstruct import assert_reproduces, verify_cohort
from alsstats.summary import load_reported_summary, summary_from_dict

COHORT = data_path("mirocals", "cohort.csv")
SUMMARY = data_path("mirocals", "reported.yaml")


def _moved_death() -> pd.DataFrame:
    """The shipped cohort with one death moved from IL-2LD to placebo (41/49 -> 40/50)."""
    df = pd.read_csv(COHORT)
    i = df.index[(df["arm"] == "il2ld") & (df["death"] == 1)][0]
    j = df.index[(df["arm"] == "placebo") & (df["death"] == 0)][0]
    df.loc[j, ["time", "death"]] = [df.loc[i, "time"], 1]
    df.loc[i, ["time", "death"]] = [640, 0]
    return df


@pytest.fixture(scope="module")
def shipped():
    return verify_cohort(COHORT, SUMMARY)


def test_shipped_cohort_meets_every_checkable_figure(shipped):
    assert shipped.passed
    assert shipped.counts == {"met": 22, "not met": 0, "not checkable": 3}
    # the two superseded toplines and the conflicting death split are listed, not dropped
    skipped = shipped.table[shipped.table["verdict"] == "not checkable"]
    assert set(skipped["figure"]) == {
        "topline_adjusted_2022",
        "topline_low_moderate_2022",
        "death_split_medwire",
    }


def _lifelines_hr(df: pd.DataFrame) -> tuple[float, float, float, float]:
    cph = CoxPHFitter()  # lifelines uses Efron ties
    cph.fit(df[["time", "death", "treatment"]], "time", "death")
    b = float(cph.params_["treatment"])
    se = float(cph.standard_errors_["treatment"])
    z = 1.959963984540054
    return math.exp(b), math.exp(b - z * se), math.exp(b + z * se), float(cph.summary["p"].iloc[0])


def test_hazard_ratios_equal_an_independent_lifelines_refit(shipped):
    df = pd.read_csv(COHORT)
    value = shipped.table.set_index("figure")["cohort"]
    hr, _, _, _ = _lifelines_hr(df)
    assert value["overall_unadjusted.hr"] == pytest.approx(hr, rel=1e-5)
    low = df[(df["pnfh"] >= 750) & (df["pnfh"] < 3700)]
    hr, lo, hi, p = _lifelines_hr(low)
    assert value["low_pnfh.hr"] == pytest.approx(hr, rel=1e-5)
    assert value["low_pnfh.ci_lower"] == pytest.approx(lo, rel=1e-5)
    assert value["low_pnfh.ci_upper"] == pytest.approx(hi, rel=1e-5)
    assert value["low_pnfh.p"] == pytest.approx(p, rel=1e-4)


def test_one_death_moved_across_arms_is_flagged():
    result = verify_cohort(_moved_death(), SUMMARY)
    assert not result.passed
    assert {"deaths_il2ld", "deaths_placebo", "alive_640_il2ld", "alive_640_placebo"} <= set(
        result.failures
    )
    with pytest.raises(AssertionError, match="deaths_il2ld: reported 41, cohort 40"):
        assert_reproduces(_moved_death(), SUMMARY)


def test_assert_reproduces_returns_the_table_when_met():
    assert assert_reproduces(COHORT, SUMMARY).passed


def test_cli_verify_exit_codes(tmp_path, capsys):
    assert main(["verify", str(COHORT), str(SUMMARY)]) == 0
    assert "22 met, 0 not met" in capsys.readouterr().out
    moved = tmp_path / "moved.csv"
    _moved_death().to_csv(moved, index=False)
    assert main(["verify", str(moved), str(SUMMARY), "--json"]) == 1
    assert '"passed": false' in capsys.readouterr().out


def test_cli_verify_include_checks_a_conflicting_figure(capsys):
    # the medwire split (54% of deaths on IL-2LD) is conflicting: the cohort cannot meet it
    code = main(["verify", str(COHORT), str(SUMMARY), "--include", "death_split_medwire"])
    assert code == 1
    assert "death_split_medwire.il2ld" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda df: df.drop(columns="death"), "death"),
        (lambda df: df.assign(arm=df["arm"].replace({"il2ld": "il2"})), "arm"),
        (lambda df: df.assign(time=-1), "time"),
        (lambda df: df.assign(death=2), "death"),
    ],
)
def test_bad_cohorts_raise_one_clear_error(edit, field):
    with pytest.raises(InputError) as info:
        verify_cohort(edit(pd.read_csv(COHORT)), SUMMARY)
    assert info.value.field == field


def test_cli_bad_cohort_file_is_exit_2_without_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("arm,time\nil2ld,3\n")
    assert main(["verify", str(bad), str(SUMMARY)]) == 2
    err = capsys.readouterr().err
    assert "death" in err and "Traceback" not in err


def _two_arm_summary() -> dict:
    return {
        "format": "alsstats.reported-summary",
        "format_version": 1,
        "trial": {"name": "T", "endpoint": {"name": "death", "time_unit": "days"}},
        "sources": [{"key": "s", "citation": "made up"}],
        "arms": [
            {"id": "a", "role": "treatment", "n": {"value": 40, "source": "s"}},
            {"id": "b", "role": "control", "n": {"value": 40, "source": "s"}},
        ],
        "follow_up": {"landmark": {"value": 100, "source": "s"}},
        "events": [
            {"id": "d_a", "arm": "a", "value": 0, "source": "s"},
            {"id": "d_b", "arm": "b", "value": 0, "source": "s"},
        ],
        "hazard_ratios": [
            {
                "id": "hr",
                "comparison": {"treatment": "a", "control": "b"},
                "value": 0.5,
                "ci": [0.25, 1.0],
                "p": 0.05,
                "source": "s",
            },
        ],
    }


def test_simulated_cohort_its_own_figures_are_met_and_others_not():
    # a cohort whose own Cox fit (independent lifelines refit) is written into a summary at
    # two decimals is met; the same summary with the HR moved by 0.01 is not
    rng = np.random.default_rng(7)
    n = 40
    arm = np.repeat(["a", "b"], n)
    rate = np.where(arm == "a", 0.006, 0.012)
    t = rng.exponential(1 / rate)
    death = (t <= 100).astype(int)
    df = pd.DataFrame({"arm": arm, "time": np.minimum(np.round(t, 3), 100), "death": death})
    hr, lo, hi, p = _lifelines_hr(df.assign(treatment=(df["arm"] == "a").astype(int)))
    doc = _two_arm_summary()
    doc["events"][0]["value"] = int(df.loc[df["arm"] == "a", "death"].sum())
    doc["events"][1]["value"] = int(df.loc[df["arm"] == "b", "death"].sum())
    doc["hazard_ratios"][0].update(
        value=round(hr, 2), ci=[round(lo, 2), round(hi, 2)], p=round(p, 3)
    )
    assert verify_cohort(df, summary_from_dict(doc)).passed
    doc["hazard_ratios"][0]["value"] = round(hr, 2) + 0.01
    assert verify_cohort(df, summary_from_dict(doc)).failures == ["hr.hr"]


def test_loaded_summary_and_path_agree(shipped):
    again = verify_cohort(pd.read_csv(COHORT), load_reported_summary(SUMMARY))
    pd.testing.assert_frame_equal(again.table, shipped.table)


# ----------------------------------------------------------------- format version 2 summaries


def test_three_arms_subgroup_and_log_rank_against_lifelines():
    # Three arms, a categorical subgroup and a p the summary says is log-rank: every value is
    # computed here by lifelines (Cox, Efron; logrank_test), written as printed, and met; one
    # digit off is not.
    from lifelines.statistics import logrank_test

    rng = np.random.default_rng(11)
    arms = np.repeat(["low", "high", "ctl"], 60)
    rate = pd.Series({"low": 0.8, "high": 0.6, "ctl": 1.0})[arms].to_numpy() / 12
    t = rng.exponential(1 / rate)
    df = pd.DataFrame(
        {
            "arm": arms,
            "time": np.minimum(np.round(t, 3), 24.0),
            "death": (t <= 24).astype(int),
            "onset": rng.choice(["bulbar", "limb"], arms.size, p=[0.3, 0.7]),
        }
    )

    def pair(trt, data=df):
        sub = data[data["arm"].isin([trt, "ctl"])]
        return sub.assign(treatment=(sub["arm"] == trt).astype(int))

    hr_low = _lifelines_hr(pair("low"))
    hr_high = _lifelines_hr(pair("high"))
    hr_bulbar = _lifelines_hr(pair("low", df[df["onset"] == "bulbar"]))

    def lifelines_logrank(trt):
        d = pair(trt)
        return logrank_test(
            *(d.query(f"treatment == {k}")["time"] for k in (1, 0)),
            *(d.query(f"treatment == {k}")["death"] for k in (1, 0)),
        ).p_value

    p_lr, p_lr_low = lifelines_logrank("high"), lifelines_logrank("low")

    def printed(values, p=None):
        out = {"value": f"{values[0]:.2f}", "ci": [f"{values[1]:.2f}", f"{values[2]:.2f}"]}
        if p is not None:
            out["p"] = f"{p:.3f}"
        return out

    doc = {
        "format": "alsstats.reported-summary",
        "format_version": 2,
        "trial": {
            "name": "T3",
            "time_unit": "months",
            "endpoint": {"name": "death"},
            "treatment_arm": "low",
            "control_arm": "ctl",
        },
        "sources": [{"key": "s", "citation": "made up"}],
        "arms": [
            {"id": a, "role": r, "n": {"value": 60, "source": "s"}}
            for a, r in (("low", "treatment"), ("high", "treatment"), ("ctl", "control"))
        ],
        "modifiers": [
            {"id": "onset", "kind": "categorical", "categories": ["bulbar", "limb"], "source": "s"}
        ],
        "hazard_ratios": [
            {
                "id": "low",
                "comparison": {"treatment": "low", "control": "ctl"},
                **printed(hr_low, hr_low[3]),
                "test": "wald",
                "source": "s",
            },
            {
                "id": "high",
                "comparison": {"treatment": "high", "control": "ctl"},
                **printed(hr_high, p_lr),
                "test": "log_rank",
                "source": "s",
            },
            {
                "id": "low_bulbar",
                "comparison": {"treatment": "low", "control": "ctl"},
                **printed(hr_bulbar),
                "source": "s",
                "population": {"kind": "subgroup", "modifier": "onset", "category": "bulbar"},
            },
        ],
        "comparisons": [
            {
                "id": "low_logrank",
                "comparison": {"treatment": "low", "control": "ctl"},
                "p": f"{p_lr_low:.3f}",
                "test": "log_rank",
                "source": "s",
            },
        ],
    }
    result = verify_cohort(df, summary_from_dict(doc))
    assert result.passed, result.to_text()
    table = result.table.set_index("figure")
    assert table.loc["low_logrank", "cohort"] == pytest.approx(p_lr_low, rel=1e-6)
    assert table.loc["high.p", "verdict"] == "met"
    assert table.loc["high.p", "cohort"] == pytest.approx(p_lr, rel=1e-6)
    assert table.loc["low_bulbar.hr", "cohort"] == pytest.approx(hr_bulbar[0], rel=1e-5)
    # without the modifier column the subgroup figure cannot be checked, and says why
    summary = summary_from_dict(doc)
    no_onset = verify_cohort(df.drop(columns="onset"), summary).table.set_index("figure")
    assert no_onset.loc["low_bulbar.hr", "verdict"] == "not checkable"
    assert "onset" in no_onset.loc["low_bulbar.hr", "note"]
    doc["hazard_ratios"][1]["value"] = f"{hr_high[0] + 0.01:.2f}"
    assert verify_cohort(df, summary_from_dict(doc)).failures == ["high.hr"]


def test_medians_against_lifelines_and_the_r_midpoint_rule():
    # Kaplan-Meier medians per arm: lifelines' median on continuous times; a median printed in
    # days while the trial counts months is met at its printed precision in days; "not reached"
    # is met by an arm whose survival never falls to 0.5.
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(5)
    t = rng.exponential(20, 39)  # an odd arm: no exact S = 0.5 step, lifelines' rule applies
    df = pd.DataFrame(
        {
            "arm": np.repeat(["a", "b"], [39, 40]),
            "time": np.r_[np.minimum(t, 36.0), np.linspace(1, 10, 10), np.full(30, 36.0)],
            "death": np.r_[(t <= 36).astype(int), np.ones(10, int), np.zeros(30, int)],
        }
    )  # arm b: 10 deaths of 40, survival never falls to 0.5
    a = df[df["arm"] == "a"]
    kmf = KaplanMeierFitter().fit(a["time"], a["death"])
    median_a = float(kmf.median_survival_time_)
    doc = {
        "format": "alsstats.reported-summary",
        "format_version": 2,
        "trial": {"name": "M", "time_unit": "months", "endpoint": {"name": "death"}},
        "sources": [{"key": "s", "citation": "made up"}],
        "arms": [
            {"id": "a", "role": "treatment", "n": {"value": 39, "source": "s"}},
            {"id": "b", "role": "control", "n": {"value": 40, "source": "s"}},
        ],
        "medians": [
            {"id": "m_a", "arm": "a", "value": f"{median_a:.1f}", "source": "s"},
            {
                "id": "m_a_days",
                "arm": "a",
                "value": f"{median_a * 365.25 / 12:.0f}",
                "unit": "days",
                "source": "s",
            },
            {"id": "m_b", "arm": "b", "value": "not reached", "source": "s"},
        ],
    }
    table = verify_cohort(df, summary_from_dict(doc)).table.set_index("figure")
    assert (table.loc[["m_a", "m_a_days", "m_b"], "verdict"] == "met").all(), table
    assert table.loc["m_a", "cohort"] == pytest.approx(median_a, rel=1e-12)
    doc["medians"][0]["value"] = f"{median_a + 0.2:.1f}"
    assert verify_cohort(df, summary_from_dict(doc)).failures == ["m_a"]


def test_km_median_takes_the_midpoint_on_a_flat_half():
    # 4 patients, deaths at 1, 2 and censored at 3, death at 4: S = 0.75, 0.5 (from 2 to 4):
    # R's survfit gives the median (2 + 4) / 2 = 3, checked through a v2 summary's median
    df = pd.DataFrame(
        {"arm": ["a"] * 4 + ["b"] * 4, "time": [1, 2, 3, 4] * 2, "death": [1, 1, 0, 1] * 2}
    )
    doc = {
        "format": "alsstats.reported-summary",
        "format_version": 2,
        "trial": {"name": "M", "time_unit": "days", "endpoint": {"name": "death"}},
        "sources": [{"key": "s", "citation": "made up"}],
        "arms": [
            {"id": "a", "role": "treatment", "n": {"value": 4, "source": "s"}},
            {"id": "b", "role": "control", "n": {"value": 4, "source": "s"}},
        ],
        "medians": [{"id": "m", "arm": "a", "value": "3", "source": "s"}],
    }
    table = verify_cohort(df, summary_from_dict(doc)).table.set_index("figure")
    assert table.loc["m", "cohort"] == 3.0


def _riluzole_1994_by_hand() -> pd.DataFrame:
    """A cohort built by hand from the NEJM 1994 counts (not a reconstruction): deaths before
    12 months per arm and onset, the later deaths to the end-of-period counts, the medians
    (449 and 532 days) placed on the 39th/40th placebo and 39th riluzole deaths."""
    month = 365.25 / 12
    rows = []

    def add(arm, onset, times, deaths):
        rows.extend(
            {"arm": arm, "onset": onset, "time": t, "death": d}
            for t, d in zip(times, deaths, strict=True)
        )

    # alive at 12 months: placebo bulbar 6/17, limb 39/61; riluzole bulbar 11/15, limb 46/62
    add("placebo", "bulbar", np.linspace(1, 11, 11), [1] * 11)
    add("placebo", "limb", np.linspace(1.5, 11.5, 22), [1] * 22)
    add("riluzole", "bulbar", np.linspace(2, 10, 4), [1] * 4)
    add("riluzole", "limb", np.linspace(2.5, 11.5, 16), [1] * 16)
    # after 12 months: placebo 16 more deaths (49 of 78), riluzole 19 more (39 of 77)
    placebo_late = np.r_[
        np.linspace(12.5, 14.5, 5), 448.8 / month, 449.2 / month, np.linspace(15, 19, 9)
    ]
    riluzole_late = np.r_[np.linspace(12.5, 17.2, 18), 532 / month]
    # bulbar alive at the end of the period: placebo 3/17, riluzole 8/15
    add("placebo", "bulbar", placebo_late[:3], [1] * 3)
    add("placebo", "limb", placebo_late[3:], [1] * 13)
    add("riluzole", "bulbar", riluzole_late[:3], [1] * 3)
    add("riluzole", "limb", riluzole_late[3:], [1] * 16)
    # survivors to the end of the period, censored at 20 months
    add("placebo", "bulbar", [20.0] * 3, [0] * 3)
    add("placebo", "limb", [20.0] * 26, [0] * 26)
    add("riluzole", "bulbar", [20.0] * 8, [0] * 8)
    add("riluzole", "limb", [20.0] * 30, [0] * 30)
    return pd.DataFrame(rows)


def test_hand_built_riluzole_1994_cohort_meets_the_shipped_summary():
    df = _riluzole_1994_by_hand()
    assert len(df) == 155 and df.groupby("arm")["death"].sum().to_dict() == {
        "placebo": 49,
        "riluzole": 39,
    }
    summary = load_reported_summary(data_path("trials", "riluzole_1994", "reported.yaml"))
    result = verify_cohort(df, summary)
    table = result.table.set_index("figure")
    assert result.passed, result.to_text()
    # the site-of-onset landmarks and the medians are checked, not skipped
    for ident in ("alive_12_placebo_bulbar", "alive_12_riluzole_limb", "median_placebo"):
        rows = [i for i in table.index if i.startswith(ident)]
        assert rows and (table.loc[rows, "verdict"] == "met").all()
    # a bulbar placebo survivor moved to limb breaks the onset counts and nothing else
    moved = df.copy()
    moved.loc[
        (moved["arm"] == "placebo") & (moved["onset"] == "bulbar") & (moved["death"] == 0), "onset"
    ] = "limb"
    failures = verify_cohort(moved, summary).failures
    assert failures and all("bulbar" in f or "limb" in f for f in failures)
