"""Each shipped trial's headline figures, typed here from the sources (not from the data files).

Sources: the facts file of the project (../shared/als-trials-facts.md) and the public abstracts
it cites; arm sizes of methylcobalamin from the JNNP 2019 Table 1, of CNM-Au8 from the AAN 2022
abstract. A figure changed in a data file, or lost from it, fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from alsstats.summary import load_reported_summary

TRIALS = Path(__file__).resolve().parents[1] / "data" / "trials"

# (trial, section, figure id, field, value as printed in the source)
PINS = [
    # CHAMPION-ALS: 382 randomised 2:1, primary p 0.61; no survival figure
    ("champion_als", "arms", "ravulizumab", "n", 255),
    ("champion_als", "arms", "placebo", "n", 127),
    ("champion_als", "comparisons", "cafs_week50", "p", "0.61"),
    # riluzole 1994: alive at 12 months 45/78 vs 57/77 (p 0.014); bulbar 6/17 vs 11/15
    ("riluzole_1994", "arms", "placebo", "n", 78),
    ("riluzole_1994", "arms", "riluzole", "n", 77),
    ("riluzole_1994", "survival", "alive_12_placebo", "count", 45),
    ("riluzole_1994", "survival", "alive_12_riluzole", "count", 57),
    ("riluzole_1994", "survival", "alive_12_placebo", "proportion", "58%"),
    ("riluzole_1994", "survival", "alive_12_riluzole", "proportion", "74%"),
    ("riluzole_1994", "survival", "alive_12_placebo_bulbar", "count", 6),
    ("riluzole_1994", "survival", "alive_12_riluzole_bulbar", "count", 11),
    ("riluzole_1994", "survival", "alive_12_placebo_limb", "proportion", "64%"),
    ("riluzole_1994", "survival", "alive_12_riluzole_limb", "proportion", "74%"),
    ("riluzole_1994", "comparisons", "p_alive_12", "p", "0.014"),
    ("riluzole_1994", "comparisons", "p_alive_12_bulbar", "p", "0.014"),
    ("riluzole_1994", "comparisons", "p_alive_12_limb", "p", "0.17"),
    ("riluzole_1994", "comparisons", "p_alive_end", "p", "0.046"),
    ("riluzole_1994", "comparisons", "p_alive_end_bulbar", "p", "0.013"),
    ("riluzole_1994", "medians", "median_placebo", "value", "449"),
    ("riluzole_1994", "medians", "median_riluzole", "value", "532"),
    # riluzole 1996: RR 0.79 (log-rank p 0.076), adjusted 0.65 (p 0.002); 50 mg 0.76, 200 mg 0.61
    ("riluzole_1996", "hazard_ratios", "rr_100_unadjusted", "value", "0.79"),
    ("riluzole_1996", "hazard_ratios", "rr_100_unadjusted", "p", "0.076"),
    ("riluzole_1996", "hazard_ratios", "rr_100_unadjusted", "test", "log_rank"),
    ("riluzole_1996", "hazard_ratios", "rr_100_adjusted", "value", "0.65"),
    ("riluzole_1996", "hazard_ratios", "rr_100_adjusted", "p", "0.002"),
    ("riluzole_1996", "hazard_ratios", "rr_50_adjusted", "value", "0.76"),
    ("riluzole_1996", "hazard_ratios", "rr_200_adjusted", "value", "0.61"),
    ("riluzole_1996", "hazard_ratios", "rr_200_adjusted", "p", "0.0004"),
    ("riluzole_1996", "comparisons", "p_100_wilcoxon", "p", "0.05"),
    ("riluzole_1996", "comparisons", "p_50_logrank", "p", "0.25"),
    ("riluzole_1996", "comparisons", "p_200_logrank", "p", "0.075"),
    # CENTAUR: 2021 HR 0.56 (0.34-0.92) p 0.023, medians 25.0 vs 18.5; 2022 0.57 (0.35-0.92)
    ("centaur", "hazard_ratios", "os_2021", "value", "0.56"),
    ("centaur", "hazard_ratios", "os_2021", "ci", ["0.34", "0.92"]),
    ("centaur", "hazard_ratios", "os_2021", "p", "0.023"),
    ("centaur", "hazard_ratios", "os_2022_itt", "value", "0.57"),
    ("centaur", "hazard_ratios", "os_2022_itt", "ci", ["0.35", "0.92"]),
    ("centaur", "hazard_ratios", "os_2022_rpsftm", "value", "0.39"),
    ("centaur", "hazard_ratios", "os_2022_rpsftm", "ci", ["0.17", "0.88"]),
    ("centaur", "medians", "median_2021_pb_turso", "value", "25.0"),
    ("centaur", "medians", "median_2021_placebo", "value", "18.5"),
    ("centaur", "medians", "median_2022_pb_turso", "value", "25.8"),
    ("centaur", "medians", "median_2022_placebo", "value", "18.9"),
    # CENTAUR JNNP 2022: 0.51 (0.32-0.84) p 0.007; any key event 0.53 (0.35-0.81) p 0.003
    ("centaur_jnnp", "hazard_ratios", "death_trach_pav", "value", "0.51"),
    ("centaur_jnnp", "hazard_ratios", "death_trach_pav", "ci", ["0.32", "0.84"]),
    ("centaur_jnnp", "hazard_ratios", "death_trach_pav", "p", "0.007"),
    ("centaur_jnnp", "hazard_ratios", "any_key_event", "value", "0.53"),
    ("centaur_jnnp", "hazard_ratios", "any_key_event", "p", "0.003"),
    ("centaur_jnnp", "hazard_ratios", "death_trach_24w", "ci", ["0.11", "3.92"]),
    # tofersen: week-28 p 0.97 (not Wald); 12-month death or PV 0.36 (0.137-0.941)
    ("tofersen_valor", "arms", "early_start", "n", 72),
    ("tofersen_valor", "arms", "delayed_start", "n", 36),
    ("tofersen_valor", "comparisons", "week28_primary", "p", "0.97"),
    ("tofersen_valor", "hazard_ratios", "death_or_pv_12m", "value", "0.36"),
    ("tofersen_valor", "hazard_ratios", "death_or_pv_12m", "ci", ["0.137", "0.941"]),
    ("tofersen_valor", "hazard_ratios", "death_12m", "ci", ["0.084", "0.890"]),
    # edaravone: 69 vs 68, p 0.0013, no survival endpoint
    ("edaravone_mci186_19", "arms", "edaravone", "n", 69),
    ("edaravone_mci186_19", "arms", "placebo", "n", 68),
    ("edaravone_mci186_19", "comparisons", "alsfrs_r", "p", "0.0013"),
    # lithium x UNC13A: 1.0 (0.7-1.4) p 0.96; interaction p 0.027; carriers 40.1% vs 69.7%
    ("lithium_unc13a", "hazard_ratios", "overall_12m", "value", "1.0"),
    ("lithium_unc13a", "hazard_ratios", "overall_12m", "ci", ["0.7", "1.4"]),
    ("lithium_unc13a", "hazard_ratios", "overall_12m", "p", "0.96"),
    ("lithium_unc13a", "interactions", "lithium_x_unc13a", "p", "0.027"),
    ("lithium_unc13a", "survival", "alive_12_placebo_carriers", "proportion", "40.1%"),
    ("lithium_unc13a", "survival", "alive_12_lithium_carriers", "proportion", "69.7%"),
    ("lithium_unc13a", "survival", "alive_12_lithium_carriers", "ci", ["50.4%", "96.3%"]),
    # masitinib: 45 vs 62, medians 69 vs 44, HR 0.53 (0.31-0.92) p 0.025
    ("masitinib", "arms", "masitinib", "n", 45),
    ("masitinib", "arms", "placebo", "n", 62),
    ("masitinib", "hazard_ratios", "os", "value", "0.53"),
    ("masitinib", "hazard_ratios", "os", "ci", ["0.31", "0.92"]),
    ("masitinib", "hazard_ratios", "os", "p", "0.025"),
    ("masitinib", "medians", "median_masitinib", "value", "69"),
    ("masitinib", "medians", "median_placebo", "value", "44"),
    # methylcobalamin: early entry 0.640 (0.377-1.085) for 25 mg, 0.498 (0.267-0.929) for 50 mg
    ("methylcobalamin", "hazard_ratios", "early_25mg", "value", "0.640"),
    ("methylcobalamin", "hazard_ratios", "early_25mg", "ci", ["0.377", "1.085"]),
    ("methylcobalamin", "hazard_ratios", "early_50mg", "value", "0.498"),
    ("methylcobalamin", "hazard_ratios", "early_50mg", "ci", ["0.267", "0.929"]),
    ("methylcobalamin", "arms", "placebo", "n", 123),
    ("methylcobalamin", "arms", "mecobalamin_25", "n", 124),
    ("methylcobalamin", "arms", "mecobalamin_50", "n", 123),
    # CNM-Au8: 5 vs 14 deaths, HR 0.291 (0.118-0.718), log-rank p 0.0115; 23 vs 22 randomised
    ("cnm_au8_rescue_als", "events", "deaths_cnm_au8", "value", 5),
    ("cnm_au8_rescue_als", "events", "deaths_placebo", "value", 14),
    ("cnm_au8_rescue_als", "hazard_ratios", "os", "value", "0.291"),
    ("cnm_au8_rescue_als", "hazard_ratios", "os", "ci", ["0.118", "0.718"]),
    ("cnm_au8_rescue_als", "hazard_ratios", "os", "p", "0.0115"),
    ("cnm_au8_rescue_als", "hazard_ratios", "os", "test", "log_rank"),
    ("cnm_au8_rescue_als", "arms", "cnm_au8", "n", 23),
    ("cnm_au8_rescue_als", "arms", "placebo", "n", 22),
]


def _file(trial: str) -> Path:
    """The trial's summary, or its draft when the figures cannot make a summary yet."""
    path = TRIALS / trial / "reported.yaml"
    return path if path.is_file() else TRIALS / trial / "reported.draft.yml"


