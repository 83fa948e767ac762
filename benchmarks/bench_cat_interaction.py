"""Time the joint p for interaction over k categories that the rebuild scores every step with.

One search step scores 128 candidate cohorts (``_search.CANDIDATES``). Here: 360 patients (two
arms of 180), 3 and 4 categories; the joint test of the k-1 treatment x category product terms
by Wald (one fit of ``treatment + C + treatment:C``, 2k-1 columns) and by likelihood ratio (that
fit and ``treatment + C``), against the same step's treatment-only Cox fit (one column).

Run: ``.venv/bin/python benchmarks/bench_cat_interaction.py``
"""

from __future__ import annotations

import time

import numpy as np

from alsstats.reconstruct._joint import joint_interaction_p
from alsstats.survival import fit_cox_batch, warm_up

R, N = 128, 360


def best_of(fn, repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(2026)
    trt = (np.arange(N) < N // 2).astype(float)
    warm_up()
    latent = rng.exponential(20.0, (R, N))
    death = (latent < 24.0).astype(np.int8)
    time_ = np.round(np.minimum(latent, 24.0) * 100)  # the search's integer ticks
    cox = best_of(
        lambda: fit_cox_batch(time_, death, np.broadcast_to(trt, (R, N))[..., None], ties="efron")
    )
    print(f"treatment-only Cox fit: {1e3 * cox:.1f} ms per {R}-candidate step")
    for k in (3, 4):
        codes = rng.integers(0, k, (R, N)).astype(float)
        for test in ("wald", "likelihood_ratio"):
            joint_interaction_p(time_, death, trt, codes, k, test)  # compile for this shape
            t = best_of(lambda k=k, codes=codes, test=test: joint_interaction_p(
                time_, death, trt, codes, k, test))  # fmt: skip
            print(f"k={k} joint {test} p: {1e3 * t:.1f} ms per step ({t / cox:.1f}x the HR fit)")


if __name__ == "__main__":
    main()
