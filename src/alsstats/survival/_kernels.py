"""The compiled kernel of the batched Cox engine (numba): one Newton-Raphson fit per data set.

:func:`_fit_chunk_kernel` fits every replicate of a chunk. Per replicate, :func:`_prepare`
gathers the rows present in risk-set order (stratum, then time descending), standardises the
columns and finds the tie groups and the death terms; :func:`_loglik` gives the partial
log-likelihood and :func:`_derivatives` its score and information (Efron or Breslow ties),
the latter only where needed (a step that the log-likelihood rejects needs neither); the
kernel's loop runs Newton-Raphson with step-halving and :func:`_finish` writes the outcome and
the status code of the fit (``_OK`` ... ``_NONFINITE``). :mod:`alsstats.survival._engine`
validates the inputs, sorts the rows, cuts the chunks and turns the codes into text.

Why it is laid out this way (a fit at n = 220 costs a few microseconds, so every pass over the
rows counts, and at n = 200,000 every pass over memory does):

- One compiled signature. Every input reaches the kernel C-contiguous, writable and of one
  dtype, with a leading replicate axis of length R or 1 (1 = shared by every replicate), so the
  numba cache holds a single entry and a new machine compiles once.
- No allocation per fit. The work arrays are allocated once per chunk (:func:`_workspace`)
  and reused by every replicate.
- No reference counting per fit. Inside the chunk kernel every array is a borrowed view
  (:func:`_borrowed`), so that the calls of the helpers and the views they take cost no
  atomic operations (numba counts each array a function unpacks or is passed).
- No wasted evaluation work: a step that the log-likelihood rejects (about half the fits
  halve their first step once) is not given its score and information (:func:`_loglik`,
  :func:`_derivatives`).
- An evaluation is two sweeps over the sorted rows, block by block (``_ROWS`` rows, so that a
  block stays in cache between the passes over it) and a pass over the death terms:
  forward, w = exp(z'b) (a polynomial, :func:`_exp_rows`, that the compiler vectorises; libm's
  exp is a scalar call) and the risk-set sums (S0, S1) at the end of each tie group, the only
  computation that chains from row to row (:func:`_group_sums`); per death term s0, 1/s0, the
  risk-set mean M = S1/s0 and its contributions; backward, the weight c of each row and the
  weighted Gram matrix of the rows. The sum over death terms of S2/s0 equals the sum over rows
  of c_i z_i z_i', where c_i = w_i times the sum of 1/s0 over the terms whose risk set holds
  row i (less its own Efron share when row i is one of the tied deaths), so S2 is never
  accumulated.
- Reductions that the compiler may vectorise (``fastmath`` reassociation) are confined to the
  small helpers marked so; their order depends on the replicate's rows only (block boundaries
  are counted from its first row), so the same input gives the same bytes whatever the
  chunking or the number of threads, on one machine: the vectorised order follows the compile
  target's vector width, so AVX2 and AVX-512 machines may differ in the last bit
  (:func:`alsstats.survival.platform_fingerprint` tells them apart).

Like the engine, this module imports nothing of ours (the kernel compiles alone); numba caches
the compiled code next to it (``cache=True``).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

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
# Rows per block of an evaluation's sweeps, death terms per block of its term pass (a block's
# arrays stay in the L1/L2 caches).
_ROWS = 1024
_TERMS = 1024
_COLS = 4  # risk-set sums are accumulated 4 columns at a time, in registers

# exp(x) = 2^k exp(r), k = round(x / ln 2), |r| <= ln(2) / 2: ln 2 split in a part exact in
# k * _LN2_HI (Cody-Waite) and the rest, and the Taylor series of exp(r) to degree 13 (the
# remainder is below 4e-18 relative). Within 2 ulp of libm's exp on [-708, 709].
_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238
_LN2_LO = 1.9082149292705877e-10
_EXP_LO, _EXP_HI = -708.0, 709.78  # beyond: 0 and +inf (exp overflows past 709.78)

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")
# (_prepare, _loglik and _fit_chunk_kernel declare some counters int64: started at a
# literal constant, they would otherwise get a second compilation of a helper specialised to
# the literal.)
# Loops that do not start at 0 run over unsigned indices: with a signed index numba must allow
# for negative ones (counted from the end), which keeps the compiler from vectorising the loop
# (4x slower here). Unsigned values serve only as indices (mixed with signed ones they would
# become floats).
_u = np.uint64
# Reassociation lets the compiler vectorise a reduction (its order then depends on the length
# only); nothing else of fastmath (NaN and inf keep their meaning).
_jit_reduce = numba.njit(
    cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"}
)


@intrinsic
def _borrowed(typingctx, arr):
    """The array without its reference count: a view of the same memory whose meminfo is
    null, so that passing it to a function or taking a view of it costs no atomic increment
    and decrement (numba counts every array made inside a function, an unpacked or passed one
    included; those atomic pairs cost 0.3 us per evaluation at n = 220, a quarter of it). Only
    for arrays that something else keeps alive for as long as the view is used.
    """
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, sig, args):
        a = cgutils.create_struct_proxy(sig.args[0])(context, builder, value=args[0])
        a.meminfo = cgutils.get_null_value(a.meminfo.type)
        a.parent = cgutils.get_null_value(a.parent.type)
        return a._getvalue()

    return arr(arr), codegen


@intrinsic
def _prefetch(typingctx, arr, i):
    """Ask the processor to bring the cache line of element i of arr (counted in memory order)
    into its caches, without waiting for it (a hint: never faults, changes no result)."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, sig, args):
        a = context.make_array(sig.args[0])(context, builder, value=args[0])
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        ptr = builder.bitcast(builder.gep(a.data, [args[1]]), i8p)
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])  # read, keep in every level, data
        return context.get_dummy_value()

    return types.void(arr, types.intp), codegen


