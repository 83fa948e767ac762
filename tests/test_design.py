"""Trial simulator mechanics, analyses, reproducibility, sizing and output of alsstats.design."""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from alsstats import design as D
from alsstats.errors import InputError
from alsstats.models import DataGeneratingModel, LogNormalBiomarker, WeibullBaseline
from alsstats.palette import SERIES


@pytest.fixture(scope="module")
def model() -> DataGeneratingModel:
    return D.mirocals_reference_model()


# ---------------------------------------------------------------------------------- design


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"n": 2}, "n"),
        ({"accrual_rate": 0}, "accrual_rate"),
        ({"target_events": 500}, "target_events"),
        ({"allocation": (0, 1)}, "allocation"),
        ({"prognostic_shares": (0.3, 0.6), "prognostic_log_hr": (0, 0.2)}, "prognostic_shares"),
        ({"prognostic_shares": (0.3, 0.7)}, "prognostic_log_hr"),
        ({"enrichment": (3700, 750)}, "enrichment"),
        ({"primary_test": "subgroup"}, "subgroup"),
        ({"primary_test": "wilcoxon"}, "primary_test"),
        ({"biomarker_strata": (3700, 750)}, "biomarker_strata"),
    ],
)
def test_bad_design_raises_input_error(changes: dict, field: str) -> None:
    with pytest.raises(InputError, match=f"TrialDesign: {field}"):
        D.TrialDesign(**{"n": 200, **changes})


def test_enrichment_range_without_patients_is_an_input_error(model: DataGeneratingModel) -> None:
    design = D.TrialDesign(n=100, enrichment=(1e9, None))
    with pytest.raises(InputError, match="enrichment"):
        D.draw_trials(model, design, 2)


# ------------------------------------------------------------------------------- simulator


