"""The (stratified) log-rank test of two groups, for R data sets at once.

:func:`logrank_batch` takes ``(R, n)`` arrays (or one ``(n,)`` data set) and returns, per data
set, the observed minus expected events in the group coded 1, its hypergeometric variance (the
variance of R's ``survdiff``, with the ``(n - d) / (n - 1)`` correction for tied deaths), the
signed statistic z = (O - E) / sqrt(V) and the two-sided p-value. With strata, O - E and V are
summed over strata (risk sets never mix strata). ``mask`` drops rows (ragged data sets: patients
not yet enrolled at an interim cut, or outside an enrichment range).

The computation is sort-and-cumulate, with no Python loop over replicates: each row is sorted by
(stratum, time); numbers at risk are reverse cumulative sums within stratum, taken at the first
row of each tied-time group; deaths per tied group are differences of cumulative sums.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .errors import InputError

__all__ = ["LogrankBatchResult", "logrank_batch"]

_SOURCE = "logrank_batch"


@dataclass(frozen=True)
class LogrankBatchResult:
    """Log-rank tests of R data sets (arrays of shape (R,)).

    Attributes
    ----------
    observed, expected : events in group 1 and their expectation under no difference.
    variance : hypergeometric variance of ``observed - expected``.
    z : (O - E) / sqrt(V); negative when group 1 has fewer events than expected. NaN where V = 0.
    chi2, p_value : z**2 and its two-sided p-value (1 degree of freedom).
    n, n_events : rows present and events among them.
    """

    observed: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    z: np.ndarray
    chi2: np.ndarray
    p_value: np.ndarray
    n: np.ndarray
    n_events: np.ndarray

    def __len__(self) -> int:
        return self.z.shape[0]


def _as_2d(name: str, a: object, shape: tuple[int, ...] | None) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise InputError(_SOURCE, name, f"must be (n,) or (R, n), got shape {arr.shape}")
    if shape is not None and arr.shape != shape:
        raise InputError(_SOURCE, name, f"shape {arr.shape} differs from time's {shape}")
    return arr


def logrank_batch(
    time: np.ndarray,
    event: np.ndarray,
    group: np.ndarray,
    *,
    strata: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> LogrankBatchResult:
    """Stratified log-rank test of ``group == 1`` vs ``group == 0``, per data set.

    Parameters
    ----------
    time, event, group
        ``(n,)`` or ``(R, n)``: follow-up time, 1 = event / 0 = censored, 1 / 0 group.
    strata
        Optional integer stratum codes, same shape.
    mask
        Optional boolean, same shape; False rows are left out.

    Returns
    -------
    LogrankBatchResult

    Examples
    --------
    >>> res = logrank_batch([1, 2, 3, 4], [1, 1, 1, 1], [1, 0, 1, 0])
    >>> float(res.observed[0]), round(float(res.expected[0]), 4)
    (2.0, 1.5833)
    """
    t = _as_2d("time", time, None).astype(float)
    shape = t.shape
    ev = _as_2d("event", event, shape)
    grp = _as_2d("group", group, shape)
    st = (
        np.zeros(shape, dtype=np.int64)
        if strata is None
        else _as_2d("strata", strata, shape).astype(np.int64)
    )
    present = np.ones(shape, dtype=bool) if mask is None else _as_2d("mask", mask, shape)
    present = present.astype(bool)
    if not np.all(np.isfinite(t[present])) or np.any(t[present] < 0):
        raise InputError(_SOURCE, "time", "must be finite and non-negative")
    if not np.all(np.isin(ev[present], (0, 1))):
        raise InputError(_SOURCE, "event", "must be 0 or 1")
    if not np.all(np.isin(grp[present], (0, 1))):
        raise InputError(_SOURCE, "group", "must be 0 or 1")

    # Absent rows stay in the arrays with weight 0: they are neither at risk nor events.
    w = present.astype(float)
    d_all = np.where(present, ev, 0).astype(float)
    g1 = np.where(present, grp, 0).astype(float)
    order = np.lexsort((t, st), axis=-1)
    t_s = np.take_along_axis(t, order, axis=1)
    st_s = np.take_along_axis(st, order, axis=1)
    w_s = np.take_along_axis(w, order, axis=1)
    d_s = np.take_along_axis(d_all, order, axis=1)
    g_s = np.take_along_axis(g1, order, axis=1)

    n_rows = shape[1]
    idx = np.broadcast_to(np.arange(n_rows), shape)
    new_stratum = np.ones(shape, dtype=bool)
    new_stratum[:, 1:] = st_s[:, 1:] != st_s[:, :-1]
    new_time = new_stratum.copy()
    new_time[:, 1:] |= t_s[:, 1:] != t_s[:, :-1]
    last_of_time = np.ones(shape, dtype=bool)
    last_of_time[:, :-1] = new_time[:, 1:]
    last_of_stratum = np.ones(shape, dtype=bool)
    last_of_stratum[:, :-1] = new_stratum[:, 1:]

    # First row of each tied-time group, and one past the last row of each stratum.
    group_start = np.maximum.accumulate(np.where(new_time, idx, 0), axis=1)
    stratum_end = np.where(last_of_stratum, idx + 1, n_rows)
    stratum_end = np.minimum.accumulate(stratum_end[:, ::-1], axis=1)[:, ::-1]

    def rev_cumsum(a: np.ndarray) -> np.ndarray:
        # rc[:, i] = sum of a[:, i:], with a trailing zero column so rc[:, n] = 0.
        rc = np.zeros((shape[0], n_rows + 1))
        rc[:, :n_rows] = np.cumsum(a[:, ::-1], axis=1)[:, ::-1]
        return rc

    def at_risk(a: np.ndarray) -> np.ndarray:
        rc = rev_cumsum(a)
        start = np.take_along_axis(rc, group_start, axis=1)
        end = np.take_along_axis(rc, stratum_end, axis=1)
        return start - end

    n_risk = at_risk(w_s)
    n1_risk = at_risk(w_s * g_s)
    # Deaths in each tied group: cumulative sums differenced at the group's last row.
    cum_d = np.cumsum(d_s, axis=1)
    cum_d1 = np.cumsum(d_s * g_s, axis=1)
    before = np.where(group_start > 0, group_start - 1, 0)
    prev_d = np.where(group_start > 0, np.take_along_axis(cum_d, before, axis=1), 0.0)
    prev_d1 = np.where(group_start > 0, np.take_along_axis(cum_d1, before, axis=1), 0.0)
    dead = np.where(last_of_time, cum_d - prev_d, 0.0)
    dead1 = np.where(last_of_time, cum_d1 - prev_d1, 0.0)

    with np.errstate(divide="ignore", invalid="ignore"):
        share1 = np.where(n_risk > 0, n1_risk / n_risk, 0.0)
        tie_corr = np.where(n_risk > 1, (n_risk - dead) / (n_risk - 1.0), 0.0)
    expected = np.sum(dead * share1, axis=1)
    variance = np.sum(dead * share1 * (1.0 - share1) * tie_corr, axis=1)
    observed = np.sum(dead1, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, (observed - expected) / np.sqrt(variance), np.nan)
    chi2 = z**2
    p_value = special.erfc(np.abs(z) / np.sqrt(2.0))
    return LogrankBatchResult(
        observed=observed,
        expected=expected,
        variance=variance,
        z=z,
        chi2=chi2,
        p_value=p_value,
        n=w.sum(axis=1).astype(np.int64),
        n_events=d_all.sum(axis=1).astype(np.int64),
    )
