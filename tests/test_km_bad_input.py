"""Unusable Kaplan-Meier inputs: one named InputError per problem, naming the file and field."""

from __future__ import annotations

import pytest

from alsstats.errors import InputError
from alsstats.km import ArmCurve, read_arm, read_at_risk_csv, read_curve_csv, reconstruct_ipd

GOOD_CURVE = "0,1\n1,1\n1,0.9\n2,0.9\n2,0.8\n3,0.8\n"
GOOD_RISK = "time,n\n0,10\n2,8\n"


def _files(tmp_path, curve=GOOD_CURVE, risk=GOOD_RISK):
    c, r = tmp_path / "curve.csv", tmp_path / "risk.csv"
    c.write_text(curve)
    r.write_text(risk)
    return c, r


def _rebuild(tmp_path, curve=GOOD_CURVE, risk=GOOD_RISK, events=None):
    return reconstruct_ipd({"A": read_arm(*_files(tmp_path, curve, risk), events)})


def test_good_files_rebuild(tmp_path):
    assert len(_rebuild(tmp_path)) == 10


def test_no_at_risk_rows(tmp_path):
    with pytest.raises(InputError, match=r"risk\.csv: at_risk: no at-risk rows"):
        _rebuild(tmp_path, risk="time,n\n")


def test_no_at_risk_rows_in_arrays():
    with pytest.raises(InputError, match="no at-risk rows"):
        reconstruct_ipd({"A": ArmCurve([0, 1], [1, 0.9], [], [])})


def test_survival_rising_beyond_tolerance(tmp_path):
    curve = "0,1\n1,0.7\n2,0.9\n3,0.6\n"
    with pytest.raises(
        InputError, match=r"curve\.csv: survival: survival rises from 0\.700 to 0\.900"
    ):
        _rebuild(tmp_path, curve=curve)


def test_times_past_last_at_risk_time(tmp_path):
    # Nobody at risk at 2, yet the curve keeps falling to time 3.
    curve = "0,1\n1,0.5\n2,0.5\n3,0.2\n"
    with pytest.raises(
        InputError, match=r"curve\.csv: time: clicks at times past the last at-risk"
    ):
        _rebuild(tmp_path, curve=curve, risk="0,10\n2,0\n")


def test_non_numeric_value(tmp_path):
    with pytest.raises(InputError, match=r"curve\.csv: line 3: non-numeric value 'abc'"):
        read_curve_csv(_files(tmp_path, curve="0,1\n1,0.9\nabc,0.8\n")[0])


def test_non_numeric_count(tmp_path):
    with pytest.raises(InputError, match=r"risk\.csv: line 3: non-numeric value 'ten'"):
        read_at_risk_csv(_files(tmp_path, risk="time,n\n0,12\n2,ten\n")[1])


def test_at_risk_counts_increasing(tmp_path):
    with pytest.raises(
        InputError, match=r"risk\.csv: at_risk: at-risk counts increase from 8 to 9"
    ):
        _rebuild(tmp_path, risk="0,10\n1,8\n2,9\n")


def test_at_risk_table_not_starting_at_zero(tmp_path):
    with pytest.raises(InputError, match="must start at time 0"):
        _rebuild(tmp_path, risk="1,10\n2,8\n")


def test_at_risk_times_not_increasing(tmp_path):
    with pytest.raises(InputError, match="times not increasing at 1"):
        _rebuild(tmp_path, risk="0,10\n1,9\n1,8\n")


def test_at_risk_count_not_whole(tmp_path):
    with pytest.raises(InputError, match="whole numbers"):
        _rebuild(tmp_path, risk="0,10\n1,8.5\n")


def test_total_events_out_of_range(tmp_path):
    with pytest.raises(InputError, match="total_events: 11 is not a count between 0 and 10"):
        _rebuild(tmp_path, events=11)


def test_one_column_file(tmp_path):
    with pytest.raises(InputError, match=r"curve\.csv: line 1: expected two columns"):
        read_curve_csv(_files(tmp_path, curve="0\n1\n")[0])


def test_empty_curve_file(tmp_path):
    with pytest.raises(InputError, match=r"curve\.csv: no digitised points"):
        read_curve_csv(_files(tmp_path, curve="x,y\n")[0])


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.csv: cannot read file"):
        read_curve_csv(tmp_path / "nope.csv")


def test_nan_in_arrays():
    with pytest.raises(InputError, match="survival: non-finite"):
        ArmCurve([0, 1], [1, float("nan")], [0], [5])


def test_lengths_differ():
    with pytest.raises(InputError, match="not as many values as times"):
        ArmCurve([0, 1, 2], [1, 0.9], [0], [5])


def test_unknown_scale():
    with pytest.raises(InputError, match="unknown scale"):
        reconstruct_ipd({"A": ArmCurve([0, 1], [1, 0.9], [0], [5])}, scale="log")


def test_not_an_arm_curve():
    with pytest.raises(InputError, match="expected an ArmCurve"):
        reconstruct_ipd({"A": [(0, 1)]})


def test_no_arms():
    with pytest.raises(InputError, match="no arms given"):
        reconstruct_ipd({})


def test_cli_unknown_events_label(tmp_path, capsys):
    from alsstats.cli import main

    c, r = _files(tmp_path)
    argv = ["km", "--arm", "A", str(c), str(r), "--events", "B", "3", "-o", str(tmp_path / "o.csv")]
    assert main(argv) == 2
    assert "no --arm with this label" in capsys.readouterr().err
