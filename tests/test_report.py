"""`alsstats reproduce`: the reanalysis from a reported summary and the report folder.

MIROCALS (shipped) and SIM-NFL (tests/data/summaries/simulated_nfl.yaml: a simulated trial with
another biomarker, arms, cut-offs and no LOQ, written by validation/simulated_summary.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from alsstats.cli import main
from alsstats.errors import ReconstructionError
from alsstats.report import Reanalysis, reanalyse, write_report

SIM = Path(__file__).parent / "data" / "summaries" / "simulated_nfl.yaml"


@pytest.fixture(scope="module")
def result() -> Reanalysis:
    return reanalyse()


@pytest.fixture(scope="module")
def sim() -> Reanalysis:
    # no range search: no test of this fixture reads it (the CLI run below searches the range
    # of this trial, the MIROCALS fixture with the report's own budget)
    return reanalyse(SIM, bounds_search=None)


@pytest.fixture(scope="module")
def mirocals_html(result: Reanalysis, tmp_path_factory) -> Path:
    return write_report(result, tmp_path_factory.mktemp("mir") / "report")


@pytest.fixture(scope="module")
def sim_cli(tmp_path_factory) -> tuple[Path, str]:
    """`alsstats reproduce --summary` on the non-MIROCALS summary, run once."""
    out = tmp_path_factory.mktemp("sim") / "rep"
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        # a short range search (the options' path); the MIROCALS fixture uses the default
        args = ["--bounds-starts", "1", "--bounds-steps", "20"]
        code = main(["reproduce", "--summary", str(SIM), "--out", str(out), *args])
    assert code == 0
    return out, buffer.getvalue()


class _Page(HTMLParser):
    """Visible text (not <style>) and the attributes of every <img>."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self._skip = False

    def handle_starttag(self, tag, attrs):
        if tag == "style":
            self._skip = True
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_endtag(self, tag):
        if tag == "style":
            self._skip = False

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _page(folder: Path) -> _Page:
    page = _Page()
    page.feed((folder / "index.html").read_text(encoding="utf-8"))
    return page


# ------------------------------------------------------------------------------ MIROCALS


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
    # names, cut-offs and units come from the summary
    m = result.modifier
    assert (m.id, m.cutoffs, m.unit, m.reported_at) == (
        "csf_pnfh",
        (750.0, 3700.0),
        "pg/mL",
        (0.0,),
    )
    assert result.limit_of_quantification == 100.0


def test_report_folder_is_written_once_and_replaced_only_with_force(
    result: Reanalysis, mirocals_html: Path
) -> None:
    out = mirocals_html
    names = sorted(p.name for p in out.iterdir())
    for expected in ("index.html", "hr_curve.png", "forest.png", "km.png", "cohort.csv"):
        assert expected in names
    assert "reported_vs_reconstructed.csv" in names
    html = (out / "index.html").read_text()
    assert "Reported vs rebuilt" in html and "limit of quantification" in html
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


# ------------------------------------------------------------------------------ any trial


def test_reproduce_summary_on_a_non_mirocals_trial(sim_cli: tuple[Path, str]) -> None:
    out, printed = sim_cli
    assert "SIM-NFL" in printed and "22 of 22" in printed
    text = " ".join(_page(out).text)
    assert "SIM-NFL reanalysis" in text
    assert "serum neurofilament light chain" in text and "serum_nfl" in text
    assert "15 < serum_nfl ≤ 74 pg/mL" in text  # a reported group, format's convention
    # no MIROCALS name, cut-off or assumption leaks into another trial's report
    for word in ("pnfh", "pNFH", "MIROCALS", "LOQ", "IL-2"):
        assert word not in text, word
    assert (out / "hr_at_serum_nfl.csv").is_file()


