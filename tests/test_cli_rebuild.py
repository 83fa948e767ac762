"""``alsstats rebuild``: writes the cohort and its provenance, refuses to overwrite."""

from __future__ import annotations

import json

from alsstats import data_path
from alsstats.cli import main

SUMMARY = str(data_path("mirocals", "reported.yaml"))


def test_rebuild_writes_cohort_and_provenance(tmp_path, capsys):
    out = tmp_path / "cohort.csv"
    assert main(["rebuild", SUMMARY, "--seed", "2025", "--out", str(out)]) == 0
    assert out.read_bytes() == data_path("mirocals", "cohort.csv").read_bytes()
    prov = json.loads((tmp_path / "cohort.provenance.json").read_text())
    assert prov["seed"] == 2025 and prov["feasible"]
    assert "22/22" in capsys.readouterr().out
    # a second run without --force refuses and leaves the file alone
    out.write_text("mine")
    assert main(["rebuild", SUMMARY, "--seed", "2025", "--out", str(out)]) == 2
    assert out.read_text() == "mine"
    assert "--force" in capsys.readouterr().err
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_missing_summary_is_a_clear_error(tmp_path, capsys):
    code = main(["rebuild", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "c.csv")])
    assert code == 2
    assert "nope.yaml: no such file" in capsys.readouterr().err
