"""The reported-summary format: loading, the object model, provenance and every validation rule."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from alsstats import SummaryError, data_path
from alsstats.summary import (
    Population,
    ReportedSummary,
    load_reported_summary,
    parse_reported_summary,
    summary_from_dict,
)

MIROCALS = data_path("mirocals", "reported.yaml")
GENERIC = Path(__file__).parent / "data" / "summaries" / "generic_two_arm.yaml"
BASE = yaml.safe_load(MIROCALS.read_text())


def _load(doc: object, tmp_path: Path) -> ReportedSummary:
    path = tmp_path / "reported.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_reported_summary(path)


def _mutated(change: Callable[[dict], object]) -> dict:
    doc = copy.deepcopy(BASE)
    change(doc)
    return doc


def _hr(doc: dict, hr_id: str) -> dict:
    return next(h for h in doc["hazard_ratios"] if h["id"] == hr_id)


# ----------------------------------------------------------------------------- loading
def test_mirocals_loads_with_object_model() -> None:
    s = load_reported_summary(MIROCALS)
    assert s.sha256 == hashlib.sha256(MIROCALS.read_bytes()).hexdigest()
    assert s.trial["name"] == "MIROCALS"
    assert (s.treatment_arm.id, s.control_arm.id) == ("il2ld", "placebo")
    assert s.arm("il2ld").n.value == 110 and s.arm("il2ld").n.source == "medwire2025"
    assert s.follow_up["landmark"].value == 640
    assert [e.value for e in s.events_in("il2ld")] == [41]
    hr = s.hazard_ratio("interaction_model_treatment")
    assert (hr.value, hr.ci, hr.p, hr.level) == (0.32, (0.14, 0.73), 0.007, 0.95)
    assert hr.population == Population("model_term", term="treatment", modifier="csf_pnfh", at=0)
    assert s.hazard_ratio("low_pnfh").population.share == 0.70
    assert s.hazard_ratio("topline_adjusted_2022").status == "superseded"
    assert s.event_shares[0].shares == {"il2ld": 0.54, "placebo": 0.46}
    assert s.event_shares[0].status == "conflicting"
    assert s.assumption("pnfh_scale").value == "linear"
    assert s.covariates[0].name == "age" and s.covariates[0].value == 60
    assert s.eligibility["age_years"].upper == 75
    assert set(s.sources) >= {"lancet2025", "medwire2025", "hokuto"}


def test_accessor_unknown_id_is_summary_error() -> None:
    s = load_reported_summary(MIROCALS)
    with pytest.raises(SummaryError, match="no entry with id 'nope'"):
        s.hazard_ratio("nope")


def test_figures_table_has_provenance() -> None:
    s = load_reported_summary(MIROCALS)
    fig = s.figures()
    assert list(fig.columns[:3]) == ["id", "section", "quantity"]
    row = fig[(fig.id == "low_pnfh") & (fig.quantity == "hazard ratio")].iloc[0]
    assert (row.value, row.ci, row.p, row.source) == (0.52, (0.3, 0.89), 0.016, "hokuto")
    assert row.citation.startswith("hokuto.app")
    split = fig[fig.id == "death_split_medwire"]
    assert set(split.status) == {"conflicting"}
    assert fig.loc[fig.id == "deaths_il2ld", "derived"].iloc[0].startswith("110 randomised")
    assert not fig.duplicated(["id", "quantity", "arm"]).any()
    assert {"reported", "derived", "conflicting", "superseded"} == set(fig.status)


def test_repr_html_and_repr() -> None:
    s = load_reported_summary(MIROCALS)
    assert "<table" in s._repr_html_() and "MIROCALS" in s._repr_html_()
    assert "MIROCALS" in repr(s)


def test_generic_trial_loads() -> None:
    s = load_reported_summary(GENERIC)
    assert s.trial["name"] == "EXAMPLE-1"
    assert s.n_total == 300
    assert s.hazard_ratio("crp_high").population.upper is None


def test_same_bytes_same_hash(tmp_path: Path) -> None:
    a, b = _load(BASE, tmp_path), parse_reported_summary(yaml.safe_dump(BASE, sort_keys=False))
    assert a.sha256 == b.sha256


def test_missing_file() -> None:
    with pytest.raises(SummaryError, match="cannot read the file"):
        load_reported_summary("/nonexistent/reported.yaml")


# ----------------------------------------------------------------------------- validation
def test_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(SummaryError, match="must hold a YAML mapping, got a list"):
        _load([1, 2], tmp_path)


def test_yaml_syntax_error_names_line() -> None:
    with pytest.raises(SummaryError) as err:
        parse_reported_summary("format: x\narms: [1, 2\n", name="bad.yaml")
    assert str(err.value).startswith("bad.yaml: line 3")
    assert "YAML syntax error" in str(err.value)


def test_not_utf8() -> None:
    with pytest.raises(SummaryError, match="not UTF-8"):
        parse_reported_summary(b"format: \xff\xfe", name="bad.yaml")


def test_message_names_file_field_problem(tmp_path: Path) -> None:
    doc = _mutated(lambda d: _hr(d, "low_pnfh").update(value=0.2))
    with pytest.raises(SummaryError) as err:
        _load(doc, tmp_path)
    assert str(err.value) == (
        f"{tmp_path / 'reported.yaml'}: hazard_ratios[2].ci: lower 0.3 is above the estimate 0.2"
    )
    assert err.value.field == "hazard_ratios[2].ci"


CASES = [
    # (name, mutation, field, problem substring)
    ("format name", lambda d: d.update(format="other"), "format", "expected 'alsstats"),
    ("version", lambda d: d.update(format_version=3), "format_version", "unsupported version"),
    ("version bool", lambda d: d.update(format_version=True), "format_version", "unsupported"),
    ("missing top", lambda d: d.pop("arms"), "arms", "required field is missing"),
    ("missing field", lambda d: _hr(d, "low_pnfh").pop("value"), "hazard_ratios[2].value",
     "required field is missing"),
    ("wrong type", lambda d: _hr(d, "low_pnfh").update(value="0.52"), "hazard_ratios[2].value",
     "expected a number, got text '0.52'"),
    ("list type", lambda d: d.update(events={"a": 1}), "events", "expected a list"),
    ("unknown field", lambda d: _hr(d, "low_pnfh").update(valeu=1), "hazard_ratios[2].valeu",
     "did you mean 'value'"),
    ("unknown top", lambda d: d.update(hazards=[]), "hazards", "did you mean 'hazard_ratios'"),
    ("hr zero", lambda d: _hr(d, "overall_unadjusted").update(value=0), "hazard_ratios[0].value",
     "must be positive"),
    ("ci one number", lambda d: _hr(d, "low_pnfh").update(ci=[0.3]), "hazard_ratios[2].ci",
     "expected two numbers"),
    ("ci text", lambda d: _hr(d, "low_pnfh").update(ci=[0.3, "x"]), "hazard_ratios[2].ci[1]",
     "expected a number"),
    ("ci upper", lambda d: _hr(d, "low_pnfh").update(ci=[0.3, 0.5]), "hazard_ratios[2].ci",
     "upper 0.5 is below the estimate 0.52"),
    ("ci bound <= 0", lambda d: _hr(d, "low_pnfh").update(ci=[0, 0.89]), "hazard_ratios[2].ci[0]",
     "must be positive"),
    ("p > 1", lambda d: _hr(d, "low_pnfh").update(p=1.5), "hazard_ratios[2].p", "[0, 1]"),
    ("p < 0", lambda d: _hr(d, "low_pnfh").update(p=-0.1), "hazard_ratios[2].p", "[0, 1]"),
    ("level", lambda d: _hr(d, "low_pnfh").update(level=95), "hazard_ratios[2].level", "(0, 1)"),
    ("share > 1", lambda d: _hr(d, "low_pnfh")["population"].update(share=70),
     "hazard_ratios[2].population.share", "[0, 1]"),
    ("count negative", lambda d: d["events"][1].update(value=-1), "events[1].value", "negative"),
    ("count fraction", lambda d: d["events"][1].update(value=41.5), "events[1].value", "whole"),
    ("events above n", lambda d: d["events"][1].update(value=111), "events[1].value",
     "111 events exceed the 110 in 'il2ld'"),
    ("total above N", lambda d: d["events"][0].update(value=221), "events[0].value", "exceed"),
    ("unknown source", lambda d: d["events"][1].update(source="blog"), "events[1].source",
     "unknown source key 'blog'"),
    ("unknown arm", lambda d: d["events"][1].update(arm="il2"), "events[1].arm",
     "unknown arm id 'il2'"),
    ("unknown arm in HR", lambda d: _hr(d, "low_pnfh")["comparison"].update(control="x"),
     "hazard_ratios[2].comparison.control", "unknown arm id"),
    ("duplicate id", lambda d: d["events"][1].update(id="deaths_total"), "events[1].id",
     "duplicate id 'deaths_total'"),
    ("duplicate source", lambda d: d["sources"][1].update(key="lancet2025"), "sources[1].key",
     "duplicate source key"),
    ("duplicate arm", lambda d: d["arms"][1].update(id="il2ld"), "arms[1].id", "duplicate"),
    ("range", lambda d: _hr(d, "low_pnfh")["population"].update(lower=4000),
     "hazard_ratios[2].population", "lower 4000 is not below upper 3700"),
    ("unknown biomarker", lambda d: _hr(d, "low_pnfh")["population"].update(biomarker="nfl"),
     "hazard_ratios[2].population.biomarker", "unknown biomarker"),
    ("survival proportion", lambda d: d["survival"][0].update(proportion=59),
     "survival[0].proportion", "[0, 1]"),
    ("survival count", lambda d: d["survival"][1].update(count=120), "survival[1].count",
     "120 alive exceed the 110"),
    ("survival empty", lambda d: d["survival"][1].pop("count"), "survival[1]", "proportion or"),
    ("shares sum", lambda d: d["event_shares"][0].update(shares={"il2ld": 0.54, "placebo": 0.56}),
     "event_shares[0].shares", "sum to 1.100"),
    ("shares arm", lambda d: d["event_shares"][0].update(shares={"il2": 0.54, "placebo": 0.46}),
     "event_shares[0].shares.il2", "unknown field"),
    ("status", lambda d: _hr(d, "low_pnfh").update(status="disputed"),
     "hazard_ratios[2].status", "expected one of reported, derived"),
    ("population kind", lambda d: _hr(d, "low_pnfh")["population"].update(kind="range"),
     "hazard_ratios[2].population.kind", "expected one of all, biomarker_range"),
    ("population field", lambda d: _hr(d, "overall_unadjusted")["population"].update(share=1),
     "hazard_ratios[0].population.share", "unknown field"),
    ("roles", lambda d: d["arms"][1].update(role="treatment"), "arms", "one treatment and one"),
    ("trial arm", lambda d: d["trial"].update(treatment_arm="placebo"), "trial.treatment_arm",
     "not the arm with role treatment"),
    ("nan", lambda d: _hr(d, "low_pnfh").update(value=float("nan")), "hazard_ratios[2].value",
     "finite"),
    ("covariate proportion", lambda d: d["covariates"][1].update(value=62),
     "covariates[1].value", "[0, 1]"),
    ("eligibility", lambda d: d["eligibility"]["age_years"].update(lower=80),
     "eligibility.age_years", "lower 80 is above upper 75"),
    ("assumption", lambda d: d["assumptions"][0].pop("reason"), "assumptions[0].reason",
     "required"),
    ("key type", lambda d: d["trial"].update({1: "x"}), "trial", "field names must be text"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "field", "problem"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_validation_rule(change, field: str, problem: str) -> None:
    # validated from the parsed document (fast); the file path is covered by the tests above
    with pytest.raises(SummaryError) as err:
        summary_from_dict(_mutated(change), "reported.yaml")
    assert err.value.field == field
    assert problem in err.value.problem
    assert str(err.value) == f"reported.yaml: {field}: {err.value.problem}"


def test_documented_example_is_valid() -> None:
    doc = Path(__file__).parents[1] / "docs" / "summary-format.md"
    block = doc.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    s = parse_reported_summary(block, "docs example")
    assert s.trial["name"] == "EXAMPLE-1" and len(s.hazard_ratios) == 3


def test_other_format_is_named_before_its_fields(tmp_path: Path) -> None:
    with pytest.raises(SummaryError) as err:
        _load({"format": "cff", "format_version": 1, "title": "x"}, tmp_path)
    assert err.value.field == "format"
