"""Cold start of the Cox engine: the import, and the first fit with an empty numba cache.

Run: ``.venv/bin/python benchmarks/bench_cold_start.py [--repeats 2]``. Each measurement is a
fresh interpreter (a child of this process) with ``NUMBA_CACHE_DIR`` pointing at a new empty
directory, as on a machine that has never run the engine; then a second interpreter on the
same, now filled, cache. Printed: the import time of ``alsstats.survival`` (wall and CPU),
``kernel_compiled()`` before the first fit, the first ``fit_cox`` (compilation, wall and CPU),
the number of compiled signatures after fits of every kind (1-D inputs, a batch of 1, a batch
of many, read-only arrays), and the first fit of the second interpreter (cache load); with the
load average, since the machine may be shared.

Target (issue 16): the first call on a new machine compiles in <= 15 s, one signature.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, resource, time

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

w0, c0 = time.perf_counter(), cpu()
import numba  # noqa: F401  (numba's own import, for reference)
w1, c1 = time.perf_counter(), cpu()
from alsstats.survival import _engine as engine
w2, c2 = time.perf_counter(), cpu()
cached = engine.kernel_compiled()
import numpy as np
w3, c3 = time.perf_counter(), cpu()
engine.fit_cox([3.0, 1.0, 2.0, 4.0], [1, 1, 0, 1], [[0.0], [1.0], [1.0], [0.0]])
w4, c4 = time.perf_counter(), cpu()
rng = np.random.default_rng(0)
t = rng.exponential(size=(5, 30))
e = rng.random((5, 30)) < 0.7
X = rng.normal(size=(5, 30, 2))
ro = X[0].copy()
ro.flags.writeable = False
engine.fit_cox(t[0], e[0], ro)
engine.fit_cox_batch(t[:1], e[:1], X[:1])
engine.fit_cox_batch(t, e, X, threads=2, chunk_size=2)
w5 = time.perf_counter()
print(json.dumps({
    "numba_import": [w1 - w0, c1 - c0],
    "engine_import": [w2 - w1, c2 - c1],
    "cached_before": cached,
    "first_fit": [w4 - w3, c4 - c3],
    "other_fits": w5 - w4,
    "signatures": len(engine._fit_chunk_kernel.signatures),
}))
"""


def run(cache: str) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    out = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="fresh caches to time")
    args = parser.parse_args()
    for k in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache:
            cold = run(cache)
            warm = run(cache)
        print(
            f"[{k + 1}] empty cache: import numba {cold['numba_import'][0]:.2f} s, "
            f"import alsstats.survival {cold['engine_import'][0]:.2f} s wall "
            f"({cold['engine_import'][1]:.2f} s CPU); kernel_compiled() = "
            f"{cold['cached_before']}; first fit (compilation) {cold['first_fit'][0]:.1f} s wall "
            f"({cold['first_fit'][1]:.1f} s CPU); signatures after every kind of call: "
            f"{cold['signatures']}; {load()}"
        )
        print(
            f"[{k + 1}] filled cache: kernel_compiled() = {warm['cached_before']}; first fit "
            f"(cache load) {warm['first_fit'][0]:.2f} s wall ({warm['first_fit'][1]:.2f} s CPU); "
            f"import alsstats.survival {warm['engine_import'][0]:.2f} s; {load()}"
        )


if __name__ == "__main__":
    main()
