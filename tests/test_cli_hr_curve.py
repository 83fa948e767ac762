"""The ``alsstats hr-curve`` subcommand: text and JSON output, and error messages."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REFERENCE, load_reference

from alsstats.cli import main

SIM = str(REFERENCE / "sim220_efron.csv")
ARGS = [
    "--time",
    "time",
    "--event",
    "event",
    "--formula",
    "trt * pnfh",
    "--treatment",
    "trt",
    "--modifier",
    "pnfh",
]


def test_text_output_has_table_region_and_guard(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hr-curve", SIM, *ARGS, "--at", "0,750,3700", "--loq", "750"]) == 0
    out = capsys.readouterr().out
    assert "WARNING: exp(coef) of trt is the hazard ratio at pnfh = 0" in out
    assert "below the limit of quantification 750" in out
    assert "Johnson-Neyman: The 95% CI of the treatment HR excludes 1 for pnfh < 2420.31" in out
    assert "HR = 1 at pnfh = 4111.35" in out and "Wald" in out


def test_json_matches_r_reference(capsys: pytest.CaptureFixture[str]) -> None:
    _, ref = load_reference("sim220_efron")
    assert main(["hr-curve", SIM, *ARGS, "--at", "0,250,500", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["terms"] == ref["terms"]
    for key in ("coef", "se", "var"):
        np.testing.assert_allclose(out[key], ref[key], rtol=1e-6)
    assert out["loglik"] == pytest.approx(ref["loglik"], rel=1e-6)
    assert out["loglik_null"] == pytest.approx(ref["loglik_null"], rel=1e-6)
    np.testing.assert_allclose(
        [r["hr"] for r in out["hr_table"]], [r["hr"] for r in ref["hr_curve"][:3]], rtol=1e-6
    )
    np.testing.assert_allclose(out["johnson_neyman"]["bounds"], ref["johnson_neyman"], rtol=1e-6)
    assert out["johnson_neyman"]["excludes_one"][0][0] is None  # -infinity in JSON
    assert out["hr_equals_one"]["estimate"] == pytest.approx(ref["hr_equals_one_at"], rel=1e-6)
    assert out["guard_warning"] is True


def test_centred_run_does_not_warn(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hr-curve", SIM, *ARGS, "--center", "median", "--ties", "breslow"]) == 0
    out = capsys.readouterr().out
    assert "NOTE: exp(coef) of trt is the hazard ratio at pnfh = 2491" in out


def test_errors_name_file_and_column(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    assert main(["hr-curve", str(tmp_path / "nope.csv"), *ARGS]) == 2
    assert "nope.csv: no such file" in capsys.readouterr().err
    bad = [a if a != "pnfh" else "csf_pnfh" for a in ARGS]
    assert main(["hr-curve", SIM, *bad]) == 2
    err = capsys.readouterr().err
    assert "sim220_efron.csv: csf_pnfh: no such column" in err
    assert main(["hr-curve", SIM, *ARGS, "--at", "0,abc"]) == 2
    assert "--at" in capsys.readouterr().err


OVARIAN = str(REFERENCE / "ovarian_rx_x_age.csv")
OV_ARGS = ["--time", "time", "--event", "event", "--formula", "rx2 * age"]
OV_ARGS += ["--treatment", "rx2", "--modifier", "age"]


@pytest.mark.parametrize("engine", ["lifelines", "fast"])
def test_ovarian_matches_r_where_lifelines_does_not_converge(
    engine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # R's ovarian, rx2 * age: R's coxph converges in 6 steps; lifelines' Newton-Raphson gives
    # up, and the adapter takes the engine's solution and says so. Tolerance 1e-6 relative.
    _, ref = load_reference("ovarian_rx_x_age")
    at = ",".join(str(x) for x in ref["at"])
    argv = ["hr-curve", OVARIAN, *OV_ARGS, "--at", at, "--json", "--engine", engine]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["terms"] == ref["terms"] and out["n"] == 26 and out["nevent"] == 12
    for key in ("coef", "se", "var"):
        np.testing.assert_allclose(out[key], ref[key], rtol=1e-6, err_msg=key)
    assert out["loglik"] == pytest.approx(ref["loglik"], rel=1e-6)
    assert out["loglik_null"] == pytest.approx(ref["loglik_null"], rel=1e-6)
    for key in ("log_hr", "se", "hr", "lower", "upper", "p"):
        np.testing.assert_allclose(
            [r[key] for r in out["hr_table"]], [r[key] for r in ref["hr_curve"]], rtol=1e-6
        )
    assert out["hr_equals_one"]["estimate"] == pytest.approx(ref["hr_equals_one_at"], rel=1e-6)
    assert out["johnson_neyman"]["bounds"] == ref["johnson_neyman"] == []
    assert out["engine"] == "fast"
    if engine == "lifelines":
        assert len(out["notes"]) == 1
        assert "lifelines' Newton-Raphson" in out["notes"][0] and "engine" in out["notes"][0]
    else:
        assert out["notes"] == []


def test_ovarian_text_says_which_fitter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hr-curve", OVARIAN, *OV_ARGS, "--at", "50,60"]) == 0
    out = capsys.readouterr().out
    assert "note: lifelines' Newton-Raphson" in out
    assert "the engine's solution (R's coxph algorithm" in out


def test_na_drop_is_na_omit(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    # --na drop fits the complete rows, as R's na.omit: identical to fitting the file without
    # them (to 1e-12), and says how many went. The default refuses, naming the column.
    df, _ = load_reference("sim220_efron")
    holes = df.copy()
    holes.loc[[4, 9], "pnfh"] = np.nan
    holes.loc[[9, 30, 31], "time"] = np.nan
    with_na, complete = tmp_path / "na.csv", tmp_path / "complete.csv"
    holes.to_csv(with_na, index=False)
    holes.dropna().to_csv(complete, index=False)
    assert main(["hr-curve", str(with_na), *ARGS]) == 2
    assert "time: 3 of 220 rows have missing values" in capsys.readouterr().err
    assert main(["hr-curve", str(with_na), *ARGS, "--na", "drop", "--json"]) == 0
    dropped = json.loads(capsys.readouterr().out)
    assert main(["hr-curve", str(complete), *ARGS, "--json"]) == 0
    reference = json.loads(capsys.readouterr().out)
    assert dropped["n"] == 216 and dropped["n_dropped"] == 4
    assert dropped["notes"] == [
        "4 of 220 rows dropped for missing values (in time, pnfh), as R's na.omit"
    ]
    np.testing.assert_allclose(dropped["coef"], reference["coef"], rtol=1e-12)
    np.testing.assert_allclose(dropped["loglik"], reference["loglik"], rtol=1e-12)
    assert main(["hr-curve", str(with_na), *ARGS, "--na", "drop"]) == 0
    assert "note: 4 of 220 rows dropped" in capsys.readouterr().out


def test_level_as_percent(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hr-curve", SIM, *ARGS, "--at", "0", "--level", "90%"]) == 0
    out = capsys.readouterr().out
    assert "(90% Wald CI)" in out and "nan" not in out.lower()
