"""The p for interaction over a categorical modifier: the joint test of the product terms.

With k categories the treatment x category interaction is k-1 product terms of the Cox model
``treatment + C + treatment:C`` (C the indicators of categories 2..k, the first category the
reference). A subgroup table's "p for interaction" is the joint test of those k-1 terms being
zero, with k-1 degrees of freedom:

* Wald: ``b' V^-1 b`` with ``b`` the k-1 product coefficients and ``V`` their covariance (the
  inverse observed information of the full model);
* likelihood ratio: twice the difference of the partial log-likelihoods of the full model and
  of ``treatment + C``.

The score test of the product terms needs the full model's score at the reduced estimate,
which the engine does not give: a p from it (or from an unnamed test) is recorded, not a
target. With two categories the Wald p is the product term's own (``hr_p`` of the ratio of
HRs); its likelihood-ratio p is computed here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from ..survival import fit_cox_batch

__all__: list[str] = []

# The statistic of a target that is the joint p of the treatment x category product terms.
JOINT_P = "interaction_p"

# Tests of the product terms a cohort fit recomputes.
JOINT_TESTS = ("wald", "likelihood_ratio")


def category_columns(
    trt: np.ndarray, codes: np.ndarray, k: int, adjust: Sequence[np.ndarray] = ()
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(full X, reduced X, measured) of ``treatment + C + treatment:C (+ adjust)`` and of
    ``treatment + C (+ adjust)`` for (R, n) category codes 0..k-1 (NaN: unmeasured, masked).

    Columns of the full model: treatment, the k-1 indicators, the k-1 products, then the
    adjusting covariates; the reduced model drops the products.
    """
    codes = np.asarray(codes, float)
    trt = np.broadcast_to(np.asarray(trt, float), codes.shape)
    measured = np.isfinite(codes)
    ind = [(codes == c).astype(float) for c in range(1, k)]
    extra = [np.broadcast_to(np.asarray(a, float), codes.shape) for a in adjust]
    full = np.stack([trt, *ind, *(trt * x for x in ind), *extra], axis=-1)
    reduced = np.stack([trt, *ind, *extra], axis=-1)
    return full, reduced, measured


def joint_interaction_p(
    time: np.ndarray,
    death: np.ndarray,
    trt: np.ndarray,
    codes: np.ndarray,
    k: int,
    test: str,
    *,
    ties: str = "efron",
    adjust: Sequence[np.ndarray] = (),
) -> np.ndarray:
    """(R,) joint p of the k-1 treatment x category product terms for R cohorts.

    Parameters
    ----------
    time, death
        (R, n) times and 0/1 deaths.
    trt
        (n,) or (R, n) treatment indicator.
    codes
        (R, n) category codes 0..k-1 (0 the reference; NaN rows are left out).
    k
        Number of categories (at least 2).
    test
        "wald" or "likelihood_ratio".
    ties, adjust
        The engine's tie handling; adjusting covariates, (n,) or (R, n) each, in both models.

    Returns
    -------
    ndarray
        The p (chi-square with k-1 degrees of freedom); NaN where a fit failed.
    """
    if test not in JOINT_TESTS:
        raise ValueError(f"joint interaction test {test!r}: use one of {JOINT_TESTS}")
    if k < 2:
        raise ValueError("an interaction needs at least two categories")
    full, reduced, measured = category_columns(trt, codes, k, adjust)
    res = fit_cox_batch(time, death, full, mask=measured, ties=ties)
    if test == "wald":
        terms = np.arange(k, 2 * k - 1)  # the product columns
        b = res.coef[:, terms]
        v = res.cov[:, terms[:, None], terms[None, :]]
        ok = res.ok & np.all(np.isfinite(b), axis=1) & np.all(np.isfinite(v), axis=(1, 2))
        chi2 = np.full(b.shape[0], np.nan)
        if ok.any():
            sol = np.linalg.solve(v[ok], b[ok][..., None])[..., 0]
            chi2[ok] = np.einsum("ri,ri->r", b[ok], sol)
    else:
        red = fit_cox_batch(time, death, reduced, mask=measured, ties=ties)
        ok = res.ok & red.ok
        # the full model nests the reduced one: a tiny negative difference is convergence noise
        chi2 = np.where(ok, np.maximum(2.0 * (res.loglik - red.loglik), 0.0), np.nan)
    return stats.chi2.sf(chi2, k - 1)
