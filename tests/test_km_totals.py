"""The Guyot path meets the totals it is given, follows the clicked steps, and says how well.

Round trips: patient data -> what a paper shows (:func:`alsstats.km.simulate_publication`:
both corners of each Kaplan-Meier step, survival to 3 decimals, numbers at risk, total events)
-> rebuilt patient data, compared with the truth. Independent values: the true data's events
and Kaplan-Meier curve (lifelines' bundled data sets and R's ``aml`` typed in by hand).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter, datasets

from alsstats.cli import main
from alsstats.errors import EventTotalNotMetWarning, InputError
from alsstats.km import ArmCurve, GuyotReconstruction, simulate_publication
from alsstats.survival import km_estimate

# Clicks carry survival to 3 decimals (+-0.0005); a rebuilt KM that follows them step by step is
# within a few of those roundings of the true KM.
EXACT_CLICKS_TOL = 0.002


def _sup_distance(a, b) -> float:
    """sup_t |S_a(t) - S_b(t)| for two right-continuous KM step functions starting at 1."""
    grid = np.union1d(a[0], b[0])

    def at(t, s):
        return np.concatenate([[1.0], s])[np.searchsorted(t, grid, side="right")]

    return float(np.abs(at(*a) - at(*b)).max())


def _aml() -> pd.DataFrame:
    """R's ``survival::aml`` (Embury et al.; Miller 1981): weeks to relapse, + = censored."""
    maintained = "9 13 13+ 18 23 28+ 31 34 45+ 48 161+".split()
    nonmaintained = "5 5 8 8 12 16+ 23 27 30 33 43 45".split()
    rows = [
        (float(x.rstrip("+")), int(not x.endswith("+")), arm)
        for arm, xs in (("Maintained", maintained), ("Nonmaintained", nonmaintained))
        for x in xs
    ]
    return pd.DataFrame(rows, columns=["time", "status", "x"])


# (data, time, event, arm, at-risk step): data sets with tied times and censoring.
def _case(name):
    if name == "waltons":  # days; 163 flies, 130 distinct-time ties
        return datasets.load_waltons(), "T", "E", "group", 10
    if name == "rossi":  # weeks; 432 released prisoners, heavy ties and censoring at 52
        return datasets.load_rossi(), "week", "arrest", "fin", 10
    if name == "kidney_transplant":  # days; 863 patients, 86% censored
        return datasets.load_kidney_transplant(), "time", "death", "black_male", 365
    if name == "gbsg2":  # days; 686 patients
        return datasets.load_gbsg2(), "time", "cens", "horTh", 250
    if name == "lung":  # days; 228 patients
        return datasets.load_lung(), "time", "status", "sex", 100
    if name == "leukemia":  # weeks; 42 patients
        return datasets.load_leukemia(), "t", "status", "Rx", 5
    raise AssertionError(name)


ROUND_TRIPS = ["waltons", "rossi", "kidney_transplant", "gbsg2", "lung", "leukemia"]


@pytest.mark.parametrize("name", ROUND_TRIPS)
def test_round_trip_meets_given_totals_exactly(name):
    df, time, event, arm, step = _case(name)
    arms = simulate_publication(df, time, event, arm, np.arange(0, df[time].max(), step))
    rec = GuyotReconstruction().fit(arms)
    for label, curve in arms.items():
        true = df[df[arm] == label]
        rebuilt = rec.ipd_[rec.ipd_.arm == label]
        assert int(rebuilt.event.sum()) == int(true[event].sum()) == curve.total_events
        assert rec.events_met_[label]
        assert len(rebuilt) == len(true)
        distance = _sup_distance(
            km_estimate(true[time], true[event]), km_estimate(rebuilt.time, rebuilt.event)
        )
        assert distance <= EXACT_CLICKS_TOL, (label, distance)
    assert (rec.at_risk_table_.reported == rec.at_risk_table_.rebuilt).all()
    assert (rec.summary.events_rebuilt == rec.summary.events_reported).all()


@pytest.mark.parametrize("step", [5, 10, 20, 25, 40, 50])
def test_aml_23_patients_rebuilt_within_002_of_its_km(step):
    """R's aml (23 patients, tied deaths, a censoring tied with a death) at several at-risk grids.

    With at risk every 20 weeks the published algorithm alone spread the Maintained arm's
    censoring at 45 to 50, after the death at 48, and missed its KM by 0.058 there.
    Tolerance: the issue's 0.02; the rebuilt KM is in fact within rounding of the clicks.
    """
    df = _aml()
    arms = simulate_publication(df, "time", "status", "x", np.arange(0, 161, step))
    rec = GuyotReconstruction().fit(arms)
    for label in arms:
        true = df[df.x == label]
        rebuilt = rec.ipd_[rec.ipd_.arm == label]
        assert int(rebuilt.event.sum()) == int(true.status.sum())
        distance = _sup_distance(
            km_estimate(true.time, true.status), km_estimate(rebuilt.time, rebuilt.event)
        )
        assert distance <= 0.02
        assert distance <= EXACT_CLICKS_TOL
        assert rec.max_abs_error_[label] <= 0.001  # clicks rounded to 3 decimals


