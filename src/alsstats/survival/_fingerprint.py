"""The floating-point fingerprint of this platform: which last bits the engine computes here.

A seeded rebuild is byte-identical run after run on one machine, not across machines: the Cox
kernel's reductions are vectorised (``fastmath`` reassociation), so their order follows the
compile target's vector width (AVX2 and AVX-512 machines sum in different orders), and numpy
picks SIMD versions of exp and log by processor. A last-bit difference can change which move a
search takes, and so the cohort. Two machines with the same fingerprint compute the same bits
in both places; tests compare shipped cohorts byte for byte only on such a machine.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy import special

from ._engine import fit_cox_batch

__all__ = ["platform_fingerprint"]


def platform_fingerprint() -> str:
    """A short hash of bits that differ between processors: Cox fits of a fixed batch (the
    kernel's vectorised reductions) and numpy's exp, log and the normal quantile of fixed
    values (its SIMD dispatch).

    Examples
    --------
    >>> len(platform_fingerprint())
    16
    """
    rng = np.random.default_rng(20261202)
    reps, n = 16, 509  # n not a multiple of any vector width: remainder loops count too
    time = rng.exponential(1.0, (reps, n))
    event = rng.random((reps, n)) < 0.7
    X = rng.standard_normal((reps, n, 3))
    fit = fit_cox_batch(time, event, X, threads=1)
    x = rng.uniform(-30.0, 30.0, 4099)
    parts = (
        fit.coef,
        fit.se,
        np.exp(x),
        np.log(np.abs(x) + 1e-3),
        special.ndtri(rng.uniform(0.0, 1.0, 4099)),
    )
    digest = hashlib.sha256()
    for part in parts:
        digest.update(np.ascontiguousarray(part, dtype="<f8").tobytes())
    return digest.hexdigest()[:16]
