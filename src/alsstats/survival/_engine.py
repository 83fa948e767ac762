"""Batched Cox proportional-hazards fits: many data sets in one call.

The reconstruction search, the bootstrap bands and the trial simulations need thousands of Cox
fits of small data sets. :func:`fit_cox_batch` fits R data sets of n rows at once (pad and
``mask`` ragged ones) and returns arrays; :func:`fit_cox` is the one-data-set case.

The solver is R's ``survival::coxph.fit``: Newton-Raphson on the partial likelihood (Efron or
Breslow ties, optional strata), step-halving when the log-likelihood decreases, stopping on a
relative change of the log-likelihood of at most ``tol``. R tests the step just taken; here the
step about to be taken is tested (its predicted change U' I^-1 U / 2, relative to
max(|loglik|, 1)), must also be negligible (every component at most ``sqrt(tol)`` in
standardised units), and is then taken, so the estimate ends one Newton step closer to the
optimum (R's eps = 1e-12 reference fits are reproduced to ~1e-10). A step that stays large
while the log-likelihood no longer moves is a coefficient running off to infinity (monotone
likelihood, R's "Loglik converged before variable k" warning); so is information that loses
rank away from beta = 0. Columns are centred and scaled per data set for stability (pNFH is in
the thousands, its coefficient ~1e-4) and the results transformed back.

The per-data-set work is a compiled loop (numba, in :mod:`alsstats.survival._kernels`: no
allocation per fit, each evaluation a few passes over the sorted rows, so the cost is linear in
rows x replicates; its docstring says why it is laid out as it is). This module validates the
inputs once per batch, sorts the rows (once for the whole batch when the times are shared) and
runs the chunks, on every core by default for batches large enough to pay for the threads
(``threads``; the kernel releases the GIL) or on an ``executor``; each fit runs whole on one
thread, so the result is the same, to the bit, for any number of threads and any chunking.
``init`` starts the fits from given coefficients (the bootstrap passes the full data's fit:
the same estimate in fewer Newton steps). The kernel is compiled once per machine
(:func:`kernel_compiled`, :func:`warm_up`).
"""

from __future__ import annotations

import os
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from time import perf_counter

import numba
import numpy as np
from tqdm.auto import tqdm

from ..errors import InputError
from ._kernels import (
    _MONOTONE,
    _NO_EVENTS,
    _NO_ROWS,
    _NONFINITE,
    _NOT_CONVERGED,
    _OK,
    _SINGULAR,
    _fit_chunk_kernel,
    _time_keys,
)

__all__ = ["CoxBatchResult", "fit_cox", "fit_cox_batch", "kernel_compiled", "warm_up"]

_SOURCE = "fit_cox_batch"
# Rows (replicates x n) per chunk when chunk_size is None: the chunk's sort order and the
# kernel's work arrays stay in cache, and threads get several chunks each.
_CHUNK_ROWS = 2**16
_MIN_CHUNK_ROWS = 2**13
# Rows below which the default is one thread: starting a pool's threads and handing them the
# chunks costs about 0.5 ms of CPU per call on a shared machine, as much as fitting 4,000 rows
# (the reconstruction search's batches of 128 x 220 spent a fifth of their CPU on it).
_MIN_THREAD_ROWS = 2**17


def _default_threads() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _Mask(np.ndarray):
    """A boolean array that can also be called (``res.ok`` and ``res.ok()`` both work)."""

    def __call__(self) -> np.ndarray:
        return np.asarray(self)


