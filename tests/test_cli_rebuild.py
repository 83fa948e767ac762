"""``alsstats rebuild``: writes the cohort and its provenance, refuses to overwrite."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import assert_regenerates_shipped

from alsstats import data_path
from alsstats.cli import main

SUMMARY = str(data_path("mirocals", "reported.yaml"))


def test_rebuild_writes_cohort_and_provenance(tmp_path, capsys):
    out = tmp_path / "cohort.csv"
    assert main(["rebuild", SUMMARY, "--seed", "2025", "--out", str(out)]) == 0
    prov = json.loads((tmp_path / "cohort.provenance.json").read_text())
    assert prov["seed"] == 2025 and prov["feasible"]
    assert "22/22" in capsys.readouterr().out
    rebuilt = out.read_bytes()
    # a second run without --force refuses and leaves the file alone
    out.write_text("mine")
    assert main(["rebuild", SUMMARY, "--seed", "2025", "--out", str(out)]) == 2
    assert out.read_text() == "mine"
    assert "--force" in capsys.readouterr().err
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind
    # last: on a machine that rounds otherwise a byte difference skips the rest of the test
    shipped = data_path("mirocals", "cohort.csv").read_bytes()
    assert_regenerates_shipped(rebuilt, shipped, "MIROCALS cohort (seed 2025)")


def test_missing_summary_is_a_clear_error(tmp_path, capsys):
    code = main(["rebuild", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "c.csv")])
    assert code == 2
    assert "nope.yaml: no such file" in capsys.readouterr().err


def _trial(tmp_path, **changes):
    """The generic two-arm summary with some figures changed (a dict of top-level sections)."""
    import yaml

    doc = yaml.safe_load(Path(GENERIC).read_text())
    doc.update(changes)
    path = tmp_path / "trial.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


GENERIC = str(
    data_path("mirocals", "reported.yaml").parents[2] / "tests/data/summaries/generic_two_arm.yaml"
)


def test_generic_two_arm_rebuilds_with_its_own_columns(tmp_path, capsys):
    out = tmp_path / "cohort.csv"
    assert main(["rebuild", GENERIC, "--out", str(out), "--max-seconds", "60"]) == 0
    header = out.read_text().splitlines()[0].split(",")
    assert header == ["id", "arm", "treatment", "time", "death", "crp", "age", "male"]
    assert "27/27" in capsys.readouterr().out


def test_infeasible_is_a_proof_with_its_own_exit_code(tmp_path, capsys):
    # 45 deaths on the drug arm but 110 alive of 150: no deaths-per-arm pair meets both
    events = [
        {"id": "deaths_drug", "arm": "drug", "value": 45, "source": "paper"},
        {"id": "deaths_placebo", "arm": "placebo", "value": 60, "source": "paper"},
    ]
    survival = [{"id": "alive_drug", "arm": "drug", "time": 365, "count": 110, "source": "paper"}]
    path = _trial(tmp_path, events=events, survival=survival, event_shares=[])
    out = tmp_path / "cohort.csv"
    assert main(["rebuild", path, "--out", str(out), "--max-seconds", "2"]) == 3
    text = capsys.readouterr().out
    assert "infeasible: {deaths_drug, alive_drug}: count arithmetic" in text
    assert not out.exists()


def test_not_found_in_time_is_distinct_from_infeasible(tmp_path, capsys):
    out = tmp_path / "cohort.csv"
    code = main(["rebuild", SUMMARY, "--seed", "3", "--out", str(out), "--max-seconds", "0.01"])
    assert code == 4
    text = capsys.readouterr().out
    assert "not found in the time given" in text and "another seed" in text
    assert "infeasible" not in text
    assert not out.exists()
    # --write-closest writes the closest cohort anyway, still exit 4
    code = main(
        ["rebuild", SUMMARY, "--seed", "3", "--out", str(out), "--max-seconds", "0.01",
         "--write-closest"]
    )  # fmt: skip
    assert code == 4 and out.exists()


def test_help_documents_the_exit_codes(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["rebuild", "--help"])
    text = capsys.readouterr().out
    for line in ("0  feasible", "3  infeasible", "4  not found in the time given"):
        assert line in text
