"""Nonparametric bootstrap bands for linear contrasts of Cox coefficients.

A contrast row d gives the target d'b, e.g. the log hazard ratio of treatment at a biomarker
value x, d = (1, 0, x) for the terms (treatment, modifier, treatment:modifier). Subjects are
resampled with replacement (within groups when ``resample_by`` is given, e.g. per arm), every
resample is refitted by :func:`alsstats.survival.fit_cox_batch`, and the band is the percentile or
the BCa interval (Efron 1987; acceleration from the jackknife, n leave-one-out fits batched
through the same engine) of the replicate contrasts.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from ..errors import InputError, ModelError
from ._engine import fit_cox, fit_cox_batch

__all__ = ["BootstrapBand", "bootstrap_contrasts"]

_SOURCE = "bootstrap_contrasts"
# Resamples per engine call: bounds the memory of the materialised resampled inputs.
_BLOCK_ELEMENTS = 2**24


@dataclass(frozen=True)
class BootstrapBand:
    """A bootstrap band of G contrasts, on the log scale.

    Attributes
    ----------
    estimate : (G,) d_g' b on the full data.
    lower, upper : (G,) band limits.
    replicates : (B, G) replicate contrasts of the resamples whose fit succeeded.
    n_failed : resamples whose fit failed (monotone likelihood, ...), dropped.
    method : "percentile" or "bca"; level : the coverage; seed : the seed of the resampling.
    """

    estimate: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    replicates: np.ndarray
    n_failed: int
    method: str
    level: float
    seed: int

    def __repr__(self) -> str:
        from ._text import band_frame, band_title, fmt

        return f"{band_title(self)}\n{band_frame(self).to_string(float_format=fmt)}"

    def _repr_html_(self) -> str:
        import html

        from ._text import band_frame, band_title, fmt

        return f"<p>{html.escape(band_title(self))}</p>" + band_frame(self).to_html(
            float_format=fmt
        )


def _resample_indices(
    n: int, groups: np.ndarray | None, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """(B, n) row indices drawn with replacement, within each group if groups are given."""
    if groups is None:
        return rng.integers(0, n, size=(n_resamples, n))
    parts = []
    for label in np.unique(groups):
        rows = np.flatnonzero(groups == label)
        parts.append(rows[rng.integers(0, rows.size, size=(n_resamples, rows.size))])
    return np.concatenate(parts, axis=1)


def _fit_in_blocks(time, event, X, strata, rows, ties, init, executor, progress):
    """Coefficients and ok-mask of the data sets given by (B, n) row indices, or of the n
    leave-one-out data sets when rows is None; fitted a block of data sets at a time."""
    n = time.shape[0]
    n_sets = n if rows is None else rows.shape[0]
    block = max(1, _BLOCK_ELEMENTS // (n * (X.shape[1] + 3)))
    coef, ok = [], []
    for a in range(0, n_sets, block):
        b = min(a + block, n_sets)
        if rows is None:  # jackknife: every row present but one
            mask = np.ones((b - a, n), bool)
            mask[np.arange(b - a), np.arange(a, b)] = False
            data, kw = (time, event, X), {"strata": strata, "mask": mask}
        else:
            idx = rows[a:b]
            data = (time[idx], event[idx], X[idx])
            kw = {"strata": None if strata is None else strata[idx]}
        res = fit_cox_batch(*data, **kw, ties=ties, init=init, executor=executor, progress=progress)
        coef.append(res.coef)
        ok.append(np.asarray(res.ok))
    return np.concatenate(coef), np.concatenate(ok)


def bootstrap_contrasts(
    time: np.ndarray,
    event: np.ndarray,
    X: np.ndarray,
    contrasts: np.ndarray,
    *,
    strata: np.ndarray | None = None,
    resample_by: np.ndarray | None = None,
    ties: str = "efron",
    n_resamples: int = 2000,
    level: float = 0.95,
    method: str = "percentile",
    seed: int = 0,
    executor: Executor | None = None,
    progress: bool = False,
) -> BootstrapBand:
    """Bootstrap band of the contrasts d_g' b of a Cox model's coefficients.

    Parameters
    ----------
    time, event, X, strata, ties
        One data set, as :func:`alsstats.survival.fit_cox`.
    contrasts
        (G, p) rows d (or one row (p,)): the targets d' b.
    resample_by
        Optional (n,) labels: resample subjects within each label (e.g. the arm, keeping the
        arm sizes of a randomised trial).
    n_resamples, level, method
        Resamples B, coverage, and "percentile" or "bca".
    seed
        Seed of ``numpy.random.default_rng``: the same seed gives byte-identical output.
    executor, progress
        Passed to :func:`alsstats.survival.fit_cox_batch`.

    Returns
    -------
    BootstrapBand

    Raises
    ------
    ModelError
        The full-data fit fails, too few resamples succeed, or BCa is undefined (every
        replicate on one side of the estimate).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> trt = np.repeat([0.0, 1.0], 60)
    >>> t = rng.exponential(1 / np.exp(-0.5 * trt))
    >>> band = bootstrap_contrasts(t, np.ones(120), trt[:, None], [[1.0]], n_resamples=200)
    >>> bool(band.lower[0] < band.estimate[0] < band.upper[0])
    True
    """
    if method not in ("percentile", "bca"):
        raise InputError(_SOURCE, "method", f"unknown method {method!r}; use 'percentile' or 'bca'")
    if not 0 < level < 1:
        raise InputError(_SOURCE, "level", f"must be in (0, 1), got {level!r}")
    if not (isinstance(n_resamples, int | np.integer) and n_resamples >= 2):
        raise InputError(_SOURCE, "n_resamples", f"must be an integer >= 2, got {n_resamples!r}")
    full = fit_cox(time, event, X, strata=strata, ties=ties)  # validates the data
    if not full.ok[0]:
        raise ModelError(f"{_SOURCE}: the fit of the full data fails: {full.status[0]}")
    time, event = np.asarray(time, float), np.asarray(event)
    X = np.asarray(X, float)
    X = X[:, None] if X.ndim == 1 else X
    n, p = X.shape
    d = np.atleast_2d(np.asarray(contrasts, float))
    if d.ndim != 2 or d.shape[1] != p:
        raise InputError(_SOURCE, "contrasts", f"shape {np.shape(contrasts)}, expected (G, {p})")
    groups = None
    if resample_by is not None:
        groups = np.asarray(resample_by)
        if groups.shape != (n,):
            raise InputError(_SOURCE, "resample_by", f"shape {groups.shape}, expected ({n},)")
    strata = None if strata is None else np.asarray(strata)

    rng = np.random.default_rng(seed)
    rows = _resample_indices(n, groups, int(n_resamples), rng)
    coef, ok = _fit_in_blocks(time, event, X, strata, rows, ties, full.coef[0], executor, progress)
    estimate = d @ full.coef[0]
    replicates = coef[ok] @ d.T
    if replicates.shape[0] < 2:
        raise ModelError(f"{_SOURCE}: fewer than 2 of {n_resamples} resamples could be fitted")
    alpha = (1 - level) / 2
    probs = np.array([alpha, 1 - alpha])
    if method == "percentile":
        lo, hi = np.quantile(replicates, probs, axis=0)
    else:
        lo, hi = _bca_limits(
            time,
            event,
            X,
            strata,
            ties,
            d,
            full.coef[0],
            estimate,
            replicates,
            probs,
            executor,
            progress,
        )
    return BootstrapBand(
        estimate=estimate,
        lower=lo,
        upper=hi,
        replicates=replicates,
        n_failed=int(n_resamples - replicates.shape[0]),
        method=method,
        level=float(level),
        seed=int(seed),
    )


def _bca_limits(
    time,
    event,
    X,
    strata,
    ties,
    d,
    coef,
    estimate,
    replicates,
    probs,
    executor,
    progress,
):
    """BCa limits: bias correction z0 from the replicates, acceleration from the jackknife."""
    # z0: share of replicates below the estimate, ties counted half.
    below = (replicates < estimate).mean(axis=0) + 0.5 * (replicates == estimate).mean(axis=0)
    if np.any((below <= 0) | (below >= 1)):
        raise ModelError(
            f"{_SOURCE}: BCa undefined: every replicate lies on one side of the "
            "estimate; use method='percentile'"
        )
    z0 = ndtri(below)
    jack_coef, jack_ok = _fit_in_blocks(
        time, event, X, strata, None, ties, coef, executor, progress
    )
    jack = jack_coef[jack_ok] @ d.T  # leave-one-out fits that fail are left out
    dev = jack.mean(axis=0) - jack
    denom = 6 * (dev**2).sum(axis=0) ** 1.5
    accel = np.divide((dev**3).sum(axis=0), denom, out=np.zeros_like(denom), where=denom > 0)
    z = ndtri(probs)[:, None]
    adjusted = ndtr(z0 + (z0 + z) / (1 - accel * (z0 + z)))
    lo = np.array([np.quantile(replicates[:, g], adjusted[0, g]) for g in range(d.shape[0])])
    hi = np.array([np.quantile(replicates[:, g], adjusted[1, g]) for g in range(d.shape[0])])
    return lo, hi
