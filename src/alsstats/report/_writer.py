"""The report folder: ``index.html`` (tables formatted for people, figures with alt text), the PNG
figures, the CSV tables (full precision, for machines) and the rebuilt cohort.

Sections that do not apply to a trial (no biomarker, no cut-off) say so instead of vanishing.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import atomic_write_dir
from ..version import __version__
from . import _tables as fmt
from ._reanalysis import Reanalysis, crossing_text, region_text
from ._report_figures import bounds_figure, forest_figure, forest_rows, hr_curve_figure, km_figure

__all__ = ["write_report"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1360px;
margin:0 auto;padding:0 20px 40px;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ccc}
.stamp{color:#666;font-size:.9em}
.table-wrap{overflow-x:auto;max-width:100%;margin:.6em 0 1em}
table{border-collapse:collapse;font-size:.88em}
caption{text-align:left;font-weight:600;padding:.3em 0}
th{text-align:left;border-bottom:2px solid #444;padding:4px 10px;vertical-align:bottom}
td{padding:3px 10px;border-bottom:1px solid #ddd;vertical-align:top;overflow-wrap:break-word}
table.wide{width:100%}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
figure{margin:1em 0}img{max-width:100%;height:auto}
figcaption{font-size:.9em;color:#444;max-width:60em}
.note{color:#444;font-size:.92em;max-width:60em}
.na{color:#555;font-style:italic}
.guard{color:#a84300;font-weight:600;max-width:60em}
"""


def _dpi_save(fig: Any, path: Path) -> None:
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})


def _figures(r: Reanalysis, folder: Path) -> dict[str, tuple[str, str]]:
    """Draw and save the figures; name -> (alt text, caption)."""
    out: dict[str, tuple[str, str]] = {}
    if r.analysis is not None:
        fig, alt = hr_curve_figure(r)
        _dpi_save(fig, folder / "hr_curve.png")
        out["hr_curve.png"] = (
            alt,
            "Treatment hazard ratio of the interaction model across the biomarker, in two "
            "panels: A where nearly all patients are (linear axis), B the whole observed range "
            "with every region the text names.",
        )
    if r.bounds is not None and r.modifier is not None:
        fig, alt = bounds_figure(r)
        _dpi_save(fig, folder / "bounds.png")
        out["bounds.png"] = (
            alt,
            "Treatment hazard ratio over the cohorts found that reproduce every reported figure "
            "(band), and the example cohort of this report with its 95% CI.",
        )
    fig, alt = forest_figure(r)
    _dpi_save(fig, folder / "forest.png")
    out["forest.png"] = (alt, "Treatment hazard ratio by group: rebuilt cohort and reported.")
    fig, alt = km_figure(r)
    _dpi_save(fig, folder / "km.png")
    out["km.png"] = (alt, "Kaplan-Meier curves of the rebuilt cohort.")
    return out


