"""Guyot reconstruction (alsstats.km): hand-worked cases, known truths, cleaning, CLI."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter, datasets

from alsstats.cli import main
from alsstats.km import (
    ArmCurve,
    GuyotReconstruction,
    clean_arm,
    guyot,
    read_arm,
    reconstruct_ipd,
    simulate_publication,
)
from alsstats.palette import SERIES
from alsstats.survival import km_estimate

KM_DATA = Path(__file__).parent / "data" / "km"


def test_hand_worked_arm():
    """10 patients; events at 1, 2, 4; one censored at 3; at risk 10 at 0 and 7 at 3.5.

    Worked by hand. Stage 1 (the published algorithm) puts the interval [0, 3.5)'s one censoring
    at 3.5 / 2 = 1.75, before the death at 2: 9 at risk there gives round(9 * (1 - 0.8 / 0.9))
    = 1 death and a KM of 0.9 * 8 / 9 = 0.7875 against the click 0.8. Stage 2 places it after
    the death at 2 instead, spread over (2, 3.5): time 2.75; 9 at risk at 2, KM 0.9 * 8 / 9 = 0.8,
    on the click. At 4: 7 at risk, round(7 * (1 - 0.686 / 0.8)) = 1 death, KM 0.6857 (click
    0.686); 3 events in all, as reported. The last interval's censoring stays where stage 1 put
    it (the fit is the same anywhere after 4): between the clicks at 4 and 5, at 4.5. The other 5
    are censored at the end of the curve, t=5.
    """
    arm = ArmCurve(
        [0, 1, 1, 2, 2, 4, 4, 5], [1, 1, 0.9, 0.9, 0.8, 0.8, 0.686, 0.686], [0, 3.5], [10, 7], 3
    )
    ipd = reconstruct_ipd({"A": arm})
    expected = pd.DataFrame(
        {
            "arm": ["A"] * 10,
            "time": [1, 2, 2.75, 4, 4.5, 5, 5, 5, 5, 5],
            "event": [1, 1, 0, 1, 0, 0, 0, 0, 0, 0],
        }
    )
    pd.testing.assert_frame_equal(ipd, expected, check_dtype=False, check_exact=True)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 500), min_size=3, max_size=40, unique=True))
def test_uncensored_data_rebuilt_exactly(times):
    """Known truth: without censoring every event time and count is recovered exactly."""
    df = pd.DataFrame({"t": np.array(times, float), "e": 1, "arm": "x"})
    arms = simulate_publication(df, "t", "e", "arm", [0, 100, 200], decimals=6)
    ipd = reconstruct_ipd(arms)
    np.testing.assert_array_equal(ipd.time.to_numpy(), np.sort(df.t.to_numpy()))
    assert ipd.event.sum() == len(times)


def test_reported_at_risk_met_on_real_data():
    """Rebuilt numbers at risk equal the reported ones at every time (GBSG2, 686 patients)."""
    g = datasets.load_gbsg2()
    arms = simulate_publication(g, "time", "cens", "horTh", np.arange(0, 2700, 250))
    rec = GuyotReconstruction().fit(arms)
    tab = rec.at_risk_table_
    assert (tab.reported == tab.rebuilt).all()
    assert list(rec.ipd_.arm.unique()) == ["no", "yes"]  # labels as given, in order
    assert list(rec.ipd_.columns) == ["arm", "time", "event"]
    # Every reported event is rebuilt, exactly.
    assert (rec.summary.events_rebuilt == rec.summary.events_reported).all()
    assert rec.events_met_.all()
    assert rec.summary.max_abs_error.max() <= 0.002  # clicks to 3 decimals


def test_km_estimate_and_median_match_lifelines():
    """Own KM and median (used in diagnostics) vs lifelines KaplanMeierFitter, to 1e-12."""
    df = datasets.load_waltons()
    t_ev, s_ev = km_estimate(df["T"], df["E"])
    kmf = KaplanMeierFitter().fit(df["T"], df["E"])
    ref = kmf.survival_function_.iloc[:, 0]
    np.testing.assert_allclose(s_ev, ref.loc[t_ev].to_numpy(), rtol=0, atol=1e-12)
    rec = GuyotReconstruction().fit(
        simulate_publication(df.assign(one=1), "T", "E", "one", [0, 20, 40, 60])
    )
    rebuilt = rec.ipd_
    m = KaplanMeierFitter().fit(rebuilt.time, rebuilt.event).median_survival_time_
    assert rec.summary.loc[1, "median_rebuilt"] == m


def test_determinism(tmp_path):
    """Same input, byte-identical output."""
    g = datasets.load_gbsg2()
    arms = simulate_publication(g, "time", "cens", "horTh", np.arange(0, 2700, 250))
    a, b = reconstruct_ipd(arms), reconstruct_ipd(arms)
    a.to_csv(tmp_path / "a.csv", index=False)
    b.to_csv(tmp_path / "b.csv", index=False)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_cleaning_report_records_each_change():
    arm = ArmCurve(
        time=[-0.2, 3, 1, 1, 2, 2, 2.5, 6],
        survival=[100.3, 70, 90, 90, 90, 80, 80.5, 70],
        at_risk_times=[0, 5],
        at_risk=[10, 7],
    )
    clean, report = clean_arm(arm, "A")
    whats = report.what.tolist()
    assert whats[0] == "scale detected" and report.after[0] == "percent"
    for what in (
        "clip to [0, 1]",
        "sort by time",
        "drop: before time 0",
        "make non-increasing",
        "drop duplicate",
        "add start point",
        "add point at at-risk time",
    ):
        assert what in whats, what
    assert set(report.columns) == {"arm", "what", "where", "before", "after"}
    np.testing.assert_array_equal(clean.time, [0, 1, 2, 2, 2.5, 3, 5, 6])
    np.testing.assert_allclose(clean.survival, [1, 0.9, 0.9, 0.8, 0.8, 0.7, 0.7, 0.7])


def test_cleaning_proportions_and_zero_at_risk_tail():
    arm = ArmCurve([0, 1, 1, 2, 2.5, 3], [1, 1, 0.5, 0.5, 0.5, 0.5], [0, 2], [4, 0])
    clean, report = clean_arm(arm)
    assert report.after[0] == "proportion"
    assert (report.what == "drop: after last at-risk time (0 at risk)").sum() == 2
    assert clean.time.max() == 2


def test_corner_clicks_out_of_order_are_noise_not_error():
    """The lower corner of a step clicked just left of the upper one is forgiven."""
    arm = ArmCurve([0, 5.02, 4.98, 10], [1, 1, 0.5, 0.5], [0, 10], [10, 5])
    _, report = clean_arm(arm)
    assert "make non-increasing" in report.what.tolist()
    ipd = reconstruct_ipd({"A": arm})
    assert ipd.event.sum() == 5


def test_diagnostics_exact_for_exact_corners():
    df = datasets.load_lung().dropna(subset=["time"])
    arms = simulate_publication(df, "time", "status", "sex", np.arange(0, 1100, 100), decimals=3)
    summary = GuyotReconstruction().fit(arms).summary
    # Rounded clicks sit within rounding (5e-4) plus one rebuilt count's step of the curve.
    assert (summary.max_abs_error <= 0.01).all()
    assert (summary.rmse <= summary.max_abs_error).all()
    assert (summary.median_clicks == summary.median_rebuilt).all()


def test_plot_labels_and_colours():
    g = datasets.load_gbsg2()
    rec = GuyotReconstruction().fit(
        simulate_publication(g, "time", "cens", "horTh", np.arange(0, 2700, 250))
    )
    ax = rec.plot(time_unit="days")
    assert ax.get_xlabel() == "Time (days)"
    assert "proportion" in ax.get_ylabel()
    colours = {line.get_color() for line in ax.get_lines()}
    assert colours <= set(SERIES)
    plt.close(ax.figure)


def test_read_arm_from_digitiser_files():
    arm = read_arm(KM_DATA / "leukemia_rx1_curve.csv", KM_DATA / "leukemia_rx1_at_risk.csv", 21)
    assert arm.time.size == 26 and arm.at_risk.tolist() == [21, 14, 8, 4, 2, 0, 0, 0]
    _, report = clean_arm(arm)
    assert report.after[0] == "percent"


def test_guyot_needs_points_at_at_risk_times():
    from alsstats.errors import ReconstructionError

    with pytest.raises(ReconstructionError, match="at-risk time"):
        guyot(np.array([0.0, 1.0]), np.array([1.0, 0.9]), np.array([0.0, 0.5]), np.array([5, 4]))


def _cli_args(out: Path, *extra: str) -> list[str]:
    return [
        "km",
        "--arm", "placebo", str(KM_DATA / "leukemia_rx0_curve.csv"),
        str(KM_DATA / "leukemia_rx0_at_risk.csv"),
        "--arm", "active", str(KM_DATA / "leukemia_rx1_curve.csv"),
        str(KM_DATA / "leukemia_rx1_at_risk.csv"),
        "--events", "placebo", "9", "--events", "active", "21",
        "-o", str(out), *extra,
    ]  # fmt: skip


def test_cli_end_to_end(tmp_path, capsys):
    out = tmp_path / "rebuilt.csv"
    assert main(_cli_args(out, "--plot", str(tmp_path / "km.png"), "--time-unit", "weeks")) == 0
    printed = capsys.readouterr().out
    assert "Cleaning report" in printed and "Diagnostics per arm" in printed
    ipd = pd.read_csv(out)
    assert list(ipd.columns) == ["arm", "time", "event"]
    assert ipd.groupby("arm").size().to_dict() == {"active": 21, "placebo": 21}
    assert ipd.groupby("arm").event.sum().to_dict() == {"active": 21, "placebo": 9}
    assert (tmp_path / "km.png").stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_cli_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "rebuilt.csv"
    out.write_text("keep me\n")
    assert main(_cli_args(out)) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_text() == "keep me\n"
    assert main(_cli_args(out, "--force")) == 0
    assert out.read_text().startswith("arm,time,event")


def test_hazard_ratio_diagnostic_matches_lifelines():
    """Engine Cox HR on the rebuilt data vs lifelines CoxPHFitter on the same data, to 1e-6."""
    from lifelines import CoxPHFitter

    g = datasets.load_gbsg2()
    rec = GuyotReconstruction().fit(
        simulate_publication(g, "time", "cens", "horTh", np.arange(0, 2700, 250))
    )
    data = rec.ipd_.assign(yes=(rec.ipd_.arm == "yes").astype(float))[["time", "event", "yes"]]
    cph = CoxPHFitter().fit(data, "time", "event")
    row = rec.hazard_ratio_.iloc[0]
    assert (row.arm, row.reference, row.status) == ("yes", "no", "ok")
    assert abs(row.log_hr - cph.params_["yes"]) <= 1e-6
    assert abs(row.se - cph.standard_errors_["yes"]) <= 1e-6
