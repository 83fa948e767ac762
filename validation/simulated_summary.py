"""Write a reported summary of a simulated, non-MIROCALS trial (a test input of the report).

A trial of 110 + 110 is simulated from the MIROCALS calibration with a known treatment x
biomarker interaction, reported as a paper would (validation/round_trip.py's ``simulate_report``)
and then renamed: the trial, the arms, the biomarker (a serum neurofilament light chain, NfL, in
pg/mL) and its cut-offs. The biomarker is read on a scale 50 times smaller, so the reported
cut-offs are 15 and 74 pg/mL; hazard ratios at the cut-offs, subgroup HRs and shares and the
treatment HR at biomarker = 0 do not change under this rescaling, so every reported figure is
the simulated trial's own. No limit of quantification is assumed.

Usage: python validation/simulated_summary.py OUT.yaml [--seed S]
(tests/data/summaries/simulated_nfl.yaml was written with --seed 11.)
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np
import yaml

from alsstats import data_path
from alsstats.reconstruct import calibrate_model
from alsstats.summary import load_reported_summary

SCALE = 0.02  # biomarker units per MIROCALS pNFH unit
KEEP_ASSUMPTIONS = ("remaining_share", "baseline_hazard", "censoring", "age_distribution", "ties")


def _round_trip():
    path = Path(__file__).with_name("round_trip.py")
    spec = importlib.util.spec_from_file_location("round_trip", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rename(value, names: dict[str, str]):
    if isinstance(value, dict):
        return {names.get(k, k): _rename(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, names) for v in value]
    if isinstance(value, str):
        for old, new in names.items():
            value = value.replace(old, new)
        return value
    return value


def simulated_summary(seed: int) -> dict:
    rt = _round_trip()
    path = data_path("mirocals", "reported.yaml")
    template = yaml.safe_load(path.read_text())
    truth = calibrate_model(load_reported_summary(path))
    doc, _ = rt.simulate_report(truth, np.random.default_rng(seed), template)
    doc = rt._plain(doc)
    for h in doc["hazard_ratios"]:
        pop = h.get("population", {})
        for bound in ("lower", "upper"):
            if pop.get(bound) is not None:
                pop[bound] = round(pop[bound] * SCALE, 6)
        h["source"] = "sim"
        for key in ("locator", "note", "derived"):
            h.pop(key, None)
    doc = _rename(doc, {"il2ld": "active", "csf_pnfh": "serum_nfl", "pnfh": "nfl"})
    for section in ("events", "survival"):
        for item in doc[section]:
            item["source"] = "sim"
    doc["trial"] = {
        "name": "SIM-NFL",
        "title": "Simulated trial of drug Y with a serum NfL interaction (fictitious)",
        "phase": 2,
        "allocation": "1:1",
        "endpoint": {"name": "death from any cause", "time_unit": "days"},
        "treatment_arm": "active",
        "control_arm": "placebo",
        "primary_test": "log-rank",
    }
    doc["sources"] = [
        {"key": "sim", "citation": f"Simulated by validation/simulated_summary.py, seed {seed}."}
    ]
    n = {"value": 110, "source": "sim"}
    doc["arms"] = [
        {"id": "active", "label": "drug Y", "role": "treatment", "n": dict(n)},
        {"id": "placebo", "label": "placebo", "role": "control", "n": dict(n)},
    ]
    doc["follow_up"] = {"landmark": {"value": 640, "unit": "days", "source": "sim"}}
    doc["biomarkers"] = [
        {
            "id": "serum_nfl",
            "label": "serum neurofilament light chain",
            "unit": "pg/mL",
            "measured": "at randomisation",
            "source": "sim",
        }
    ]
    doc["covariates"] = [
        {"name": "age", "statistic": "median", "value": 60, "unit": "years", "source": "sim"},
        {"name": "male", "statistic": "proportion", "value": 0.62, "source": "sim"},
    ]
    doc["eligibility"] = {"age_years": {"lower": 18, "upper": 75, "source": "sim"}}
    doc["statements"] = []
    doc["event_shares"] = []
    doc["assumptions"] = [a for a in doc["assumptions"] if a["id"] in KEEP_ASSUMPTIONS]
    for a in doc["assumptions"]:
        a["reason"] = "Simulation setting."
        if a["id"] == "remaining_share":
            a["value"] = "below"
        a.pop("alternatives", None)
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args(argv)
    doc = simulated_summary(args.seed)
    head = (
        "# A simulated trial (not MIROCALS): written by validation/simulated_summary.py "
        f"--seed {args.seed}.\n# Every figure is the simulated trial's own, at printed precision.\n"
    )
    Path(args.out).write_text(head + yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