def _figure_html(name: str, alt: str, caption: str) -> str:
    return (
        f"<figure><img src='{name}' alt='{html.escape(alt, quote=True)}'>"
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _na(text: str) -> str:
    return f"<p class='na'>Not applicable: {html.escape(text)}</p>"


def _p(text: str, cls: str = "note") -> str:
    return f"<p class='{cls}'>{html.escape(text)}</p>"


# ------------------------------------------------------------------------------ tables


def hr_at_values_table(r: Reanalysis) -> pd.DataFrame:
    m = r.modifier
    assert m is not None and r.hr_table is not None
    notes = r.value_notes()
    return pd.DataFrame(
        {
            f"{m.short} ({m.unit})" if m.unit else m.short: [
                fmt.quantity(v) for v in r.hr_table["value"]
            ],
            "HR (95% CI)": [
                fmt.ratio_ci(h, lo, hi)
                for h, lo, hi in zip(
                    r.hr_table["hr"], r.hr_table["lower"], r.hr_table["upper"], strict=True
                )
            ],
            "p": [fmt.p_value(p) for p in r.hr_table["p"]],
            "why this value": [notes[float(v)] for v in r.hr_table["value"]],
        }
    )


def subgroup_table(r: Reanalysis) -> pd.DataFrame:
    rows = forest_rows(r)
    out = []
    for _, row in rows.iterrows():
        rep = row["reported"]
        out.append({
            "group": row["group"],
            f"n ({r.treated_label}/{r.control_label})": f"{row['n_treated']}/{row['n_control']}",
            "deaths (same order)": f"{row['events_treated']}/{row['events_control']}",
            "rebuilt HR (95% CI)": fmt.ratio_ci(row["hr"], row["lower"], row["upper"]),
            "rebuilt p": fmt.p_value(row["p"]),
            "reported HR (95% CI)": (
                fmt.ratio_ci(rep.value, *(rep.ci or (None, None))) if rep is not None
                else "not reported"
            ),
            "reported p": fmt.p_value(rep.p) if rep is not None else fmt.DASH,
        })  # fmt: skip
    return pd.DataFrame(out)


def tests_table(df: pd.DataFrame) -> pd.DataFrame:
    d = df.reset_index()
    return pd.DataFrame(
        {
            "test": d.iloc[:, 0],
            "statistic": [fmt.statistic(v) for v in d["statistic"]],
            "df": [fmt.number(v) for v in d["df"]],
            "p": [fmt.p_value(v) for v in d["p"]],
        }
    )


def match_table(r: Reanalysis) -> pd.DataFrame:
    mt = r.reconstruction.match_table()
    return pd.DataFrame(
        {
            "figure": mt["figure"],
            "statistic": [str(s).replace("_", " ") for s in mt["statistic"]],
            "reported": [fmt.plain(v) for v in mt["reported"]],
            "rebuilt": [fmt.number(v) for v in mt["reconstructed"]],
            "rebuilt, rounded as reported": [fmt.plain(v) for v in mt["rounded"]],
            "agrees": ["yes" if a else "NO" for a in mt["agrees"]],
        }
    )


def checks_table(r: Reanalysis) -> pd.DataFrame:
    c = r.checks.to_frame()
    return pd.DataFrame(
        {
            "check": [str(s).replace("_", " ") for s in c["check"]],
            "figures": c["inputs"],
            "observed": [fmt.plain(v) for v in c["observed"]],
            "expected": [fmt.plain(v) for v in c["expected"]],
            "verdict": c["verdict"],
            "explanation": c["explanation"],
        }
    )


def figures_table(r: Reanalysis) -> pd.DataFrame:
    f = r.summary.figures()
    ci = [f"{fmt.ratio(v[0])}-{fmt.ratio(v[1])}" if isinstance(v, tuple | list) else fmt.DASH
          for v in f["ci"]]  # fmt: skip
    # hazard ratios as papers print them (0.30, not 0.3); other values as given
    value = [fmt.ratio(v) if q == "hazard ratio" else fmt.plain(v)
             for q, v in zip(f["quantity"], f["value"], strict=True)]  # fmt: skip
    return pd.DataFrame(
        {
            "figure": f["id"],
            "quantity": f["quantity"],
            "arm": [fmt.plain(v) for v in f["arm"]],
            "value": value,
            "95% CI": ci,
            "p": [fmt.plain(v) for v in f["p"]],
            "unit": [fmt.plain(v) for v in f["unit"]],
            "source": f["source"],
            "where": [fmt.plain(v) for v in f["locator"]],
            "status": f["status"],
            "note": [fmt.plain(v) for v in f["note"]],
        }
    )


def sources_html(r: Reanalysis) -> str:
    items = "".join(
        f"<li><b>{html.escape(k)}</b>: {html.escape(s.citation)}</li>"
        for k, s in r.summary.sources.items()
    )
    return f"<ul class='note'>{items}</ul>"


def assumptions_table(r: Reanalysis) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "assumption": a.id,
                "value": fmt.plain(a.value),
                "reason": fmt.plain(a.reason),
                "alternatives": fmt.plain(getattr(a, "alternatives", None)),
            }
            for a in r.summary.assumptions
        ],
        columns=["assumption", "value", "reason", "alternatives"],
    )


def machine_tables(r: Reanalysis) -> dict[str, pd.DataFrame]:
    """Full-precision tables written as CSV next to the report."""
    tables = {
        "headline": r.headline(),
        "reported_figures": r.summary.figures(),
        "checks": r.checks.to_frame(),
        "reported_vs_reconstructed": r.reconstruction.match_table(),
    }
    if r.hr_table is not None and r.modifier is not None:
        tables[f"hr_at_{r.modifier.id}"] = r.hr_table
        tables["interaction_tests"] = r.interaction_tests.reset_index()
    if r.subgroups is not None:
        tables["subgroups"] = r.subgroups.table.reset_index()
    return tables


