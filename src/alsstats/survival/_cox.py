"""Cox proportional-hazards fits: the one adapter between alsstats and lifelines.

The design matrix is built from an R-style right-hand side with formulaic (``trt * pnfh``,
``np.log(pnfh)``, ``center(pnfh)``, ``bs(pnfh, df=3)``, ``strata(sex)``) and handed as plain
numeric columns to :class:`lifelines.CoxPHFitter` (Efron ties), with convergence tightened so
that coefficients, standard errors, covariance and log-likelihood agree with R's
``survival::coxph`` to about 1e-8 relative. Breslow ties (which lifelines lacks), and Efron on
request, go through the package's fast engine :func:`alsstats.survival.fit_cox`.

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

from ..errors import InputError, ModelError

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


def _split_strata(formula: str) -> tuple[str, list[str]]:
    """Remove R-style ``strata(a, b)`` terms from a right-hand side; return (rhs, columns)."""
    columns: list[str] = []
    for match in _STRATA_TERM.finditer(formula):
        columns += [c.strip() for c in match.group(1).split(",") if c.strip()]
    rhs = _STRATA_TERM.sub("+", formula).strip().strip("+").strip()
    rhs = re.sub(r"\+\s*\+", "+", rhs)
    return rhs, columns


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
        self.engine = engine
        rhs = formula.split("~", 1)[1] if "~" in formula else formula
        self.rhs_, formula_strata = _split_strata(rhs)
        extra = [strata] if isinstance(strata, str) else list(strata or [])
        self.strata = formula_strata + [s for s in extra if s not in formula_strata]
        if not self.rhs_:
            raise InputError("CoxModel", "formula", f"{formula!r} has no covariate terms")

    # ------------------------------------------------------------------ fitting
    def fit(
        self, df: pd.DataFrame, duration_col: str, event_col: str, *, source: str = "data"
    ) -> CoxModel:
        """Fit the model to ``df``; ``source`` names the data in error messages."""
        if not isinstance(df, pd.DataFrame):
            raise InputError(source, "", f"expected a pandas DataFrame, got {type(df).__name__}")
        from formulaic import Formula

        try:
            formula = Formula(self.rhs_)
            needed = {str(v) for v in formula.required_variables}
            # formulaic does not always list variables inside stateful transforms (bs(...))
            needed |= {c for c in df.columns if re.search(rf"\b{re.escape(str(c))}\b", self.rhs_)}
            needed = sorted(needed)
        except Exception as exc:  # formulaic's parser errors are not ours to leak
            raise InputError(source, "formula", f"cannot parse {self.rhs_!r}: {exc}") from None
        columns = [duration_col, event_col, *needed, *self.strata]
        for col in columns:
            if col not in df.columns:
                raise InputError(
                    source, col, "no such column (columns: " + ", ".join(map(str, df.columns)) + ")"
                )
        for col in dict.fromkeys(columns):
            n_missing = int(df[col].isna().sum())
            if n_missing:
                raise InputError(
                    source,
                    col,
                    f"{n_missing} of {len(df)} rows have missing values; "
                    "drop or impute them before fitting",
                )
        time = self._numeric(df[duration_col], source, duration_col)
        event = self._numeric(df[event_col], source, event_col)
        if np.any(time < 0):
            raise InputError(
                source,
                duration_col,
                f"{int(np.sum(time < 0))} negative time(s); survival times must be >= 0",
            )
        if not np.all(np.isin(event, (0.0, 1.0))):
            raise InputError(source, event_col, "event indicator must be 0/1 (or False/True)")
        if event.sum() == 0:
            raise ModelError(f"{source}: {event_col}: no events; a Cox model cannot be fitted")
        event_times = np.unique(time[event == 1])
        if event_times.size == 1 and event.sum() > 1:
            raise ModelError(
                f"{source}: {duration_col}: all {int(event.sum())} events are tied at time "
                f"{event_times[0]:g}; the partial likelihood then has a single risk set, so the "
                "estimate depends on the tie approximation rather than on the order of events"
            )
        try:
            from formulaic import model_matrix

            with np.errstate(divide="ignore", invalid="ignore"):  # non-finite rows checked below
                mm = model_matrix(
                    formula,
                    df.loc[:, needed] if needed else df,
                    ensure_full_rank=True,
                    na_action="ignore",
                )
        except Exception as exc:
            raise InputError(
                source, "formula", f"cannot build the design of {self.rhs_!r}: {exc}"
            ) from None
        self._spec = mm.model_spec
        X = pd.DataFrame(np.asarray(mm, dtype=float), columns=list(mm.columns), index=df.index)
        X = X.drop(columns=[c for c in X.columns if c == "Intercept"])
        self._check_design(X, event, source)
        strata_codes = None
        if self.strata:
            keys = df[self.strata].astype(str).agg("\x1f".join, axis=1)
            strata_codes = pd.factorize(keys, sort=True)[0]

        self.terms_ = list(X.columns)
        self.n_ = len(df)
        self.n_events_ = int(event.sum())
        self.duration_col_, self.event_col_ = duration_col, event_col
        if self.ties == "breslow" or self.engine == "fast":
            coef, cov, ll, ll0 = self._fit_engine(time, event, X.to_numpy(), strata_codes)
        else:
            coef, cov, ll, ll0 = self._fit_lifelines(time, event, X, strata_codes)
        self._set_fit(coef, cov, ll, ll0)
        return self

    @staticmethod
    def _numeric(col: pd.Series, source: str, name: str) -> np.ndarray:
        try:
            return np.asarray(pd.to_numeric(col), dtype=float)
        except (ValueError, TypeError):
            raise InputError(source, name, "must be numeric") from None

    def _check_design(self, X: pd.DataFrame, event: np.ndarray, source: str) -> None:
        if X.shape[1] == 0:
            raise InputError(source, "formula", f"{self.rhs_!r} gives no covariate columns")
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
                    f"{source}: {col}: constant ({x[0]:g} in all {len(x)} rows); its coefficient "
                    "cannot be estimated (a modifier needs at least two distinct values)"
                )
            levels = np.unique(x)
            if levels.size == 2:
                for level in levels:
                    if event[x == level].sum() == 0:
                        raise ModelError(
                            f"{source}: {col}: no events among the {int(np.sum(x == level))} "
                            f"rows where {col} = {level:g}; the likelihood is monotone and the "
                            "hazard ratio is 0 or infinite (no finite estimate)"
                        )
        rank = np.linalg.matrix_rank(X.to_numpy() - X.to_numpy().mean(0))
        if rank < X.shape[1]:
            raise ModelError(
                f"{source}: design of {self.rhs_!r} is collinear (rank {rank} < {X.shape[1]} terms)"
            )

    def _fit_lifelines(self, time, event, X, strata_codes):
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
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # recorded here, translated below: none escapes
            try:
                fitter.fit(
                    data, "__T", "__E", strata=strata, fit_options=dict(_LIFELINES_FIT_OPTIONS)
                )
            except ConvergenceError as exc:
                raise ModelError(f"Cox fit of {self.rhs_!r} did not converge: {exc}") from None
            except np.linalg.LinAlgError:
                raise ModelError(f"Cox fit of {self.rhs_!r}: singular information matrix") from None
        self._raise_for_warnings(caught, list(X.columns))
        coef = fitter.params_.to_numpy()
        cov = fitter.variance_matrix_.to_numpy()
        return coef, cov, float(fitter.log_likelihood_), float(fitter._ll_null_)

    def _raise_for_warnings(self, caught: list, terms: list[str]) -> None:
        for w in caught:
            msg = str(w.message).split("\n")[0].strip()
            msg = re.sub(r"\bx(\d+)\b", lambda m: repr(terms[int(m.group(1))]), msg)
            msg = re.sub(r"\s+See https?://\S+", "", msg)
            if "lifelines" in type(w.message).__module__ or "converge" in msg.lower():
                raise ModelError(
                    f"Cox fit of {self.rhs_!r} is not trustworthy (monotone likelihood or "
                    f"non-convergence): {msg}"
                )
            warnings.warn(w.message, w.category, stacklevel=3)  # not lifelines': pass through

    def _fit_engine(self, time, event, X, strata_codes):
        from ._engine import fit_cox  # numba start-up only when the engine is asked for

        res = fit_cox(time, event.astype(float), X, strata=strata_codes, ties=self.ties)
        status = str(np.asarray(res.status).ravel()[0])
        if status != "ok" or not bool(np.asarray(res.converged).ravel()[0]):
            raise ModelError(f"Cox fit of {self.rhs_!r} ({self.ties} ties) failed: {status}")
        coef = np.asarray(res.coef, dtype=float)[0]
        cov = np.asarray(res.cov, dtype=float)[0]
        self._check_finite(coef, cov)
        return coef, cov, float(np.ravel(res.loglik)[0]), float(np.ravel(res.loglik_null)[0])

    def _check_finite(self, coef, cov):
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(cov))):
            raise ModelError(
                f"Cox fit of {self.rhs_!r}: non-finite estimates (monotone likelihood)"
            )

    def _set_fit(self, coef, cov, ll, ll0) -> None:
        self._check_finite(coef, cov)
        # A coefficient that moves the linear predictor by > 30 over the observed range means the
        # likelihood kept rising as |b| grew: report it, do not print a meaningless HR.
        idx = pd.Index(self.terms_, name="term")
        self.params_ = pd.Series(coef, index=idx, name="coef")
        self.variance_matrix_ = pd.DataFrame(cov, index=idx, columns=idx)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(cov)), index=idx, name="se")
        self.log_likelihood_ = ll
        self.log_likelihood_null_ = ll0

    # ------------------------------------------------------------------ results
    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ModelError(f"CoxModel({self.formula!r}) is not fitted; call fit() first")

    def design_matrix(self, newdata: pd.DataFrame) -> pd.DataFrame:
        """The fitted formula (with its stateful transforms: centring, spline knots, factor
        levels) applied to new rows; columns are :attr:`terms_`."""
        self._check_fitted()
        try:
            with np.errstate(divide="ignore", invalid="ignore"):  # caller checks finiteness
                mm = self._spec.get_model_matrix(newdata, na_action="ignore")
        except Exception as exc:
            raise InputError(
                "newdata", "formula", f"cannot evaluate {self.rhs_!r}: {exc}"
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

    def _header(self) -> str:
        ties = f"ties={self.ties}" + (f", strata={'+'.join(self.strata)}" if self.strata else "")
        if not hasattr(self, "params_"):
            return f"CoxModel({self.formula!r}, {ties}) [not fitted]"
        return (
            f"CoxModel({self.formula!r}, {ties}): n={self.n_}, events={self.n_events_}, "
            f"loglik={self.log_likelihood_:.6g} (null {self.log_likelihood_null_:.6g})"
        )

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return self._header()
        return self._header() + "\n" + self.summary.to_string(float_format=lambda v: f"{v:.4g}")

    def _repr_html_(self) -> str:
        if not hasattr(self, "params_"):
            return f"<p>{self._header()}</p>"
        return f"<p>{self._header()}</p>" + self.summary.to_html(float_format=lambda v: f"{v:.4g}")

    def fitted_info(self) -> dict[str, Any]:
        """Everything to compare with R side by side: terms, coef, se, covariance, loglik."""
        self._check_fitted()
        return {
            "formula": self.formula,
            "ties": self.ties,
            "strata": list(self.strata),
            "n": self.n_,
            "nevent": self.n_events_,
            "terms": list(self.terms_),
            "coef": self.params_.tolist(),
            "se": self.standard_errors_.tolist(),
            "var": self.variance_matrix_.to_numpy().tolist(),
            "loglik": self.log_likelihood_,
            "loglik_null": self.log_likelihood_null_,
        }