def test_names_cutoffs_and_units_come_from_the_summary(sim: Reanalysis) -> None:
    m = sim.modifier
    assert (m.id, m.label, m.unit, m.cutoffs) == (
        "serum_nfl",
        "serum neurofilament light chain",
        "pg/mL",
        (15.0, 74.0),
    )
    assert sim.limit_of_quantification is None
    assert sim.analysis.modifier_col == "serum_nfl"
    assert list(sim.subgroups.table["to"][:2]) == [15.0, 74.0]
    # reported 0.32 (0.14-0.73) at serum NfL = 0 by the simulated trial: met at its precision
    at_zero = sim.hr_table.set_index("value").loc[0.0]
    assert [round(at_zero[c], 2) for c in ("hr", "lower", "upper")] == [0.32, 0.14, 0.73]
    # events per group follow the axis's order treated/control and add up to the arm totals
    from alsstats.report._report_figures import forest_rows

    rows = forest_rows(sim)
    assert rows.loc[0, "events_treated"] == 42 and rows.loc[0, "events_control"] == 49
    assert rows.loc[1:, "events_treated"].sum() == 42
    assert rows["reported"].isna().tolist() == [False, True, False, False]


def test_the_modifier_is_read_from_any_summary() -> None:
    """No rebuild needed: the biomarker, its cut-offs and reference values from the summary."""
    from alsstats import data_path
    from alsstats.report._reanalysis import modifier_of
    from alsstats.summary import load_reported_summary

    generic = load_reported_summary(SIM.with_name("generic_two_arm.yaml"))
    assert modifier_of(generic) == ("crp", (5.0,), ())  # one cut-off, no model term
    mirocals = load_reported_summary(data_path("mirocals", "reported.yaml"))
    # the superseded topline range (no bounds) is left out; the model term is at 0
    assert modifier_of(mirocals) == ("csf_pnfh", (750.0, 3700.0), (0.0,))


def test_sections_that_do_not_apply_say_so(sim: Reanalysis, tmp_path: Path) -> None:
    """A trial without a biomarker: the rebuilt cohort's overall analysis, and each section
    about the biomarker says it does not apply (rendered from a real rebuilt cohort)."""
    bare = dataclasses.replace(
        sim,
        modifier=None,
        analysis=None,
        hr_table=None,
        johnson_neyman=None,
        crossing=None,
        subgroups=None,
        interaction_tests=None,
        guard_messages=[],
        bounds=None,
        bounds_note="",
    )
    out = write_report(bare, tmp_path / "bare")
    page = _page(out)
    text = " ".join(page.text)
    assert text.count("Not applicable") == 3
    assert not (out / "hr_curve.png").exists()
    assert {img["src"] for img in page.images} == {"forest.png", "km.png"}
    assert bare.headline().iloc[-1]["value"] == "not applicable"


# ------------------------------------------------------------------------------ for people

_TUPLE = re.compile(r"\(-?\d+(\.\d+)?(e-?\d+)?, -?\d")  # (0.3, 0.89); not 2,465


@pytest.mark.parametrize("which", ["mirocals", "sim"])
def test_report_html_holds_no_python_reprs_and_every_figure_has_alt_text(
    which: str, mirocals_html: Path, sim_cli: tuple[Path, str]
) -> None:
    folder = mirocals_html if which == "mirocals" else sim_cli[0]
    page = _page(folder)
    text = "\n".join(page.text)
    for token in ("None", "nan", "NaN", "True", "False", "np.float", "{", "}", "[", "]"):
        assert token not in text, token
    assert not _TUPLE.search(text), _TUPLE.search(text)
    assert len(page.images) >= 3
    for img in page.images:
        assert img.get("alt") and len(img["alt"]) > 60, img
    # CIs as papers print them
    assert re.search(r"\d\.\d\d \(\d\.\d\d-\d\.\d\d\)", text)


@pytest.mark.parametrize("which", ["mirocals", "sim"])
def test_hr_curve_covers_every_region_the_text_names(
    which: str, result: Reanalysis, sim: Reanalysis
) -> None:
    from alsstats.report._report_figures import hr_curve_figure

    r = result if which == "mirocals" else sim
    regions = r.regions_named()
    assert regions  # both trials name regions: CI excludes 1 somewhere, a Fieller set
    fig, alt = hr_curve_figure(r)
    spans = [ax.get_xlim() for ax in fig.axes]
    for lo, hi in regions:
        assert any(a <= lo and hi <= b for a, b in spans), (lo, hi, spans)
    # the whole observed range is drawn too (MIROCALS: up to 23,191 pg/mL)
    x = r.data[r.modifier.id]
    assert any(a <= x.min() and x.max() <= b for a, b in spans)
    if which == "mirocals":
        assert "8,956 to 23,191 pg/mL" in alt