@dataclass(frozen=True)
class CoxBatchResult:
    """Fits of R data sets (arrays indexed by replicate first).

    Attributes
    ----------
    coef : (R, p) coefficients, in the units of the columns of X.
    cov : (R, p, p) inverse observed information at the estimate.
    loglik, loglik_null : (R,) partial log-likelihood at the estimate and at beta = 0.
    score_chi2 : (R,) score (log-rank type) test of beta = 0, U0' I0^-1 U0.
    n_iter : (R,) likelihood evaluations after the start (Newton steps and step-halvings, as
        R's ``iter``), the final step taken once convergence is established included.
    converged : (R,) True where the iteration converged to a finite estimate.
    status : (R,) "ok" or the reason of the failure: "no rows", "no events", "singular
        information (column k of X ...)", "monotone likelihood (coefficient k -> -inf)",
        "did not converge in N iterations", "non-finite values". k is the 0-based column of X.
        A failed fit keeps its last iterate in coef/cov/loglik where there is one (NaN
        otherwise): these are not estimates; select with :attr:`ok`.
    n, n_events : (R,) rows present (mask) and events among them.
    """

    coef: np.ndarray
    cov: np.ndarray
    loglik: np.ndarray
    loglik_null: np.ndarray
    score_chi2: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    status: np.ndarray
    n: np.ndarray
    n_events: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of ``status == "ok"`` (a property; calling it, ``ok()``, also works)."""
        return (self.status == "ok").view(_Mask)

    @property
    def se(self) -> np.ndarray:
        """(R, p) standard errors, the square roots of the diagonal of ``cov``."""
        return np.sqrt(np.diagonal(self.cov, axis1=1, axis2=2))

    def __len__(self) -> int:
        return self.coef.shape[0]

    def __repr__(self) -> str:
        from ._text import batch_repr  # first fits as a table, plain numbers

        return batch_repr(self)

    def _repr_html_(self) -> str:
        from ._text import batch_repr_html

        return batch_repr_html(self)


# ----------------------------------------------------------------------------------------------
# Python layer: validation (once per batch), sorting, chunking, results


def _as_array(value: object, name: str, dtype: type | None = None) -> np.ndarray:
    try:
        return np.asarray(value) if dtype is None else np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise InputError(_SOURCE, name, f"cannot be read as an array of numbers ({exc})") from None


def _check_finite(a: np.ndarray, name: str, present: np.ndarray | None, columns: bool = False):
    # The common case in one pass without a temporary: a finite sum means every value is
    # finite (NaN and inf propagate); a sum that overflows is checked value by value below.
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(a, axis=None)):
            return
    ok = np.isfinite(a)
    if ok.all():
        return
    if columns:  # X: a row is bad if any of its columns is
        ok = ok.all(axis=-1)
    if present is None or np.any(~ok & present):
        raise InputError(_SOURCE, name, "contains NaN or infinite values (in rows not masked out)")


def _batch_shape(arrays: dict[str, tuple[np.ndarray, int]]) -> tuple[int, int]:
    """Common (R, n) of the inputs; each entry is (array, number of trailing non-row axes)."""
    R, n = None, None
    for name, (a, extra) in arrays.items():
        rows_axis = a.ndim - extra - 1
        if rows_axis not in (0, 1):
            raise InputError(
                _SOURCE,
                name,
                f"has {a.ndim} dimensions, expected "
                f"{1 + extra} (shared by every replicate) or {2 + extra} (per replicate)",
            )
        if n is None:
            n = a.shape[rows_axis]
        elif a.shape[rows_axis] != n:
            raise InputError(
                _SOURCE, name, f"shape {a.shape} has {a.shape[rows_axis]} rows, time has {n}"
            )
        if rows_axis == 1:
            if R is not None and a.shape[0] != R:
                raise InputError(
                    _SOURCE,
                    name,
                    f"shape {a.shape} has {a.shape[0]} replicates, another input has {R}",
                )
            R = a.shape[0]
    return (1 if R is None else R), int(n)


def _kernel_array(a: np.ndarray, batched_ndim: int, dtype: type) -> np.ndarray:
    """The array as the kernel takes it: a leading replicate axis (length 1 when shared),
    C-contiguous, writable, of the given dtype -- one compiled signature whatever the caller
    passed (numba types read-only and non-contiguous arrays separately)."""
    if a.ndim < batched_ndim:
        a = a[None]
    elif a.shape[0] > 1 and a.strides[0] == 0:  # np.broadcast_to over replicates: shared
        a = a[:1]
    a = np.ascontiguousarray(a, dtype=dtype)
    return a if a.flags.writeable else a.copy()


@dataclass(frozen=True)
class _Inputs:
    """Validated inputs, each (R or 1, n, ...) as the kernel takes them."""

    time: np.ndarray
    event: np.ndarray
    X: np.ndarray
    strata: np.ndarray
    present: np.ndarray
    init: np.ndarray
    R: int
    n: int
    p: int
    several_strata: bool


def _validate(time, event, X, strata, mask, ties, init, max_iter, tol) -> _Inputs:
    time = _as_array(time, "time", float)
    event_raw = _as_array(event, "event")
    X = _as_array(X, "X", float)
    if X.ndim == time.ndim:  # one covariate given as a vector (per replicate or shared)
        X = X[..., None]
    if ties not in ("efron", "breslow"):
        raise InputError(_SOURCE, "ties", f"unknown ties method {ties!r}; use 'efron' or 'breslow'")
    if not (isinstance(max_iter, int | np.integer) and max_iter >= 1):
        raise InputError(_SOURCE, "max_iter", f"must be a positive integer, got {max_iter!r}")
    if not (isinstance(tol, float | int) and 0 < tol < 1):
        raise InputError(_SOURCE, "tol", f"must be a number in (0, 1), got {tol!r}")
    if X.shape[-1] < 1:
        raise InputError(_SOURCE, "X", "has no columns")
    arrays = {"time": (time, 0), "event": (event_raw, 0), "X": (X, 1)}
    if strata is not None:
        strata = _as_array(strata, "strata")
        arrays["strata"] = (strata, 0)
    if mask is not None:
        mask = _as_array(mask, "mask")
        if mask.dtype != np.bool_:
            raise InputError(_SOURCE, "mask", f"must be boolean, got dtype {mask.dtype}")
        arrays["mask"] = (mask, 0)
    R, n = _batch_shape(arrays)
    p = X.shape[-1]
    _check_finite(time, "time", mask)
    with np.errstate(invalid="ignore"):  # NaN (only in masked rows by now) compares False
        negative = time < 0
    if np.any(negative if mask is None else negative & mask):
        raise InputError(_SOURCE, "time", "has negative values")
    if event_raw.dtype == np.bool_:
        event = event_raw.view(np.int8)
    else:
        ev = event_raw if event_raw.dtype.kind in "iu" else _as_array(event_raw, "event", float)
        if ev.dtype.kind == "f":
            _check_finite(ev, "event", mask)
        bad = (ev != 0) & (ev != 1)  # NaN included (only in masked rows by now)
        if np.any(bad if mask is None else bad & mask):
            raise InputError(_SOURCE, "event", "must be 0/1 (or boolean)")
        event = (np.where(bad, 0, ev) if bad.any() else ev).astype(np.int8)
    _check_finite(X, "X", mask, columns=True)
    several = False
    if strata is None:
        strata = np.zeros(n, np.int64)
    else:
        if strata.dtype.kind in "iub":
            strata = strata.astype(np.int64)
        else:
            if strata.dtype.kind == "f" and np.isnan(strata).any():
                raise InputError(_SOURCE, "strata", "contains NaN")
            try:  # labels of any sortable kind become integer codes
                strata = np.unique(strata, return_inverse=True)[1].reshape(strata.shape)
            except TypeError as exc:
                raise InputError(_SOURCE, "strata", f"labels cannot be sorted ({exc})") from None
        several = bool(np.any(strata != strata[..., :1]))
    if init is None:
        init = np.zeros(p)
    else:
        init = _as_array(init, "init", float)
        if init.shape not in ((p,), (R, p)):
            raise InputError(_SOURCE, "init", f"shape {init.shape}, expected ({p},) or ({R}, {p})")
        if not np.isfinite(init).all():
            raise InputError(_SOURCE, "init", "contains NaN or infinite values")
    return _Inputs(
        time=_kernel_array(time, 2, np.float64),
        event=_kernel_array(event, 2, np.int8),
        X=_kernel_array(X, 3, np.float64),
        strata=_kernel_array(strata, 2, np.int64),
        present=_kernel_array(np.ones(n, bool) if mask is None else mask, 2, np.bool_),
        init=_kernel_array(init, 2, np.float64),
        R=R,
        n=n,
        p=p,
        several_strata=several,
    )


def _risk_set_order(t: np.ndarray, st: np.ndarray, several_strata: bool) -> tuple[np.ndarray, int]:
    """Per replicate, the rows sorted by stratum, then time ascending, then row index.

    Returns (order, shift). Without strata, order holds int64 keys: the row in the low
    ``shift`` bits (as many as n - 1 needs), the time above -- integer times (days) as they
    are, other times replaced by their rank --, so that the kernel tells tied times from the
    keys alone. Ties are broken by row index so that the order of a replicate's rows present
    -- and so the bits of its sums -- depends on those rows alone (a ragged replicate padded
    with masked rows gives the bytes of the unpadded one, whatever the chunk). The keys are
    unique, so numpy's vectorised sort of the keys themselves (several times faster than an
    argsort, or a stable one) gives that order; whole-number times whose keys fit in 31 bits
    (days, unless n times the longest follow-up nears 2 ** 31) get int32 keys, built in one
    compiled pass, which sort twice as fast. With several strata, a stable sort of the stratum
    labels goes on top and order holds the rows (shift = -1). The kernel walks the order
    backwards and skips absent rows, so the mask does not enter.
    """
    n = t.shape[1]
    shift = max(n - 1, 0).bit_length()
    keys32 = np.empty(t.shape, np.int32)
    if shift <= 30 and _time_keys(t, shift, keys32):  # whole numbers (days): one compiled pass
        keys32.sort(axis=1)
        keys = keys32.astype(np.int64)
    else:
        keys = _time_keys_64(t, shift)
        keys.sort(axis=1)
    if not several_strata:
        return keys, shift
    R = max(t.shape[0], st.shape[0])
    rows = np.broadcast_to(keys & ((1 << shift) - 1), (R, n))
    labels = np.take_along_axis(np.broadcast_to(st, (R, n)), rows, axis=1)
    return np.take_along_axis(rows, np.argsort(labels, axis=1, kind="stable"), axis=1), -1


def _time_keys_64(t: np.ndarray, shift: int) -> np.ndarray:
    """The unsorted int64 keys: times that are not whole numbers, or too large for int32 keys,
    are replaced by their rank."""
    n = t.shape[1]
    tf = np.where(np.isfinite(t), t, 0.0)  # non-finite times are in masked rows: anywhere
    if np.all(tf == np.floor(tf)) and np.abs(tf).max(initial=0.0) < 2.0 ** (62 - shift):
        keys = tf.astype(np.int64)
    else:
        by_time = np.argsort(tf, axis=1)
        sorted_t = np.take_along_axis(tf, by_time, axis=1)
        new_time = np.zeros(t.shape, np.int64)
        new_time[:, 1:] = sorted_t[:, 1:] != sorted_t[:, :-1]
        keys = np.empty(t.shape, np.int64)
        np.put_along_axis(keys, by_time, np.cumsum(new_time, axis=1), axis=1)
    keys <<= shift
    keys |= np.arange(n)
    return keys


def _part(a: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Replicates start:stop of a kernel input (a view; shared inputs whole)."""
    return a if a.shape[0] == 1 else a[start:stop]


