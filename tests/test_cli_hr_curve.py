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