# ------------------------------------------------------------------------------ pieces


def test_number_formats() -> None:
    from alsstats.report import _tables as fmt

    assert fmt.ratio_ci(0.5191, 0.3044, 0.8856) == "0.52 (0.30-0.89)"
    assert fmt.ratio_ci(1.37, None, None) == "1.37"
    assert fmt.ratio_ci(float("nan"), 1, 2) == fmt.DASH
    assert fmt.ratio(0.0423) == "0.042"
    assert (fmt.p_value(0.0163), fmt.p_value(0.0004), fmt.p_value(None)) == ("0.016", "<0.001", "–")
    assert fmt.interval(750, 3700, "x", "pg/mL") == "750 < x ≤ 3,700 pg/mL"
    assert fmt.interval(-np.inf, 15, "x") == "x ≤ 15"
    assert fmt.interval(74, None, "x") == "x > 74"
    assert fmt.span(2465.2, 8956.4, "pg/mL") == "2,465 to 8,956 pg/mL"
    assert fmt.span(-np.inf, 3.5) == "below 3.5"
    assert fmt.plain({"family": "weibull", "shape": 1.0}) == "family: weibull; shape: 1"
    assert fmt.plain([0.3, "b", None]) == "0.3, b, –"
    assert fmt.number(0.590909) == "0.5909" and fmt.number(110.0) == "110"


def test_km_band_matches_lifelines() -> None:
    """Greenwood log(-log) limits against lifelines' KaplanMeierFitter (independent code);
    tolerance 1e-10. Ties and censorings at event times included."""
    from lifelines import KaplanMeierFitter

    from alsstats.report._report_figures import km_with_band, number_at_risk

    rng = np.random.default_rng(3)
    t = np.round(rng.exponential(10, 80))
    d = (rng.random(80) < 0.7).astype(int)
    ours = km_with_band(t, d)
    kmf = KaplanMeierFitter().fit(t, d)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    keep = ours["survival"] > 0
    at = ours.loc[keep, "time"].to_numpy()
    np.testing.assert_allclose(ours.loc[keep, "survival"], sf.loc[at], atol=1e-10)
    np.testing.assert_allclose(ours.loc[keep, "lower"], ci.iloc[:, 0].loc[at], atol=1e-10)
    np.testing.assert_allclose(ours.loc[keep, "upper"], ci.iloc[:, 1].loc[at], atol=1e-10)
    # at risk: those with time >= t (hand count)
    assert number_at_risk(np.array([1, 2, 2, 5, 7]), np.array([0, 2, 3, 7, 8])).tolist() == [
        5,
        4,
        2,
        1,
        0,
    ]


def test_report_states_the_range_of_the_crossing_not_one_cohort(result, mirocals_html):
    """The crossing is a range over compatible cohorts; the report's cohort is one example in
    it (by construction: the search starts from it, so its crossing cannot fall outside)."""
    q = result.bounds.quantities["crossing"]
    assert q.lower < q.upper
    assert q.lower <= result.crossing.estimate <= q.upper
    headline = result.headline()
    row = headline[headline["quantity"] == "HR = 1 over the compatible cohorts found"]
    assert len(row) == 1 and "at least" in row["note"].iloc[0]
    example = headline[headline["quantity"] == "HR = 1 at (Fieller 95% set)"]
    assert example["note"].iloc[0] == "this cohort: one example"
    page = _Page()
    page.feed((mirocals_html / "index.html").read_text())
    text = " ".join(page.text)
    assert "What the published figures allow" in text
    assert any(img.get("src") == "bounds.png" and img.get("alt") for img in page.images)


def test_a_search_cut_short_is_not_called_infeasible():
    # the safety cap reached before any cohort meets the figures: "not found in the time
    # given" with a hint, never the wording of a proof
    with pytest.raises(ReconstructionError, match="not found in the time given") as err:
        reanalyse(SIM, max_seconds=1e-6, bounds_search=None)
    assert "infeasible" not in str(err.value)