def _raw(trial: str) -> dict:
    return yaml.safe_load(_file(trial).read_text())


def _figure(doc: dict, section: str, ident: str) -> dict:
    found = [f for f in doc.get(section) or [] if f.get("id") == ident]
    assert len(found) == 1, f"{section}.{ident}: {len(found)} entries"
    return found[0]


@pytest.mark.parametrize(("trial", "section", "ident", "field", "expected"), PINS)
def test_headline_figure_in_the_data_file(trial, section, ident, field, expected):
    fig = _figure(_raw(trial), section, ident)
    got = fig[field]["value"] if field == "n" else fig[field]
    assert got == expected


def test_every_trial_folder_is_pinned():
    pinned = {p[0] for p in PINS}
    folders = {p.name for p in TRIALS.iterdir() if _file(p.name).is_file()}
    assert folders == pinned


def test_champion_states_the_registry_status_not_pending():
    doc = _raw("champion_als")
    assert doc["trial"]["registration"]["status"] == "terminated"
    assert doc["trial"]["registration"]["clinicaltrials_gov"] == "NCT04248465"
    assert not doc.get("hazard_ratios") and not doc.get("events")
    assert "pending" not in yaml.safe_dump(doc["trial"]).lower()


def test_edaravone_has_no_survival_figure():
    doc = _raw("edaravone_mci186_19")
    for section in ("hazard_ratios", "events", "survival", "medians"):
        assert not doc.get(section)


def _float(printed):
    if isinstance(printed, list):
        return [_float(p) for p in printed]
    if isinstance(printed, str):
        return float(printed.rstrip("%")) / (100 if printed.endswith("%") else 1)
    return printed


def _load(trial: str):
    return load_reported_summary(TRIALS / trial / "reported.yaml")


# every trial with a loadable summary (lithium x UNC13A is a draft: arm sizes not located)
LOADED = [
    p
    for p in PINS
    if p[1] == "hazard_ratios"
    and p[3] in ("value", "ci", "p")
    and (TRIALS / p[0] / "reported.yaml").is_file()
]


@pytest.mark.parametrize(("trial", "section", "ident", "field", "expected"), LOADED)
def test_headline_hazard_ratios_as_loaded(trial, section, ident, field, expected):
    hr = _load(trial).hazard_ratio(ident)
    got = getattr(hr, field)
    want = _float(expected)
    assert (list(got) if field == "ci" else got) == pytest.approx(want, rel=1e-12)