def _run_chunk(task: tuple, out: tuple[np.ndarray, ...]) -> None:
    """Sort (unless the order is shared) and fit one chunk into the output arrays ``out``."""
    _, t, ev, X, st, present, order, init, several, efron, max_iter, tol = task
    order, shift = _risk_set_order(t, st, several) if order is None else order
    _fit_chunk_kernel(t, ev, X, present, st, order, shift, init, efron, max_iter, tol, *out)


def _new_outputs(R: int, p: int) -> tuple[np.ndarray, ...]:
    """coef, cov, (loglik, loglik_null, score_chi2), (n_iter, code, argument, n, n_events)."""
    return np.empty((R, p)), np.empty((R, p, p)), np.empty((R, 3)), np.empty((R, 5), np.int64)


def _fit_chunk(task: tuple) -> tuple[np.ndarray, ...]:
    """Fit one chunk of replicates (module level so that process pools can pickle it)."""
    out = _new_outputs(task[0], task[3].shape[2])
    _run_chunk(task, out)
    return out


_MESSAGES = {
    _OK: "ok",
    _NO_ROWS: "no rows",
    _NO_EVENTS: "no events",
    _NONFINITE: "non-finite values",
}


def _status_strings(code: np.ndarray, arg: np.ndarray, max_iter: int) -> np.ndarray:
    def one(c: int, a: int) -> str:
        if c in _MESSAGES:
            return _MESSAGES[c]
        if c == _SINGULAR:
            return f"singular information (column {a} of X is constant or collinear)"
        if c == _MONOTONE:
            k, sign = (a, "+") if a >= 0 else (-1 - a, "-")
            return f"monotone likelihood (coefficient {k} -> {sign}inf)"
        assert c == _NOT_CONVERGED, c
        return f"did not converge in {max_iter} iterations"

    # Few distinct (code, argument) pairs: build each string once (np.unique over rows costs
    # microseconds per fit; most batches are all "ok").
    if (code == _OK).all():
        return np.full(code.shape, "ok", dtype=f"<U{len(_MESSAGES[_OK])}")
    pairs, inverse = np.unique(np.stack([code, arg], axis=1), axis=0, return_inverse=True)
    labels = np.array([one(int(c), int(a)) for c, a in pairs], dtype=str)
    return labels[inverse.reshape(-1)]


