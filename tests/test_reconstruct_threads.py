"""Rebuilds are re-entrant: two rebuilds run at once in threads equal the serial ones, and a
figure's wider margin is a value of its own design (no module state to leak or be cleared).

The "tight" summary is MIROCALS with the low-group p-value moved to 0.019, where HR 0.52,
CI 0.30-0.89 and p leave joint room only at a wider margin (0.99).
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import assert_regenerates_shipped

from alsstats import data_path
from alsstats.reconstruct import rebuild_cohort
from alsstats.reconstruct._fits import _subgroup_windows
from alsstats.reconstruct._rebuild import _prepare
from alsstats.summary import load_reported_summary


@pytest.fixture(scope="module")
def summaries():
    s = load_reported_summary(data_path("mirocals", "reported.yaml"))
    tight = dataclasses.replace(
        s,
        hazard_ratios=tuple(
            dataclasses.replace(h, p=0.019) if h.id == "low_pnfh" else h for h in s.hazard_ratios
        ),
    )
    return s, tight


def test_tight_figure_gets_a_wider_margin_in_its_design(summaries):
    s, tight = summaries
    assert _prepare(s, None, frozenset())[2].margins == {}
    design = _prepare(tight, None, frozenset())[2]
    assert design.margins == {
        "low_pnfh.hr": 0.99,
        "low_pnfh.ci_lower": 0.99,
        "low_pnfh.ci_upper": 0.99,
        "low_pnfh.p": 0.99,
    }
    assert _subgroup_windows(design)[2] == design.margins


def test_interleaved_rebuilds_equal_serial(summaries):
    s, _ = summaries
    serial = rebuild_cohort(s, seed=4)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(rebuild_cohort, s, seed=k) for k in (2025, 4)]
        shipped, threaded = (f.result() for f in futures)
    assert threaded.to_csv() == serial.to_csv()
    assert (threaded.steps, threaded.feasible) == (serial.steps, serial.feasible)
    on_disk = data_path("mirocals", "cohort.csv").read_bytes()
    assert_regenerates_shipped(shipped.to_csv().encode(), on_disk, "MIROCALS cohort (seed 2025)")