# ------------------------------------------------------------------------------ the page


def _intro(r: Reanalysis) -> str:
    s = r.summary
    title = s.trial.get("title", "")
    endpoint = (s.trial.get("endpoint") or {}).get("name", "the primary endpoint")
    arms = " vs ".join(f"{a.label or a.id} (n = {a.n.value})" for a in s.arms)
    m = r.modifier
    mod = (
        f" The treatment effect is modelled as a function of {m.label}"
        + (f" ({m.unit})" if m.unit else "")
        + (
            f", with the reported cut-offs {', '.join(fmt.quantity(c) for c in m.cutoffs)}."
            if m.cutoffs
            else " (no cut-off reported)."
        )
        if m is not None
        else " The summary names no biomarker, so only the overall analysis applies."
    )
    text = (
        f"{s.name}{': ' + title if title else ''}. {arms}; endpoint {endpoint}, time in "
        f"{r.time_unit}. Every figure below comes from a patient-level cohort rebuilt from the "
        f"published figures alone (seed {r.reconstruction.seed}); the reported figures it "
        f"reproduces are listed under 'Reported vs rebuilt'.{mod}"
    )
    return _p(text)


def _html(r: Reanalysis, figs: dict[str, tuple[str, str]]) -> str:
    fig = {name: _figure_html(name, alt, cap) for name, (alt, cap) in figs.items()}
    guard = "".join(_p(m, "guard") for m in r.guard_messages)
    shipped = {
        True: "The rebuilt cohort is byte-identical to the shipped data/mirocals/cohort.csv.",
        False: "WARNING: the rebuilt cohort differs from the shipped data/mirocals/cohort.csv.",
        None: "",
    }[r.shipped_cohort_identical]
    headline = fmt.html_table(r.headline(), css_class="headline")
    sections: list[tuple[str, str]] = [
        ("Summary", _intro(r) + headline + guard + (_p(shipped) if shipped else ""))
    ]
    m = r.modifier
    if m is None or r.analysis is None:
        sections.append(
            ("Treatment hazard ratio across a biomarker",
             _na("the summary reports no biomarker-range or model-term hazard ratio, so no "
                 "treatment x biomarker model is fitted."))
        )  # fmt: skip
    else:
        unit = m.unit
        jn = r.johnson_neyman
        lo, hi = r.analysis.observed_range_
        text = (
            f"Cox model with treatment, {m.id} and their product (ties: "
            f"{r.analysis.ties}), fitted on the rebuilt cohort. The observed range is "
            f"{fmt.span(lo, hi, unit)}. The 95% CI of the treatment HR excludes 1 for "
            f"{region_text(jn, unit)} (Johnson-Neyman); the HR equals 1 at "
            f"{crossing_text(r.crossing, unit, (lo, hi))} (estimate and Fieller 95% confidence "
            "set)."
        )
        if not m.reported_at:
            text += (
                " The summary reports no interaction model: this curve is the rebuilt cohort's "
                "own, constrained only by the reported group figures."
            )
        outside = jn.outside_observed if jn is not None else ()
        if outside:
            text += (
                " Beyond the observed range the linear model also excludes 1 for values "
                + " and ".join(fmt.span(a, b, unit) for a, b in outside)
                + ": an extrapolation, not drawn."
            )
        sections.append(
            (
                f"Treatment hazard ratio across {m.label}",
                fig["hr_curve.png"] + _p(text) + fmt.html_table(
                    hr_at_values_table(r), numeric=[c for c in hr_at_values_table(r).columns
                                                    if c != "why this value"],
                    caption=f"Treatment HR at selected values of {m.short}",
                ),
            )
        )  # fmt: skip
    if r.bounds is not None and r.modifier is not None:
        qs = r.bounds.summary
        table = pd.DataFrame(
            {
                "quantity": ["HR = 1 crossing"],
                "lower": [fmt.quantity(float(qs["lower"].iloc[0]))],
                "upper": [fmt.quantity(float(qs["upper"].iloc[0]))],
                "unit": [m.unit if m is not None else ""],
                "starts": [str(int(qs["starts"].iloc[0]))],
            }
        )
        search = r.bounds.search
        text = (
            "The paper did not report the interaction coefficient, so many cohorts reproduce "
            "every published figure; the cohort above is one of them. A directed search over "
            f"such cohorts ({search['starts']} starts, {search['steps_per_direction']} steps "
            "each way, every end certified by its match table) found the range below. Its "
            "ends are inner bounds: the figures allow at least this range. `alsstats bounds` "
            "searches longer, says whether the ends were stable, and repeats the search under "
            "each alternative assumption."
        )
        sections.append(
            (
                "What the published figures allow",
                _p(text)
                + fmt.html_table(table, numeric=["lower", "upper", "starts"])
                + fig["bounds.png"],
            )
        )
    elif r.bounds_note:
        sections.append(("What the published figures allow", _na(r.bounds_note)))
    sub_html = fig["forest.png"] + fmt.html_table(
        subgroup_table(r),
        numeric=[c for c in subgroup_table(r).columns if c != "group"],
        caption="Treatment HR by group (events in the order treated/control)",
    )
    if r.subgroups is not None and m is not None:
        sub_html += fmt.html_table(
            tests_table(r.subgroups.heterogeneity),
            numeric=["statistic", "df", "p"],
            caption="Heterogeneity across the groups",
        )
        x = r.data[m.id].to_numpy(float)
        ties_at_cut = int(np.isin(x, np.asarray(m.cutoffs)).sum())
        conv = (
            "Groups follow the summary format's convention lower < value ≤ upper."
            if ties_at_cut == 0
            else f"{ties_at_cut} patients have a value exactly at a cut-off; the subgroup fits "
            "place them in the upper group (lower ≤ value < upper), unlike the format's "
            "convention lower < value ≤ upper."
        )
        sub_html += _p(
            conv + " Groups marked 'not reported' were not published: their HRs are the rebuilt "
            "cohort's own, constrained by no reported figure."
        )
    else:
        sub_html += _na("the summary reports no biomarker cut-off; only all patients are shown.")
    sections.append(("Groups", sub_html))
    if r.interaction_tests is not None:
        sections.append(
            ("Interaction tests",
             fmt.html_table(tests_table(r.interaction_tests), numeric=["statistic", "df", "p"]))
        )  # fmt: skip
    else:
        sections.append(("Interaction tests", _na("no treatment x biomarker model.")))
    sections += [
        ("Survival", fig["km.png"]),
        ("Reported vs rebuilt", fmt.html_table(
            match_table(r), numeric=["reported", "rebuilt", "rebuilt, rounded as reported"],
            breakable=["figure"])),
        ("Consistency of the reported figures",
         fmt.html_table(checks_table(r), css_class="wide", breakable=["figures"])),
        ("Reported figures and their sources",
         fmt.html_table(figures_table(r), numeric=["value", "95% CI", "p"], css_class="wide",
                        breakable=["figure", "quantity"])
         + sources_html(r)),
        ("Assumptions (choices the papers leave open)",
         fmt.html_table(assumptions_table(r), css_class="wide")),
    ]  # fmt: skip
    body = "".join(f"<h2>{html.escape(title)}</h2>{content}" for title, content in sections)
    stamp = (
        f"alsstats {__version__}; summary {Path(r.summary.path).name}, sha256 "
        f"{r.summary.sha256[:16]}; reconstruction seed {r.reconstruction.seed}. Tables as CSV "
        "(full precision) and the rebuilt cohort are in this folder."
    )
    name = html.escape(r.summary.name)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{name} reanalysis</title><style>{_CSS}</style></head><body>"
        f"<h1>{name} reanalysis</h1><p class='stamp'>{html.escape(stamp)}</p>"
        f"{body}</body></html>\n"
    )


def write_report(r: Reanalysis, out: str | Path, *, force: bool = False) -> Path:
    """Write the report folder (``index.html``, PNG figures, CSV tables, the cohort).

    Refuses to replace an existing folder unless ``force``; the folder appears in one rename.
    """

    def fill(folder: Path) -> None:
        figs = _figures(r, folder)
        for name, df in machine_tables(r).items():
            df.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
        (folder / "cohort.csv").write_bytes(r.reconstruction.to_csv().encode("utf-8"))
        (folder / "index.html").write_text(_html(r, figs), encoding="utf-8")

    return atomic_write_dir(out, fill, force=force)
