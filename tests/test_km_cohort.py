"""The Kaplan-Meier path joined to the reconstruction: a round trip through published curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from alsstats import data_path
from alsstats.errors import InputError, SummaryError
from alsstats.km import digitised_arms, ipd_from_curves, rebuild_from_curves, simulate_publication
from alsstats.summary import load_reported_summary
from alsstats.survival import km_estimate


def _publish(cohort: pd.DataFrame, folder: Path, extra: dict | None = None) -> Path:
    """Write the MIROCALS summary plus the curves a paper would show of ``cohort``."""
    curves = simulate_publication(cohort, "time", "death", "arm", np.arange(0, 641, 80.0))
    doc = yaml.safe_load(data_path("mirocals", "reported.yaml").read_text())
    doc["km_curves"] = []
    for arm, curve in curves.items():
        pd.DataFrame({"time": curve.time, "survival": curve.survival}).to_csv(
            folder / f"{arm}_km.csv", index=False
        )
        pd.DataFrame({"time": curve.at_risk_times, "at_risk": curve.at_risk}).to_csv(
            folder / f"{arm}_at_risk.csv", index=False
        )
        doc["km_curves"].append(
            {
                "arm": arm,
                "curve": f"{arm}_km.csv",
                "at_risk": f"{arm}_at_risk.csv",
                "total_events": int(curve.total_events),
                "source": "lancet2025",
                "locator": "round-trip test: curves published from the shipped cohort",
                **(extra or {}),
            }
        )
    path = folder / "with_curves.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _km_on_grid(time: pd.Series, event: pd.Series) -> np.ndarray:
    t_ev, s_ev = km_estimate(time, event)
    return np.r_[1.0, s_ev][np.searchsorted(t_ev, np.arange(0, 640, 5.0), side="right")]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    cohort = pd.read_csv(data_path("mirocals", "cohort.csv"))
    return cohort, _publish(cohort, tmp_path_factory.mktemp("published"))


def test_summary_carries_the_curves(published) -> None:
    _, path = published
    s = load_reported_summary(path)
    assert [c.arm for c in s.km_curves] == ["il2ld", "placebo"]
    arms = digitised_arms(s)
    assert arms["il2ld"].total_events == 41 and arms["placebo"].total_events == 49


def test_round_trip_through_published_curves_meets_every_figure(published) -> None:
    cohort, path = published
    ipd = ipd_from_curves(path)
    # the outcomes come from the curves: deaths per arm exact, KM within 0.02 of the truth
    for arm, deaths in (("il2ld", 41), ("placebo", 49)):
        part, true = ipd[ipd["arm"] == arm], cohort[cohort["arm"] == arm]
        assert int(part["event"].sum()) == deaths
        rebuilt = _km_on_grid(part["time"], part["event"])
        truth = _km_on_grid(true["time"], true["death"])
        # tolerance: 0.02, the Guyot validation target
        assert np.max(np.abs(rebuilt - truth)) <= 0.02
    rec = rebuild_from_curves(path, seed=1, max_seconds=60)
    table = rec.match_table().set_index("figure")
    assert table["agrees"].all(), table[~table["agrees"]]
    got = rec.cohort.sort_values(["arm", "time"])["time"].to_numpy(float)
    assert np.allclose(np.sort(got), np.sort(ipd["time"].to_numpy(float)), atol=0.5)


def test_bad_curve_entries_are_named(tmp_path: Path, published) -> None:
    cohort, _ = published
    with pytest.raises(SummaryError, match=r"km_curves\[0\]\.total_events"):
        load_reported_summary(_publish(cohort, tmp_path, {"total_events": 500}))
    doc = yaml.safe_load(data_path("mirocals", "reported.yaml").read_text())
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match="carries no digitised curves"):
        digitised_arms(path)
    folder = tmp_path / "missing"
    folder.mkdir()
    good = _publish(cohort, folder)
    (folder / "il2ld_km.csv").unlink()
    with pytest.raises(InputError, match=r"il2ld_km\.csv"):
        digitised_arms(good)


def test_cli_rebuild_takes_the_curve_path(published, tmp_path: Path, capsys) -> None:
    from alsstats.cli import main

    _, path = published
    out = tmp_path / "cohort.csv"
    assert main(["rebuild", str(path), "--seed", "1", "--out", str(out)]) == 0
    assert "22/22 reported figures reproduced" in capsys.readouterr().out
    rebuilt = pd.read_csv(out)
    # outcomes from the curves: same deaths per arm as the published cohort, Guyot times
    assert rebuilt.groupby("arm")["death"].sum().to_dict() == {"il2ld": 41, "placebo": 49}
    np.testing.assert_allclose(
        np.sort(rebuilt["time"]), np.sort(ipd_from_curves(path)["time"]), atol=0.5
    )
