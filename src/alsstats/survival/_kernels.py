"""The compiled kernel of the batched Cox engine (numba): one Newton-Raphson fit per data set.

:func:`_fit_chunk_kernel` fits every replicate of a chunk. Per replicate, :func:`_prepare`
gathers the rows present in risk-set order (stratum, then time descending), standardises the
columns and finds the tie groups; :func:`_evaluate` gives the partial log-likelihood, its score
and information (Efron or Breslow ties); :func:`_fit_one` runs Newton-Raphson with
step-halving and sets the status code of the fit (``_OK`` ... ``_NONFINITE``).
:mod:`alsstats.survival._engine` validates the inputs, sorts the rows, cuts the chunks and turns the
codes into text.

Why it is laid out this way (the cost of a fit at n = 220 is a few microseconds, so every pass
over the rows counts):

- One compiled signature. Every input reaches the kernel C-contiguous, writable and of one
  dtype, with a leading replicate axis of length R or 1 (1 = shared by every replicate), so the
  numba cache holds a single entry and a new machine compiles once.
- No allocation per fit. The work arrays are allocated once per chunk (:func:`_workspace`)
  and reused by every replicate.
- An evaluation is three passes over the sorted rows: w = exp(z'b) (a polynomial
  :func:`_exp_rows` that the compiler vectorises; libm's exp is a scalar call per row), one
  sequential pass for the risk-set sums S0, S1 and the terms of the tied deaths, and one
  vectorisable pass for the second moments. The latter uses sum over death terms of S2/s0 =
  sum over rows of c_i z_i z_i', where c_i = w_i times the sum of 1/s0 over the death terms whose
  risk set holds row i (less its own Efron share when row i is one of the tied deaths), so S2 is
  never accumulated row by row.
- Reductions that the compiler may vectorise (``fastmath`` reassociation) are confined to
  :func:`_wdot`; their order depends on n and the machine only, so the same input gives the
  same bytes whatever the chunking or the number of threads.

Like the engine, this module imports nothing of ours (the kernel compiles alone); numba caches
the compiled code next to it (``cache=True``).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__: list[str] = []  # private: alsstats.survival is the interface

# Status codes of the kernel; the strings are built in alsstats.survival._engine.
_OK, _NO_ROWS, _NO_EVENTS, _SINGULAR, _MONOTONE, _NOT_CONVERGED, _NONFINITE = range(7)
# Cholesky pivot tolerance relative to the largest diagonal: R's toler.chol = eps^0.75.
_TOL_CHOL = 1e-9**0.75
# Times the log-likelihood may stop moving while the Newton step stays large before the fit is
# declared monotone (a finite optimum needs one more step at most).
_MONOTONE_REPEATS = 3
# Phases of a fit (see _fit_one).
_NULL, _WARM, _STEP, _FINAL = range(4)

# exp(x) = 2^k exp(r), k = round(x / ln 2), |r| <= ln(2) / 2: ln 2 split in a part exact in
# k * _LN2_HI (Cody-Waite) and the rest, and the Taylor series of exp(r) to degree 13 (the
# remainder is below 4e-18 relative). Within 2 ulp of libm's exp on [-708, 709].
_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238
_LN2_LO = 1.9082149292705877e-10
_EXP_LO, _EXP_HI = -708.0, 709.78  # beyond: 0 and +inf (exp overflows past 709.78)

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def _exp_rows(eta, w, bits, m):
    """w[:m] = exp(eta[:m]); bits is int64 work space of the same length.

    Branch-free, so that the loop vectorises (numba has no vector exp without Intel's SVML).
    """
    for i in range(m):
        x = min(max(eta[i], _EXP_LO), _EXP_HI)
        k = math.floor(x * _LOG2E + 0.5)
        r = (x - k * _LN2_HI) - k * _LN2_LO
        q = 1.0 / 6227020800.0
        q = q * r + 1.0 / 479001600.0
        q = q * r + 1.0 / 39916800.0
        q = q * r + 1.0 / 3628800.0
        q = q * r + 1.0 / 362880.0
        q = q * r + 1.0 / 40320.0
        q = q * r + 1.0 / 5040.0
        q = q * r + 1.0 / 720.0
        q = q * r + 1.0 / 120.0
        q = q * r + 1.0 / 24.0
        q = q * r + 1.0 / 6.0
        q = q * r + 0.5
        q = q * r + 1.0
        w[i] = q * r + 1.0
        bits[i] = (np.int64(k) + 1023) << 52  # 2^k as the bits of a double (k = 1024: inf)
    scale = bits.view(np.float64)
    for i in range(m):
        w[i] *= scale[i]
        if eta[i] != eta[i]:  # NaN stays NaN (the clamp would hide it)
            w[i] = eta[i]
        elif eta[i] < _EXP_LO:
            w[i] = 0.0


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _wdot(c, x, y, m):
    """sum_i c_i x_i y_i over the first m entries (vectorised: reassociation allowed)."""
    s = 0.0
    for i in range(m):
        s += c[i] * x[i] * y[i]
    return s


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _wsum(c, x, m):
    """sum_i c_i x_i over the first m entries (vectorised: reassociation allowed)."""
    s = 0.0
    for i in range(m):
        s += c[i] * x[i]
    return s


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _sum(x, m):
    s = 0.0
    for i in range(m):
        s += x[i]
    return s


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _sumsq(x, m):
    s = 0.0
    for i in range(m):
        s += x[i] * x[i]
    return s


_BLOCK = 4  # risk-set sums are accumulated 4 columns at a time, in registers


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _risk_set_sums(w, Y, gstart, greset, ng, G):
    """G[g] = sum of w_i Y[:, i] over the rows of the groups up to g in its stratum.

    The only pass that chains from row to row; 4 columns of Y at a time in registers, and the
    rows of a group summed as a reduction (reassociated, vectorised: the rows censored at the
    end of follow-up are one large group), so it runs at the latency of one addition per group
    rather than per row.
    """
    for b0 in range(0, Y.shape[0], _BLOCK):
        y0, y1, y2, y3 = Y[b0], Y[b0 + 1], Y[b0 + 2], Y[b0 + 3]
        a0 = a1 = a2 = a3 = 0.0
        for g in range(ng):
            if greset[g]:
                a0 = a1 = a2 = a3 = 0.0
            s0 = s1 = s2 = s3 = 0.0
            for i in range(gstart[g], gstart[g + 1]):
                wi = w[i]
                s0 += wi * y0[i]
                s1 += wi * y1[i]
                s2 += wi * y2[i]
                s3 += wi * y3[i]
            a0 += s0
            a1 += s1
            a2 += s2
            a3 += s3
            G[g, b0] = a0
            G[g, b0 + 1] = a1
            G[g, b0 + 2] = a2
            G[g, b0 + 3] = a3


@_jit
def _sum_log(x, mult, m):
    """sum_i mult_i log(x_i) with one log per 8 terms of multiplicity 1: the log of their
    product (exact to 8 ulp, so the sum moves by ~1e-15 relative at most) when every factor
    lies in [1e-36, 1e36], so that no partial product leaves the range of doubles; term by term
    otherwise. log is a scalar call (no vector log without SVML) and there is a term per death.
    """
    total = 0.0
    for a in range(0, m, 8):
        b = min(a + 8, m)
        prod = 1.0
        safe = True
        for i in range(a, b):
            if mult[i] == 1.0:
                prod *= x[i]
                safe = safe and 1e-36 <= x[i] <= 1e36
            else:
                total += mult[i] * math.log(x[i])
        if safe:
            total += math.log(prod)
        else:
            for i in range(a, b):
                if mult[i] == 1.0:
                    total += math.log(x[i])
    return total


@_jit
def _workspace(n, p):
    """Work arrays for fits of up to n rows and p columns, reused by every replicate of a chunk.

    rw (rows): eta, w, c, dead (0/1); gw (groups): A, B; tw (death terms): s0, 1/s0, fraction,
    multiplicity; iw: exp bits and row index per row, group start, deaths per group, group of
    each term, tied groups, row of DG of each term; greset: group opens a stratum; Y (1 + p
    padded to a multiple of 4, n): a row of ones, the standardised columns z, rows of zeros;
    G (n, width of Y): risk-set sums per group; DG (n + 1, width of Y): tied deaths' sums, row
    q + 1 for the q-th tied group (row 0 stays 0, for the terms without); M (p, n): risk-set
    means per term; pw: vectors; pm: p x p matrices.
    """
    width = -(-(p + 1) // _BLOCK) * _BLOCK
    rw = np.empty((4, n))
    gw = np.empty((2, n))
    tw = np.empty((4, n))
    iw = np.empty((7, n + 1), np.int64)
    greset = np.empty(n, np.bool_)
    Y = np.zeros((width, n))  # the padding rows stay 0
    Y[0] = 1.0
    G = np.empty((n, width))
    DG = np.zeros((n + 1, width))
    M = np.empty((p, n))
    pw = np.empty((10, p))
    pm = np.empty((4, p, p))
    return rw, gw, tw, iw, greset, Y, G, DG, M, pw, pm


@_jit
def _prepare(t, ev, X, present, st, order, efron, ws):
    """Gather the rows present in risk-set order; standardise; find the tie groups and terms.

    ``order`` holds the rows sorted by stratum, then time ascending, as keys whose low bits are
    the row (see alsstats.engine._risk_set_order); walking it backwards gives each stratum's rows
    by time descending (absent rows are skipped wherever they sorted). Fills Y with the
    standardised columns, dead (0/1), the groups of rows tied on (stratum, time) -- group g is
    rows gstart[g] to gstart[g + 1] - 1, with gdead[g] deaths, greset[g] when it opens a
    stratum --, the death terms of the likelihood (one per group with deaths, or one per death
    of a tied group under Efron), zd = the sum of z over the deaths, and the scale of each
    column. Returns (m, number of groups, number of terms, number of tied groups, deaths).
    """
    rw, _, tw, iw, greset, Y = ws[:6]
    pw = ws[9]
    Z = Y[1 : 1 + X.shape[1]]
    ts, dead, tfrac, tmult = rw[0], rw[3], tw[2], tw[3]
    rows, gstart, gdead, tgroup, tied, tslot = iw[1], iw[2], iw[3], iw[4], iw[5], iw[6]
    sts = iw[0]  # the exp bits' row, free until the first evaluation
    zd, scale = pw[0], pw[2]
    n, p = X.shape
    low = 1
    while low < n:
        low <<= 1
    low -= 1  # the row bits of a key
    m = 0
    for q in range(n - 1, -1, -1):  # branch-free compaction of the rows present
        i = order[q] & low
        rows[m] = i
        m += present[i]
    # Gather in that order (time, stratum, death, raw columns), then per column: centre,
    # scale, standardise -- loops over contiguous rows that vectorise.
    for k in range(m):
        i = rows[k]
        ts[k] = t[i]
        sts[k] = st[i]
        dead[k] = 1.0 if ev[i] != 0 else 0.0
    for j in range(p):
        Zj = Z[j]
        for k in range(m):
            Zj[k] = X[rows[k], j]
    nev = 0
    for k in range(m):
        nev += dead[k] != 0.0
    for j in range(p):
        Zj = Z[j]
        centre = _sum(Zj, m) / max(m, 1)
        for k in range(m):
            Zj[k] -= centre
        sd = math.sqrt(_sumsq(Zj, m) / max(m, 1))
        scale[j] = sd if sd > 0.0 and math.isfinite(sd) else 1.0
        inv = 1.0 / scale[j]
        for k in range(m):
            Zj[k] *= inv
        zd[j] = _wsum(dead, Zj, m)
    # Groups of rows tied on (stratum, time).
    ng = 0
    for k in range(m):
        new_stratum = k == 0 or sts[k] != sts[k - 1]
        if new_stratum or ts[k] != ts[k - 1]:
            gstart[ng] = k
            gdead[ng] = 0
            greset[ng] = new_stratum
            ng += 1
        gdead[ng - 1] += dead[k] != 0.0
    gstart[ng] = m
    nt = 0
    ntied = 0
    # Death terms. Efron: the r-th of nd tied deaths sees the risk set less r/nd of the deaths'
    # weight; Breslow (or a single death): nd copies of one term.
    for g in range(ng):
        nd = gdead[g]
        if nd == 0:
            continue
        if efron and nd > 1:
            tied[ntied] = g
            ntied += 1
            for r in range(nd):
                tgroup[nt] = g
                tslot[nt] = ntied
                tfrac[nt] = r / nd
                tmult[nt] = 1.0
                nt += 1
        else:
            tgroup[nt] = g
            tslot[nt] = 0
            tfrac[nt] = 0.0
            tmult[nt] = nd
            nt += 1
    return m, ng, nt, ntied, nev


@_jit
def _evaluate(beta, ws, sizes, U, info):
    """Partial log-likelihood at beta; fills its score U and information info.

    Passes: eta and w = exp(eta) per row; the risk-set sums (S0, S1) at the end of each group
    (the only sequential pass); per death term s0, 1/s0 and the mean M = S1/s0; reductions over
    the terms for the log-likelihood, the score and the sum of M M'; the weight c of each row;
    the weighted Gram matrix of the rows for the sum of S2/s0.
    """
    rw, gw, tw, iw, greset, Y, G, DG, M, pw, _ = ws
    p = U.shape[0]
    Z = Y[1 : 1 + p]
    eta, w, c, dead = rw[0], rw[1], rw[2], rw[3]
    gA, gB = gw[0], gw[1]
    s0, inv, tfrac, tmult = tw[0], tw[1], tw[2], tw[3]
    bits, gstart, tgroup, tied, tslot = iw[0], iw[2], iw[4], iw[5], iw[6]
    zd = pw[0]
    m, ng, nt, ntied = sizes
    width = Y.shape[0]
    zero = True
    for j in range(p):
        zero = zero and beta[j] == 0.0
    if zero:  # beta = 0 (the null model): every weight is 1
        for i in range(m):
            w[i] = 1.0
    else:
        for i in range(m):
            eta[i] = 0.0
        for j in range(p):  # column by column: the loop over rows vectorises
            b = beta[j]
            for i in range(m):
                eta[i] += b * Z[j, i]
        _exp_rows(eta, w, bits, m)
    _risk_set_sums(w, Y, gstart, greset, ng, G)
    for q in range(ntied):  # Efron: the sums over the tied deaths
        g = tied[q]
        d = DG[q + 1]
        for b in range(width):
            d[b] = 0.0
        for i in range(gstart[g], gstart[g + 1]):
            if dead[i] != 0.0:
                for b in range(width):
                    d[b] += w[i] * Y[b, i]
    # Per term: s0, 1/s0 and the risk-set mean of z (loops over terms: vectorise).
    for r in range(nt):
        s0[r] = G[tgroup[r], 0] - tfrac[r] * DG[tslot[r], 0]
        inv[r] = 1.0 / s0[r]
    for j in range(p):
        Mj = M[j]
        for r in range(nt):
            Mj[r] = (G[tgroup[r], 1 + j] - tfrac[r] * DG[tslot[r], 1 + j]) * inv[r]
    loglik = 0.0
    for j in range(p):
        loglik += beta[j] * zd[j]  # sum of z'beta over the deaths
    loglik -= _sum_log(s0, tmult, nt)
    for j in range(p):
        U[j] = zd[j] - _wsum(tmult, M[j], nt)
        for k in range(j + 1):
            info[j, k] = -_wdot(tmult, M[j], M[k], nt)
    # Sum over terms of S2/s0 = sum over rows of c_i z_i z_i': a term's 1/s0 goes to every row
    # of its risk set (gA, the groups from the row's own to the end of its stratum), less the
    # Efron share r/nd of the term's own tied deaths (gB).
    for g in range(ng):
        gA[g] = 0.0
        gB[g] = 0.0
    for r in range(nt):
        g = tgroup[r]
        gA[g] += tmult[r] * inv[r]
        gB[g] += tmult[r] * tfrac[r] * inv[r]
    acc = 0.0
    for g in range(ng - 1, -1, -1):
        acc += gA[g]
        bg = gB[g]
        for i in range(gstart[g], gstart[g + 1]):
            c[i] = w[i] * (acc - dead[i] * bg)
        if greset[g]:
            acc = 0.0
    for j in range(p):
        for k in range(j + 1):
            info[j, k] += _wdot(c, Z[j], Z[k], m)
    for j in range(p):
        for k in range(j):
            info[k, j] = info[j, k]
    return loglik


@_jit
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


@_jit
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


@_jit
def _dot(x, y):
    """x'y (plain loops here and below: numpy's versions cost seconds of compilation)."""
    s = 0.0
    for j in range(x.shape[0]):
        s += x[j] * y[j]
    return s


@_jit
def _argmax_abs(x):
    """The first index of the largest |x_j|."""
    k = 0
    for j in range(1, x.shape[0]):
        if abs(x[j]) > abs(x[k]):
            k = j
    return k


@_jit
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


@_jit
def _fit_one(t, ev, X, present, st, order, init, efron, max_iter, tol, ws, coef, cov, ll, oi):
    """Fit one data set. Writes coef (p,), cov (p, p), ll = (loglik, loglik_null, score_chi2)
    and oi = (n_iter, status code, status argument, n, n_events)."""
    pw, pm = ws[-2], ws[-1]
    p = X.shape[1]
    scale, U, Un, beta, newbeta, step = pw[2], pw[3], pw[4], pw[5], pw[6], pw[7]
    info, info_new, Lc = pm[0], pm[1], pm[2]
    m, ng, nt, ntied, nev = _prepare(t, ev, X, present, st, order, efron, ws)
    sizes = (m, ng, nt, ntied)
    oi[0] = 0
    oi[1] = _OK
    oi[2] = 0
    oi[3] = m
    oi[4] = nev
    coef[:] = np.nan
    cov[:, :] = np.nan
    ll[:] = np.nan
    if m == 0:
        oi[1] = _NO_ROWS
        return
    if nev == 0:
        oi[1] = _NO_EVENTS
        return

    # Newton-Raphson with step-halving, as coxph.fit. R stops when the step just taken changed
    # the log-likelihood by <= tol (relative); here the step about to be taken is tested (its
    # predicted change U' info^-1 U / 2) and then taken, which saves an evaluation and ends one
    # Newton step closer to the optimum. Each evaluation serves both the acceptance of the step
    # that led to it and the next step. A step that stays large while the log-likelihood no
    # longer moves is a coefficient running off to infinity.
    # One loop around a single call of _evaluate (the compiler inlines each call site; one
    # site keeps the compilation short), in phases: the null model (beta = 0: log-likelihood,
    # score test, singularity of the design), the warm start (beta = init), a Newton step
    # (halved while the log-likelihood decreases), the final negligible step.
    code = _NOT_CONVERGED
    it = 0
    flat = 0
    L = 0.0
    phase = _NULL
    newbeta[:] = 0.0
    while True:
        Ln = _evaluate(newbeta, ws, sizes, Un, info_new)
        finite = _all_finite(Ln, Un, info_new)
        if phase == _STEP and not (finite and Ln >= L):
            if it >= max_iter:
                break
            for j in range(p):  # step-halving
                newbeta[j] = 0.5 * (newbeta[j] + beta[j])
            it += 1
            continue
        if phase == _FINAL:
            if finite and _cholesky(info_new, Lc) < 0 and Ln >= L - tol * abs(L):
                beta[:] = newbeta
                L = Ln
                info[:, :] = info_new
            break
        if not finite:  # null model or warm start
            oi[1] = _NONFINITE
            return
        beta[:] = newbeta
        L = Ln
        U[:] = Un
        info[:, :] = info_new
        if phase == _NULL:
            ll[1] = L
            bad = _cholesky(info, Lc)
            if bad >= 0:
                oi[1] = _SINGULAR
                oi[2] = bad
                return
            _chol_solve(Lc, U, step)
            ll[2] = _dot(U, step)
            step[:] = 0.0
            warm = False
            for j in range(p):
                newbeta[j] = init[j] * scale[j]
                warm = warm or newbeta[j] != 0.0
            if warm:
                phase = _WARM
                continue
        # A Newton step from beta.
        if _cholesky(info, Lc) >= 0:  # information lost rank away from 0: a diverging coefficient
            code = _MONOTONE if it > 0 else _SINGULAR
            break
        _chol_solve(Lc, U, step)
        if 0.5 * _dot(U, step) <= tol * max(abs(L), 1.0):
            if abs(step[_argmax_abs(step)]) <= math.sqrt(tol):
                code = _OK
            else:
                flat += 1
                if flat >= _MONOTONE_REPEATS:
                    code = _MONOTONE
        else:
            flat = 0
        if code == _OK:  # take the last (negligible) step and the information there
            phase = _FINAL
        elif code != _NOT_CONVERGED or it >= max_iter:
            break
        else:
            phase = _STEP
        for j in range(p):
            newbeta[j] = beta[j] + step[j]
        it += 1
    arg = max_iter
    if code == _SINGULAR:
        arg = _cholesky(info, Lc)
    elif code == _MONOTONE:
        # The diverging coefficient is the one the Newton steps keep moving.
        if step[_argmax_abs(step)] == 0.0:
            step[:] = beta
        arg = _argmax_abs(step)
        arg = arg if step[arg] > 0 else -1 - arg  # the sign travels in the encoding
    oi[0] = it
    oi[1] = code
    oi[2] = arg
    ll[0] = L
    for j in range(p):
        coef[j] = beta[j] / scale[j]
    if (code == _OK or code == _NOT_CONVERGED) and _cholesky(info, Lc) < 0:
        e, col = pm[3][0], step  # scratch vectors (step is no longer needed)
        for k in range(p):
            e[:] = 0.0
            e[k] = 1.0
            _chol_solve(Lc, e, col)
            for j in range(p):
                cov[j, k] = col[j] / (scale[j] * scale[k])


@_jit
def _fit_chunk_kernel(
    t, ev, X, present, st, order, init, efron, max_iter, tol, coef, cov, out_ll, out_int
):
    """Fit the R replicates of a chunk (R = coef.shape[0]).

    Each input has a leading replicate axis of length R, or 1 when it is shared by every
    replicate: t, st, present, order (R or 1, n); ev int8 (R or 1, n); X (R or 1, n, p); init
    (R or 1, p). order sorts each replicate's rows by stratum then time ascending.
    """
    R = coef.shape[0]
    ws = _workspace(X.shape[1], X.shape[2])
    for r in range(R):
        _fit_one(
            t[r if t.shape[0] > 1 else 0],
            ev[r if ev.shape[0] > 1 else 0],
            X[r if X.shape[0] > 1 else 0],
            present[r if present.shape[0] > 1 else 0],
            st[r if st.shape[0] > 1 else 0],
            order[r if order.shape[0] > 1 else 0],
            init[r if init.shape[0] > 1 else 0],
            efron,
            max_iter,
            tol,
            ws,
            coef[r],
            cov[r],
            out_ll[r],
            out_int[r],
        )
