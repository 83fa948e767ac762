"""Shared fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")  # tests never open windows

TEST_DATA = Path(__file__).parent / "data"
REFERENCE = TEST_DATA / "reference"
REFERENCE_CASES = sorted(p.stem for p in REFERENCE.glob("*.json"))


def load_reference(case: str) -> tuple[pd.DataFrame, dict]:
    """An R `survival::coxph` reference case: the data and the fit (see data/reference/README)."""
    data = pd.read_csv(REFERENCE / f"{case}.csv")
    return data, json.loads((REFERENCE / f"{case}.json").read_text())


@pytest.fixture(params=REFERENCE_CASES)
def reference_case(request: pytest.FixtureRequest) -> tuple[pd.DataFrame, dict]:
    return load_reference(request.param)
