"""Cox proportional-hazards fits: the one adapter between alsstats and lifelines.

The design matrix is built from an R-style right-hand side with formulaic (``trt * pnfh``,
``np.log(pnfh)``, ``center(pnfh)``, ``bs(pnfh, df=3)``, ``strata(sex)``) and handed as plain
numeric columns to :class:`lifelines.CoxPHFitter` (Efron ties), with convergence tightened so
that coefficients, standard errors, covariance and log-likelihood agree with R's
``survival::coxph`` to about 1e-8 relative. Breslow ties (which lifelines lacks), and Efron on
request, go through the package's fast engine :func:`alsstats.survival.fit_cox`. When lifelines'
Newton-Raphson fails or stops short (R's ``ovarian`` data, ``rx2 * age``: lifelines halves its
step until it gives up, R converges in 6 steps), the fit falls back to the engine, which runs
R's ``coxph.fit`` algorithm, and says so in :attr:`CoxModel.notes_`.

Every failure a user can provoke (missing values, unknown columns, negative times, no events
in a group, monotone likelihood, non-convergence) is an :class:`~alsstats.errors.InputError` or
:class:`~alsstats.errors.ModelError` with a message that names the column and the problem; no
lifelines warning escapes.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError, ModelError, NotFittedError, example_values, missing_attribute
from ..io import check_columns, numeric_column

__all__ = ["CoxModel"]

# Newton-Raphson settings for lifelines 0.30.3 (`_newton_raphson_for_efron_model`): the defaults
# (precision 1e-7, r_precision 1e-9, step 0.95) agree with R only to ~4 significant digits.
# A full first step and tight stopping rules reach R's eps = 1e-12 solution.
_LIFELINES_FIT_OPTIONS = {
    "step_size": 1.0,
    "precision": 1e-20,
    "r_precision": 0.0,
    "max_steps": 100,
}
_STRATA_TERM = re.compile(r"(?:^|\+)\s*strata\(([^()]*)\)\s*")
_TIES = ("efron", "breslow")
_ENGINES = ("lifelines", "fast")
_MISSING = ("raise", "drop")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _split_strata(formula: str) -> tuple[str, list[str]]:
    """Remove R-style ``strata(a, b)`` terms from a right-hand side; return (rhs, columns)."""
    columns: list[str] = []
    for match in _STRATA_TERM.finditer(formula):
        columns += [c.strip() for c in match.group(1).split(",") if c.strip()]
    rhs = _STRATA_TERM.sub("+", formula).strip().strip("+").strip()
    rhs = re.sub(r"\+\s*\+", "+", rhs)
    return rhs, columns


def _first_line(exc: object) -> str:
    """First line of a library's message, without terminal colour codes."""
    text = _ANSI.sub("", str(exc)).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