@_jit
def _prefetch_replicate(a, r):
    """Prefetch replicate r of a (its leading axis), a cache line at a time, when it is small
    (at most 32 KB: a larger one would push the current fit's arrays out of the caches)."""
    if a.shape[0] <= r:
        return
    per = a.size // a.shape[0]
    if per * a.itemsize > 32768:
        return
    step = max(64 // a.itemsize, 1)
    for i in range(r * per, (r + 1) * per, step):
        _prefetch(a, i)


@_jit
def _exp_rows(eta, w, bits, lo, hi):
    """w[lo:hi] = exp(eta[:hi - lo]), overwriting eta; bits is int64 work space as long as eta.

    Branch-free (selects, no branches), so that the loop vectorises: numba has no vector exp
    without Intel's SVML, and libm's is a scalar call per row.
    """
    for i in range(hi - lo):
        x0 = eta[i]
        x = min(max(x0, _EXP_LO), _EXP_HI)
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
        q = q * r + 1.0
        eta[i] = q if x0 == x0 else x0  # exp(r), or NaN (which the clamp would hide)
        # 2^k as the bits of a double (k = 1024: inf); 0 below the range.
        bits[i] = (np.int64(k) + 1023) << 52 if x0 >= _EXP_LO else 0
    scale = bits.view(np.float64)
    ulo = _u(lo)
    for i in range(ulo, _u(hi)):
        w[i] = eta[i - ulo] * scale[i - ulo]


@_jit_reduce
def _total(x, m):
    """sum of x_i over i < m."""
    s = 0.0
    for i in range(m):
        s += x[i]
    return s


@_jit_reduce
def _wsum(c, x, m):
    """sum of c_i x_i over i < m."""
    s = 0.0
    for i in range(m):
        s += c[i] * x[i]
    return s


@_jit_reduce
def _gram(c, Z, j, k, lo, hi):
    """sum of c[i - lo] Z[j, i] Z[k, i] over i in [lo, hi) (c holds a block)."""
    s = 0.0
    ulo = _u(lo)
    for i in range(ulo, _u(hi)):
        s += c[i - ulo] * Z[j, i] * Z[k, i]
    return s


@_jit_reduce
def _term_sum(mult, M, j, lo, hi):
    """sum of mult[r] M[j, r - lo] over r in [lo, hi) (M holds a block of terms)."""
    s = 0.0
    ulo = _u(lo)
    for r in range(ulo, _u(hi)):
        s += mult[r] * M[j, r - ulo]
    return s


@_jit_reduce
def _term_dot(mult, M, j, k, lo, hi):
    """sum of mult[r] M[j, r - lo] M[k, r - lo] over r in [lo, hi)."""
    s = 0.0
    ulo = _u(lo)
    for r in range(ulo, _u(hi)):
        s += mult[r] * M[j, r - ulo] * M[k, r - ulo]
    return s


@_jit_reduce
def _group_sums(w, dead, Y, gstart, greset, gslot, g, lo, hi, acc, G, DG):
    """Add rows [lo, hi) (a block, from group g on) to their tie groups; returns the group
    that the next block starts in.

    acc holds, per column, the running sums S of the stratum, and the current group's and its
    deaths' partial sums (a group may span blocks). At the end of group g, S (rows by time
    descending) goes to G[g], and the sums over its deaths to DG when it has tied deaths
    (Efron). 4 columns at a time, all sums in registers (column 0, of ones, is not read: its
    sum is that of w); the rows of a group as a reduction (the rows censored at the end of
    follow-up are one large group), so that only the groups chain.
    """
    g0 = g
    for b in range(0, Y.shape[0], _COLS):
        a0, a1, a2, a3 = acc[0, b], acc[0, b + 1], acc[0, b + 2], acc[0, b + 3]
        p0, p1, p2, p3 = acc[1, b], acc[1, b + 1], acc[1, b + 2], acc[1, b + 3]
        d0, d1, d2, d3 = acc[2, b], acc[2, b + 1], acc[2, b + 2], acc[2, b + 3]
        g = g0
        i = lo
        while i < hi:
            end = gstart[g + 1]
            stop = min(end, hi)
            slot = int(gslot[g])
            if b == 0:  # column 0 is 1: the sum of w
                for k in range(_u(i), _u(stop)):
                    wk = w[k]
                    p0 += wk
                    p1 += wk * Y[1, k]
                    p2 += wk * Y[2, k]
                    p3 += wk * Y[3, k]
            else:
                for k in range(_u(i), _u(stop)):
                    wk = w[k]
                    p0 += wk * Y[b, k]
                    p1 += wk * Y[b + 1, k]
                    p2 += wk * Y[b + 2, k]
                    p3 += wk * Y[b + 3, k]
            if slot > 0:
                for k in range(_u(i), _u(stop)):
                    wk = w[k] * dead[k]
                    d0 += wk if b == 0 else wk * Y[b, k]
                    d1 += wk * Y[b + 1, k]
                    d2 += wk * Y[b + 2, k]
                    d3 += wk * Y[b + 3, k]
            i = stop
            if stop == end:  # group g complete
                if greset[g]:
                    a0 = a1 = a2 = a3 = 0.0
                a0 += p0
                a1 += p1
                a2 += p2
                a3 += p3
                G[g, b] = a0
                G[g, b + 1] = a1
                G[g, b + 2] = a2
                G[g, b + 3] = a3
                p0 = p1 = p2 = p3 = 0.0
                if slot > 0:
                    DG[slot, b] = d0
                    DG[slot, b + 1] = d1
                    DG[slot, b + 2] = d2
                    DG[slot, b + 3] = d3
                    d0 = d1 = d2 = d3 = 0.0
                g += 1
        acc[0, b], acc[0, b + 1], acc[0, b + 2], acc[0, b + 3] = a0, a1, a2, a3
        acc[1, b], acc[1, b + 1], acc[1, b + 2], acc[1, b + 3] = p0, p1, p2, p3
        acc[2, b], acc[2, b + 1], acc[2, b + 2], acc[2, b + 3] = d0, d1, d2, d3
    return g


@_jit
def _sum_log(x, mult, lo, hi):
    """sum of mult[r] log(x[r - lo]) over r in [lo, hi) (x holds a block), with one log per 8
    terms of multiplicity 1: the log of their product (exact to 8 ulp, so the sum moves by
    ~1e-15 relative at most) when every factor lies in [1e-36, 1e36], so that no partial
    product leaves the range of doubles; term by term otherwise. log is a scalar call, and
    there is a term per death."""
    total = 0.0
    ulo = _u(lo)
    for a in range(lo, hi, 8):
        b = min(a + 8, hi)
        prod = 1.0
        safe = True
        for r in range(_u(a), _u(b)):
            if mult[r] == 1.0:
                prod *= x[r - ulo]
                safe = safe and 1e-36 <= x[r - ulo] <= 1e36
            else:
                total += mult[r] * math.log(x[r - ulo])
        if safe:
            total += math.log(prod)
        else:
            for r in range(_u(a), _u(b)):
                if mult[r] == 1.0:
                    total += math.log(x[r - ulo])
    return total


@_jit
def _time_keys(t, shift, keys):
    """Sort keys of whole-number times in one pass: keys[r, i] = t[r, i] << shift | i, as int32
    (numpy sorts twice as many of them per vector instruction as int64). Non-finite times
    (masked rows only) count as 0. Returns False when a finite time is not a whole number or a
    key would not fit in 31 bits: the caller then builds int64 keys (or ranks) instead.
    Branch-free (the test is accumulated, the value clamped before its conversion), so that
    the loop vectorises.
    """
    limit = float(1 << (31 - shift)) - 1.0
    sh = np.int32(shift)
    bad = 0  # an integer: a boolean accumulator does not vectorise as well
    for r in range(t.shape[0]):
        for i in range(t.shape[1]):
            x = t[r, i]
            x = x if x - x == 0.0 else 0.0  # NaN and inf: 0
            x = min(max(x, -limit), limit)
            bad |= (x != math.floor(x)) | (abs(x) >= limit)
            keys[r, i] = (np.int32(x) << sh) | np.int32(i)
    return bad == 0


@_jit
def _workspace(n, p):
    """Work arrays for fits of up to n rows and p columns, reused by every replicate of a chunk.

    rw (rows): w, dead (0/1); iw (rows): row index, group start, deaths per group, group of
    each term, DG row of each term, scratch; gw (groups): A, B, DG row (0: no tied deaths);
    tw (terms): fraction, multiplicity; greset: group opens a stratum; Y (1 + p padded to a
    multiple of 4, n): row 0 unused (the constant 1), the standardised columns z, rows of
    zeros; G (groups, width of Y): risk-set sums at the end of each group; DG (1 + tied
    groups, width): tied deaths' sums (row 0 stays 0); blk (a block of terms): s0, 1/s0, M (p
    rows); rb (a block of rows): eta, c; bits: exp's scratch; acc: the running sums S, the
    current group's and its deaths' partial sums; pw: vectors; pm: p x p matrices.
    """
    width = -(-(p + 1) // _COLS) * _COLS
    rw = np.empty((2, n))
    iw = np.empty((6, n + 1), np.int64)
    gw = np.empty((3, n))
    tw = np.empty((2, n))
    greset = np.empty(n, np.bool_)
    # Nothing is zeroed or filled beyond what is read (at n = 200,000 touching fresh memory
    # costs milliseconds): Y's rows of zeros are filled by _prepare up to the rows present.
    Y = np.empty((width, n))
    G = np.empty((n, width))
    DG = np.empty((n + 1, width))
    for j in range(width):
        DG[0, j] = 0.0
    blk = np.empty((2 + p, _TERMS))
    rb = np.empty((2, _ROWS))
    bits = np.empty(_ROWS, np.int64)
    acc = np.empty((3, width))
    pw = np.empty((10, p))
    pm = np.empty((4, p, p))
    return rw, iw, gw, tw, greset, Y, G, DG, blk, rb, bits, acc, pw, pm


@numba.njit(cache=True, nogil=True, error_model="numpy", locals={"m": numba.int64})
def _prepare(t, ev, X, present, st, order, shift, efron, ws):
    """Gather the rows present in risk-set order; standardise; find the tie groups and terms.

    ``order`` lists the rows by stratum, then time ascending, and is walked backwards (each
    stratum's rows by time descending; absent rows are skipped wherever they sorted). With
    shift >= 0 its entries are keys: the row in the low ``shift`` bits, the time (or its rank)
    above, which tells the tie groups without reading the times; with shift = -1 (several
    strata) they are rows, and times and strata are read.

    Fills Y with the standardised columns, dead (0/1), the groups of rows tied on (stratum,
    time) -- group g is rows gstart[g] to gstart[g + 1] - 1, with gdead[g] deaths, greset[g]
    when it opens a stratum --, the death terms of the likelihood (one per group with deaths,
    or one per death of a tied group under Efron), zd = the sum of z over the deaths, and the
    scale of each column. Returns (m, number of groups, number of terms, number of tied
    groups, deaths).
    """
    rw, iw, gw, tw, greset, Y = ws[:6]
    pw = ws[-2]
    p = X.shape[1]
    Z = Y[1 : 1 + p]
    ts, dead = rw[0], rw[1]  # ts: w's row, free until the first evaluation
    rows, gstart, gdead, tgroup, tslot, tk = iw[0], iw[1], iw[2], iw[3], iw[4], iw[5]
    gslot = gw[2]
    tfrac, tmult = tw[0], tw[1]
    zd, scale = pw[0], pw[2]
    n = X.shape[0]
    low = (1 << shift) - 1 if shift >= 0 else -1
    # Read X once in its own order, one load per cache line: the hardware prefetcher fetches a
    # sequential read ahead, the random-order gather below then hits the cache (a replicate of
    # the batch comes fresh from memory).
    Xf = X.ravel()
    touch = 0.0
    for i in range(0, Xf.shape[0], 8):
        touch += Xf[i]
    pw[9, 0] = touch  # kept, so that the reads are not optimised away
    m = 0
    for q in range(n - 1, -1, -1):  # branch-free compaction of the rows present
        key = order[q]
        i = key & low
        rows[m] = i
        tk[m] = key >> shift if shift >= 0 else 0
        m += present[i]
    # Gather in that order, then per column: centre, scale, standardise -- loops over
    # contiguous rows that vectorise.
    nev = 0
    for k in range(m):
        died = ev[rows[k]] != 0
        dead[k] = 1.0 if died else 0.0
        nev += died
    for j in range(p):  # a column at a time: a simple loop, and 2x faster than row by row
        for k in range(m):
            Z[j, k] = X[rows[k], j]
    if shift < 0:
        for k in range(m):
            ts[k] = t[rows[k]]
            tk[k] = st[rows[k]]
    for j in range(1 + p, Y.shape[0]):  # padding to a multiple of 4 columns
        for k in range(m):
            Y[j, k] = 0.0
    for j in range(p):
        Zj = Z[j]
        centre = _total(Zj, m) / max(m, 1)
        for k in range(m):
            Zj[k] -= centre
        sd = math.sqrt(_wsum(Zj, Zj, m) / max(m, 1))
        scale[j] = sd if sd > 0.0 and math.isfinite(sd) else 1.0
        inv = 1.0 / scale[j]
        for k in range(m):
            Zj[k] *= inv
        zd[j] = _wsum(dead, Zj, m)
    # Groups of rows tied on (stratum, time), without branches (a new group is as hard to
    # predict as a death): the start and reset flag of the next group are written at every
    # row, and the last write before the group opens is the one that stays.
    for g in range(m + 1):
        gdead[g] = 0
    ng = 0
    if m > 0:
        gstart[0] = 0
        greset[0] = True
        ng = 1
        gdead[0] = dead[0] != 0.0
    for k in range(1, m):
        if shift >= 0:  # loop-invariant: the compiler takes it out of the loop
            new_stratum = False
            new_group = tk[k] != tk[k - 1]
        else:
            new_stratum = tk[k] != tk[k - 1]
            new_group = new_stratum | (ts[k] != ts[k - 1])
        gstart[ng] = k
        greset[ng] = new_stratum
        ng += new_group
        gdead[ng - 1] += dead[k] != 0.0
    gstart[ng] = m
    # Death terms. Efron: the r-th of nd tied deaths sees the risk set less r/nd of the deaths'
    # weight; Breslow (or a single death): nd copies of one term.
    nt = 0
    ntied = 0
    for g in range(ng):
        nd = gdead[g]
        gslot[g] = 0.0
        if nd == 0:
            continue
        if efron and nd > 1:
            ntied += 1
            gslot[g] = ntied
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


@numba.njit(cache=True, nogil=True, error_model="numpy", locals={"g": numba.int64})
def _loglik(beta, ws, sizes):
    """Partial log-likelihood at beta; leaves w and the risk-set sums G, DG for
    :func:`_derivatives` (a step that the log-likelihood rejects needs neither its score nor
    its information: about half the fits halve a step once).

    No array views are made inside the loops over blocks and groups (each costs reference
    counting); blocks are addressed by offsets instead.
    """
    rw, iw, gw, tw, greset, Y, G, DG, blk, rb, bits, acc, pw, _ = ws
    w, dead, eta, s0, zd = rw[0], rw[1], rb[0], blk[0], pw[0]
    gstart, tgroup, tslot, gslot, tfrac, tmult = iw[1], iw[3], iw[4], gw[2], tw[0], tw[1]
    m, _, nt, _ = sizes
    p = beta.shape[0]
    null = True
    for j in range(p):
        null = null and beta[j] == 0.0

    # Forward sweep, a block of rows at a time: w = exp(z'beta) (1 at beta = 0, the null
    # model), then the rows' contributions to their tie groups; at the end of a group, the
    # risk-set sums S of its stratum so far (rows by time descending) go to G[g], the tied
    # deaths' sums to DG.
    g = 0
    _fill2(acc, 0.0)
    for lo in range(0, m, _ROWS):
        hi = min(lo + _ROWS, m)
        ulo, uhi = _u(lo), _u(hi)
        if null:
            for i in range(ulo, uhi):
                w[i] = 1.0
        else:
            for i in range(hi - lo):
                eta[i] = 0.0
            for j in range(p):  # column by column: the loop over rows vectorises
                b = beta[j]
                for i in range(ulo, uhi):
                    eta[i - ulo] += b * Y[1 + j, i]
            _exp_rows(eta, w, bits, lo, hi)
        g = _group_sums(w, dead, Y, gstart, greset, gslot, g, lo, hi, acc, G, DG)

    # Death terms, a block at a time: s0 (a loop over the terms of the block: it vectorises)
    # and the sum of the logs.
    loglik = 0.0
    for j in range(p):
        loglik += beta[j] * zd[j]  # sum of z'beta over the deaths
    for lo in range(0, nt, _TERMS):
        hi = min(lo + _TERMS, nt)
        ulo, uhi = _u(lo), _u(hi)
        for r in range(ulo, uhi):  # unsigned gathered indices too (no negative-index check)
            gr, sr = _u(tgroup[r]), _u(tslot[r])
            s0[r - ulo] = G[gr, 0] - tfrac[r] * DG[sr, 0]
        loglik -= _sum_log(s0, tmult, lo, hi)
    return loglik


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _derivatives(ws, sizes, U, info):
    """Score U and information info at the beta of the last :func:`_loglik` (from its w, G
    and DG)."""
    rw, iw, gw, tw, greset, Y, G, DG, blk, rb, _, _, pw, _ = ws
    w, dead, c, s0, inv, zd = rw[0], rw[1], rb[1], blk[0], blk[1], pw[0]
    gstart, tgroup, tslot, gA, gB, tfrac, tmult = iw[1], iw[3], iw[4], gw[0], gw[1], tw[0], tw[1]
    m, ng, nt, _ = sizes
    p = U.shape[0]
    # Death terms, a block at a time: s0, 1/s0 and the risk-set mean M of z (loops over the
    # terms of the block: they vectorise), then their sums: the score, the sum of M M', and
    # the weights A (1/s0 for every row of the risk set) and B (the Efron share r/nd of the
    # term's own tied deaths) of each group.
    for j in range(p):
        U[j] = zd[j]
        for k in range(p):
            info[j, k] = 0.0
    for q in range(ng):
        gA[q] = 0.0
        gB[q] = 0.0
    for lo in range(0, nt, _TERMS):
        hi = min(lo + _TERMS, nt)
        ulo, uhi = _u(lo), _u(hi)
        for r in range(ulo, uhi):
            gr, sr = _u(tgroup[r]), _u(tslot[r])
            s0[r - ulo] = G[gr, 0] - tfrac[r] * DG[sr, 0]
            inv[r - ulo] = 1.0 / s0[r - ulo]
        for j in range(p):
            for r in range(ulo, uhi):
                gr, sr = _u(tgroup[r]), _u(tslot[r])
                Mjr = (G[gr, 1 + j] - tfrac[r] * DG[sr, 1 + j]) * inv[r - ulo]
                blk[2 + j, r - ulo] = Mjr
        for j in range(p):
            U[j] -= _term_sum(tmult, blk, 2 + j, lo, hi)
            for k in range(j + 1):
                info[j, k] -= _term_dot(tmult, blk, 2 + j, 2 + k, lo, hi)
        for r in range(ulo, uhi):
            gr = _u(tgroup[r])
            gA[gr] += tmult[r] * inv[r - ulo]
            gB[gr] += tmult[r] * tfrac[r] * inv[r - ulo]

    # Backward sweep, in blocks of rows: c_i = w_i (sum of A over the groups from row i's own
    # to the end of its stratum - B of its own group if row i died), then the weighted Gram
    # matrix of the block's rows, its share of the sum over terms of S2/s0.
    a = 0.0
    for q in range(ng - 1, -1, -1):
        a += gA[q]
        gA[q] = a  # now the sum from group q to the end of its stratum
        if greset[q]:
            a = 0.0
    q = 0
    for lo in range(0, m, _ROWS):
        hi = min(lo + _ROWS, m)
        ulo = _u(lo)
        i = lo
        while i < hi:
            end = min(gstart[q + 1], hi)
            aq, bq = gA[q], gB[q]
            for k in range(_u(i), _u(end)):
                c[k - ulo] = w[k] * (aq - dead[k] * bq)
            if end == gstart[q + 1]:
                q += 1
            i = end
        for j in range(p):
            for k in range(j + 1):
                info[j, k] += _gram(c, Y, 1 + j, 1 + k, lo, hi)
    for j in range(p):
        for k in range(j):
            info[k, j] = info[j, k]


@_jit
def _fill(a, v):
    """a[:] = v for a vector. (numpy's slice assignment would do, but each form of it costs a
    second or so of the first compilation; and no views here, they cost reference counting.)"""
    for i in range(a.shape[0]):
        a[i] = v


@_jit
def _fill2(a, v):
    """a[:, :] = v for a matrix."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            a[i, j] = v


@_jit
def _copy(dst, src):
    """dst[:] = src for vectors."""
    for i in range(dst.shape[0]):
        dst[i] = src[i]


@_jit
def _copy2(dst, src):
    """dst[:, :] = src for matrices."""
    for i in range(dst.shape[0]):
        for j in range(dst.shape[1]):
            dst[i, j] = src[i, j]


@_jit
def _cholesky(A, L):
    """Cholesky factor of A into L; returns -1, or the index of the first failed pivot."""
    p = A.shape[0]
    big = 0.0
    for j in range(p):
        if A[j, j] > big:
            big = A[j, j]
    eps = _TOL_CHOL * big if big > 0.0 else _TOL_CHOL
    _fill2(L, 0.0)
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
def _finish(code, it, max_iter, L, beta, step, info, Lc, e, scale, coef, cov, ll, oi):
    """Write a fit's outcome: n_iter, status code and argument, log-likelihood, coefficients
    in the units of X and, where the information is positive definite, its inverse."""
    p = beta.shape[0]
    arg = max_iter
    if code == _SINGULAR:
        arg = _cholesky(info, Lc)
    elif code == _MONOTONE:
        # The diverging coefficient is the one the Newton steps keep moving.
        if step[_argmax_abs(step)] == 0.0:
            _copy(step, beta)
        arg = _argmax_abs(step)
        arg = arg if step[arg] > 0 else -1 - arg  # the sign travels in the encoding
    oi[0] = it
    oi[1] = code
    oi[2] = arg
    ll[0] = L
    for j in range(p):
        coef[j] = beta[j] / scale[j]
    if (code == _OK or code == _NOT_CONVERGED) and _cholesky(info, Lc) < 0:
        col = step  # step is no longer needed
        for k in range(p):
            _fill(e, 0.0)
            e[k] = 1.0
            _chol_solve(Lc, e, col)
            for j in range(p):
                cov[j, k] = col[j] / (scale[j] * scale[k])


@numba.njit(
    cache=True,
    nogil=True,
    error_model="numpy",
    locals={"code": numba.int64, "it": numba.int64, "phase": numba.int64},
)
def _fit_chunk_kernel(
    t, ev, X, present, st, order, shift, init, efron, max_iter, tol, coef, cov, out_ll, out_int
):
    """Fit the R replicates of a chunk (R = coef.shape[0]).

    Each input has a leading replicate axis of length R, or 1 when it is shared by every
    replicate: t, present, st, order (R or 1, n); ev int8 (R or 1, n); X (R or 1, n, p); init
    (R or 1, p). order lists each replicate's rows by stratum, then time ascending: keys with
    the row in the low ``shift`` bits and the time (or its rank) above, or rows when shift is
    -1 (see alsstats.survival._engine._risk_set_order). Writes per replicate coef (p,), cov (p, p),
    out_ll = (loglik, loglik_null, score_chi2) and out_int = (n_iter, status code, status
    argument, n, n_events).
    """
    R = coef.shape[0]
    p = X.shape[2]
    # Every array below is a borrowed view (see _borrowed): the inputs and outputs are kept
    # alive by the caller, the work arrays by `owner`, used again after the loop.
    t, ev, X, present, st, order = (
        _borrowed(t),
        _borrowed(ev),
        _borrowed(X),
        _borrowed(present),
        _borrowed(st),
        _borrowed(order),
    )
    init, coef, cov, out_ll, out_int = (
        _borrowed(init),
        _borrowed(coef),
        _borrowed(cov),
        _borrowed(out_ll),
        _borrowed(out_int),
    )
    owner = _workspace(X.shape[1], p)
    rw, iw, gw, tw, greset, Y, G, DG, blk, rb, bits, acc, pw, pm = owner
    rw, iw, gw, tw, greset, Y = (
        _borrowed(rw),
        _borrowed(iw),
        _borrowed(gw),
        _borrowed(tw),
        _borrowed(greset),
        _borrowed(Y),
    )
    G, DG, blk, rb, bits, acc, pw, pm = (
        _borrowed(G),
        _borrowed(DG),
        _borrowed(blk),
        _borrowed(rb),
        _borrowed(bits),
        _borrowed(acc),
        _borrowed(pw),
        _borrowed(pm),
    )
    ws = (rw, iw, gw, tw, greset, Y, G, DG, blk, rb, bits, acc, pw, pm)
    scale, U, Un, beta, newbeta, step, e = pw[2], pw[3], pw[4], pw[5], pw[6], pw[7], pw[8]
    info, info_new, Lc = pm[0], pm[1], pm[2]
    for r in range(R):
        # The next replicate's rows come from memory while this one is fitted (its X, events
        # and sort keys, when they are its own).
        if R > 1:
            _prefetch_replicate(X, r + 1)
            _prefetch_replicate(ev, r + 1)
            _prefetch_replicate(order, r + 1)
        ll, oi, init_r = out_ll[r], out_int[r], init[r if init.shape[0] > 1 else 0]
        m, ng, nt, ntied, nev = _prepare(
            t[r if t.shape[0] > 1 else 0],
            ev[r if ev.shape[0] > 1 else 0],
            X[r if X.shape[0] > 1 else 0],
            present[r if present.shape[0] > 1 else 0],
            st[r if st.shape[0] > 1 else 0],
            order[r if order.shape[0] > 1 else 0],
            shift,
            efron,
            ws,
        )
        sizes = (m, ng, nt, ntied)
        oi[0] = 0
        oi[1] = _NO_ROWS if m == 0 else _NO_EVENTS if nev == 0 else _OK
        oi[2] = 0
        oi[3] = m
        oi[4] = nev
        _fill(coef[r], np.nan)
        _fill2(cov[r], np.nan)
        _fill(ll, np.nan)
        if oi[1] != _OK:
            continue

        # Newton-Raphson with step-halving, as coxph.fit. R stops when the step just taken
        # changed the log-likelihood by <= tol (relative); here the step about to be taken is
        # tested (its predicted change U' info^-1 U / 2) and then taken, which saves an
        # evaluation and ends one Newton step closer to the optimum. Each evaluation serves both
        # the acceptance of the step that led to it and the next step. A step that stays large
        # while the log-likelihood no longer moves is a coefficient running off to infinity.
        # Written out here, around a single call of _loglik and of _derivatives, rather than in
        # a function per fit: numba optimises each function again with all that it calls
        # (inlined), so each level and each call site costs seconds of the first compilation.
        # In phases: the null model (beta = 0: log-likelihood, score test, singularity of the
        # design), the warm start (beta = init), a Newton step (halved while the log-likelihood
        # decreases), the final negligible step.
        code = _NOT_CONVERGED
        it = 0
        flat = 0
        L = 0.0
        phase = _NULL
        failed = False  # the null model or the warm start cannot be used (oi[1] says why)
        _fill(newbeta, 0.0)
        while True:
            Ln = _loglik(newbeta, ws, sizes)
            finite = False  # the score and information of a rejected step are not needed
            if phase != _STEP or (math.isfinite(Ln) and Ln >= L):
                _derivatives(ws, sizes, Un, info_new)
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
                    _copy(beta, newbeta)
                    L = Ln
                    _copy2(info, info_new)
                break
            if not finite:  # null model or warm start
                oi[1] = _NONFINITE
                failed = True
                break
            _copy(beta, newbeta)
            L = Ln
            _copy(U, Un)
            _copy2(info, info_new)
            if phase == _NULL:
                ll[1] = L
                bad = _cholesky(info, Lc)
                if bad >= 0:
                    oi[1] = _SINGULAR
                    oi[2] = bad
                    failed = True
                    break
                _chol_solve(Lc, U, step)
                ll[2] = _dot(U, step)
                _fill(step, 0.0)
                warm = False
                for j in range(p):
                    newbeta[j] = init_r[j] * scale[j]
                    warm = warm or newbeta[j] != 0.0
                if warm:
                    phase = _WARM
                    continue
            # A Newton step from beta.
            if _cholesky(info, Lc) >= 0:  # information lost rank away from 0: diverging
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
        if not failed:
            _finish(code, it, max_iter, L, beta, step, info, Lc, e, scale, coef[r], cov[r], ll, oi)
    owner[-2][9, 1] = 0.0  # the work arrays' owner is used here, so it lives until here
