"""The verification's own recomputation of a p for interaction over a categorical modifier.

:func:`lifelines_joint_p` refits ``treatment + C + treatment:C`` (and ``treatment + C`` for a
likelihood ratio) with lifelines, independently of the package's engine and of
:mod:`alsstats.reconstruct._joint`; :func:`joint_not_target_rows` lists the parts of an
interaction over a categorical modifier that no cohort statistic stands for, with the reason.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError
from scipy import stats

from ._joint import JOINT_TESTS

__all__: list[str] = []

_COLUMNS = ["figure", "statistic", "reported", "cohort", "rounded", "verdict", "note"]


def _lifelines_fit(df: pd.DataFrame, columns: list[str]) -> CoxPHFitter:
    with warnings.catch_warnings():
        # lifelines' convergence and low-variance chatter on small cohorts; a failed fit raises
        warnings.simplefilter("ignore")
        # half Newton steps: lifelines' default (0.95) overshoots on a small category where
        # nearly everyone dies (pbc's edema despite diuretics: 19 deaths of 20) and stops
        return CoxPHFitter().fit(
            df[["time", "death", *columns]],
            "time",
            "death",
            fit_options={"precision": 1e-10, "step_size": 0.5},
        )


def lifelines_joint_p(
    cohort: pd.DataFrame,
    column: str,
    categories: Sequence[str],
    test: str,
    adjust: Sequence[str] = (),
) -> float:
    """The joint p of the k-1 treatment x category product terms of one two-arm cohort, by
    lifelines' Cox fit (Efron ties): Wald from ``params_`` and ``variance_matrix_``, likelihood
    ratio from two fits' ``log_likelihood_``. Rows whose ``column`` holds no category are left
    out; NaN when a fit fails."""
    if test not in JOINT_TESTS:
        raise ValueError(f"joint interaction test {test!r}: use one of {JOINT_TESTS}")
    labels = cohort[column].astype(str)
    df = cohort[labels.isin([str(c) for c in categories])].reset_index(drop=True)
    labels = df[column].astype(str)
    ind = [f"_c{j}" for j in range(1, len(categories))]
    prod = [f"_t{j}" for j in range(1, len(categories))]
    data = {"time": df["time"].to_numpy(float), "death": df["death"].to_numpy(int)}
    data["_trt"] = df["treatment"].to_numpy(float)
    for j, (c, t) in enumerate(zip(ind, prod, strict=True), start=1):
        data[c] = (labels == str(categories[j])).to_numpy(float)
        data[t] = data["_trt"] * data[c]
    for a in adjust:
        data[a] = df[a].to_numpy(float)
    frame = pd.DataFrame(data)
    try:
        full = _lifelines_fit(frame, ["_trt", *ind, *prod, *adjust])
        if test == "wald":
            b = full.params_[prod].to_numpy()
            v = full.variance_matrix_.loc[prod, prod].to_numpy()
            chi2 = float(b @ np.linalg.solve(v, b))
        else:
            reduced = _lifelines_fit(frame, ["_trt", *ind, *adjust])
            chi2 = max(2.0 * (full.log_likelihood_ - reduced.log_likelihood_), 0.0)
    except (ConvergenceError, np.linalg.LinAlgError, ZeroDivisionError):
        return math.nan
    return float(stats.chi2.sf(chi2, len(categories) - 1))


def _printed_text(figure: Any, name: str, value: float) -> str:
    try:
        return figure.printed_form(name).text
    except (KeyError, AttributeError):
        return f"{value:g}"


def joint_not_target_rows(summary: Any, modifier: Any, include: frozenset[str]) -> pd.DataFrame:
    """Rows ("not checkable") for the parts of an interaction on a categorical modifier that
    are not rebuild targets: a ratio of HRs or its CI over three or more categories (no single
    ratio: the interaction is k-1 product terms) and a p from a test that is not recomputed
    (not named, score, or another test; a Wald p of two categories is the product term's)."""
    rows = []
    if not getattr(modifier, "categorical", False):
        return pd.DataFrame(rows, columns=_COLUMNS)
    k = len(modifier.categories)
    for i in getattr(summary, "interactions", None) or ():
        status = getattr(i, "status", None) or "reported"
        if i.modifier != modifier.id or status == "superseded":
            continue
        if status == "conflicting" and i.id not in include:
            continue
        if k > 2 and i.value is not None:
            why = (
                f"a ratio of HRs over {k} categories: no single ratio (the interaction is "
                f"{k - 1} product terms); recorded, not a target"
            )
            rows.append([f"{i.id}.hr", "hr", _printed_text(i, "value", i.value), why])
            if i.ci is not None:
                ci = "-".join(_printed_text(i, f"ci[{j}]", i.ci[j]) for j in (0, 1))
                rows.append([f"{i.id}.ci", "hr_ci", ci, why])
        test = i.test or "unknown"
        if i.p is None or test in JOINT_TESTS:
            continue
        if test == "unknown":
            why = "test not named"
        else:
            why = f"p from a {test} test"
        why += (
            f": only a Wald or likelihood-ratio joint test of the {k - 1} treatment x "
            f"{modifier.id} product term(s) is recomputed; recorded, not a target"
        )
        rows.append([f"{i.id}.p", "interaction_p", _printed_text(i, "p", i.p), why])
    out = [
        {
            "figure": f,
            "statistic": s,
            "reported": r,
            "cohort": math.nan,
            "rounded": "",
            "verdict": "not checkable",
            "note": n,
        }
        for f, s, r, n in rows
    ]
    return pd.DataFrame(out, columns=_COLUMNS)
