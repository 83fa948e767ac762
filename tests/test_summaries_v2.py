"""Format version 2: figures as printed, levels, tests, time units, several arms, new sections.

Each printed form (trailing zero, bound, one decimal, percent, 90% CI, months) is loaded, run
through ``alsstats check --json`` and turned into reconstruction targets of the right width.
Expected intervals are worked by hand in the comments; the tolerance of float comparisons is
stated at each assertion.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from alsstats import SummaryError, data_path
from alsstats.checks import check_summary
from alsstats.cli import main
from alsstats.reconstruct import targets_from_summary
from alsstats.summary import (
    DAYS_PER,
    Printed,
    convert_time,
    load_reported_summary,
    parse_printed,
    printed_interval,
    summary_from_dict,
)

HERE = Path(__file__).parent / "data" / "summaries"
THREE = HERE / "three_arm_v2.yaml"
PRECISION = HERE / "printed_precision.yaml"
GENERIC = HERE / "generic_two_arm.yaml"


def _doc(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _hr(doc: dict, ident: str) -> dict:
    return next(h for h in doc["hazard_ratios"] if h["id"] == ident)


def _verdicts(report, check: str) -> dict[tuple[str, ...], str]:
    return {r.inputs: r.verdict for r in report if r.check == check}


# ------------------------------------------------------------------------ the precision rule
@pytest.mark.parametrize(
    ("written", "kwargs", "expected"),
    [
        ("0.60", {}, (0.595, 0.605)),  # trailing zero kept
        ("0.8", {}, (0.75, 0.85)),  # one decimal
        (0.8, {}, (0.795, 0.805)),  # a bare number: version 1, at least 2 decimals
        (0.3, {}, (0.295, 0.305)),
        ("0.007", {}, (0.0065, 0.0075)),
        ("12", {"scale": "measure"}, (11.5, 12.5)),
        (60, {"scale": "measure"}, (59.5, 60.5)),  # a bare measured quantity: as written
        ("58%", {"allow_percent": True}, (0.575, 0.585)),
        ("40.1%", {"allow_percent": True}, (0.4005, 0.4015)),
        ("<0.001", {"allow_bound": True}, (0.0, 0.001)),
        ("< 0.001", {"allow_bound": True}, (0.0, 0.001)),
        ("<.001", {"allow_bound": True}, (0.0, 0.001)),
        ("≤0.001", {"allow_bound": True}, (0.0, 0.001)),
        (">0.05", {"allow_bound": True}, (0.05, 1.0)),
        ("NS", {"allow_bound": True}, (0.05, 1.0)),
        ("NS", {"allow_bound": True, "alpha": 0.1}, (0.1, 1.0)),
        (41, {"scale": "count"}, (41.0, 41.0)),  # counts are exact
    ],
)
def test_printed_interval(written, kwargs, expected) -> None:
    assert printed_interval(written, **kwargs) == pytest.approx(expected, abs=1e-12)


def test_printed_form_keeps_text_and_value() -> None:
    p = parse_printed("0.60")
    assert (p.text, p.value, p.decimals, p.kind) == ("0.60", 0.6, 2, "rounded")
    assert p.contains(0.5999) and not p.contains(0.606)
    bound = parse_printed("<0.001", allow_bound=True)
    assert (bound.value, bound.kind, bound.is_bound) == (0.001, "upper_bound", True)
    assert bound.describe() == "<0.001 as [0, 0.001]"


@pytest.mark.parametrize(
    ("written", "kwargs", "problem"),
    [
        ("<0.001", {}, "only allowed for a p value"),
        ("58%", {}, "only allowed for a proportion"),
        ("0.6O", {}, "not a number as printed"),
        ("12.5", {"scale": "count"}, "whole number"),
        (True, {}, "expected a number"),
    ],
)
def test_printed_form_errors(written, kwargs, problem) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_printed(written, **kwargs)


def test_time_conversion_in_one_place() -> None:
    # 365.25 / 12 = 30.4375 days a month, exactly
    assert DAYS_PER["months"] == 30.4375
    assert convert_time(1, "years", "months") == 12.0
    assert convert_time(52, "weeks", "months") == pytest.approx(52 * 7 / 30.4375, abs=1e-12)
    assert convert_time(640, "days", "days") == 640


# ------------------------------------------------------------------------ loading version 2
def test_three_arm_file_loads() -> None:
    s = load_reported_summary(THREE)
    assert s.format_version == 2 and s.time_unit == "months"
    assert [a.id for a in s.arms] == ["placebo", "low", "high"]
    assert (s.treatment_arm.id, s.control_arm.id) == ("high", "placebo")
    assert s.trial["primary_test"] == "log_rank"  # "log-rank" normalised
    hr = s.hazard_ratio("high_vs_placebo")
    assert (hr.value, hr.ci, hr.level, hr.p, hr.test) == (
        0.68,
        (0.53, 0.87),
        0.90,
        0.01,
        "log_rank",
    )
    assert hr.printed_form("p").text == "0.010" and hr.interval("p") == pytest.approx(
        (0.0095, 0.0105), abs=1e-12
    )
    assert s.hazard_ratio("high_bulbar").test == "wald"  # the figure's own test wins
    sub = s.hazard_ratio("high_bulbar").population
    assert (sub.kind, sub.modifier, sub.category, sub.share) == (
        "subgroup",
        "onset",
        "bulbar",
        0.28,
    )
    high = next(x for x in s.survival if x.id == "alive_1y_high")
    assert high.time == 12.0 and high.unit == "months"  # 1 year, converted once at load
    assert high.ci == (0.57, 0.70) and high.interval("ci[0]") == pytest.approx((0.565, 0.575))
    med = {m.id: m for m in s.medians}
    assert med["median_low"].interval("value") == pytest.approx((11.95, 12.05), abs=1e-12)
    assert s.follow_up["minimum_follow_up"].value == pytest.approx(18.0, abs=1e-12)  # 1.5 years
    onset, nfl = s.modifiers
    assert onset.categories == ("bulbar", "limb") and onset.shares == {"bulbar": 0.3, "limb": 0.7}
    assert (nfl.median, nfl.iqr, nfl.range, nfl.limit_of_quantification) == (
        52.0, (31.5, 88.0), (4.1, 412.0), 5.0,
    )  # fmt: skip
    (inter,) = s.interactions
    assert (inter.value, inter.ci, inter.p, inter.test) == (0.84, (0.44, 1.61), 0.61, "wald")
    (comp,) = s.comparisons
    assert (comp.p, comp.test, comp.printed_form("p").kind) == (0.05, "log_rank", "lower_bound")
    assert s.sources["paper"].registry == "NCT00000003"
    assert s.hazard_ratio("high_vs_placebo").figure_role == "primary"
    table = s.figures()
    assert {"medians", "comparisons", "interactions", "modifiers"} <= set(table.section)


def test_documented_v2_example_is_valid() -> None:
    text = (Path(__file__).parents[1] / "docs" / "summary-format.md").read_text()
    block = text.split("### Example (version 2)", 1)[1].split("```yaml\n", 1)[1].split("```")[0]
    s = summary_from_dict(yaml.safe_load(block), "docs v2 example")
    assert s.trial["name"] == "EXAMPLE-3" and len(s.arms) == 3
    assert s.hazard_ratio("ratio_nfl").population.is_interaction_term
    assert s.hazard_ratio("ratio_nfl").per == "10 pg/mL"


def test_three_arm_checks() -> None:
    report = check_summary(load_reported_summary(THREE))
    rows = {(r.check, r.inputs): r for r in report}
    # the primary comparison's log-rank p beside a 90% Wald CI: read with the log-rank tolerance
    row = rows[("ci_vs_p", ("high_vs_placebo",))]
    assert (row.verdict, row.test) == ("pass", "log_rank")
    assert "0.53 as [0.525, 0.535)" in row.precision and "0.010 as" in row.precision
    for check in ("subgroup_pooling", "events_vs_ci_width", "hr_vs_medians", "arms_vs_total"):
        assert {r.verdict for r in report if r.check == check} == {"pass"}, check
    assert ("superseded", ("high_vs_placebo_press",)) in rows
    # The only failures: the death-split checks of the low dose. 72 vs 71 deaths imply HR
    # 1.01-1.05 by the log-rank approximations (no censoring assumed), while the simulated
    # trial's Cox fit gave 0.98: those (version-1) checks allow no sampling error.
    failed = {(r.check, r.inputs) for r in report.failures}
    assert failed == {
        ("hr_vs_death_split", ("deaths_low", "deaths_placebo", "low_vs_placebo")),
        ("death_split_vs_hr", ("deaths_low", "deaths_placebo", "low_vs_placebo")),
    }


# ------------------------------------------------------------------------ printed precision
def test_one_decimal_figures_pass_every_check() -> None:
    # Wald 0.771 (0.553-1.076), p 0.126 printed as 0.8 (0.6-1.1), p 0.1
    report = check_summary(load_reported_summary(PRECISION))
    assert report.passed, report.to_text()
    assert {r.check for r in report if r.verdict == "pass"} >= {
        "ci_symmetry", "ci_vs_p", "hr_vs_death_split", "events_vs_ci_width", "hr_vs_medians",
        "km_landmark_vs_deaths", "survival_vs_deaths",
    }  # fmt: skip


def test_the_same_figures_as_bare_numbers_fail() -> None:
    # read as 0.80 (0.60-1.10), p 0.10 (version 1): log arms 0.288 vs 0.318 beyond rounding,
    # and the Wald p 0.15 not within [0.095, 0.105)
    doc = _doc(PRECISION)
    _hr(doc, "overall").update(value=0.8, ci=[0.6, 1.1], p=0.1)
    report = check_summary(summary_from_dict(doc, "bare.yaml"))
    assert _verdicts(report, "ci_symmetry") == {("overall",): "fail"}
    assert _verdicts(report, "ci_vs_p") == {("overall",): "fail"}


# ------------------------------------------------------------------------ check --json
@pytest.mark.parametrize(
    ("form", "change", "in_precision", "width"),
    [
        ("trailing zero", {"value": "0.70", "ci": ["0.48", "1.03"], "p": "0.070"},
         "0.70 as [0.695, 0.705)", 0.005),
        ("bound", {"value": "0.70", "ci": ["0.48", "1.03"], "p": "<0.1"},
         "<0.1 as [0, 0.1]", 0.005),
        ("one decimal", {"value": "0.7", "ci": ["0.5", "1.0"], "p": "0.07"},
         "0.7 as [0.65, 0.75)", 0.05),
        # (0.51-0.96 would be narrower than any Cox fit with the file's 45 and 60 deaths)
        ("90% CI", {"value": "0.70", "ci": ["0.50", "0.97"], "level": 0.90, "p": "0.07"},
         "0.50 as [0.495, 0.505)", 0.005),
    ],
)  # fmt: skip
def test_printed_form_round_trips_through_check_json(
    form, change, in_precision, width, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _doc(GENERIC)
    doc["format_version"] = 2
    _hr(doc, "overall").update(change)
    path = tmp_path / "printed.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    assert main(["check", str(path), "--json"]) == 0, form
    rows = json.loads(capsys.readouterr().out)["checks"]
    ci_p = next(r for r in rows if r["check"] == "ci_vs_p" and r["inputs"] == ["overall"])
    # the file's trial.primary_test (log-rank) is the default test of a p in version 2
    assert ci_p["test"] == "log_rank" and in_precision in ci_p["precision"]
    assert ci_p["verdict"] == "pass"
    # the same file gives reconstruction targets of the printed width
    targets = {t.id: t for t in targets_from_summary(load_reported_summary(path))}
    hr = targets["overall.hr"]
    assert hr.half_width == pytest.approx(width, abs=1e-12)
    assert targets["overall.ci_lower"].level == change.get("level", 0.95)
    p = targets["overall.p"]
    if form == "bound":
        assert (p.lower, p.upper, p.reported) == (0.0, 0.1, "<0.1")
        assert p.rounds_to(0.03) and not p.rounds_to(0.12) and p.format(0.03) == "<0.1"
    else:
        assert p.test == "log_rank" and p.lower < float(change["p"]) < p.upper


def test_months_and_percent_targets(tmp_path: Path) -> None:
    s = load_reported_summary(PRECISION)
    targets = {t.id: t for t in targets_from_summary(s)}
    alive = targets["alive_placebo"]
    # "63%" -> [0.625, 0.635); a landmark of "1" year in a trial counted in months -> 12
    assert (alive.lower, alive.upper, alive.reported) == pytest.approx((0.625, 0.635, "63%"))
    assert alive.population["time"] == 12.0
    assert targets["alive_drug"].population["time"] == pytest.approx(52 * 7 / 30.4375)
    assert targets["overall.hr"].reported == "0.8"
    assert targets["overall.ci_upper"].half_width == pytest.approx(0.05, abs=1e-12)


def test_version_one_targets_unchanged() -> None:
    # the shipped MIROCALS file: precision exactly as before (the cohort test checks the rest)
    s = load_reported_summary(data_path("mirocals", "reported.yaml"))
    t = {x.id: x for x in targets_from_summary(s)}
    assert (t["low_pnfh.hr"].lower, t["low_pnfh.hr"].upper) == pytest.approx((0.515, 0.525))
    assert t["low_pnfh.ci_lower"].reported == "0.30" and t["low_pnfh.ci_lower"].level == 0.95
    assert (t["low_pnfh.p"].digits, t["age.median"].digits) == (3, 0)
    assert t["interaction_model_treatment.p"].test == "wald"


# ------------------------------------------------------------------------ clear errors
def _v2(change) -> dict:
    doc = _doc(THREE)
    change(doc)
    return doc


V2_ERRORS = [
    ("v2 section in v1", lambda d: d.update(format_version=1), "medians",
     "needs format_version: 2"),
    ("bad test", lambda d: _hr(d, "high_bulbar").update(test="t-test"),
     "hazard_ratios[2].test", "expected one of wald"),
    ("bound on a value", lambda d: _hr(d, "high_bulbar").update(value="<0.6"),
     "hazard_ratios[2].value", "only allowed for a p value"),
    ("not a number", lambda d: _hr(d, "high_bulbar").update(value="0.5x"),
     "hazard_ratios[2].value", "not a number as printed"),
    ("median field", lambda d: d["medians"][0].update(valeu="3"), "medians[0].valeu",
     "unknown field (did you mean 'value'?)"),
    ("median type", lambda d: d["medians"][0].update(value=[1]), "medians[0].value",
     "expected a number, got a list"),
    ("median arm", lambda d: d["medians"][0].update(arm="mid"), "medians[0].arm",
     "unknown arm id 'mid': used but not declared"),
    ("category", lambda d: _hr(d, "high_bulbar")["population"].update(category="spinal"),
     "hazard_ratios[2].population.category", "not a category of 'onset'"),
    ("subgroup modifier", lambda d: _hr(d, "high_bulbar")["population"].update(modifier="x"),
     "hazard_ratios[2].population.modifier", "unknown categorical modifier"),
    ("time unit", lambda d: d["survival"][2].update(unit="fortnights"), "survival[2].unit",
     "unknown time unit"),
    ("trial unit", lambda d: d["trial"].update(time_unit="hours"), "trial.time_unit",
     "expected one of days"),
    ("roles", lambda d: d["trial"].pop("treatment_arm"), "trial.treatment_arm",
     "several arms have role treatment"),
    ("iqr", lambda d: d["modifiers"][1].update(iqr=["88", "31"]), "modifiers[1].iqr",
     "is above"),
    ("survival n", lambda d: d["survival"][0].update(count=60, n=50), "survival[0].count",
     "60 alive exceed the 50"),
    ("landmark zero", lambda d: d["follow_up"].update(landmark={"value": 0, "source": "paper"}),
     "follow_up.landmark.value", "a landmark must be a positive time"),
    ("landmark negative", lambda d: d["follow_up"].update(
        landmark={"value": "-3", "source": "paper"}), "follow_up.landmark.value", "positive"),
    ("interaction empty", lambda d: [d["interactions"][0].pop(k) for k in ("value", "ci", "p")],
     "interactions[0]", "give a value"),
    ("figure role", lambda d: d["medians"][0].update(figure_role="rumour"),
     "medians[0].figure_role", "expected one of primary"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "field", "problem"), [c[1:] for c in V2_ERRORS],
                         ids=[c[0] for c in V2_ERRORS])  # fmt: skip
def test_version_2_errors_name_file_field_problem(change, field, problem) -> None:
    with pytest.raises(SummaryError) as err:
        summary_from_dict(_v2(change), "three.yaml")
    assert err.value.field.startswith(field), (err.value.field, field)
    assert problem in err.value.problem
    assert str(err.value).startswith("three.yaml: ")


def test_km_curve_file_must_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _doc(GENERIC)
    doc["km_curves"] = [
        {"arm": "drug", "curve": "missing.csv", "at_risk": "risk.csv", "source": "paper"}
    ]
    path = tmp_path / "curves.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "km_curves[0].curve: file not found" in err and "Traceback" not in err


def test_version_1_file_reads_as_before() -> None:
    s = load_reported_summary(GENERIC)
    hr = s.hazard_ratio("overall")
    assert (s.format_version, hr.test, hr.interval("value")) == (1, "wald", (0.695, 0.705))
    assert s.medians == [] and s.modifiers == [] and s.time_unit == "days"
    doc = copy.deepcopy(_doc(GENERIC))
    doc["trial"]["time_unit"] = "days"
    with pytest.raises(SummaryError, match="needs format_version: 2"):
        summary_from_dict(doc)
    doc = copy.deepcopy(_doc(GENERIC))
    _hr(doc, "overall")["value"] = "0.70"
    with pytest.raises(SummaryError) as err:
        summary_from_dict(doc, "v1.yaml")
    assert err.value.field == "hazard_ratios[0].value"
    assert "printed text need format_version: 2" in err.value.problem


def test_printed_dataclass_is_frozen() -> None:
    p = parse_printed("0.5")
    assert isinstance(p, Printed)
    with pytest.raises(AttributeError):
        p.value = 1.0  # type: ignore[misc]
