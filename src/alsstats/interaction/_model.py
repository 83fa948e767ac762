"""Treatment x biomarker interaction in a Cox model, reported so that it cannot be misread.

In ``time ~ trt * pnfh`` the treatment coefficient is the log hazard ratio where the interaction
columns vanish: at pNFH = 0, a value no patient has. This module reports the hazard ratio as a
function of the modifier (:meth:`TreatmentInteraction.hazard_ratio_at`), re-centres the model
(:meth:`~TreatmentInteraction.recentred`), gives the Johnson-Neyman region, the modifier value
where HR = 1 with a Fieller interval, interaction tests and cut-off subgroups, and guards the
treatment coefficient: :class:`~alsstats.errors.HazardRatioAtUnobservedValueWarning` is raised
whenever exp(b_treatment) applies outside the observed modifier range or below the assay's limit
of quantification.

The evaluation grids, the Johnson-Neyman region and Fieller set and the cut-off subgroups live
in their own modules of :mod:`alsstats.interaction`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import (
    HazardRatioAtUnobservedValueWarning,
    InputError,
    ModelError,
    NotFittedError,
    example_values,
    missing_attribute,
)
from ..io import check_columns, numeric_column
from ..survival import CoxModel
from ._grids import EvenGrid, resolve_grid, roots_on_grid
from ._intervals import FiellerInterval, JohnsonNeymanRegion, _quadratic_roots
from ._subgroups import SubgroupAnalysis, subgroup_analysis

__all__ = [
    "TreatmentInteraction",
]


def _check_level(level: float, where: str) -> None:
    if not (isinstance(level, int | float | np.floating) and 0 < level < 1):
        raise InputError(where, "level", f"a confidence level between 0 and 1, not {level!r}")


class TreatmentInteraction:
    """Cox model with a treatment x modifier interaction, read as an HR curve.

    Parameters
    ----------
    formula
        Right-hand side with the interaction, e.g. ``"trt * pnfh"``, ``"trt * np.log(pnfh) + age"``,
        ``"trt * bs(pnfh, df=3) + strata(onset)"``.
    treatment_col
        The 0/1 treatment column (1 = treated).
    modifier_col
        The continuous modifier column (e.g. CSF pNFH in pg/mL).
    ties, strata, engine
        Passed to :class:`~alsstats.survival.CoxModel`.
    limit_of_quantification
        The assay's lower limit of quantification, in modifier units: an HR reported below it
        describes no measurable patient.
    center_at
        Fit with the modifier centred at this value (a number, ``"median"``, ``"mean"``,
        ``"loq"``; linear modifier terms only), so that exp(b_treatment) is the HR there.

    Attributes
    ----------
    params_, variance_matrix_, standard_errors_, log_likelihood_
        As lifelines' ``CoxPHFitter``: coefficients, their covariance, SEs, log-likelihood.
    hazard_ratios_, confidence_intervals_
        exp(coef), and the 95% Wald limits of coef (log scale, lifelines' column names).
    model_
        The fitted :class:`~alsstats.survival.CoxModel` (modifier shifted by ``shift_``).
    shift_, coefficient_applies_at_
        The centre subtracted from the modifier, and the modifier value (raw units) where
        exp(b_treatment) is the hazard ratio.
    observed_, observed_range_, n_dropped_, notes_
        Modifier values of the fitted rows and their range; rows dropped for missing values
        (``missing="drop"``); notes on the fit (dropped rows, the engine fallback).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> x = rng.uniform(750, 8000, 200); trt = np.repeat([0, 1], 100)
    >>> t = rng.exponential(1 / np.exp(-1.2 * trt + 3e-4 * x * trt + 2e-4 * x))
    >>> df = pd.DataFrame({"t": np.minimum(t, 2), "e": (t < 2).astype(int), "trt": trt, "x": x})
    >>> ti = TreatmentInteraction("trt * x", "trt", "x", center_at="median").fit(df, "t", "e")
    >>> list(ti.hazard_ratio_at([1000, 4000]).columns)
    ['value', 'hr', 'log_hr', 'se', 'lower', 'upper', 'p']
    >>> list(ti.hazard_ratios_.index)
    ['trt', 'x', 'trt:x']
    """

    def __init__(
        self,
        formula: str,
        treatment_col: str,
        modifier_col: str,
        *,
        ties: str = "efron",
        strata: str | Sequence[str] | None = None,
        engine: str = "lifelines",
        limit_of_quantification: float | None = None,
        center_at: float | str | None = None,
    ) -> None:
        self.formula = formula
        self.treatment_col, self.modifier_col = treatment_col, modifier_col
        self.center_at = center_at
        self.ties, self.strata, self.engine = ties, strata, engine
        if limit_of_quantification is not None:
            try:
                loq = float(limit_of_quantification)
            except (TypeError, ValueError):
                loq = float("nan")
            if not (np.isfinite(loq) and loq > 0):
                raise InputError(
                    "TreatmentInteraction",
                    "limit_of_quantification",
                    f"must be a positive number (modifier units), not {limit_of_quantification!r}",
                )
        self.limit_of_quantification = limit_of_quantification

    def __getattr__(self, name: str) -> Any:
        # Reached only when normal look-up fails: a fitted attribute, or a property that needs
        # the fit (its NotFittedError lands here too), asked before fit().
        raise missing_attribute(self, name, "model_", f"TreatmentInteraction({self.formula!r})")

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        df: pd.DataFrame,
        duration_col: str,
        event_col: str,
        *,
        source: str = "data",
        missing: str = "raise",
    ) -> TreatmentInteraction:
        """Fit the interaction model; warns if exp(b_treatment) applies at an unobserved value.

        ``missing="drop"`` leaves out rows with a missing value in a column the model reads
        (R's ``na.omit``; :attr:`n_dropped_` counts them); the default raises.
        """
        trt, mod = self.treatment_col, self.modifier_col
        if not isinstance(df, pd.DataFrame):
            raise InputError(source, "", f"expected a pandas DataFrame, got {type(df).__name__}")
        check_columns(df, [duration_col, event_col, trt, mod], source)
        model = CoxModel(self.formula, ties=self.ties, strata=self.strata, engine=self.engine)
        n_dropped, notes = 0, []
        if missing == "drop":
            check_columns(df, model.columns_used(df), source)
            used = list(dict.fromkeys([duration_col, event_col, trt, mod, *model.columns_used(df)]))
            incomplete = df[used].isna().any(axis=1)
            n_dropped = int(incomplete.sum())
            if n_dropped:
                where = [str(c) for c in used if df[c].isna().any()]
                notes.append(
                    f"{n_dropped} of {len(df)} rows dropped for missing values "
                    f"(in {', '.join(where)}), as R's na.omit"
                )
                df = df.loc[~incomplete]
        for col in (duration_col, event_col, mod):
            numeric_column(df, col, source)  # text in a numeric column: name it and show some
        arm = numeric_column(df, trt, source)
        arms = np.unique(arm[np.isfinite(arm)])
        if not set(arms) <= {0.0, 1.0} or len(arms) != 2:
            raise InputError(
                source,
                trt,
                "treatment must be coded 0/1 with both arms present; found "
                + (example_values(arms) if arms.size else "no values"),
            )
        event = numeric_column(df, event_col, source)
        for value in (0, 1):
            in_arm = arm == value
            if in_arm.any() and np.nansum(event[in_arm]) == 0:
                raise ModelError(
                    source,
                    event_col,
                    f"no events in arm {trt} = {value} ({int(in_arm.sum())} patients); the "
                    "treatment hazard ratio is 0 or infinite (monotone likelihood)",
                )
        observed = numeric_column(df, mod, source)
        shift = 0.0
        if self.center_at is not None:
            shift = self._resolve_centre(self.center_at, observed[np.isfinite(observed)])
        fit_df = df.copy()
        fit_df[mod] = observed - shift
        model.fit(fit_df, duration_col, event_col, source=source, missing=missing)
        # Fitted state from here on (the helpers below read it).
        self.model_ = model
        self.shift_ = shift
        self.data_ = df.copy()
        self.data_[mod] = observed  # numbers, whatever the column's dtype was
        self.source_ = source
        self.duration_col_, self.event_col_ = duration_col, event_col
        self.n_dropped_ = n_dropped
        self.notes_ = notes + list(model.notes_)
        self.observed_ = observed
        self.observed_range_ = (float(observed.min()), float(observed.max()))
        self.params_ = model.params_
        self.variance_matrix_ = model.variance_matrix_
        self.standard_errors_ = model.standard_errors_
        self.log_likelihood_ = model.log_likelihood_
        self.hazard_ratios_ = model.hazard_ratios_
        self.confidence_intervals_ = model.confidence_intervals_
        self.interaction_terms_ = self._find_interaction_terms()
        if not self.interaction_terms_:
            self._forget_fit()  # not a usable fit
            raise InputError(
                source,
                "formula",
                f"{self.formula!r} has no {trt} x {mod} interaction term",
            )
        self.treatment_terms_ = [t for t in model.terms_ if re.search(rf"\b{re.escape(trt)}\b", t)]
        if shift != 0.0 and not self._is_linear():
            self._forget_fit()
            raise ModelError(
                repr(self.formula),
                "center_at",
                f"centring {mod} at {shift:g} changes a non-linear transform; centre inside "
                f"the formula, e.g. np.log({mod} / c)",
            )
        self.coefficient_applies_at_ = self._coefficient_reference_value()
        self._warn_if_unobserved()
        return self

    def _find_interaction_terms(self) -> list[str]:
        trt = re.compile(rf"\b{re.escape(self.treatment_col)}\b")
        mod = re.compile(rf"\b{re.escape(self.modifier_col)}\b")
        return [t for t in self.model_.terms_ if ":" in t and trt.search(t) and mod.search(t)]

    def _check_fitted(self) -> None:
        if "model_" not in self.__dict__:
            raise NotFittedError(
                f"TreatmentInteraction({self.formula!r})", "", "not fitted; call fit() first"
            )

    def _forget_fit(self) -> None:
        for name in [k for k in self.__dict__ if k.endswith("_") and not k.startswith("__")]:
            del self.__dict__[name]

    # ------------------------------------------------------------------ contrasts
    def _base_row(self, covariates: dict[str, Any] | None) -> dict[str, Any]:
        """Other covariates at stated values; default the mean (numeric) or first level."""
        row: dict[str, Any] = {}
        for col in self.data_.columns:
            s = self.data_[col]
            row[col] = (
                s.mean() if pd.api.types.is_numeric_dtype(s) else sorted(s.dropna().unique())[0]
            )
        for key, value in (covariates or {}).items():
            if key not in self.data_.columns:
                raise InputError("covariates", key, "no such column in the fitted data")
            row[key] = value
        return row

    def contrast_rows(self, values: Any, *, covariates: dict[str, Any] | None = None) -> np.ndarray:
        """Rows d = x(treated) - x(control) at each modifier value (raw units): log HR = d'b."""
        self._check_fitted()
        x = resolve_grid(values, self.observed_)
        base = self._base_row(covariates)
        rows = pd.DataFrame([base] * len(x))
        rows[self.modifier_col] = x - self.shift_
        treated, control = rows.copy(), rows.copy()
        treated[self.treatment_col], control[self.treatment_col] = 1, 0
        with np.errstate(divide="ignore", invalid="ignore"):  # e.g. log(0) off the support
            d = (
                self.model_.design_matrix(treated).to_numpy()
                - self.model_.design_matrix(control).to_numpy()
            )
        return d

    def hazard_ratio_at(
        self,
        values: Any,
        *,
        covariates: dict[str, Any] | None = None,
        level: float = 0.95,
        band: str = "pointwise",
    ) -> pd.DataFrame:
        """Treatment hazard ratio at modifier values (raw units) with Wald limits.

        ``values``: numbers, or a grid (:class:`~alsstats.interaction.Values`, ``Quantiles``,
        ``EvenGrid``). ``band="simultaneous"`` widens the limits to a Scheffé band: critical
        value sqrt(chi2 quantile with rank(D) df), D the stacked contrast rows, valid over every
        modifier value at once.
        """
        self._check_fitted()
        _check_level(level, "hazard_ratio_at")
        x = resolve_grid(values, self.observed_)
        d = self.contrast_rows(x, covariates=covariates)
        b = self.model_.params_.to_numpy()
        V = self.model_.variance_matrix_.to_numpy()
        log_hr = d @ b
        se = np.sqrt(np.einsum("gi,ij,gj->g", d, V, d))
        crit = self._critical_value(d, level, band)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = 2 * stats.norm.sf(np.abs(log_hr / se))
        out = pd.DataFrame(
            {
                "value": x,
                "hr": np.exp(log_hr),
                "log_hr": log_hr,
                "se": se,
                "lower": np.exp(log_hr - crit * se),
                "upper": np.exp(log_hr + crit * se),
                "p": p,
            }
        )
        out.attrs.update(modifier=self.modifier_col, level=level, band=band, critical_value=crit)
        return out

    def _critical_value(self, d: np.ndarray, level: float, band: str) -> float:
        if band == "pointwise":
            return float(stats.norm.ppf(0.5 + level / 2))
        if band == "simultaneous":
            full = self.contrast_rows(EvenGrid(201))  # the span of d(x) over the observed range
            rank = np.linalg.matrix_rank(np.vstack([full, d]), tol=1e-10)
            return float(np.sqrt(stats.chi2.ppf(level, rank)))
        raise InputError("hazard_ratio_at", "band", f"'pointwise' or 'simultaneous', not {band!r}")

    # ------------------------------------------------------------------ the guard
    def _is_linear(self) -> bool:
        """Whether d(x) is affine in the modifier (exact formulas apply); computed once."""
        if getattr(self, "_linear_model", None) is self.model_:
            return self._linear
        self._linear_model, self._linear = self.model_, self._check_linear()
        return self._linear

    def _check_linear(self) -> bool:
        x = np.array([0.0, 1.0, 2.0, 3.7]) + self.shift_
        try:
            d = self.contrast_rows(x)
        except InputError:  # e.g. a spline basis that refuses to extrapolate
            return False
        step = d[1] - d[0]
        return bool(
            np.all(np.isfinite(d))
            and np.allclose(d[2] - d[0], 2 * step, rtol=1e-9, atol=1e-12)
            and np.allclose(d[3] - d[0], 3.7 * step, rtol=1e-9, atol=1e-12)
        )

    def _interaction_index(self) -> list[int]:
        return [self.model_.terms_.index(t) for t in self.interaction_terms_]

    def _coefficient_reference_value(self) -> float:
        """Modifier value (raw units) where every interaction column of d vanishes, so that
        exp(b_treatment) is the HR there; NaN if there is none."""
        idx = self._interaction_index()
        if self._is_linear():
            d0, d1 = self.contrast_rows([self.shift_, self.shift_ + 1.0])[:, idx[0]]
            return float(self.shift_ - d0 / (d1 - d0))
        lo, hi = self.observed_range_
        span = hi - lo
        grid = np.linspace(lo - 10 * span, hi + 10 * span, 4001)
        if hi > 0:  # log-type transforms vanish near 1 or at small positive values
            grid = np.unique(
                np.concatenate([grid, np.geomspace(max(lo, 1e-12) * 1e-6, hi * 1e3, 2001)])
            )
        first = lambda x: self.contrast_rows(x)[:, idx[0]]  # noqa: E731
        try:
            roots = roots_on_grid(first, grid)
        except InputError:  # the transform is defined on the observed range only
            roots = roots_on_grid(first, np.linspace(lo, hi, 2001))
        for root in roots:
            if np.allclose(self.contrast_rows([root])[0, idx], 0.0, atol=1e-9):
                return float(root)
        return float("nan")

    def guard_message(self) -> str:
        """At which modifier value exp(b_treatment) applies, and whether anyone is there."""
        self._check_fitted()
        at, (lo, hi) = self.coefficient_applies_at_, self.observed_range_
        name = self.treatment_terms_[0]
        if np.isnan(at):
            return (
                f"exp(coef) of {name} is not the hazard ratio at any single {self.modifier_col} "
                f"value; read the HR curve (hazard_ratio_at) instead"
            )
        where = f"exp(coef) of {name} is the hazard ratio at {self.modifier_col} = {at:.6g}"
        problems = []
        if not lo <= at <= hi:
            problems.append(f"outside the observed range {lo:.6g} to {hi:.6g}")
        loq = self.limit_of_quantification
        if loq is not None and at < loq:
            problems.append(f"below the limit of quantification {loq:.6g}")
        if problems:
            return where + ", " + " and ".join(problems) + ": it describes no observed patient"
        return where + f" (observed range {lo:.6g} to {hi:.6g})"

    def _warn_if_unobserved(self) -> None:
        at, (lo, hi) = self.coefficient_applies_at_, self.observed_range_
        loq = self.limit_of_quantification
        if np.isnan(at) or not lo <= at <= hi or (loq is not None and at < loq):
            warnings.warn(self.guard_message(), HazardRatioAtUnobservedValueWarning, stacklevel=3)

    @property
    def summary(self) -> pd.DataFrame:
        """The coefficient table, with a column saying where exp(coef) of treatment applies."""
        self._check_fitted()
        table = self.model_.summary.copy()
        note = pd.Series("", index=table.index, dtype=object)
        note[self.treatment_terms_[0]] = (
            f"HR at {self.modifier_col} = {self.coefficient_applies_at_:.6g}"
        )
        for t in self.interaction_terms_:
            note[t] = f"change in log HR of {self.treatment_col} per unit of the term"
        table["applies at"] = note
        table.attrs["guard"] = self.guard_message()
        return table

    def print_summary(self, decimals: int = 4) -> None:
        """Print the fit as lifelines does: the model, notes, the coefficient table with where
        exp(coef) of treatment applies, the guard and the interaction tests."""
        self._check_fitted()
        fmt = lambda v: f"{v:.{decimals}g}"  # noqa: E731
        lines = [self.model_._header()]
        lines += [f"note: {n}" for n in self.notes_]
        lines += ["", self.summary.to_string(float_format=fmt), "", self.guard_message(), ""]
        lines += ["Interaction tests:", self.interaction_tests().to_string(float_format=fmt)]
        print("\n".join(lines))

    def __repr__(self) -> str:
        if "model_" not in self.__dict__:
            return f"TreatmentInteraction({self.formula!r}) [not fitted]"
        table = self.summary[["coef", "exp(coef)", "se", "p", "applies at"]]
        return (
            f"{self.model_._header()}\n{table.to_string(float_format=lambda v: f'{v:.4g}')}\n"
            f"NOTE: {self.guard_message()}"
        )

    def _repr_html_(self) -> str:
        if "model_" not in self.__dict__:
            return f"<p>TreatmentInteraction({self.formula!r}) [not fitted]</p>"
        return (
            f"<p>{self.model_._header()}</p><p><strong>Note:</strong> {self.guard_message()}</p>"
            + self.summary.to_html(float_format=lambda v: f"{v:.4g}")
        )

    # ------------------------------------------------------------------ re-centring
    def recentred(self, at: float | str) -> TreatmentInteraction:
        """The same model with the modifier centred at ``at`` (a value, ``"median"``, ``"mean"``
        or ``"loq"``): the treatment coefficient becomes the HR there; HR(x) is unchanged."""
        self._check_fitted()
        if not self._is_linear():
            raise ModelError(
                repr(self.formula),
                "recentred",
                f"re-centring by shifting {self.modifier_col} changes a non-linear transform; "
                f"centre inside the formula instead, e.g. np.log({self.modifier_col} / c)",
            )
        new = TreatmentInteraction(
            self.formula,
            self.treatment_col,
            self.modifier_col,
            ties=self.ties,
            strata=self.strata,
            engine=self.engine,
            limit_of_quantification=self.limit_of_quantification,
            center_at=at,
        )
        return new.fit(self.data_, self.duration_col_, self.event_col_, source=self.source_)

    def _resolve_centre(self, at: float | str, observed: np.ndarray) -> float:
        if isinstance(at, str):
            named = {
                "median": float(np.median(observed)),
                "mean": float(observed.mean()),
                "loq": self.limit_of_quantification,
            }
            if named.get(at) is None:
                raise InputError(
                    "TreatmentInteraction",
                    "center_at",
                    "a number, 'median', 'mean' or 'loq' "
                    f"(with a declared limit of quantification), not {at!r}",
                )
            return float(named[at])
        try:
            return float(at)
        except (TypeError, ValueError):
            raise InputError("TreatmentInteraction", "center_at", f"not a number: {at!r}") from None

    # ------------------------------------------------------------------ where HR crosses 1
    def _ci_excess(self, x: np.ndarray, q: float) -> np.ndarray:
        """(d'b)^2 - q^2 d'Vd: > 0 where the Wald CI of the HR excludes 1."""
        d = self.contrast_rows(x)
        b, V = self.model_.params_.to_numpy(), self.model_.variance_matrix_.to_numpy()
        return (d @ b) ** 2 - q**2 * np.einsum("gi,ij,gj->g", d, V, d)

    def _linear_quadratic(self, q: float) -> tuple[float, float, float, float, float]:
        """For a linear term: log HR = g0 + g1 x; coefficients of (g0+g1 x)^2 - q^2 var."""
        d = self.contrast_rows([self.shift_, self.shift_ + 1.0])
        b, V = self.model_.params_.to_numpy(), self.model_.variance_matrix_.to_numpy()
        e0, e1 = d[0], d[1] - d[0]  # d(x) = e0 + (x - shift) e1
        g0, g1 = e0 @ b, e1 @ b
        a = g1**2 - q**2 * (e1 @ V @ e1)
        bq = 2 * (g0 * g1 - q**2 * (e0 @ V @ e1))
        c = g0**2 - q**2 * (e0 @ V @ e0)
        return a, bq, c, g0, g1

    def johnson_neyman(self, level: float = 0.95) -> JohnsonNeymanRegion:
        """Modifier values where the ``level`` Wald CI of the treatment HR excludes 1.

        Exact quadratic for a linear modifier term; otherwise a fine grid over the observed range
        and :func:`scipy.optimize.brentq` at each sign change.
        """
        self._check_fitted()
        _check_level(level, "johnson_neyman")
        q = float(stats.norm.ppf(0.5 + level / 2))
        f = lambda x: self._ci_excess(np.asarray(x, dtype=float), q)  # noqa: E731
        common = dict(observed=self.observed_range_, level=level, modifier=self.modifier_col)
        if self._is_linear():
            a, bq, c, _, _ = self._linear_quadratic(q)
            bounds = _quadratic_roots(a, bq, c) + self.shift_
            return JohnsonNeymanRegion.from_roots(
                bounds, f, searched=(-np.inf, np.inf), method="exact quadratic", **common
            )
        lo, hi = self.observed_range_
        bounds = roots_on_grid(f, np.linspace(lo, hi, 2001))
        return JohnsonNeymanRegion.from_roots(
            bounds, f, searched=(lo, hi), method="grid + brentq", **common
        )

    def hr_equals_one(self, level: float = 0.95) -> FiellerInterval:
        """Modifier value where the HR point estimate is 1, with a Fieller interval: the set of
        x whose HR CI contains 1 (may be bounded, the complement of an interval, or everything)."""
        self._check_fitted()
        _check_level(level, "hr_equals_one")
        region = self.johnson_neyman(level)
        b = self.model_.params_.to_numpy()
        if self._is_linear():
            g0, g1 = self.contrast_rows([self.shift_, self.shift_ + 1.0]) @ b
            estimate = self.shift_ - g0 / (g1 - g0)
        else:
            lo, hi = self.observed_range_
            crossings = roots_on_grid(
                lambda x: self.contrast_rows(x) @ b, np.linspace(lo, hi, 2001)
            )
            estimate = crossings[0] if crossings else float("nan")
        return FiellerInterval.from_region(estimate, region)

    # ------------------------------------------------------------------ tests and subgroups
    def interaction_tests(self) -> pd.DataFrame:
        """Wald and likelihood-ratio tests of all interaction terms (multi-df for splines)."""
        self._check_fitted()
        idx = self._interaction_index()
        b = self.model_.params_.to_numpy()[idx]
        V = self.model_.variance_matrix_.to_numpy()[np.ix_(idx, idx)]
        wald = float(b @ np.linalg.solve(V, b))
        reduced = self._reduced_model()
        lr = 2.0 * (self.model_.log_likelihood_ - reduced.log_likelihood_)
        k = len(idx)
        return pd.DataFrame(
            {
                "test": ["Wald", "likelihood ratio"],
                "statistic": [wald, lr],
                "df": [k, k],
                "p": [stats.chi2.sf(wald, k), stats.chi2.sf(lr, k)],
            }
        ).set_index("test")

    def _reduced_model(self) -> CoxModel:
        spec_terms = [str(t) for t in self.model_._spec.terms]
        trt = re.compile(rf"\b{re.escape(self.treatment_col)}\b")
        mod = re.compile(rf"\b{re.escape(self.modifier_col)}\b")
        drop = [t for t in spec_terms if ":" in t and trt.search(t) and mod.search(t)]
        rhs = self.model_.rhs_ + "".join(f" - {t}" for t in drop)
        fit_df = self.data_.copy()
        fit_df[self.modifier_col] = self.data_[self.modifier_col] - self.shift_
        return CoxModel(
            rhs, ties=self.ties, strata=self.model_.strata_ or None, engine=self.engine
        ).fit(fit_df, self.duration_col_, self.event_col_, source=self.source_)

    def subgroups(self, cutoffs: Sequence[float], level: float = 0.95) -> SubgroupAnalysis:
        """Cut-off subgroups of the modifier: per-subgroup HR (Cox of treatment alone) and
        heterogeneity (Cochran Q; LR test of treatment x subgroup).

        ``cutoffs`` in raw modifier units; subgroups are left-closed, [c_k, c_k+1).
        """
        self._check_fitted()
        _check_level(level, "subgroups")
        return subgroup_analysis(
            self.data_,
            self.duration_col_,
            self.event_col_,
            self.treatment_col,
            self.modifier_col,
            cutoffs,
            ties=self.ties,
            strata=self.model_.strata_ or None,
            level=level,
            source=self.source_,
        )

    def bootstrap_band(
        self,
        values: Any,
        *,
        n_resamples: int = 2000,
        method: str = "percentile",
        seed: int = 0,
        executor: Any = None,
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Bootstrap limits of the HR curve.

        Delegates to :func:`alsstats.survival.bootstrap_contrasts` with the contrast rows d.
        """
        self._check_fitted()
        from ..survival import bootstrap_contrasts  # the compiled engine loads only when needed

        x = resolve_grid(values, self.observed_)
        fit_df = self.data_.copy()
        fit_df[self.modifier_col] = self.data_[self.modifier_col] - self.shift_
        X = self.model_.design_matrix(fit_df).to_numpy()
        strata = None
        if self.model_.strata_:
            keys = self.data_[self.model_.strata_].astype(str).agg("\x1f".join, axis=1)
            strata = pd.factorize(keys, sort=True)[0]
        band = bootstrap_contrasts(
            self.data_[self.duration_col_].to_numpy(float),
            self.data_[self.event_col_].to_numpy(float),
            X,
            self.contrast_rows(x),
            strata=strata,
            ties=self.ties,
            n_resamples=n_resamples,
            level=level,
            method=method,
            seed=seed,
            executor=executor,
        )
        out = pd.DataFrame(
            {
                "value": x,
                "hr": np.exp(band.estimate),
                "lower": np.exp(band.lower),
                "upper": np.exp(band.upper),
            }
        )
        out.attrs.update(
            n_failed=band.n_failed, method=band.method, level=band.level, seed=band.seed
        )
        return out
