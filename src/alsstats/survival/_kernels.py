"""The compiled kernel of the batched Cox engine (numba): one Newton-Raphson fit per data set.

:func:`_fit_chunk_kernel` fits every replicate of a chunk: rows standardised and grouped by tied
times within strata (:func:`_prepare`), the partial log-likelihood with its score and
information in one pass (:func:`_derivatives`, Efron or Breslow ties), a Cholesky solve per
Newton step with step-halving, and the status code of each fit (``_OK`` ... ``_NONFINITE``).
:mod:`alsstats.survival` validates the inputs, cuts the chunks and turns the codes into text.

Like the engine, this module imports nothing of ours (the kernel compiles alone); numba caches
the compiled code next to it (``cache=True``).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__: list[str] = []  # private: alsstats.survival is the interface

# Status codes of the kernel; the strings are built in _status_strings.
_OK, _NO_ROWS, _NO_EVENTS, _SINGULAR, _MONOTONE, _NOT_CONVERGED, _NONFINITE = range(7)
# Cholesky pivot tolerance relative to the largest diagonal: R's toler.chol = eps^0.75.
_TOL_CHOL = 1e-9**0.75
# Times the log-likelihood may stop moving while the Newton step stays large before the fit is
# declared monotone (a finite optimum needs one more step at most).
_MONOTONE_REPEATS = 3


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _derivatives(beta, Z, F, dead, gstart, greset, efron, U, info, S, D, M):
    """Partial log-likelihood at beta; fills its score U and information info.

    Rows of Z are sorted by stratum then time descending; tie group g is rows gstart[g] to
    gstart[g + 1] - 1 and greset[g] marks the first group of a stratum (risk sums restart).
    F holds each row's (1, z, lower triangle of z z'), so that one loop accumulates the risk-set
    sums S0, S1, S2 (in S) and the tied deaths' sums (in D); M is work space.
    """
    p = Z.shape[1]
    K = F.shape[1]
    loglik = 0.0
    U[:] = 0.0
    info[:, :] = 0.0
    D[:] = 0.0
    for g in range(gstart.shape[0] - 1):
        if greset[g]:
            S[:] = 0.0
        nd = 0
        for i in range(gstart[g], gstart[g + 1]):
            eta = 0.0
            for j in range(p):
                eta += Z[i, j] * beta[j]
            w = math.exp(eta)
            for k in range(K):
                S[k] += w * F[i, k]
            if dead[i]:
                nd += 1
                loglik += eta
                for j in range(p):
                    U[j] += Z[i, j]
                if efron:
                    for k in range(K):
                        D[k] += w * F[i, k]
        if nd == 0:
            continue
        # Efron: the r-th of nd tied deaths sees the risk set less r/nd of the deaths' weight.
        tied = efron and nd > 1
        nterm = nd if tied else 1
        mult = 1.0 if tied else float(nd)
        for r in range(nterm):
            f = r / nd if tied else 0.0
            s0 = S[0] - f * D[0]
            loglik -= mult * math.log(s0)
            inv = 1.0 / s0
            for k in range(1, K):  # risk-set means of z and of z z'
                M[k] = (S[k] - f * D[k]) * inv
            c = 1 + p
            for j in range(p):
                U[j] -= mult * M[1 + j]
                for k in range(j + 1):
                    info[j, k] += mult * (M[c] - M[1 + j] * M[1 + k])
                    c += 1
        if efron:
            D[:] = 0.0
    for j in range(p):
        for k in range(j):
            info[k, j] = info[j, k]
    return loglik


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _cholesky(A, L):
    """Cholesky factor of A into L; returns -1, or the index of the first failed pivot."""
    p = A.shape[0]
    big = 0.0
    for j in range(p):
        if A[j, j] > big:
            big = A[j, j]
    eps = _TOL_CHOL * big if big > 0.0 else _TOL_CHOL
    L[:, :] = 0.0
    for j in range(p):
        s = A[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        if not s > eps:  # also catches NaN
            return j
        L[j, j] = math.sqrt(s)
        for i in range(j + 1, p):
            t = A[i, j]
            for k in range(j):
                t -= L[i, k] * L[j, k]
            L[i, j] = t / L[j, j]
    return -1


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _chol_solve(L, b, x):
    p = L.shape[0]
    for i in range(p):
        t = b[i]
        for k in range(i):
            t -= L[i, k] * x[k]
        x[i] = t / L[i, i]
    for i in range(p - 1, -1, -1):
        t = x[i]
        for k in range(i + 1, p):
            t -= L[k, i] * x[k]
        x[i] = t / L[i, i]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _all_finite(L, U, info):
    if not math.isfinite(L):
        return False
    for j in range(U.shape[0]):
        if not math.isfinite(U[j]):
            return False
        for k in range(U.shape[0]):
            if not math.isfinite(info[j, k]):
                return False
    return True


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _prepare(t, ev, X, st, order, m):
    """The m rows present, given in ``order`` (stratum, then time descending), standardised.

    Returns Z, F (each row's 1, z and lower triangle of z z'), dead, the tie-group starts, the
    stratum-start flags, and the centre and scale of each column.
    """
    p = X.shape[1]
    order = order[:m]
    rows = order
    centre = np.zeros(p)
    scale = np.ones(p)
    for j in range(p):
        for i in rows:
            centre[j] += X[i, j]
        centre[j] /= max(m, 1)
        ss = 0.0
        for i in rows:
            ss += (X[i, j] - centre[j]) ** 2
        sd = math.sqrt(ss / max(m, 1))
        if sd > 0.0 and math.isfinite(sd):
            scale[j] = sd
    Z = np.empty((m, p))
    F = np.empty((m, 1 + p + p * (p + 1) // 2))
    dead = np.empty(m, np.bool_)
    gstart = np.empty(m + 1, np.int64)
    greset = np.empty(m, np.bool_)
    ng = 0
    for i in range(m):
        o = order[i]
        dead[i] = ev[o] != 0
        F[i, 0] = 1.0
        for j in range(p):
            Z[i, j] = (X[o, j] - centre[j]) / scale[j]
            F[i, 1 + j] = Z[i, j]
        c = 1 + p
        for j in range(p):
            for k in range(j + 1):
                F[i, c] = Z[i, j] * Z[i, k]
                c += 1
        new_stratum = i == 0 or st[o] != st[order[i - 1]]
        if new_stratum or t[o] != t[order[i - 1]]:
            gstart[ng] = i
            greset[ng] = new_stratum
            ng += 1
    gstart[ng] = m
    return Z, F, dead, gstart[: ng + 1], greset[:ng], centre, scale


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _fit_one(t, ev, X, st, order, m, init, efron, max_iter, tol, coef, cov, out_ll, out_int):
    """Fit one data set. Writes coef (p,), cov (p, p), out_ll = (loglik, loglik_null,
    score_chi2) and out_int = (n_iter, status code, status argument, n, n_events)."""
    p = X.shape[1]
    Z, F, dead, gstart, greset, _, scale = _prepare(t, ev, X, st, order, m)
    m = Z.shape[0]
    nev = 0
    for i in range(m):
        nev += dead[i]
    out_int[3] = m
    out_int[4] = nev
    coef[:] = np.nan
    cov[:, :] = np.nan
    out_ll[:] = np.nan
    if m == 0:
        out_int[1] = _NO_ROWS
        return
    if nev == 0:
        out_int[1] = _NO_EVENTS
        return
    K = F.shape[1]
    S, D, M = np.empty(K), np.empty(K), np.empty(K)
    U, info, Un, info_new = np.empty(p), np.empty((p, p)), np.empty(p), np.empty((p, p))
    Lc = np.empty((p, p))
    step = np.zeros(p)
    beta = np.zeros(p)
    # Null model: log-likelihood, score test, and singularity of the design.
    L = _derivatives(beta, Z, F, dead, gstart, greset, efron, U, info, S, D, M)
    if not _all_finite(L, U, info):
        out_int[1] = _NONFINITE
        return
    out_ll[1] = L
    bad = _cholesky(info, Lc)
    if bad >= 0:
        out_int[1] = _SINGULAR
        out_int[2] = bad
        return
    _chol_solve(Lc, U, step)
    out_ll[2] = np.dot(U, step)
    step[:] = 0.0
    for j in range(p):
        beta[j] = init[j] * scale[j]
    if np.any(beta != 0.0):
        L = _derivatives(beta, Z, F, dead, gstart, greset, efron, U, info, S, D, M)
        if not _all_finite(L, U, info):
            out_int[1] = _NONFINITE
            return

    # Newton-Raphson with step-halving, as coxph.fit. R stops when the step just taken changed
    # the log-likelihood by <= tol (relative); here the step about to be taken is tested (its
    # predicted change U' info^-1 U / 2) and then taken, which saves an evaluation and ends one
    # Newton step closer to the optimum. A step that stays large while the log-likelihood no
    # longer moves is a coefficient running off to infinity.
    code = _NOT_CONVERGED
    it = 0
    flat = 0
    newbeta = beta.copy()
    while True:
        if _cholesky(info, Lc) >= 0:  # information lost rank away from 0: a diverging coefficient
            code = _MONOTONE if it > 0 else _SINGULAR
            break
        _chol_solve(Lc, U, step)
        if 0.5 * np.dot(U, step) <= tol * max(abs(L), 1.0):
            if np.abs(step).max() <= math.sqrt(tol):
                code = _OK
            else:
                flat += 1
                if flat >= _MONOTONE_REPEATS:
                    code = _MONOTONE
        else:
            flat = 0
        if code != _NOT_CONVERGED or it >= max_iter:
            break
        for j in range(p):
            newbeta[j] = beta[j] + step[j]
        while it < max_iter:
            it += 1
            Ln = _derivatives(newbeta, Z, F, dead, gstart, greset, efron, Un, info_new, S, D, M)
            if _all_finite(Ln, Un, info_new) and Ln >= L:
                beta[:] = newbeta
                L = Ln
                U[:] = Un
                info[:, :] = info_new
                break
            for j in range(p):  # step-halving
                newbeta[j] = 0.5 * (newbeta[j] + beta[j])
        else:
            break
    arg = max_iter
    if code == _OK:
        # Take the last (negligible) step and the information there.
        for j in range(p):
            newbeta[j] = beta[j] + step[j]
        it += 1
        Ln = _derivatives(newbeta, Z, F, dead, gstart, greset, efron, Un, info_new, S, D, M)
        if _all_finite(Ln, Un, info_new) and _cholesky(info_new, Lc) < 0 and Ln >= L - tol * abs(L):
            beta[:] = newbeta
            L = Ln
            info[:, :] = info_new
    elif code == _SINGULAR:
        arg = _cholesky(info, Lc)
    elif code == _MONOTONE:
        # The diverging coefficient is the one the Newton steps keep moving.
        if np.all(step == 0.0):
            step[:] = beta
        arg = np.argmax(np.abs(step))
        arg = arg if step[arg] > 0 else -1 - arg  # the sign travels in the encoding
    out_int[0] = it
    out_int[1] = code
    out_int[2] = arg
    out_ll[0] = L
    for j in range(p):
        coef[j] = beta[j] / scale[j]
    if (code == _OK or code == _NOT_CONVERGED) and _cholesky(info, Lc) < 0:
        col = np.zeros(p)
        e = np.zeros(p)
        for k in range(p):
            e[:] = 0.0
            e[k] = 1.0
            _chol_solve(Lc, e, col)
            for j in range(p):
                cov[j, k] = col[j] / (scale[j] * scale[k])


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _fit_chunk_kernel(
    t, ev, X, st, order, m, init, efron, max_iter, tol, coef, cov, out_ll, out_int
):
    for r in range(t.shape[0]):
        _fit_one(
            t[r],
            ev[r],
            X[r],
            st[r],
            order[r],
            m[r],
            init[r],
            efron,
            max_iter,
            tol,
            coef[r],
            cov[r],
            out_ll[r],
            out_int[r],
        )
