"""How a rebuilt cohort's conclusions move with the unpublished assumptions, and with the
reconstruction itself.

* :func:`sensitivity` rebuilds the cohort under each alternative assumption and reports the
  treatment hazard ratio of the interaction model at chosen modifier values (by default the
  summary's cut-offs and the modifier's printed quartiles), where it crosses 1 and the
  Johnson-Neyman region (modifier values where the 95% CI excludes 1).
* :func:`rebuild_many` gives K cohorts (different seeds) and :func:`search_spread` says how far
  their HR curves lie apart. The rebuilds are outputs of a search, not draws from a posterior:
  the spread measures where the searches stopped, not what the figures leave open (that is
  :func:`alsstats.reconstruct.bounds`), and it is not pooled into an interval.

For a linear term, log HR(x) = b_t + b_i x with variance V_tt + 2x V_ti + x^2 V_ii; the
Johnson-Neyman bounds solve (b_t + b_i x)^2 = z^2 (V_tt + 2x V_ti + x^2 V_ii)
(:func:`alsstats.interaction.johnson_neyman_linear`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ModelError
from ..interaction import johnson_neyman_linear
from ..summary import as_reported_summary
from ..survival import fit_cox_batch
from ._modifier import modifier_key, modifier_of
from ._rebuild import Reconstruction, rebuild_cohort

__all__ = [
    "DEFAULT_ALTERNATIVES",
    "default_alternatives",
    "evaluation_points",
    "interaction_fit",
    "rebuild_many",
    "search_spread",
    "sensitivity",
]

# Alternatives tried when a summary's assumption lists them only in words; the modifier's
# (biomarker_*) under the summary's own ids. The limit of quantification and the adjusted
# model's covariates are derived from the summary's own values (default_alternatives).
DEFAULT_ALTERNATIVES: dict[str, list[Any]] = {
    "biomarker_scale": ["log"],
    "remaining_share": ["missing"],
    "biomarker_distribution": [{"family": "gamma"}],
    "baseline_hazard": [{"family": "weibull", "shape": 1.3}, {"family": "weibull", "shape": 0.8}],
}
# A limit of quantification 5 times lower and 3 times higher than the stated one: the span of
# calibrator ranges between immunoassays of one analyte.
LOQ_FACTORS = (0.2, 3.0)


def default_alternatives(summary: Any) -> dict[str, list[Any]]:
    """The alternatives tried for each assumption the summary states, by the summary's ids.

    :data:`DEFAULT_ALTERNATIVES` (the modifier's under its own ids, e.g. ``nfl_scale``), a
    limit of quantification :data:`LOQ_FACTORS` times the stated one (in its unit), and the
    stated adjusted model with age and sex added.
    """
    summary = as_reported_summary(summary)
    stated = {a.id: a.value for a in summary.assumptions}
    modifier = modifier_of(summary)
    out: dict[str, list[Any]] = {}
    for k, v in DEFAULT_ALTERNATIVES.items():
        kind = k.removeprefix("biomarker_")
        if kind != k:
            k = modifier_key(dict.fromkeys(stated), modifier, kind) or k
        if k in stated:
            out[k] = v
    loq = stated.get("limit_of_quantification")
    if isinstance(loq, Mapping) and loq.get("value"):
        out["limit_of_quantification"] = [
            {**loq, "value": float(loq["value"]) * f} for f in LOQ_FACTORS
        ]
    covariates = stated.get("adjusted_model_covariates")
    if covariates:
        extra = [c for c in ("age", "male") if c not in covariates]
        if extra:
            out["adjusted_model_covariates"] = [[*covariates, *extra]]
    return out


def evaluation_points(summary: Any) -> list[float]:
    """Modifier values where :func:`sensitivity` reports the treatment HR by default: the
    summary's reported cut-offs and the modifier's printed median and quartiles, sorted.

    Raises :class:`~alsstats.errors.ModelError` when the summary prints none of them.
    """
    summary = as_reported_summary(summary)
    modifier = modifier_of(summary)
    points: set[float] = set()
    for hr in summary.hazard_ratios:
        pop = hr.population
        if getattr(pop, "kind", None) == "biomarker_range":
            points.update(float(v) for v in (pop.lower, pop.upper) if v is not None)
    if modifier.median is not None:
        points.add(float(modifier.median))
    points.update(float(v) for v in modifier.iqr or ())
    if not points:
        raise ModelError(
            "the summary prints no modifier cut-off, median or quartile: give the values "
            "where to evaluate the hazard ratio"
        )
    return sorted(points)


def interaction_fit(rec: Reconstruction) -> tuple[np.ndarray, np.ndarray, bool]:
    """(coef, cov, log_scale) of the treatment x modifier Cox model on a rebuilt cohort, the
    modifier in its unit (or its log); columns treatment, modifier, interaction, then
    adjusted covariates."""
    column = rec.biomarker_column_
    if column is None:
        raise ModelError("the summary reports no modifier: no interaction model to fit")
    df = rec.cohort[np.isfinite(rec.cohort[column].to_numpy(float))]
    log_scale = rec.design.log_scale
    x = df[column].to_numpy(float)
    g = np.log(x) if log_scale else x
    trt = df["treatment"].to_numpy(float)
    cols = [trt, g, trt * g] + [df[c].to_numpy(float) for c in rec.design.adjust]
    res = fit_cox_batch(
        df["time"].to_numpy(float),
        df["death"].to_numpy(np.int8),
        np.column_stack(cols)[None, :, :],
        ties=rec.design.ties,
    )
    if not res.ok[0]:
        raise ModelError(f"interaction model on the rebuilt cohort: {res.status[0]}")
    return res.coef[0], res.cov[0], log_scale


def _curve(coef: np.ndarray, cov: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log HR and its variance at transformed modifier values g."""
    est = coef[0] + coef[2] * g
    var = cov[0, 0] + 2 * g * cov[0, 2] + g**2 * cov[2, 2]
    return est, var


def _region_text(region: list[tuple[float, float]], log_scale: bool) -> str:
    def show(v: float) -> str:
        if math.isinf(v):
            return "inf" if v > 0 else ("0" if log_scale else "-inf")
        return f"{math.exp(v) if log_scale else v:.0f}"

    return "; ".join(f"[{show(lo)}, {show(hi)}]" for lo, hi in region) or "none"


def _row(rec: Reconstruction, values: Sequence[float]) -> dict[str, Any]:
    coef, cov, log_scale = interaction_fit(rec)
    g = np.log(np.asarray(values, float)) if log_scale else np.asarray(values, float)
    est, _ = _curve(coef, cov, g)
    cross = -coef[0] / coef[2] if coef[2] != 0 else math.nan
    row: dict[str, Any] = {
        f"hr_{v:g}": float(math.exp(e)) for v, e in zip(values, est, strict=True)
    }
    row["hr1_crossing"] = float(math.exp(cross) if log_scale else cross)
    region = johnson_neyman_linear(coef[0], coef[2], cov[0, 0], cov[0, 2], cov[2, 2])
    row["jn_region"] = _region_text(region, log_scale)
    return row


def sensitivity(
    summary: Any,
    alternatives: Mapping[str, Sequence[Any]] | None = None,
    *,
    seed: int = 0,
    values: Sequence[float] | None = None,
    max_seconds: float = 60.0,
) -> pd.DataFrame:
    """Rebuild under each alternative assumption (one changed at a time) and compare.

    Parameters
    ----------
    summary
        A reported summary (or its path).
    alternatives
        {assumption id: [alternative values]}; default :func:`default_alternatives`.
    values
        Modifier values where the HR is reported (its unit); default
        :func:`evaluation_points` (the summary's cut-offs and the modifier's quartiles).
    seed, max_seconds
        Passed to :func:`~alsstats.reconstruct.rebuild_cohort`.

    Returns
    -------
    DataFrame
        One row per rebuild ("default" first): assumption, value, feasible, conflicts, HR at
        each value (``hr_<value>``), the HR = 1 crossing and the Johnson-Neyman region (in the
        modifier's unit).
    """
    summary = as_reported_summary(summary)
    if alternatives is None:
        alternatives = default_alternatives(summary)
    if values is None:
        values = evaluation_points(summary)
    runs: list[tuple[str, Any, dict[str, Any] | None]] = [("default", None, None)]
    runs += [(k, v, {k: v}) for k, vs in alternatives.items() for v in vs]
    rows = []
    for name, value, override in runs:
        rec = rebuild_cohort(summary, seed=seed, assumptions=override, max_seconds=max_seconds)
        row = {
            "assumption": name,
            "value": "" if value is None else str(value),
            "feasible": rec.feasible,
            "conflicts": ", ".join(rec.conflicts),
        }
        row.update(_row(rec, values))
        rows.append(row)
    return pd.DataFrame(rows)


def rebuild_many(summary: Any, k: int, *, seed: int = 0, **kwargs: Any) -> list[Reconstruction]:
    """K reconstructions with seeds seed, seed + 1, ..., each meeting the figures (or flagged
    by ``feasible``)."""
    summary = as_reported_summary(summary)
    return [rebuild_cohort(summary, seed=seed + i, **kwargs) for i in range(k)]


def search_spread(
    reconstructions: Sequence[Reconstruction], values: Sequence[float]
) -> pd.DataFrame:
    """How far K rebuilds of the same figures lie apart in the treatment HR at each modifier
    value: a spread across searches, not a confidence interval.

    The rebuilds are where K seeded searches stopped, not draws from a distribution of
    cohorts, so their spread is neither sampling nor identification uncertainty; it is no
    bound either (:func:`alsstats.reconstruct.bounds` gives the range over every cohort that
    reproduces the figures). It says whether one rebuild's curve stands for the others.

    Returns
    -------
    DataFrame
        Per value: ``hr_mean`` (exp of the mean log HR), ``hr_min`` and ``hr_max`` over the K
        cohorts, ``between`` (variance of the K log HRs, ddof 1), ``within`` (mean of the
        cohorts' own log-HR variances) and ``between_share`` = between / (between + within).
    """
    if len(reconstructions) < 2:
        raise ModelError("search_spread needs at least two reconstructions")
    est, var = [], []
    for rec in reconstructions:
        coef, cov, log_scale = interaction_fit(rec)
        g = np.log(np.asarray(values, float)) if log_scale else np.asarray(values, float)
        e, v = _curve(coef, cov, g)
        est.append(e)
        var.append(v)
    q, u = np.array(est), np.array(var)
    # deviations from the first cohort's curve: identical cohorts give exactly b = 0 (the
    # mean of K equal floats is not always that float)
    dev = q - q[0]
    w, b = u.mean(axis=0), dev.var(axis=0, ddof=1)
    return pd.DataFrame(
        {
            "value": np.asarray(values, float),
            "hr_mean": np.exp(q[0] + dev.mean(axis=0)),
            "hr_min": np.exp(q.min(axis=0)),
            "hr_max": np.exp(q.max(axis=0)),
            "between": b,
            "within": w,
            "between_share": b / (b + w),
        }
    )
