"""`alsstats check FILE [--json]`: table or JSON, exit 0 / 1 (a check failed) / 2 (bad file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alsstats import data_path
from alsstats.cli import main

MIROCALS = str(data_path("mirocals", "reported.yaml"))
GENERIC = str(Path(__file__).parent / "data" / "summaries" / "generic_two_arm.yaml")


def test_mirocals_table_flags_death_split(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", MIROCALS]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("VERDICT")
    failing = [line for line in out.splitlines() if line.startswith("fail")]
    assert failing and all("death_split_medwire" in line for line in failing)
    assert "FAILED" in out.splitlines()[-1]


def test_json_has_the_same_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", MIROCALS, "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert rows["passed"] is False
    fails = [r for r in rows["checks"] if r["verdict"] == "fail"]
    assert all("death_split_medwire" in r["inputs"] for r in fails)
    main(["check", MIROCALS])
    table = capsys.readouterr().out
    assert table.count("\n    ") == len(rows["checks"])  # one explanation line per row


def test_consistent_file_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", GENERIC]) == 0
    assert "all checks passed" in capsys.readouterr().out


def test_bad_file_exits_two_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    text = (
        Path(GENERIC)
        .read_text()
        .replace("value: 0.70\n    ci: [0.48", "value: 0.40\n    ci: [0.48")
    )
    bad.write_text(text)
    assert main(["check", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "hazard_ratios[0].ci: lower 0.48 is above the estimate 0.4" in captured.err
    assert str(bad) in captured.err and "Traceback" not in captured.err


def test_missing_file_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "/nonexistent/summary.yaml"]) == 2
    assert "cannot read the file" in capsys.readouterr().err


def test_help_describes_the_checks(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = capsys.readouterr().out
    assert "--json" in out and "hazard ratio" in out