class CoxModel:
    """A Cox proportional-hazards model given by an R-style formula.

    Parameters
    ----------
    formula
        Right-hand side, e.g. ``"trt * pnfh"``, ``"trt * np.log(pnfh) + age + strata(sex)"``.
        A leading ``Surv(...) ~`` is accepted and ignored (time and event columns are given
        to :meth:`fit`).
    ties
        ``"efron"`` (default, as R) or ``"breslow"``.
    strata
        Column name(s) defining strata (baseline hazards differ, coefficients shared);
        added to any ``strata()`` terms in the formula.
    engine
        ``"lifelines"`` (default) or ``"fast"`` (:mod:`alsstats.survival`). Breslow ties always
        use the fast engine.

    Attributes
    ----------
    params_, variance_matrix_, standard_errors_, hazard_ratios_, confidence_intervals_
        As lifelines' ``CoxPHFitter`` (confidence intervals: 95% Wald, coefficient scale).
    log_likelihood_, log_likelihood_null_
        Partial log-likelihood at the estimate and at 0.
    terms_, rhs_, strata_, n_, n_events_, n_dropped_
        The design's columns, the right-hand side and strata fitted, rows, events, and rows
        dropped for missing values (``missing="drop"``).
    engine_, notes_
        Which fitter gave the estimate (``"lifelines"`` or ``"fast"``) and notes on the fit,
        e.g. that lifelines did not converge and the engine's solution was taken.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [5, 8, 3, 9, 2, 7, 4, 6], "e": [1, 1, 0, 1, 1, 0, 1, 1],
    ...                    "trt": [0, 1, 0, 1, 0, 1, 1, 0]})
    >>> m = CoxModel("trt").fit(df, "t", "e")
    >>> m.terms_
    ['trt']
    """

    def __init__(
        self,
        formula: str,
        *,
        ties: str = "efron",
        strata: str | Sequence[str] | None = None,
        engine: str = "lifelines",
    ) -> None:
        if ties not in _TIES:
            raise InputError("CoxModel", "ties", f"must be one of {_TIES}, not {ties!r}")
        if engine not in _ENGINES:
            raise InputError("CoxModel", "engine", f"must be one of {_ENGINES}, not {engine!r}")
        self.formula = formula
        self.ties = ties
        self.strata = strata
        self.engine = engine
        # Parsed here so that a formula without terms fails at once; fit() sets rhs_ and strata_.
        rhs = formula.split("~", 1)[1] if "~" in formula else formula
        self._rhs, formula_strata = _split_strata(rhs)
        extra = [strata] if isinstance(strata, str) else list(strata or [])
        self._strata = formula_strata + [s for s in extra if s not in formula_strata]
        if not self._rhs:
            raise InputError("CoxModel", "formula", f"{formula!r} has no covariate terms")

    def __getattr__(self, name: str) -> Any:
        # Reached only when normal look-up fails: a fitted attribute, or a property that needs
        # the fit (its NotFittedError lands here too), asked before fit().
        raise missing_attribute(self, name, "params_", f"CoxModel({self.formula!r})")

    # ------------------------------------------------------------------ fitting
    def columns_used(self, df: pd.DataFrame) -> list[str]:
        """The columns of ``df`` the formula and the strata read (time and event not included)."""
        from formulaic import Formula

        try:
            needed = {str(v) for v in Formula(self._rhs).required_variables}
        except Exception as exc:  # formulaic's parser errors are not ours to leak
            raise InputError(
                "CoxModel", "formula", f"cannot parse {self._rhs!r}: {_first_line(exc)}"
            ) from None
        # formulaic does not always list variables inside stateful transforms (bs(...))
        needed |= {c for c in df.columns if re.search(rf"\b{re.escape(str(c))}\b", self._rhs)}
        return [*sorted(needed), *(s for s in self._strata if s not in needed)]

    def fit(
        self,
        df: pd.DataFrame,
        duration_col: str,
        event_col: str,
        *,
        source: str = "data",
        missing: str = "raise",
    ) -> CoxModel:
        """Fit the model to ``df``.

        Parameters
        ----------
        df
            One row per subject.
        duration_col, event_col
            Follow-up time (>= 0, finite) and event indicator (0/1) columns.
        source
            Names the data in error messages (e.g. the CSV path).
        missing
            ``"raise"`` (default): a missing value in a column the model reads is an error;
            ``"drop"``: such rows are left out, as R's ``na.omit``, and :attr:`n_dropped_` and
            :attr:`notes_` say how many.
        """
        if not isinstance(df, pd.DataFrame):
            raise InputError(source, "", f"expected a pandas DataFrame, got {type(df).__name__}")
        if missing not in _MISSING:
            raise InputError("CoxModel.fit", "missing", f"one of {_MISSING}, not {missing!r}")
        try:
            needed = self.columns_used(df)
        except InputError as exc:
            raise InputError(source, "formula", exc.problem) from None
        needed = [c for c in needed if c not in self._strata]
        columns = list(dict.fromkeys([duration_col, event_col, *needed, *self._strata]))
        check_columns(df, columns, source)
        notes: list[str] = []
        incomplete = df[columns].isna().any(axis=1)
        n_dropped = int(incomplete.sum())
        if n_dropped and missing == "drop":
            where = [str(c) for c in columns if df[c].isna().any()]
            df = df.loc[~incomplete]
            notes.append(
                f"{n_dropped} of {len(incomplete)} rows dropped for missing values "
                f"(in {', '.join(where)}), as R's na.omit"
            )
        elif n_dropped:
            for col in columns:
                n_missing = int(df[col].isna().sum())
                if n_missing:
                    raise InputError(
                        source,
                        col,
                        f"{n_missing} of {len(df)} rows have missing values; "
                        "drop them (missing='drop', --na drop) or impute them before fitting",
                    )
        time = numeric_column(df, duration_col, source)
        event = numeric_column(df, event_col, source)
        if not np.all(np.isfinite(time)):
            bad = time[~np.isfinite(time)]
            raise InputError(
                source,
                duration_col,
                f"{bad.size} non-finite time(s) ({example_values(bad)}); "
                "survival times must be finite numbers >= 0",
            )
        if np.any(time < 0):
            raise InputError(
                source,
                duration_col,
                f"{int(np.sum(time < 0))} negative time(s); survival times must be >= 0",
            )
        if not np.all(np.isin(event, (0.0, 1.0))):
            bad = event[~np.isin(event, (0.0, 1.0))]
            raise InputError(
                source,
                event_col,
                f"event indicator must be 0/1 (or False/True); found {example_values(bad)}",
            )
        if event.sum() == 0:
            raise ModelError(source, event_col, "no events; a Cox model cannot be fitted")
        event_times = np.unique(time[event == 1])
        if event_times.size == 1 and event.sum() > 1:
            raise ModelError(
                source,
                duration_col,
                f"all {int(event.sum())} events are tied at time {event_times[0]:g}; the "
                "partial likelihood then has a single risk set, so the estimate depends on the "
                "tie approximation rather than on the order of events",
            )
        try:
            from formulaic import Formula, model_matrix

            with np.errstate(divide="ignore", invalid="ignore"):  # non-finite rows checked below
                mm = model_matrix(
                    Formula(self._rhs),
                    df.loc[:, needed] if needed else df,
                    ensure_full_rank=True,
                    na_action="ignore",
                )
        except Exception as exc:
            raise InputError(
                source, "formula", f"cannot build the design of {self._rhs!r}: {_first_line(exc)}"
            ) from None
        X = pd.DataFrame(np.asarray(mm, dtype=float), columns=list(mm.columns), index=df.index)
        X = X.drop(columns=[c for c in X.columns if c == "Intercept"])
        self._check_design(X, event, source)
        strata_codes = None
        if self._strata:
            keys = df[self._strata].astype(str).agg("\x1f".join, axis=1)
            strata_codes = pd.factorize(keys, sort=True)[0]

        terms = list(X.columns)
        if self.ties == "breslow" or self.engine == "fast":
            (coef, cov, ll, ll0), engine = (
                self._fit_engine(time, event, X.to_numpy(), strata_codes),
                "fast",
            )
        else:
            (coef, cov, ll, ll0), engine, note = self._fit_lifelines(time, event, X, strata_codes)
            if note:
                notes.append(note)
        self._check_finite(coef, cov)
        # Fitted state, all set here and only here.
        self._spec = mm.model_spec
        self.rhs_ = self._rhs
        self.strata_ = list(self._strata)
        self.terms_ = terms
        self.n_ = len(df)
        self.n_events_ = int(event.sum())
        self.n_dropped_ = n_dropped if missing == "drop" else 0
        self.duration_col_, self.event_col_ = duration_col, event_col
        self.engine_ = engine
        self.notes_ = notes
        idx = pd.Index(terms, name="term")
        self.params_ = pd.Series(coef, index=idx, name="coef")
        self.variance_matrix_ = pd.DataFrame(cov, index=idx, columns=idx)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(cov)), index=idx, name="se")
        self.log_likelihood_ = ll
        self.log_likelihood_null_ = ll0
        self.hazard_ratios_ = np.exp(self.params_).rename("exp(coef)")
        q = float(stats.norm.ppf(0.975))
        self.confidence_intervals_ = pd.DataFrame(  # lifelines' names: coef scale, 95%
            {
                "95% lower-bound": self.params_ - q * self.standard_errors_,
                "95% upper-bound": self.params_ + q * self.standard_errors_,
            }
        )
        return self

    def _check_design(self, X: pd.DataFrame, event: np.ndarray, source: str) -> None:
        if X.shape[1] == 0:
            raise InputError(source, "formula", f"{self._rhs!r} gives no covariate columns")
        bad = ~np.isfinite(X.to_numpy())
        if bad.any():
            col = X.columns[np.flatnonzero(bad.any(axis=0))[0]]
            raise InputError(
                source,
                col,
                f"{int(bad.any(axis=1).sum())} rows give non-finite "
                "values (e.g. log of a value <= 0)",
            )
        for col in X.columns:
            x = X[col].to_numpy()
            if np.ptp(x) == 0:
                raise ModelError(
                    source,
                    col,
                    f"constant ({x[0]:g} in all {len(x)} rows); its coefficient cannot be "
                    "estimated (a modifier needs at least two distinct values)",
                )
            levels = np.unique(x)
            if levels.size == 2:
                for level in levels:
                    if event[x == level].sum() == 0:
                        raise ModelError(
                            source,
                            col,
                            f"no events among the {int(np.sum(x == level))} rows where "
                            f"{col} = {level:g}; the likelihood is monotone and the hazard "
                            "ratio is 0 or infinite (no finite estimate)",
                        )
        rank = np.linalg.matrix_rank(X.to_numpy() - X.to_numpy().mean(0))
        if rank < X.shape[1]:
            raise ModelError(
                source,
                "formula",
                f"design of {self._rhs!r} is collinear (rank {rank} < {X.shape[1]} terms)",
            )

    def _fit_lifelines(self, time, event, X, strata_codes):
        """lifelines' fit; if it fails or stops short, the engine's (R's algorithm) with a note."""
        from lifelines import CoxPHFitter
        from lifelines.exceptions import ConvergenceError

        data = X.copy()
        data.columns = [f"x{i}" for i in range(X.shape[1])]  # lifelines dislikes odd names
        data["__T"], data["__E"] = time, event
        strata = None
        if strata_codes is not None:
            data["__S"] = strata_codes
            strata = ["__S"]
        fitter = CoxPHFitter(penalizer=0.0)
        problem = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # recorded here, translated below: none escapes
            try:
                fitter.fit(
                    data, "__T", "__E", strata=strata, fit_options=dict(_LIFELINES_FIT_OPTIONS)
                )
            except ConvergenceError as exc:
                problem = f"did not converge ({_first_line(exc)})"
            except np.linalg.LinAlgError:
                problem = "met a singular information matrix"
        terms = list(X.columns)
        for w in caught:
            msg = _first_line(w.message)
            msg = re.sub(r"\bx(\d+)\b", lambda m: repr(terms[int(m.group(1))]), msg)
            msg = re.sub(r"\s*(Please see|See) .*https?://\S+", "", msg).strip().rstrip(".")
            if "lifelines" in type(w.message).__module__ or "converge" in msg.lower():
                problem = problem or f"warned: {msg}"
            else:
                warnings.warn(w.message, w.category, stacklevel=4)  # not lifelines': pass on
        ll_lifelines = getattr(fitter, "log_likelihood_", float("nan"))
        if problem is None:
            result = (
                fitter.params_.to_numpy(),
                fitter.variance_matrix_.to_numpy(),
                float(fitter.log_likelihood_),
                float(fitter._ll_null_),
            )
            return result, "lifelines", ""
        # R's coxph.fit (Newton-Raphson from 0 with step-halving) often converges where
        # lifelines' step-size schedule gives up: take the engine's solution if it has one.
        try:
            result = self._fit_engine(time, event, X.to_numpy(), strata_codes)
        except ModelError as exc:
            raise ModelError(
                f"Cox fit of {self._rhs!r}",
                "",
                f"not trustworthy (monotone likelihood or non-convergence): lifelines "
                f"{problem}; the engine (R's algorithm): {exc.problem or exc}",
            ) from None
        ll = result[2]
        if np.isfinite(ll_lifelines) and ll < ll_lifelines - 1e-8 * max(1.0, abs(ll_lifelines)):
            raise ModelError(
                f"Cox fit of {self._rhs!r}",
                "",
                f"lifelines {problem}, and the engine stopped at a lower log-likelihood "
                f"({ll:.8g} < {ll_lifelines:.8g}): no trustworthy maximum",
            )
        where = f" at log-likelihood {ll_lifelines:.8g}" if np.isfinite(ll_lifelines) else ""
        note = (
            f"lifelines' Newton-Raphson {problem}{where}; the engine's solution (R's coxph "
            f"algorithm, log-likelihood {ll:.8g}) is used"
        )
        return result, "fast", note

    def _fit_engine(self, time, event, X, strata_codes):
        from ._engine import fit_cox  # numba start-up only when the engine is asked for

        res = fit_cox(time, event.astype(float), X, strata=strata_codes, ties=self.ties)
        status = str(np.asarray(res.status).ravel()[0])
        if status != "ok" or not bool(np.asarray(res.converged).ravel()[0]):
            raise ModelError(
                f"Cox fit of {self._rhs!r}", "", f"({self.ties} ties) failed: {status}"
            )
        coef = np.asarray(res.coef, dtype=float)[0]
        cov = np.asarray(res.cov, dtype=float)[0]
        self._check_finite(coef, cov)
        return coef, cov, float(np.ravel(res.loglik)[0]), float(np.ravel(res.loglik_null)[0])

    def _check_finite(self, coef, cov):
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(cov))):
            raise ModelError(
                f"Cox fit of {self._rhs!r}", "", "non-finite estimates (monotone likelihood)"
            )

    # ------------------------------------------------------------------ results
    def _check_fitted(self) -> None:
        if "params_" not in self.__dict__:
            raise NotFittedError(f"CoxModel({self.formula!r})", "", "not fitted; call fit() first")

    def design_matrix(self, newdata: pd.DataFrame) -> pd.DataFrame:
        """The fitted formula (with its stateful transforms: centring, spline knots, factor
        levels) applied to new rows; columns are :attr:`terms_`."""
        self._check_fitted()
        try:
            with np.errstate(divide="ignore", invalid="ignore"):  # caller checks finiteness
                mm = self._spec.get_model_matrix(newdata, na_action="ignore")
        except Exception as exc:
            raise InputError(
                "newdata", "formula", f"cannot evaluate {self.rhs_!r}: {_first_line(exc)}"
            ) from None
        out = pd.DataFrame(
            np.asarray(mm, dtype=float), columns=list(mm.columns), index=newdata.index
        )
        return out.reindex(columns=self.terms_, fill_value=0.0)

    def log_likelihood_ratio_test(self) -> tuple[float, int, float]:
        """Likelihood-ratio test against the null model: (statistic, df, p)."""
        self._check_fitted()
        stat = 2.0 * (self.log_likelihood_ - self.log_likelihood_null_)
        df = len(self.terms_)
        return stat, df, float(stats.chi2.sf(stat, df))

    def summary_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Coefficient table: coef, exp(coef), se, z, p and Wald limits at ``level``."""
        self._check_fitted()
        b, se = self.params_, self.standard_errors_
        z = b / se
        q = stats.norm.ppf(0.5 + level / 2)
        pct = f"{100 * level:g}%"
        return pd.DataFrame(
            {
                "coef": b,
                "exp(coef)": np.exp(b),
                "se": se,
                "z": z,
                "p": 2 * stats.norm.sf(np.abs(z)),
                f"coef lower {pct}": b - q * se,
                f"coef upper {pct}": b + q * se,
                f"exp(coef) lower {pct}": np.exp(b - q * se),
                f"exp(coef) upper {pct}": np.exp(b + q * se),
            }
        )

    @property
    def summary(self) -> pd.DataFrame:
        """Coefficient table at the 95% level (see :meth:`summary_frame`)."""
        return self.summary_frame()

    def print_summary(self, decimals: int = 4, level: float = 0.95) -> None:
        """Print the fit as lifelines does: the model, notes, the coefficient table and the
        likelihood-ratio test against the null model."""
        self._check_fitted()
        stat, df, p = self.log_likelihood_ratio_test()
        lines = [self._header(), *(f"note: {n}" for n in self.notes_), ""]
        lines.append(
            self.summary_frame(level).to_string(float_format=lambda v: f"{v:.{decimals}g}")
        )
        lines.append(
            f"\nLikelihood-ratio test: {stat:.{decimals}g} on {df} df, p = {p:.{decimals}g}"
        )
        print("\n".join(lines))

    def _header(self) -> str:
        ties = f"ties={self.ties}" + (f", strata={'+'.join(self._strata)}" if self._strata else "")
        if "params_" not in self.__dict__:
            return f"CoxModel({self.formula!r}, {ties}) [not fitted]"
        return (
            f"CoxModel({self.formula!r}, {ties}): n={self.n_}, events={self.n_events_}, "
            f"loglik={self.log_likelihood_:.6g} (null {self.log_likelihood_null_:.6g})"
        )

    def __repr__(self) -> str:
        if "params_" not in self.__dict__:
            return self._header()
        return self._header() + "\n" + self.summary.to_string(float_format=lambda v: f"{v:.4g}")

    def _repr_html_(self) -> str:
        if "params_" not in self.__dict__:
            return f"<p>{self._header()}</p>"
        return f"<p>{self._header()}</p>" + self.summary.to_html(float_format=lambda v: f"{v:.4g}")

    def fitted_info(self) -> dict[str, Any]:
        """Everything to compare with R side by side: terms, coef, se, covariance, loglik."""
        self._check_fitted()
        return {
            "formula": self.formula,
            "ties": self.ties,
            "strata": list(self.strata_),
            "engine": self.engine_,
            "notes": list(self.notes_),
            "n": self.n_,
            "n_dropped": self.n_dropped_,
            "nevent": self.n_events_,
            "terms": list(self.terms_),
            "coef": self.params_.tolist(),
            "se": self.standard_errors_.tolist(),
            "var": self.variance_matrix_.to_numpy().tolist(),
            "loglik": self.log_likelihood_,
            "loglik_null": self.log_likelihood_null_,
        }
