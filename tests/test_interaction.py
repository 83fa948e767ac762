"""Treatment x modifier interaction analysis against R references and independent computations.

Tolerances: 1e-6 relative against R (survival::coxph, eps 1e-12); 1e-8 for re-centring
invariance; 1e-9 for the Fieller / Johnson-Neyman quadratics solved independently here.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_CASES, load_reference
from scipy import stats

from alsstats.errors import HazardRatioAtUnobservedValueWarning, InputError
from alsstats.interaction import EvenGrid, Quantiles, TreatmentInteraction, Values
from alsstats.survival import CoxModel

RTOL = 1e-6


@functools.cache  # fitted once per case; tests only read the fitted analysis
def _fit(case: str) -> tuple[TreatmentInteraction, dict, pd.DataFrame]:
    df, ref = load_reference(case)
    lhs, rhs = ref["formula"].split("~")
    time_col, event_col = (s.strip() for s in lhs.strip()[len("Surv(") : -1].split(","))
    ti = TreatmentInteraction(rhs, ref["treatment"], ref["modifier"], ties=ref["ties"])
    with warnings.catch_warnings():  # the guard is tested on its own below
        warnings.simplefilter("ignore", HazardRatioAtUnobservedValueWarning)
        ti.fit(df, time_col, event_col)
    return ti, ref, df


@pytest.mark.parametrize("case", REFERENCE_CASES)
def test_hr_curve_matches_r(case: str) -> None:
    ti, ref, _ = _fit(case)
    curve = pd.DataFrame(ref["hr_curve"])
    ours = ti.hazard_ratio_at(curve["x"])
    np.testing.assert_allclose(ours["value"], curve["x"])
    for col in ("log_hr", "se", "hr", "lower", "upper"):
        np.testing.assert_allclose(ours[col], curve[col], rtol=RTOL, atol=1e-12, err_msg=col)


@pytest.mark.parametrize("case", REFERENCE_CASES)
def test_johnson_neyman_crossing_and_wald_p_match_r(case: str) -> None:
    ti, ref, _ = _fit(case)
    region = ti.johnson_neyman()
    np.testing.assert_allclose(region.bounds, ref["johnson_neyman"], rtol=RTOL)
    if len(ref["johnson_neyman"]) == 2:  # README: a > 0, the CI excludes 1 outside the bounds
        assert region.excludes_one_inside_bounds is False
        lo, hi = ref["johnson_neyman"]
        np.testing.assert_allclose(
            np.ravel(region.excludes_one), [-np.inf, lo, hi, np.inf], rtol=RTOL
        )
        obs_lo, obs_hi = ti.observed_range_
        inside = [(max(a, obs_lo), min(b, obs_hi)) for a, b in region.excludes_one]
        assert region.within_observed == tuple((a, b) for a, b in inside if a < b)
        assert all(b <= obs_lo or a >= obs_hi for a, b in region.outside_observed)
    crossing = ti.hr_equals_one()
    assert crossing.estimate == pytest.approx(ref["hr_equals_one_at"], rel=RTOL)
    tests = ti.interaction_tests()
    assert tests.loc["Wald", "p"] == pytest.approx(ref["wald_interaction_p"], rel=RTOL)


def test_fieller_interval_solved_by_hand() -> None:
    # Independent: the set {x: (bt + bi x)^2 <= z^2 (Vtt + 2 x Vti + x^2 Vii)} from R's numbers.
    ti, ref, _ = _fit("sim220_efron")
    (bt, _, bi), V = ref["coef"], np.array(ref["var"])
    z = stats.norm.ppf(0.975)
    coeffs = [bi**2 - z**2 * V[2, 2], 2 * (bt * bi - z**2 * V[0, 2]), bt**2 - z**2 * V[0, 0]]
    assert coeffs[0] > 0  # slope clearly non-zero: a bounded interval
    lo, hi = np.sort(np.roots(coeffs).real)
    fieller = ti.hr_equals_one()
    assert fieller.kind == "bounded"
    assert fieller.lower == pytest.approx(lo, rel=1e-9)
    assert fieller.upper == pytest.approx(hi, rel=1e-9)
    assert "4111.35; 95% Fieller set: 2420.31 to 6445.74" in str(fieller)


def test_fieller_unbounded_shapes() -> None:
    # PBC: the interaction is far from significant and the CI includes 1 everywhere.
    ti, _, _ = _fit("pbc_dpen_x_logbili")
    assert ti.johnson_neyman().excludes_one == ()
    fieller = ti.hr_equals_one()
    assert fieller.kind == "whole line" and "unbounded" in str(fieller)
    # A strong treatment effect with no interaction: the CI excludes 1 inside an interval,
    # and the Fieller set is the complement of that interval (two rays).
    rng = np.random.default_rng(7)
    n = 400
    trt, x = np.repeat([0, 1], n // 2), rng.uniform(0, 10, n)
    t = rng.exponential(1 / np.exp(-1.0 * trt + 0.05 * x))
    df = pd.DataFrame({"t": np.minimum(t, 1.5), "e": (t < 1.5).astype(int), "trt": trt, "x": x})
    with pytest.warns(HazardRatioAtUnobservedValueWarning):  # x = 0 is below the smallest x
        sim = TreatmentInteraction("trt * x", "trt", "x").fit(df, "t", "e")
    region, fieller = sim.johnson_neyman(), sim.hr_equals_one()
    assert region.excludes_one_inside_bounds is True
    assert fieller.kind == "complement of an interval"
    (_, a), (b, _) = fieller.intervals
    np.testing.assert_allclose([a, b], region.bounds, rtol=1e-12)
    assert "unbounded" in str(fieller)


def test_recentring_invariance() -> None:
    ti, _, df = _fit("sim220_efron")
    grid = EvenGrid(41)
    before = ti.hazard_ratio_at(grid)
    for at in ("median", 750.0, 3700.0):
        moved = ti.recentred(at)
        after = moved.hazard_ratio_at(grid)
        np.testing.assert_allclose(after["log_hr"], before["log_hr"], rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(after["se"], before["se"], rtol=1e-8)
        # the treatment coefficient is now the log HR at the centring value
        centre = np.median(df["pnfh"]) if at == "median" else at
        assert moved.model_.params_["trt"] == pytest.approx(
            ti.hazard_ratio_at([centre])["log_hr"].iloc[0], rel=1e-8
        )
        assert moved.coefficient_applies_at_ == pytest.approx(centre, rel=1e-12)
    assert ti.model_.params_["trt"] != pytest.approx(ti.recentred(3700.0).model_.params_["trt"])


def test_guard_warns_on_sim220_and_not_after_recentring() -> None:
    df, _ = load_reference("sim220_efron")
    with pytest.warns(HazardRatioAtUnobservedValueWarning, match=r"pnfh = 0, outside the observed"):
        ti = TreatmentInteraction("trt * pnfh", "trt", "pnfh").fit(df, "time", "event")
    assert "NOTE: exp(coef) of trt is the hazard ratio at pnfh = 0" in repr(ti)
    assert "hazard ratio at pnfh = 0" in ti._repr_html_()
    assert ti.summary.loc["trt", "applies at"] == "HR at pnfh = 0"
    centred = ti.recentred("median")  # warnings are errors: this must not warn
    assert "pnfh = 2491 (observed range 750 to 10000)" in centred.guard_message()
    assert centred.summary.loc["trt", "applies at"] == "HR at pnfh = 2491"


def test_guard_below_limit_of_quantification() -> None:
    df, _ = load_reference("sim220_efron")
    with pytest.warns(HazardRatioAtUnobservedValueWarning, match="below the limit of quant"):
        TreatmentInteraction("trt * pnfh", "trt", "pnfh", limit_of_quantification=800).fit(
            df, "time", "event"
        ).recentred(760.0)


def test_guard_for_log_modifier_names_value_one() -> None:
    df, _ = load_reference("sim220_efron")
    with pytest.warns(HazardRatioAtUnobservedValueWarning, match=r"pnfh = 1, outside"):
        TreatmentInteraction("trt * np.log(pnfh)", "trt", "pnfh").fit(df, "time", "event")


def test_johnson_neyman_numerical_equals_exact_on_log_scale() -> None:
    # grid + brentq for np.log(pnfh) against the exact quadratic of a precomputed log column
    df, _ = load_reference("sim220_efron")
    df = df.assign(lp=np.log(df["pnfh"]))
    with pytest.warns(HazardRatioAtUnobservedValueWarning):
        numeric = TreatmentInteraction("trt * np.log(pnfh)", "trt", "pnfh").fit(df, "time", "event")
    with pytest.warns(HazardRatioAtUnobservedValueWarning):
        exact = TreatmentInteraction("trt * lp", "trt", "lp").fit(df, "time", "event")
    np.testing.assert_allclose(
        numeric.johnson_neyman().bounds, np.exp(exact.johnson_neyman().bounds), rtol=1e-9
    )
    assert numeric.hr_equals_one().estimate == pytest.approx(
        np.exp(exact.hr_equals_one().estimate), rel=1e-9
    )


def test_interaction_tests_lr_and_spline_df() -> None:
    ti, _, df = _fit("sim220_efron")
    reduced = CoxModel("trt + pnfh").fit(df, "time", "event")
    lr = 2 * (ti.model_.log_likelihood_ - reduced.log_likelihood_)
    tests = ti.interaction_tests()
    assert tests.loc["likelihood ratio", "statistic"] == pytest.approx(lr, rel=1e-10)
    spline = TreatmentInteraction("trt * bs(pnfh, df=3)", "trt", "pnfh").fit(df, "time", "event")
    spline_tests = spline.interaction_tests()
    assert list(spline_tests["df"]) == [3, 3]
    b = spline.model_.params_[spline.interaction_terms_].to_numpy()
    V = spline.model_.variance_matrix_.loc[spline.interaction_terms_, spline.interaction_terms_]
    assert spline_tests.loc["Wald", "statistic"] == pytest.approx(
        b @ np.linalg.inv(V) @ b, rel=1e-9
    )


def test_grids_and_bands() -> None:
    ti, _, df = _fit("sim220_efron")
    q = ti.hazard_ratio_at(Quantiles((0.25, 0.5)))
    np.testing.assert_allclose(q["value"], np.quantile(df["pnfh"], [0.25, 0.5]))
    assert list(ti.hazard_ratio_at(Values([1, 2]))["value"]) == [1.0, 2.0]
    assert ti.hazard_ratio_at(EvenGrid(5))["value"].tolist() == [750, 3062.5, 5375, 7687.5, 10000]
    point = ti.hazard_ratio_at([750, 3700])
    simult = ti.hazard_ratio_at([750, 3700], band="simultaneous")
    assert simult.attrs["critical_value"] == pytest.approx(np.sqrt(stats.chi2.ppf(0.95, 2)))
    assert np.all(simult["lower"] < point["lower"]) and np.all(simult["upper"] > point["upper"])
    with pytest.raises(InputError, match="covariates: age: no such column"):
        ti.hazard_ratio_at([750], covariates={"age": 60})


def test_subgroups_against_direct_fits() -> None:
    ti, _, df = _fit("sim220_efron")
    sub = ti.subgroups((750, 3700))
    table = sub.table
    assert table["n"].sum() == len(df)
    assert (table["events_control"] + table["events_treated"]).sum() == df["event"].sum()
    assert "no finite HR" in table.loc["pnfh < 750", "note"]  # nobody below 750 in sim220
    low = df[(df["pnfh"] >= 750) & (df["pnfh"] < 3700)]
    direct = CoxModel("trt").fit(low, "time", "event")
    assert table.loc["750 <= pnfh < 3700", "hr"] == pytest.approx(
        np.exp(direct.params_["trt"]), rel=1e-10
    )
    ok = table.dropna(subset=["se"])
    w = 1 / ok["se"] ** 2
    pooled = (w * ok["log_hr"]).sum() / w.sum()
    q = (w * (ok["log_hr"] - pooled) ** 2).sum()
    assert sub.heterogeneity.loc["Cochran Q", "statistic"] == pytest.approx(q, rel=1e-12)
    assert 0 < sub.heterogeneity.loc["LR trt x subgroup", "p"] < 1
    assert "Cochran Q" in str(sub)


def test_bootstrap_band_delegates() -> None:
    pytest.importorskip("alsstats.survival")
    ti, _, _ = _fit("sim220_efron")
    band = ti.recentred("median").bootstrap_band([1000, 4000], n_resamples=40, seed=1)
    assert list(band.columns) == ["value", "hr", "lower", "upper"]
    assert np.all(band["lower"] <= band["hr"]) and np.all(band["hr"] <= band["upper"])


# ---------------------------------------------------------------------- the API convention
def test_lifelines_like_attributes_match_r() -> None:
    # params_, variance_matrix_, log_likelihood_, hazard_ratios_ and confidence_intervals_
    # against R's coef, var, loglik and coef +- z se (1e-6 relative, as above).
    ti, ref, _ = _fit("gbsg_hormon_x_logpgr")
    np.testing.assert_allclose(ti.params_.to_numpy(), ref["coef"], rtol=RTOL)
    np.testing.assert_allclose(ti.variance_matrix_.to_numpy(), ref["var"], rtol=RTOL)
    assert ti.log_likelihood_ == pytest.approx(ref["loglik"], rel=RTOL)
    np.testing.assert_allclose(ti.hazard_ratios_.to_numpy(), np.exp(ref["coef"]), rtol=RTOL)
    z = stats.norm.ppf(0.975)
    ci = ti.confidence_intervals_
    assert list(ci.columns) == ["95% lower-bound", "95% upper-bound"]
    assert list(ci.index) == ref["terms"]
    lower = np.array(ref["coef"]) - z * np.array(ref["se"])
    np.testing.assert_allclose(ci["95% lower-bound"].to_numpy(), lower, rtol=RTOL)


def test_print_summary(capsys: pytest.CaptureFixture[str]) -> None:
    ti, _, _ = _fit("sim220_efron")
    ti.print_summary()
    out = capsys.readouterr().out
    assert out.startswith("CoxModel(") and "n=220, events=90" in out.splitlines()[0]
    assert "applies at" in out and "Interaction tests:" in out and "likelihood ratio" in out


def test_unfitted_model_raises_model_error() -> None:
    from alsstats.errors import ModelError, NotFittedError

    ti = TreatmentInteraction("trt * pnfh", "trt", "pnfh")
    calls = {
        "hazard_ratio_at": lambda: ti.hazard_ratio_at([1.0]),
        "johnson_neyman": ti.johnson_neyman,
        "hr_equals_one": ti.hr_equals_one,
        "interaction_tests": ti.interaction_tests,
        "subgroups": lambda: ti.subgroups((750,)),
        "recentred": lambda: ti.recentred(1.0),
        "print_summary": ti.print_summary,
        "bootstrap_band": lambda: ti.bootstrap_band([1.0]),
        "summary": lambda: ti.summary,
        "params_": lambda: ti.params_,
        "shift_": lambda: ti.shift_,
    }
    for call in calls.values():
        with pytest.raises(ModelError, match="not fitted; call fit"):
            call()
    with pytest.raises(NotFittedError):
        ti.model_  # noqa: B018
    assert not hasattr(ti, "params_")  # NotFittedError is an AttributeError too
    assert "[not fitted]" in repr(ti) and "[not fitted]" in ti._repr_html_()
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        ti.nonsense  # noqa: B018


def test_fit_errors_name_the_column() -> None:
    df, _ = load_reference("sim220_efron")
    ti = TreatmentInteraction("trt * pnfh", "trt", "pnfh")
    for args, column in [
        ((df, "time", "death"), "death"),
        ((df, "days", "event"), "days"),
        ((df.drop(columns="trt"), "time", "event"), "trt"),
    ]:
        with pytest.raises(InputError, match=rf"trial.csv: {column}: no such column"):
            ti.fit(*args, source="trial.csv")
    twice = pd.concat([df, df[["pnfh"]]], axis=1)
    with pytest.raises(InputError, match="pnfh: 2 columns have this name"):
        ti.fit(twice, "time", "event")
    coded = df.assign(trt=df["trt"].map({0: "placebo", 1: "IL-2"}))
    with pytest.raises(InputError, match=r"trt: must be numeric; 220 of 220 .*'IL-2'"):
        ti.fit(coded, "time", "event")
    many = df.assign(trt=np.arange(len(df)))
    with pytest.raises(InputError, match=r"coded 0/1 .*found 0, 1, 2 and 217 others$"):
        ti.fit(many, "time", "event")
    with pytest.raises(InputError, match="limit_of_quantification: must be a positive"):
        TreatmentInteraction("trt * pnfh", "trt", "pnfh", limit_of_quantification=-5)
    with pytest.raises(InputError, match="level: a confidence level between 0 and 1, not 95"):
        _fit("sim220_efron")[0].hazard_ratio_at([1.0], level=95)


def test_missing_drop_equals_fitting_complete_rows() -> None:
    # missing="drop" is R's na.omit: the same fit as on the complete rows (1e-12).
    df, _ = load_reference("sim220_efron")
    holes = df.copy()
    holes.loc[[3, 17], "pnfh"] = np.nan
    holes.loc[[17, 40], "event"] = np.nan
    with pytest.raises(InputError, match=r"event: 2 of 220 rows have missing values"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HazardRatioAtUnobservedValueWarning)
            TreatmentInteraction("trt * pnfh", "trt", "pnfh").fit(holes, "time", "event")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HazardRatioAtUnobservedValueWarning)
        dropped = TreatmentInteraction("trt * pnfh", "trt", "pnfh").fit(
            holes, "time", "event", missing="drop"
        )
        complete = TreatmentInteraction("trt * pnfh", "trt", "pnfh").fit(
            holes.dropna(), "time", "event"
        )
    assert dropped.n_dropped_ == 3 and dropped.model_.n_ == 217
    assert dropped.notes_ == [
        "3 of 220 rows dropped for missing values (in event, pnfh), as R's na.omit"
    ]
    np.testing.assert_allclose(dropped.params_, complete.params_, rtol=1e-12)
    assert dropped.observed_.size == 217


def test_result_reprs_are_readable() -> None:
    ti, _, _ = _fit("sim220_efron")
    objects = [ti.johnson_neyman(), ti.hr_equals_one(), ti.subgroups((750, 3700))]
    for obj in objects:
        text, page = repr(obj), obj._repr_html_()
        assert "np.float64" not in text and "np.float64" not in page
        assert "array(" not in text
        assert type(obj).__name__ in text or "Johnson" in page
    assert repr(objects[0]).startswith("<JohnsonNeymanRegion: The 95% CI of the treatment HR")
    assert "4111.35; 95% Fieller set: 2420.31 to 6445.74" in repr(objects[1])
    assert repr(objects[2]).startswith("SubgroupAnalysis of pnfh at 750, 3700")
    assert all(isinstance(v, float) for v in np.ravel(objects[0].excludes_one))