def test_permuted_blocks_balance_within_strata(model: DataGeneratingModel) -> None:
    design = D.TrialDesign(
        n=203,
        allocation=(2, 1),
        block_multiple=2,
        biomarker_strata=(3700,),
        prognostic_shares=(0.3, 0.7),
        prognostic_log_hr=(0.4, 0.0),
    )
    tr = D.draw_trials(model, design, 50, seed=3)
    assert set(np.unique(tr["stratum"])) == {0, 1, 2, 3}
    bs = design.block_size  # 6: four treated, two controls per block
    for r in range(50):
        for s in range(4):
            arm = tr["arm"][r][tr["stratum"][r] == s]
            n_full = (arm.size // bs) * bs
            # Complete blocks hold exactly 2:1; the open block never exceeds its quota.
            assert arm[:n_full].sum() == 2 * n_full // 3
            assert arm[n_full:].sum() <= 4 and (arm[n_full:] == 0).sum() <= 2
    # Biomarker strata follow the cut point.
    assert np.all((tr["stratum"] >= 2) == (tr["x"] > 3700))


def test_enrichment_screening_and_accrual(model: DataGeneratingModel) -> None:
    n, reps = 300, 400
    design = D.TrialDesign(n=n, accrual_rate=2.0, enrichment=(750, 3700))
    tr = D.draw_trials(model, design, reps, seed=5)
    assert tr["x"].min() >= 750 and tr["x"].max() <= 3700
    share = model.biomarker.share_between(750, 3700)  # ~0.70 by construction
    # Screens per randomised patient are geometric with mean 1/share; SE of the mean over
    # reps * n patients, tolerance 4 SE.
    per_patient = tr["n_screened"].mean() / n
    se = math.sqrt((1 - share) / share**2 / (n * reps))
    assert abs(per_patient - 1 / share) < 4 * se
    # Uniform accrual at 2 screens per day: the last randomisation ~ screens / 2 days.
    assert np.allclose(tr["accrual_days"], (tr["n_screened"] - 1) / 2.0, atol=0.5)


def test_unenriched_accrual_is_uniform(model: DataGeneratingModel) -> None:
    tr = D.draw_trials(model, D.TrialDesign(n=100, accrual_rate=0.5), 3, seed=1)
    entry_gap = np.diff(tr["accrual_days"])  # same n, same rate: same duration up to jitter
    assert np.all(np.abs(entry_gap) < 2.0)
    assert np.all(tr["n_screened"] == 100)


def test_calendar_analysis_and_follow_up_cap(model: DataGeneratingModel) -> None:
    design = D.TrialDesign(n=120, accrual_rate=0.4, follow_up=640, min_follow_up=180)
    tr = D.draw_trials(model, design, 20, seed=2)
    assert np.allclose(tr["analysis_day"], tr["accrual_days"] + 180)
    assert tr["time"].max() <= 640
    # The last patient is followed 180 days at most.
    assert np.all(tr["time"][:, -1] <= 180 + 1e-9)
    assert tr["present"].all()


def test_event_driven_analysis_has_target_events(model: DataGeneratingModel) -> None:
    design = D.TrialDesign(n=300, accrual_rate=0.5, target_events=90)
    tr = D.draw_trials(model, design, 30, seed=4)
    assert tr["events_reached"].all()
    assert np.all(tr["event"].sum(axis=1) == 90)
    # Patients randomised after the analysis day are not analysed.
    late = ~tr["present"]
    assert np.all(tr["event"][late] == 0)


def test_event_driven_never_reached_is_flagged() -> None:
    slow = DataGeneratingModel(
        WeibullBaseline(1.0, 1e6), LogNormalBiomarker(2000.0, 0.5), 0.0, 0.0, 0.0
    )
    tr = D.draw_trials(slow, D.TrialDesign(n=50, target_events=40), 5, seed=1)
    assert not tr["events_reached"].any()
    assert tr["present"].all()


def test_dropout_share_matches_exponential() -> None:
    # No deaths: censoring before the 640-day horizon is dropout, P = 1 - exp(-640 rate).
    immortal = DataGeneratingModel(
        WeibullBaseline(1.0, 1e12), LogNormalBiomarker(2000.0, 0.5), 0.0, 0.0, 0.0
    )
    rate = 1 / 1000
    tr = D.draw_trials(immortal, D.TrialDesign(n=500, dropout_rate=rate), 20, seed=9)
    lost = (tr["time"] < 640).mean()
    expected = 1 - math.exp(-640 * rate)
    assert abs(lost - expected) < 4 * math.sqrt(expected * (1 - expected) / 10_000)


def test_common_random_numbers_across_n(model: DataGeneratingModel) -> None:
    small = D.draw_trials(model, D.TrialDesign(n=100), 7, seed=11)
    large = D.draw_trials(model, D.TrialDesign(n=160), 7, seed=11)
    assert np.array_equal(small["x"], large["x"][:, :100])


def test_reference_model_calibration_by_simulation(model: DataGeneratingModel) -> None:
    # HRs at 2,000 and 6,000 pg/mL read off the reported subgroups (linear scale, b = 2.4e-4).
    assert math.exp(model.log_hazard_ratio(0.0)) == pytest.approx(0.32)
    assert math.exp(model.log_hazard_ratio(2000.0)) == pytest.approx(0.52, abs=0.01)
    assert math.exp(model.log_hazard_ratio(6000.0)) == pytest.approx(1.37, abs=0.05)
    assert model.biomarker.share_between(750, 3700) == pytest.approx(0.70, abs=1e-9)
    # 59% alive at 640 days in a 1:1 trial, checked by simulation: 100 trials x 2,000 patients,
    # binomial SE ~0.0011, tolerance 4 SE.
    tr = D.draw_trials(model, D.TrialDesign(n=2000, accrual_rate=10), 100, seed=7)
    alive = 1 - tr["event"].mean()
    assert abs(alive - 0.59) < 4 * math.sqrt(0.59 * 0.41 / 200_000)


# -------------------------------------------------------------------------------- analyses


def test_cox_analyses_agree_with_lifelines(model: DataGeneratingModel) -> None:
    design = D.TrialDesign(
        n=220,
        accrual_rate=0.5,
        subgroup=(750, 3700),
        biomarker_strata=(3700,),
        target_events=80,
    )
    sim = D.simulate_trials(model, design, 3, seed=8, chunk_size=3)
    tr = D.draw_trials(model, design, 3, seed=8)
    for r in range(3):
        keep = tr["present"][r]
        df = pd.DataFrame(
            {
                "time": tr["time"][r],
                "event": tr["event"][r],
                "arm": tr["arm"][r],
                "g": tr["x"][r] / 1000,
                "stratum": tr["stratum"][r],
            }
        )[keep]
        df["arm_g"] = df["arm"] * df["g"]
        # lifelines' default stopping rule agrees to ~4 digits; tightened as in alsstats.survival.
        tight = {"step_size": 1.0, "precision": 1e-20, "r_precision": 0.0, "max_steps": 100}
        opts = {
            "duration_col": "time",
            "event_col": "event",
            "strata": ["stratum"],
            "fit_options": tight,
        }
        overall = CoxPHFitter().fit(df[["time", "event", "arm", "stratum"]], **opts)
        assert sim.trials["cox_coef"][r] == pytest.approx(overall.params_["arm"], abs=1e-8)
        sub = df[(df["g"] >= 0.75) & (df["g"] <= 3.7)][["time", "event", "arm", "stratum"]]
        fit_sub = CoxPHFitter().fit(sub, **opts)
        assert sim.trials["subgroup_coef"][r] == pytest.approx(fit_sub.params_["arm"], abs=1e-8)
        inter = CoxPHFitter().fit(df, **opts)
        assert sim.trials["interaction_coef"][r] == pytest.approx(inter.params_["arm_g"], abs=1e-8)
        assert sim.trials["interaction_p"][r] == pytest.approx(
            inter.summary.loc["arm_g", "p"], rel=1e-6
        )


# ------------------------------------------------------------------------- reproducibility


def test_same_seed_identical_and_executor_identical(model: DataGeneratingModel) -> None:
    design = D.TrialDesign(n=150, accrual_rate=0.5, subgroup=(750, 3700), target_events=50)
    serial = D.simulate_trials(model, design, 60, seed=42, chunk_size=20)
    again = D.simulate_trials(model, design, 60, seed=42, chunk_size=20)
    pd.testing.assert_frame_equal(serial.trials, again.trials, check_exact=True)
    with ProcessPoolExecutor(2) as pool:
        parallel = D.simulate_trials(model, design, 60, seed=42, chunk_size=20, executor=pool)
    pd.testing.assert_frame_equal(serial.trials, parallel.trials, check_exact=True)
    other = D.simulate_trials(model, design, 60, seed=43, chunk_size=20)
    assert not serial.trials["logrank_z"].equals(other.trials["logrank_z"])


def test_power_has_monte_carlo_se(model: DataGeneratingModel) -> None:
    sim = D.simulate_trials(model, D.TrialDesign(n=100), 200, seed=1, tests=("logrank",))
    p = sim.power()
    power = (sim.trials["logrank_p"] < 0.05).mean()
    assert p.loc["logrank", "power"] == power
    assert p.loc["logrank", "mc_se"] == pytest.approx(math.sqrt(power * (1 - power) / 200))
    assert "<table" in sim._repr_html_()


# -------------------------------------------------------------------------- sizing, output


def test_schoenfeld_events_formula() -> None:
    # 4 (1.959964 + 0.841621)^2 / log(0.7)^2 = 4 * 7.8489 / 0.12722 = 246.8 by hand
    assert D.schoenfeld_events(0.7) == pytest.approx(4 * 2.801585**2 / math.log(0.7) ** 2, rel=1e-6)
    assert D.schoenfeld_power(D.schoenfeld_events(0.7, power=0.9), 0.7) == pytest.approx(0.9)
    # 2:1 allocation needs 9/8 of the 1:1 events.
    assert D.schoenfeld_events(0.7, allocation=(2, 1)) == pytest.approx(
        D.schoenfeld_events(0.7) * 9 / 8
    )


def test_sample_size_brackets_target() -> None:
    expo = DataGeneratingModel(
        WeibullBaseline(1.0, 700.0), LogNormalBiomarker(2000.0, 0.5), math.log(0.6), 0.0, 0.0
    )
    design = D.TrialDesign(n=100, accrual_rate=2.0)
    res = D.sample_size(expo, design, 0.8, bounds=(40, 400), n_replicates=300, seed=3)
    ev = res.evaluations.set_index("size")
    assert res.n % design.block_size == 0
    assert res.power >= 0.8
    # The next smaller size tried-or-bracketed is below target.
    below = ev[ev.index < res.n]
    assert below["power"].iloc[-1] < 0.8 and below.index[-1] >= res.n - design.block_size
    # Same seed, same answer.
    again = D.sample_size(expo, design, 0.8, bounds=(40, 400), n_replicates=300, seed=3)
    assert again.n == res.n


def test_power_curve_table_and_plot(model: DataGeneratingModel) -> None:
    designs = {
        "all-comers": D.TrialDesign(n=100),
        "enriched": D.TrialDesign(n=100, enrichment=(750, 3700)),
    }
    curves = D.power_curve(model, designs, [100, 200], 100, seed=1, tests=("logrank",))
    assert list(curves.columns[:4]) == ["design", "n", "test", "primary"]
    assert len(curves) == 4 and curves["primary"].all()
    enriched = curves[curves["design"] == "enriched"]
    assert (enriched["screen_fail_share"] > 0.2).all()
    table = D.power_table(curves)
    assert table.shape == (2, 2)
    ax = D.plot_power_curves(curves)
    assert ax.get_xlabel() == "patients randomised"
    assert "power" in ax.get_ylabel()
    colours = {line.get_color() for line in ax.get_lines() if line.get_marker() == "o"}
    assert colours <= set(SERIES)
    plt.close(ax.figure)


def test_cli_prints_power_table(capsys: pytest.CaptureFixture[str]) -> None:
    from alsstats.cli import main

    code = main(
        ["design", "--sizes", "120", "--replicates", "30", "--model", "reference", "--events", "40"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "reference model" in out and "event-driven at 40 deaths" in out
    for name in ("all-comers", "enriched", "interaction"):
        assert name in out
    assert main(["design", "--sizes", "2", "--replicates", "3"]) == 2
    assert "--sizes: need at least 4 patients per trial" in capsys.readouterr().err


def test_sample_size_step_and_bad_step() -> None:
    expo = DataGeneratingModel(
        WeibullBaseline(1.0, 700.0), LogNormalBiomarker(2000.0, 0.5), math.log(0.6), 0.0, 0.0
    )
    design = D.TrialDesign(n=100, accrual_rate=2.0)
    res = D.sample_size(expo, design, 0.8, bounds=(40, 400), n_replicates=200, seed=3, step=20)
    assert res.n % 20 == 0 and res.power >= 0.8
    with pytest.raises(InputError, match="step"):
        D.sample_size(expo, design, 0.8, step=6)


def test_rescale_baseline_by_simulation(model: DataGeneratingModel) -> None:
    slower = D.rescale_baseline(model, 0.70)
    assert slower.log_hr_interaction == model.log_hr_interaction
    tr = D.draw_trials(slower, D.TrialDesign(n=2000, accrual_rate=10), 50, seed=3)
    # 100,000 patients: binomial SE 0.0014, tolerance 4 SE.
    assert abs(1 - tr["event"].mean() - 0.70) < 4 * math.sqrt(0.7 * 0.3 / 100_000)
    with pytest.raises(InputError, match="alive"):
        D.rescale_baseline(model, 1.2)


def test_progress_bar_and_bad_arguments(
    model: DataGeneratingModel, capsys: pytest.CaptureFixture[str]
) -> None:
    D.simulate_trials(model, D.TrialDesign(n=40), 4, seed=1, tests=("logrank",), progress=True)
    assert "trials" in capsys.readouterr().err  # the tqdm bar
    with pytest.raises(InputError, match="tests"):
        D.simulate_trials(model, D.TrialDesign(n=40), 4, tests=("wilcoxon",))
    with pytest.raises(InputError, match="n_replicates"):
        D.simulate_trials(model, D.TrialDesign(n=40), 0)
    with pytest.raises(InputError, match="model"):
        D.simulate_trials("mirocals", D.TrialDesign(n=40), 4)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="target"):
        D.sample_size(model, D.TrialDesign(n=40), 1.5)