def fit_cox_batch(
    time: np.ndarray,
    event: np.ndarray,
    X: np.ndarray,
    *,
    strata: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    ties: str = "efron",
    init: np.ndarray | None = None,
    max_iter: int = 50,
    tol: float = 1e-10,
    chunk_size: int | None = None,
    executor: Executor | None = None,
    threads: int | None = None,
    progress: bool = False,
) -> CoxBatchResult:
    """Fit Cox models to R data sets at once.

    Parameters
    ----------
    time, event
        (R, n) per replicate or (n,) shared by every replicate. ``event`` is 0/1 or boolean.
    X
        (R, n, p) or (n, p) covariates (a vector is one covariate). Interactions are columns
        (the product of treatment and modifier).
    strata
        Optional labels, (R, n) or (n,): separate baseline hazards, as ``strata()`` in R.
    mask
        Optional boolean (R, n) or (n,): False rows are absent (pad ragged replicates and mask
        the padding; NaN is allowed in masked-out rows).
    ties
        "efron" (the default, as R) or "breslow".
    init
        Starting coefficients, (p,) or (R, p); zeros by default.
    max_iter, tol
        Likelihood evaluations before convergence at most, and the relative change of the
        log-likelihood that stops them (see the module docstring).
    chunk_size
        Replicates per chunk (default: about 65,000 rows per chunk, and several chunks per
        thread or worker).
    executor
        A :class:`concurrent.futures.Executor` whose ``map`` fits the chunks (a process pool, a
        thread pool -- the kernel releases the GIL --, a Dask client's executor). The result
        is identical to the serial one.
    threads
        Without an executor, threads that fit the chunks in this process (default: every core
        this process may use from 131,072 rows (replicates x n) up, and one below, where
        starting threads costs more than it saves; 1 fits serially). Each fit runs whole on one
        thread, so the result is identical for any number of threads and any ``chunk_size``.
    progress
        Show a tqdm bar over chunks.

    Returns
    -------
    CoxBatchResult
        Failures are per data set, in ``status``; they never affect the other data sets.

    Raises
    ------
    InputError
        Shapes that do not match, negative times, an event that is not 0/1, NaN or infinite
        values in rows present, an unknown ``ties``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(3, 50, 1))
    >>> res = fit_cox_batch(rng.exponential(size=(3, 50)), rng.random((3, 50)) < 0.7, x)
    >>> res.coef.shape, bool(res.ok.all())
    ((3, 1), True)
    """
    data = _validate(time, event, X, strata, mask, ties, init, max_iter, tol)
    R, n, p = data.R, data.n, data.p
    if threads is None:
        threads = _default_threads() if R * n >= _MIN_THREAD_ROWS else 1
    elif not (isinstance(threads, int | np.integer) and threads >= 1):
        raise InputError(_SOURCE, "threads", f"must be a positive integer, got {threads!r}")
    if chunk_size is None:
        chunk_size = max(1, _CHUNK_ROWS // max(n, 1))
        workers = threads if executor is None else 8
        if workers > 1:  # several chunks per worker, so that a busy core does not hold the rest
            least = -(-_MIN_CHUNK_ROWS // max(n, 1))  # but enough work to be worth a task
            chunk_size = min(chunk_size, max(least, -(-R // (4 * workers))))
    elif not (isinstance(chunk_size, int | np.integer) and chunk_size >= 1):
        raise InputError(_SOURCE, "chunk_size", f"must be a positive integer, got {chunk_size!r}")
    bounds = [(a, min(a + chunk_size, R)) for a in range(0, R, chunk_size)]
    # Rows sorted once for the whole batch when time and strata are shared by every replicate.
    order = None
    if data.time.shape[0] == 1 and data.strata.shape[0] == 1:
        order = _risk_set_order(data.time, data.strata, data.several_strata)

    def task(a: int, b: int) -> tuple:
        inputs = (data.time, data.event, data.X, data.strata, data.present)
        return (
            b - a,
            *(_part(x, a, b) for x in inputs),
            order,
            _part(data.init, a, b),
            data.several_strata,
            ties == "efron",
            int(max_iter),
            float(tol),
        )

    out = _new_outputs(R, p)
    bar = tqdm(total=len(bounds), disable=not progress, desc="Cox fits", unit="chunk")
    if executor is None:
        # In this process: each chunk writes into its slice of the outputs; with threads > 1 a
        # thread pool runs the chunks (the sort and the kernel release the GIL).
        def run(bound: tuple[int, int]) -> None:
            a, b = bound
            _run_chunk(task(a, b), tuple(x[a:b] for x in out))

        if threads == 1 or len(bounds) == 1:
            for bound in bounds:
                run(bound)
                bar.update()
        else:
            with ThreadPoolExecutor(max_workers=min(threads, len(bounds))) as pool:
                for _ in pool.map(run, bounds):
                    bar.update()
    else:
        # An executor gets a list, since some (Dask's) refuse to map over a generator and the
        # pools submit every task up front anyway.
        tasks = [task(a, b) for a, b in bounds]
        for (a, b), part in zip(bounds, executor.map(_fit_chunk, tasks), strict=True):
            for x, y in zip(out, part, strict=True):
                x[a:b] = y
            bar.update()
    bar.close()
    coef, cov, out_ll, out_int = out
    return CoxBatchResult(
        coef=coef,
        cov=cov,
        loglik=out_ll[:, 0],
        loglik_null=out_ll[:, 1],
        score_chi2=out_ll[:, 2],
        n_iter=out_int[:, 0],
        converged=out_int[:, 1] == _OK,
        status=_status_strings(out_int[:, 1], out_int[:, 2], int(max_iter)),
        n=out_int[:, 3],
        n_events=out_int[:, 4],
    )


def fit_cox(
    time: np.ndarray,
    event: np.ndarray,
    X: np.ndarray,
    *,
    strata: np.ndarray | None = None,
    ties: str = "efron",
    init: np.ndarray | None = None,
    max_iter: int = 50,
    tol: float = 1e-10,
) -> CoxBatchResult:
    """Fit one Cox model: time, event (n,), X (n, p); a :class:`CoxBatchResult` with R = 1.

    Examples
    --------
    >>> import numpy as np
    >>> res = fit_cox([5.0, 3.0, 8.0, 1.0, 6.0], [1, 1, 0, 1, 1], [0.0, 1.0, 1.0, 0.0, 1.0])
    >>> str(res.status[0])
    'ok'
    """
    time = _as_array(time, "time", float)
    if time.ndim != 1:
        raise InputError("fit_cox", "time", f"must be one data set (n,), got shape {time.shape}")
    return fit_cox_batch(
        time, event, X, strata=strata, ties=ties, init=init, max_iter=max_iter, tol=tol
    )


# ----------------------------------------------------------------------------------------------
# The compiled kernel: is it ready, and getting it ready


def _example_kernel_args() -> tuple:
    """The kernel's arguments for a tiny data set, prepared as fit_cox_batch prepares them."""
    data = _validate(
        [3.0, 1.0, 2.0, 4.0],
        [1, 1, 0, 1],
        [0.0, 1.0, 1.0, 0.0],
        None,
        None,
        "efron",
        None,
        50,
        1e-10,
    )
    # Keys made by numpy alone (kernel_compiled must not compile the compiled key builder).
    order, shift = np.sort(_time_keys_64(data.time, 2), axis=1), 2
    inputs = (data.time, data.event, data.X, data.present, data.strata, order, shift, data.init)
    return (*inputs, True, 50, 1e-10, *_new_outputs(1, 1))


def kernel_compiled() -> bool:
    """Whether the first Cox fit in this process will start at once (no compilation).

    The engine's kernel is compiled by numba the first time it runs on a machine (about 10 to
    15 s; once per machine, and again after an upgrade of numba or of alsstats), then cached on
    disk next to the module (or in ``NUMBA_CACHE_DIR``) and loaded by later processes in well
    under a second. This tells, without compiling, whether the kernel is loaded in this process
    or present in that cache for this machine, so that a command-line tool can announce the
    wait before the first fit::

        from alsstats.survival import kernel_compiled, warm_up

        if not kernel_compiled():
            print("compiling the Cox engine (once per machine) ...", file=sys.stderr)
        warm_up()

    False when the cache cannot be read (an unwritable install, a numba that lays out its cache
    differently): the message is then shown when it may not be needed, never the reverse.
    """
    if _fit_chunk_kernel.signatures:
        return True
    try:  # numba's cache index, keyed by signature, machine and source: private API, guarded
        sig = tuple(numba.typeof(a) for a in _example_kernel_args())
        cache = _fit_chunk_kernel._cache
        key = cache._index_key(sig, _fit_chunk_kernel.targetctx.codegen())
        return key in cache._cache_file._load_index()
    except Exception:
        return False


def warm_up() -> float:
    """Compile (first run on a machine) or load (later) the kernel now; returns the seconds taken.

    Any fit does this on first use; calling it first lets a tool show its own message around
    the wait (see :func:`kernel_compiled`). Calling it again costs microseconds.
    """
    start = perf_counter()
    _fit_chunk_kernel(*_example_kernel_args())
    _time_keys(np.zeros((1, 1)), 0, np.empty((1, 1), np.int32))  # the sort keys' builder
    return perf_counter() - start
