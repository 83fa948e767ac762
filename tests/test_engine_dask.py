"""The engine's executor with a Dask local cluster (runs when the dask extra is installed)."""

from __future__ import annotations

import numpy as np
import pytest

from alsstats.survival import fit_cox_batch


def test_dask_local_cluster_gives_the_serial_result() -> None:
    distributed = pytest.importorskip("distributed")
    rng = np.random.default_rng(4)
    r, n = 40, 120
    trt = np.tile(np.repeat([0.0, 1.0], n // 2), (r, 1))
    x = rng.lognormal(7.6, 0.7, (r, n)) / 1000
    X = np.stack([trt, x, trt * x], axis=-1)
    time = rng.exponential(1 / np.exp(-0.5 * trt + 0.2 * x), (r, n))
    event = (time < 2.0).astype(int)
    time = np.minimum(time, 2.0)
    serial = fit_cox_batch(time, event, X, chunk_size=8)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        spread = fit_cox_batch(time, event, X, chunk_size=8, executor=client.get_executor())
    # tolerance: identical bits (same kernel, same chunks, results reassembled in order)
    np.testing.assert_array_equal(spread.coef, serial.coef)
    np.testing.assert_array_equal(spread.cov, serial.cov)
    assert list(spread.status) == list(serial.status)