def test_aml_km_matches_lifelines_at_the_tie():
    """Maintained: death and censoring both at 13 weeks; KM 10/11 * 9/10 = 0.818 after 13."""
    df = _aml()
    arms = simulate_publication(df, "time", "status", "x", np.arange(0, 161, 20))
    ipd = GuyotReconstruction().fit(arms).ipd_
    m = ipd[ipd.arm == "Maintained"]
    kmf = KaplanMeierFitter().fit(m.time, m.event)
    assert abs(kmf.predict(13.0) - 9 / 11) <= 1e-12
    assert abs(kmf.predict(47.9) - 9 / 11 * 7 / 8 * 6 / 7 * 4 / 5 * 3 / 4) <= 1e-12


def test_deaths_before_censorings_at_tied_times():
    """At the last time: 1 death and 2 censored. Rebuilt: the death first, KM 2/3 after it."""
    df = pd.DataFrame({"t": [2.0, 4, 4, 4], "e": [1, 1, 0, 0], "arm": "A"})
    arms = simulate_publication(df, "t", "e", "arm", [0, 3])
    ipd = GuyotReconstruction().fit(arms).ipd_
    assert ipd.time.tolist() == [2.0, 4.0, 4.0, 4.0]
    assert ipd.event.tolist() == [1, 1, 0, 0]
    _, s_ev = km_estimate(ipd.time, ipd.event)
    np.testing.assert_allclose(s_ev, [0.75, 0.75 * 2 / 3], rtol=0, atol=1e-12)


def test_missed_total_warns_and_says_so():
    """Curve falls only before 5, where 2 patients leave; 5 events reported: at most 2 possible."""
    arm = ArmCurve([0, 2, 2, 10], [1, 1, 0.9, 0.9], [0, 5], [10, 8], total_events=5)
    with pytest.warns(EventTotalNotMetWarning, match=r"arm A: 2 events rebuilt, 5 reported.*2"):
        rec = GuyotReconstruction().fit({"A": arm})
    assert not rec.events_met_["A"]
    assert rec.summary.loc["A", "events_max"] == 2
    assert "2/5 MISSED" in repr(rec)
    assert (rec.at_risk_table_.reported == rec.at_risk_table_.rebuilt).all()


def test_no_total_given_is_not_a_miss():
    arm = ArmCurve([0, 2, 2, 10], [1, 1, 0.9, 0.9], [0, 5], [10, 8])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = GuyotReconstruction().fit({"A": arm})
    assert pd.isna(rec.events_met_["A"]) and pd.isna(rec.events_given_["A"])
    assert "1/-" in repr(rec)


def test_accuracy_in_repr_and_html():
    df, time, event, arm, step = _case("leukemia")
    rec = GuyotReconstruction().fit(
        simulate_publication(df, time, event, arm, np.arange(0, 40, step))
    )
    text = repr(rec)
    assert text.startswith("GuyotReconstruction: 2 arms, 42 patients")
    assert "events rebuilt/given" in text and "max |S - clicks|" in text
    assert "9/9" in text and "21/21" in text
    html = rec._repr_html_()
    assert "<table" in html and "events rebuilt/given" in html
    assert repr(GuyotReconstruction()) == "GuyotReconstruction (not fitted)"
    for attr in ("events_given_", "events_rebuilt_", "events_met_", "max_abs_error_"):
        assert list(getattr(rec, attr).index) == [0, 1]


def test_click_noise_degrades_gracefully():
    """GBSG2 clicked with noise (time sd 0.2% of the axis, survival sd 0.003, seeded).

    Totals still met exactly; stated tolerances: clicks within 0.02 of the rebuilt curve (read
    within 1% of the axis in time), mean |S_true - S_rebuilt| over a 1-day grid within 0.01.
    """
    df, time, event, arm, step = _case("gbsg2")
    follow_up = float(df[time].max())
    arms = simulate_publication(
        df, time, event, arm, np.arange(0, follow_up, step), time_sd=0.002 * follow_up,
        survival_sd=0.003, seed=7,
    )  # fmt: skip
    rec = GuyotReconstruction().fit(arms)
    assert rec.events_met_.all()
    assert (rec.max_abs_error_ <= 0.02).all()
    grid = np.arange(0, follow_up)
    for label in arms:
        true, rebuilt = df[df[arm] == label], rec.ipd_[rec.ipd_.arm == label]
        curves = [km_estimate(true[time], true[event]), km_estimate(rebuilt.time, rebuilt.event)]
        at = [np.concatenate([[1.0], s])[np.searchsorted(t, grid, side="right")] for t, s in curves]
        assert np.mean(np.abs(at[0] - at[1])) <= 0.01


