"""The (stratified) log-rank test of two groups, for R data sets at once.

:func:`logrank_batch` takes ``(R, n)`` arrays (or one ``(n,)`` data set) and returns, per data
set, the observed minus expected events in the group coded 1, its hypergeometric variance (the
variance of R's ``survdiff``, with the ``(n - d) / (n - 1)`` correction for tied deaths), the
signed statistic z = (O - E) / sqrt(V) and the two-sided p-value. With strata, O - E and V are
summed over strata (risk sets never mix strata). ``mask`` drops rows (ragged data sets: patients
not yet enrolled at an interim cut, or outside an enrichment range).

The work is a compiled loop (numba, as the Cox engine; it releases the GIL): each row is sorted
by time, then stably by stratum (counting sort), and one pass over the tied-time groups of each
stratum accumulates O - E and V while removing the group from the risk set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from scipy import special

from ..errors import InputError

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
    (2.0, 1.3333)
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

    # Stratum labels to 0..S-1 codes (the kernel counting-sorts by them); absent rows get
    # harmless values (they may hold NaN padding).
    if strata is None:
        codes, n_strata = np.zeros(shape, dtype=np.int64), 1
    elif st.min() >= 0 and st.max() < 4 * shape[1] + 64:
        codes, n_strata = st, int(st.max()) + 1  # already small codes (empty strata are fine)
    else:
        labels, codes = np.unique(st, return_inverse=True)
        codes, n_strata = codes.reshape(shape).astype(np.int64), max(labels.size, 1)
    observed, expected, variance = _logrank_kernel(
        np.where(present, t, 0.0),
        np.where(present, ev, 0).astype(np.int64),
        np.where(present, grp, 0).astype(np.int64),
        codes,
        np.ascontiguousarray(present),
        n_strata,
    )
    w = present
    d_all = np.where(present, ev, 0)
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


@numba.njit(cache=True, nogil=True)
def _logrank_kernel(t, ev, grp, st, present, n_strata):  # pragma: no cover - compiled
    r_total, n = t.shape
    observed = np.zeros(r_total)
    expected = np.zeros(r_total)
    variance = np.zeros(r_total)
    counts = np.zeros(n_strata + 1, np.int64)
    order = np.empty(n, np.int64)
    for r in range(r_total):
        # Order among tied times is irrelevant (a tied group is summed), so quicksort will do;
        # the stable counting sort by stratum then orders rows by (stratum, time).
        by_time = np.argsort(t[r])
        counts[:] = 0
        for i in range(n):
            if present[r, i]:
                counts[st[r, i] + 1] += 1
        for k in range(n_strata):
            counts[k + 1] += counts[k]
        for i in by_time:
            if present[r, i]:
                k = st[r, i]
                order[counts[k]] = i
                counts[k] += 1
        # counts[k] is now the end of stratum k; walk tied-time groups within each stratum.
        o_sum = 0.0
        e_sum = 0.0
        v_sum = 0.0
        begin = 0
        for k in range(n_strata):
            stop = counts[k]
            at_risk = float(stop - begin)
            at_risk1 = 0.0
            for j in range(begin, stop):
                at_risk1 += grp[r, order[j]]
            j = begin
            while j < stop:
                tj = t[r, order[j]]
                d = 0.0
                d1 = 0.0
                leave = 0.0
                leave1 = 0.0
                while j < stop and t[r, order[j]] == tj:
                    i = order[j]
                    leave += 1.0
                    leave1 += grp[r, i]
                    if ev[r, i] == 1:
                        d += 1.0
                        d1 += grp[r, i]
                    j += 1
                if d > 0:
                    share1 = at_risk1 / at_risk
                    o_sum += d1
                    e_sum += d * share1
                    if at_risk > 1:
                        v_sum += d * share1 * (1.0 - share1) * (at_risk - d) / (at_risk - 1.0)
                at_risk -= leave
                at_risk1 -= leave1
            begin = stop
        observed[r] = o_sum
        expected[r] = e_sum
        variance[r] = v_sum
    return observed, expected, variance
