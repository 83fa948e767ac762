"""`alsstats reproduce`: the reanalysis from shipped data and the report folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from alsstats.cli import main
from alsstats.report import Reanalysis, reanalyse, write_report


@pytest.fixture(scope="module")
def result() -> Reanalysis:
    return reanalyse()


def test_reanalysis_reproduces_the_reported_interaction_model(result: Reanalysis) -> None:
    at_zero = result.hr_table.set_index("value").loc[0.0]
    # reported: HR 0.32 (0.14-0.73) for treatment at pNFH = 0; agreement at reported precision
    assert (round(at_zero["hr"], 2), round(at_zero["lower"], 2), round(at_zero["upper"], 2)) == (
        0.32,
        0.14,
        0.73,
    )
    assert result.reconstruction.match_table()["agrees"].all()
    assert result.shipped_cohort_identical is True
    assert not result.checks.passed  # the 54/46 death split
    headline = result.headline().set_index("quantity")
    assert headline.loc["checks failed", "note"] == "all involve death_split_medwire"
    # the teaching point: the coefficient applies below the LOQ, the HR crosses 1 in range
    assert result.guard_messages and "limit of quantification" in result.guard_messages[0]
    lo, hi = result.analysis.observed_range_
    assert lo < result.crossing.estimate < hi


def test_report_folder_is_written_once_and_replaced_only_with_force(
    result: Reanalysis, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    write_report(result, out)
    names = sorted(p.name for p in out.iterdir())
    for expected in ("index.html", "hr_curve.png", "forest.png", "km.png", "cohort.csv"):
        assert expected in names
    assert "reported_vs_reconstructed.csv" in names
    html = (out / "index.html").read_text()
    assert "Reported vs reconstructed" in html and "limit of quantification" in html
    (out / "index.html").write_text("mine")
    with pytest.raises(Exception, match="already exists"):
        write_report(result, out)
    assert (out / "index.html").read_text() == "mine"
    write_report(result, out, force=True)
    assert (out / "index.html").read_text() != "mine"


def test_cli_reproduce_writes_the_report_then_refuses_to_overwrite(tmp_path: Path, capsys) -> None:
    out = tmp_path / "rep"
    assert main(["reproduce", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "0.32 (0.14-0.73)" in printed and "22 of 22" in printed
    assert (out / "index.html").is_file()
    assert main(["reproduce", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