def test_click_noise_is_seeded_and_checked():
    df = _aml()
    a = simulate_publication(df, "time", "status", "x", [0, 20], time_sd=0.1, seed=3)
    b = simulate_publication(df, "time", "status", "x", [0, 20], time_sd=0.1, seed=3)
    np.testing.assert_array_equal(a["Maintained"].time, b["Maintained"].time)
    assert a["Maintained"].time[0] == 0 and a["Maintained"].survival[0] == 1
    with pytest.raises(InputError, match="must be >= 0"):
        simulate_publication(df, "time", "status", "x", [0, 20], survival_sd=-1)


def _write_arm(folder, name, curve: ArmCurve):
    c, r = folder / f"{name}_curve.csv", folder / f"{name}_risk.csv"
    pd.DataFrame({"t": curve.time, "s": curve.survival}).to_csv(c, index=False)
    pd.DataFrame({"t": curve.at_risk_times, "n": curve.at_risk}).to_csv(r, index=False)
    return str(c), str(r)


def test_cli_prints_accuracy(tmp_path, capsys):
    arms = simulate_publication(_aml(), "time", "status", "x", np.arange(0, 161, 20))
    args = ["km"]
    for label, curve in arms.items():
        args += ["--arm", label, *_write_arm(tmp_path, label, curve)]
        args += ["--events", label, str(curve.total_events)]
    assert main([*args, "-o", str(tmp_path / "out.csv")]) == 0
    out = capsys.readouterr().out
    assert "Accuracy" in out and "7/7" in out and "11/11" in out
    assert "WARNING" not in out


def test_cli_warns_on_missed_total(tmp_path, capsys):
    arm = ArmCurve([0, 2, 2, 10], [1, 1, 0.9, 0.9], [0, 5], [10, 8])
    args = ["km", "--arm", "A", *_write_arm(tmp_path, "A", arm), "--events", "A", "5"]
    with pytest.warns(EventTotalNotMetWarning):
        assert main([*args, "-o", str(tmp_path / "out.csv")]) == 0
    out = capsys.readouterr().out
    assert "2/5 MISSED" in out
    assert "WARNING: arm A: 2 events rebuilt, 5 reported" in out


def test_arm_without_events_publishes_and_rebuilds():
    """No events: the curve is flat at 1; nothing to rebuild but censorings, 0 of 0 events."""
    df = pd.DataFrame({"t": [1.0, 2, 3], "e": [0, 0, 0], "arm": "A"})
    arm = simulate_publication(df, "t", "e", "arm", [0, 2])["A"]
    assert arm.time.tolist() == [0.0, 3.0] and arm.survival.tolist() == [1.0, 1.0]
    rec = GuyotReconstruction().fit({"A": arm})
    assert rec.ipd_.event.sum() == 0 and len(rec.ipd_) == 3
    assert rec.events_met_["A"]


def test_totals_met_with_only_the_arm_size_at_risk():
    """No at-risk table beyond time 0: the totals pin the censoring; still on the true KM.

    Simulated trial (seeded): 400 per arm, exponential survival (medians 18 and 24 months),
    uniform censoring over 0-48 months. Tolerance as for the round trips.
    """
    rng = np.random.default_rng(4)
    arm = np.repeat(["control", "active"], 400)
    event_time = rng.exponential(np.where(arm == "control", 18, 24) / np.log(2))
    censor_time = rng.uniform(0, 48, arm.size)
    df = pd.DataFrame(
        {
            "time": np.round(np.minimum(event_time, censor_time), 2),
            "event": (event_time <= censor_time).astype(int),
            "arm": arm,
        }
    )
    rec = GuyotReconstruction().fit(simulate_publication(df, "time", "event", "arm", [0]))
    for label in ("control", "active"):
        true, rebuilt = df[df.arm == label], rec.ipd_[rec.ipd_.arm == label]
        assert int(rebuilt.event.sum()) == int(true.event.sum())
        distance = _sup_distance(
            km_estimate(true.time, true.event), km_estimate(rebuilt.time, rebuilt.event)
        )
        assert distance <= EXACT_CLICKS_TOL, (label, distance)
