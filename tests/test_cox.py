"""The Cox adapter against R's survival::coxph and against a hand-worked case.

Tolerances: 1e-6 relative against the R references (measured agreement is ~1e-12); 1e-9
against the closed forms of the hand-worked case.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_CASES, load_reference
from scipy import optimize

from alsstats.survival import CoxModel

RTOL = 1e-6


def _fit_reference(case: str, engine: str = "lifelines") -> tuple[CoxModel, dict]:
    df, ref = load_reference(case)
    lhs, rhs = ref["formula"].split("~")
    time_col, event_col = (s.strip() for s in lhs.strip()[len("Surv(") : -1].split(","))
    model = CoxModel(rhs, ties=ref["ties"], engine=engine).fit(df, time_col, event_col)
    return model, ref


@pytest.mark.parametrize("engine", ["lifelines", "fast"])
@pytest.mark.parametrize("case", REFERENCE_CASES)
def test_matches_r_coxph(case: str, engine: str) -> None:
    model, ref = _fit_reference(case, engine)
    assert model.terms_ == ref["terms"]
    assert model.n_ == ref["n"] and model.n_events_ == ref["nevent"]
    np.testing.assert_allclose(model.params_.to_numpy(), ref["coef"], rtol=RTOL)
    np.testing.assert_allclose(model.standard_errors_.to_numpy(), ref["se"], rtol=RTOL)
    np.testing.assert_allclose(model.variance_matrix_.to_numpy(), ref["var"], rtol=RTOL)
    assert model.log_likelihood_ == pytest.approx(ref["loglik"], rel=RTOL)
    assert model.log_likelihood_null_ == pytest.approx(ref["loglik_null"], rel=RTOL)


def test_breslow_reference_uses_breslow() -> None:
    # Efron and Breslow differ on tied data: the Breslow fit must not be an Efron fit.
    breslow, ref = _fit_reference("sim220_ties_breslow")
    _, efron_ref = load_reference("sim220_ties_efron")
    assert breslow.ties == "breslow"
    assert abs(ref["coef"][0] - efron_ref["coef"][0]) > 1e-3
    np.testing.assert_allclose(breslow.params_.to_numpy(), ref["coef"], rtol=RTOL)


def test_strata_keyword_equals_formula_strata() -> None:
    df, ref = load_reference("pbc_dpen_x_logbili_adj_strata_sex")
    by_keyword = CoxModel("dpen * lbili + age", strata="sex").fit(df, "time", "death")
    np.testing.assert_allclose(by_keyword.params_.to_numpy(), ref["coef"], rtol=RTOL)
    assert by_keyword.strata == "sex" and by_keyword.strata_ == ["sex"]


def test_summary_repr_and_design_matrix() -> None:
    df, _ = load_reference("sim220_efron")
    model = CoxModel("trt * center(pnfh)").fit(df, "time", "event")
    summary = model.summary
    assert list(summary.columns[:5]) == ["coef", "exp(coef)", "se", "z", "p"]
    np.testing.assert_allclose(summary["exp(coef)"], np.exp(model.params_), rtol=1e-12)
    assert "trt:center(pnfh)" in repr(model) and "<table" in model._repr_html_()
    # The stateful transform keeps the training mean on new rows.
    new = pd.DataFrame({"trt": [1.0], "pnfh": [df["pnfh"].mean() + 100.0]})
    row = model.design_matrix(new)
    assert list(row.columns) == model.terms_
    assert row["center(pnfh)"].iloc[0] == pytest.approx(100.0, rel=1e-12)
    assert row["trt:center(pnfh)"].iloc[0] == pytest.approx(100.0, rel=1e-12)


def test_fitted_info_is_json_ready() -> None:
    model, ref = _fit_reference("sim220_efron")
    info = model.fitted_info()
    assert info["terms"] == ref["terms"] and len(info["var"]) == 3


# ---------------------------------------------------------------------------------------------
# Hand-worked case: 7 subjects (unsorted), one binary covariate z, ties at t = 2 and t = 4.
#   subject  A  B  C  D  E  F  G
#   time     6  2  4  2  5  4  7
#   event    1  1  1  1  0  1  0
#   z        1  0  1  1  0  0  1
# With r = exp(beta), risk sets: t=2 all 7 (4 with z=1); t=4 {A,C,E,F,G} (3 with z=1);
# t=6 {A,G} (both z=1). Events with z=1: D, C, A, so sum(z beta) over events = 3 beta.
# Breslow: denominators (4r+3)^2, (3r+2)^2, 2r:
#   l(b) = 3b - 2 log(4r+3) - 2 log(3r+2) - log(2r) = 2b - 2 log(4r+3) - 2 log(3r+2) - log 2
#   U(b) = 2 - 8r/(4r+3) - 6r/(3r+2);   I(b) = 24r/(4r+3)^2 + 12r/(3r+2)^2
# Efron: at t=2 the tied deaths B (weight 1) and D (weight r) give (4r+3) and (4r+3) - (1+r)/2
# = (7r+5)/2; at t=4 C (r) and F (1) give (3r+2) and (5r+3)/2; at t=6 2r:
#   l(b) = 2b - log(4r+3) - log(7r+5) - log(3r+2) - log(5r+3) + log 2
#   U(b) = 2 - 4r/(4r+3) - 7r/(7r+5) - 3r/(3r+2) - 5r/(5r+3)
#   I(b) = 12r/(4r+3)^2 + 35r/(7r+5)^2 + 6r/(3r+2)^2 + 15r/(5r+3)^2
# At b = 0: Breslow l = -log(7^2 * 5^2 * 2), U = 2 - 8/7 - 6/5 = -12/35, I = 24/49 + 12/25;
#           Efron   l = -log(7 * 6 * 5 * 4 * 2) = -log 1680, U = 2 - 4/7 - 7/12 - 3/5 - 5/8.
# ---------------------------------------------------------------------------------------------
HAND = pd.DataFrame(
    {
        "time": [6, 2, 4, 2, 5, 4, 7],
        "event": [1, 1, 1, 1, 0, 1, 0],
        "z": [1, 0, 1, 1, 0, 0, 1],
    },
    index=list("ABCDEFG"),
)


def _closed_form(ties: str, b: float) -> tuple[float, float, float]:
    r = math.exp(b)
    if ties == "breslow":
        ll = 2 * b - 2 * math.log(4 * r + 3) - 2 * math.log(3 * r + 2) - math.log(2)
        u = 2 - 8 * r / (4 * r + 3) - 6 * r / (3 * r + 2)
        i = 24 * r / (4 * r + 3) ** 2 + 12 * r / (3 * r + 2) ** 2
        return ll, u, i
    pairs = [(4, 3), (7, 5), (3, 2), (5, 3)]
    ll = 2 * b - sum(math.log(a * r + c) for a, c in pairs) + math.log(2)
    u = 2 - sum(a * r / (a * r + c) for a, c in pairs)
    i = sum(a * c * r / (a * r + c) ** 2 for a, c in pairs)
    return ll, u, i


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_hand_worked_closed_forms_at_zero(ties: str) -> None:
    ll, u, i = _closed_form(ties, 0.0)
    if ties == "breslow":
        assert ll == pytest.approx(-math.log(49 * 25 * 2), rel=1e-14)
        assert u == pytest.approx(-12 / 35, rel=1e-14)
        assert i == pytest.approx(24 / 49 + 12 / 25, rel=1e-14)
    else:
        assert ll == pytest.approx(-math.log(1680), rel=1e-14)
        assert u == pytest.approx(2 - 4 / 7 - 7 / 12 - 3 / 5 - 5 / 8, rel=1e-14)
    # score and information are the derivatives of the log-likelihood (central differences)
    h = 1e-5
    for b in (0.0, -0.4):
        lp, lm = _closed_form(ties, b + h)[0], _closed_form(ties, b - h)[0]
        up, um = _closed_form(ties, b + h)[1], _closed_form(ties, b - h)[1]
        assert (lp - lm) / (2 * h) == pytest.approx(_closed_form(ties, b)[1], abs=1e-8)
        assert -(up - um) / (2 * h) == pytest.approx(_closed_form(ties, b)[2], abs=1e-8)


@pytest.mark.parametrize("engine", ["lifelines", "fast"])
@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_hand_worked_through_adapter(ties: str, engine: str) -> None:
    if ties == "breslow" and engine == "lifelines":
        engine = "fast"  # Breslow always goes through the fast engine
    model = CoxModel("z", ties=ties, engine=engine).fit(HAND, "time", "event")
    ll0, u0, i0 = _closed_form(ties, 0.0)
    assert model.log_likelihood_null_ == pytest.approx(ll0, rel=1e-12)
    # one Newton step from 0 improves the likelihood and lands between 0 and the maximum
    b1 = u0 / i0
    b_hat = optimize.brentq(lambda b: _closed_form(ties, b)[1], -5, 5, xtol=1e-14)
    assert _closed_form(ties, b1)[0] > ll0
    assert abs(b1 - b_hat) < 0.1 * abs(b_hat)  # Newton from 0 gets within 10% in one step
    # convergence: the adapter's estimate, SE and log-likelihood equal the closed forms
    assert model.params_["z"] == pytest.approx(b_hat, rel=1e-9)
    ll_hat, _, i_hat = _closed_form(ties, b_hat)
    assert model.standard_errors_["z"] == pytest.approx(1 / math.sqrt(i_hat), rel=1e-9)
    assert model.log_likelihood_ == pytest.approx(ll_hat, rel=1e-12)


def test_hand_worked_order_does_not_matter() -> None:
    shuffled = HAND.sample(frac=1.0, random_state=3)
    a = CoxModel("z").fit(HAND, "time", "event")
    b = CoxModel("z").fit(shuffled, "time", "event")
    assert a.params_["z"] == pytest.approx(b.params_["z"], rel=1e-12)


def test_lifelines_failure_falls_back_to_the_engine() -> None:
    # R's ovarian, rx2 * age: lifelines' Newton-Raphson gives up (its step halves until it
    # stops at log-likelihood -27.23); R converges in 6 steps to -26.509. The adapter takes the
    # engine's solution, equal to R's to 1e-6, and says so; a good fit carries no note.
    df, ref = load_reference("ovarian_rx_x_age")
    model = CoxModel("rx2 * age").fit(df, "time", "event")
    assert model.engine_ == "fast"
    [note] = model.notes_
    assert note.startswith("lifelines' Newton-Raphson warned: Newton-Raphson failed to converge")
    assert "log-likelihood -26.509485" in note
    np.testing.assert_allclose(model.params_.to_numpy(), ref["coef"], rtol=RTOL)
    assert model.log_likelihood_ == pytest.approx(ref["loglik"], rel=RTOL)
    assert model.fitted_info()["notes"] == [note]
    good, _ = _fit_reference("sim220_efron")
    assert good.engine_ == "lifelines" and good.notes_ == []


def test_fitted_state_only_in_fit() -> None:
    from alsstats.errors import NotFittedError

    model = CoxModel("trt * pnfh + strata(sex)", strata="site")
    assert {k for k in vars(model) if k.endswith("_")} == set()
    assert model.strata == "site"  # the parameter as given
    for name in ("rhs_", "strata_", "params_", "terms_", "notes_"):
        with pytest.raises(NotFittedError, match=rf"{name}: not fitted; call fit\(\) first"):
            getattr(model, name)
    with pytest.raises(NotFittedError):
        model.summary  # noqa: B018


def test_duplicate_and_text_columns_are_named() -> None:
    from alsstats.errors import InputError

    df, _ = load_reference("sim220_efron")
    with pytest.raises(InputError, match="data: time: 2 columns have this name"):
        CoxModel("trt").fit(pd.concat([df, df[["time"]]], axis=1), "time", "event")
    words = df.assign(event=df["event"].map({0: "alive", 1: "dead"}))
    with pytest.raises(InputError, match=r"event: must be numeric; 220 of 220 .*'dead'"):
        CoxModel("trt").fit(words, "time", "event")
    with pytest.raises(InputError, match=r"event: event indicator must be 0/1 .*found 2$"):
        CoxModel("trt").fit(df.assign(event=df["event"] * 2), "time", "event")


def test_lifelines_like_attributes_and_print_summary(capsys: pytest.CaptureFixture[str]) -> None:
    model, ref = _fit_reference("pbc_dpen_x_logbili")
    z = 1.959963984540054
    np.testing.assert_allclose(model.hazard_ratios_.to_numpy(), np.exp(ref["coef"]), rtol=RTOL)
    upper = np.array(ref["coef"]) + z * np.array(ref["se"])
    np.testing.assert_allclose(
        model.confidence_intervals_["95% upper-bound"].to_numpy(), upper, rtol=RTOL
    )
    model.print_summary()
    out = capsys.readouterr().out
    assert "Likelihood-ratio test:" in out and "exp(coef)" in out
