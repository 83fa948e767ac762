"""Pathological inputs give the package's own errors with clear messages (and no warnings)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import load_reference

from alsstats.errors import InputError, ModelError
from alsstats.interaction import TreatmentInteraction
from alsstats.survival import CoxModel


@pytest.fixture
def sim() -> pd.DataFrame:
    return load_reference("sim220_efron")[0]


def test_no_events_in_one_arm(sim: pd.DataFrame) -> None:
    df = sim.copy()
    df.loc[df["trt"] == 1, "event"] = 0
    with pytest.raises(ModelError, match=r"no events among the 110 rows where trt = 1"):
        CoxModel("trt").fit(df, "time", "event")
    with pytest.raises(ModelError, match=r"no events in arm trt = 1 \(110 patients\)"):
        TreatmentInteraction("trt * pnfh", "trt", "pnfh").fit(df, "time", "event")


def test_all_events_tied(sim: pd.DataFrame) -> None:
    df = sim.copy()
    df.loc[df["event"] == 1, "time"] = 12.0
    with pytest.raises(ModelError, match=r"all 90 events are tied at time 12"):
        CoxModel("trt * pnfh").fit(df, "time", "event")


def test_constant_modifier(sim: pd.DataFrame) -> None:
    df = sim.assign(pnfh=2000.0)
    with pytest.raises(ModelError, match=r"pnfh: constant \(2000 in all 220 rows\)"):
        CoxModel("trt * pnfh").fit(df, "time", "event")


def test_missing_values_name_column_and_count(sim: pd.DataFrame) -> None:
    df = sim.copy()
    df.loc[[3, 10, 40], "pnfh"] = np.nan
    with pytest.raises(InputError, match=r"trial.csv: pnfh: 3 of 220 rows have missing values"):
        CoxModel("trt * pnfh").fit(df, "time", "event", source="trial.csv")


def test_monotone_likelihood_is_reported() -> None:
    # Whoever dies first has the largest x in its risk set: the likelihood rises forever in b.
    n = 30
    df = pd.DataFrame({"time": np.arange(1.0, n + 1), "event": 1, "x": -np.arange(1.0, n + 1)})
    for engine in ("lifelines", "fast"):
        with pytest.raises(ModelError, match=r"monotone likelihood"):
            CoxModel("x", engine=engine).fit(df, "time", "event")


def test_unknown_column_in_formula(sim: pd.DataFrame) -> None:
    with pytest.raises(InputError, match=r"data: csf_pnfh: no such column \(columns: time"):
        CoxModel("trt * csf_pnfh").fit(sim, "time", "event")


def test_negative_times(sim: pd.DataFrame) -> None:
    df = sim.copy()
    df.loc[[0, 1], "time"] = -1.0
    with pytest.raises(InputError, match=r"time: 2 negative time\(s\)"):
        CoxModel("trt").fit(df, "time", "event")


def test_non_binary_event(sim: pd.DataFrame) -> None:
    df = sim.assign(event=sim["event"] * 2)
    with pytest.raises(InputError, match=r"event: event indicator must be 0/1"):
        CoxModel("trt").fit(df, "time", "event")


def test_log_of_nonpositive_values(sim: pd.DataFrame) -> None:
    df = sim.copy()
    df.loc[[5], "pnfh"] = 0.0
    with pytest.raises(InputError, match=r"np.log\(pnfh\): 1 rows give non-finite values"):
        CoxModel("trt * np.log(pnfh)").fit(df, "time", "event")


def test_bad_ties_and_unfitted() -> None:
    with pytest.raises(InputError, match="ties"):
        CoxModel("trt", ties="exact")
    with pytest.raises(ModelError, match="not fitted"):
        CoxModel("trt").summary  # noqa: B018


def test_non_convergence_is_reported() -> None:
    # Separation that lifelines' pre-checks do not see (x barely correlates with time): each
    # death has the largest x in its risk set, so Newton-Raphson runs away and never converges.
    rng = np.random.default_rng(0)
    deaths = pd.DataFrame({"time": np.arange(1.0, 11), "event": 1, "x": np.linspace(5, 4, 10)})
    censored = pd.DataFrame(
        {"time": rng.uniform(0, 12, 30), "event": 0, "x": rng.uniform(-1, 3, 30)}
    )
    df = pd.concat([deaths, censored], ignore_index=True)
    assert abs(np.corrcoef(df["x"], df["time"])[0, 1]) < 0.3
    with pytest.raises(ModelError, match=r"Cox fit of 'x'.*(converge|monotone)"):
        CoxModel("x").fit(df, "time", "event")
    with pytest.raises(ModelError, match=r"Cox fit of 'x'.*(converge|monotone)"):
        CoxModel("x", engine="fast").fit(df, "time", "event")
