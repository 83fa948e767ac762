"""The trial catalogue and `alsstats catalogue`: every shipped trial listed, rows honest about
what loads, what the checks say and whether a cohort can be rebuilt; `alsstats check` never
crashes on a shipped summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alsstats.catalogue import build_catalogue, rebuild_status, trial_entries
from alsstats.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
TRIAL_DIRS = sorted(
    p.name
    for p in (DATA / "trials").iterdir()
    if any((p / f).is_file() for f in ("reported.yaml", "link.json", "reported.draft.yml"))
)
SUMMARIES = [DATA / "mirocals" / "reported.yaml"] + [
    DATA / "trials" / t / "reported.yaml"
    for t in TRIAL_DIRS
    if (DATA / "trials" / t / "reported.yaml").is_file()
]


@pytest.fixture(scope="module")
def catalogue_json(tmp_path_factory) -> dict:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["catalogue", "--json"]) == 0
    return json.loads(out.getvalue())


def test_catalogue_json_lists_every_trial(catalogue_json):
    assert [r["trial"] for r in catalogue_json["trials"]] == TRIAL_DIRS
    assert len(TRIAL_DIRS) >= 12


def test_mirocals_row(catalogue_json):
    row = next(r for r in catalogue_json["trials"] if r["trial"] == "mirocals")
    assert row["error"] == ""
    assert row["headline_hr"] == "0.81"
    assert row["headline_figure"] == "overall_unadjusted"
    assert "no CI" in row["missing"] and "no p" in row["missing"]
    # the conflicting medwire death split: named as a disagreement and in the failing checks
    assert row["disagreements"] == ["death_split_medwire"]
    assert row["checks_failed"] == len(row["failing_checks"]) > 0
    assert all("death_split_medwire" in c for c in row["failing_checks"])
    assert row["cohort"] == "mirocals/cohort.csv"
    assert row["registration"] == "clinicaltrials_gov NCT03039673; eudract 2015-005347-14"


@pytest.mark.parametrize("path", SUMMARIES, ids=[p.parent.name for p in SUMMARIES])
def test_check_exits_0_or_1_on_every_shipped_summary(path, capsys):
    code = main(["check", str(path)])
    err = capsys.readouterr().err
    assert code in (0, 1), err
    assert "Traceback" not in err


def test_rebuild_status_of_the_shipped_mirocals_cohort():
    entry = next(e for e in trial_entries() if e.id == "mirocals")
    assert rebuild_status(entry) == "feasible: shipped cohort meets 22 figures"


def test_rebuild_status_of_an_infeasible_trial_names_its_proof():
    # CNM-Au8: the proof's figures and arithmetic, not whatever else the closest cohort missed
    entry = next(e for e in trial_entries() if e.id == "cnm_au8_rescue_als")
    status = rebuild_status(entry, max_seconds=2)
    assert status.startswith("infeasible: {os.ci_lower, os.ci_upper, deaths_cnm_au8, deaths_p")
    assert "sqrt(1/5 + 1/14) = 0.521" in status and "os.p" not in status


def test_a_summary_that_does_not_load_is_a_row_not_a_crash(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "reported.yaml").write_text("format: nope\n")
    (tmp_path / "mirocals").mkdir()
    (tmp_path / "mirocals" / "link.json").write_text(
        json.dumps(
            {
                "summary": str(DATA / "mirocals" / "reported.yaml"),
                "cohort": str(DATA / "mirocals" / "cohort.csv"),
            }
        )
    )
    cat = build_catalogue(tmp_path, rebuild=True, max_seconds=1)
    rows = {r.trial: r for r in cat.rows}
    assert "broken/reported.yaml" in rows["broken"].error
    assert rows["broken"].rebuild == "not attempted: the summary does not load"
    assert rows["mirocals"].rebuild.startswith("feasible")
    assert "broken" in cat.to_text()


def test_cli_catalogue_text_and_missing_root(capsys, tmp_path):
    assert main(["catalogue"]) == 0
    assert "mirocals" in capsys.readouterr().out
    assert main(["catalogue", "--root", str(tmp_path / "nowhere")]) == 2
    assert "no such catalogue folder" in capsys.readouterr().err


def test_catalogue_json_is_the_same_from_any_working_directory(tmp_path, monkeypatch):
    first = build_catalogue().to_json()
    monkeypatch.chdir(tmp_path)
    assert build_catalogue().to_json() == first
    assert "/work/" not in first and str(DATA) not in first


def test_champion_row_states_the_registry_status(catalogue_json):
    row = next(r for r in catalogue_json["trials"] if r["trial"] == "champion_als")
    assert row["registration"] == (
        "clinicaltrials_gov NCT04248465; status terminated; results posted 2023-01"
    )
    assert row["headline_hr"] == "" and row["missing"][0].startswith("no survival figure")


def test_no_false_alarm_where_p_and_ci_come_from_different_tests(catalogue_json):
    # CNM-Au8: log-rank p 0.0115 beside a CI whose Wald reading gives about 0.007 (19 deaths);
    # the summary names the test and the checks respect it
    rows = {r["trial"]: r for r in catalogue_json["trials"]}
    # its one failure is a real one: 5 and 14 deaths force SE(log HR) >= 0.521, the printed
    # CI allows 0.462 (not a Cox Wald CI at these counts); the p is not flagged
    assert rows["cnm_au8_rescue_als"]["failing_checks"] == [
        "ci_width_vs_deaths(os, deaths_cnm_au8, deaths_placebo)"
    ]
    assert rows["cnm_au8_rescue_als"]["checks_passed"] >= 4
    assert rows["tofersen_valor"]["checks_failed"] == 0
    assert rows["riluzole_1996"]["checks_failed"] == 0


def test_disagreements_between_sources_are_shown(catalogue_json):
    rows = {r["trial"]: r for r in catalogue_json["trials"]}
    assert "os_2022_itt" in rows["centaur"]["disagreements"]
    assert {"follow_up.press_cohort_masitinib", "follow_up.press_cohort_placebo"} <= set(
        rows["masitinib"]["disagreements"]
    )


def test_a_draft_is_listed_with_its_reason(catalogue_json):
    # lithium x UNC13A: arm sizes not located, so its figures are a draft, not a summary
    row = next(r for r in catalogue_json["trials"] if r["trial"] == "lithium_unc13a")
    assert row["error"].startswith("A DRAFT, not a loadable summary")
    assert "518" in row["error"] and row["headline_hr"] == ""
