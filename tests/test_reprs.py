"""Result objects read well: a ``__repr__`` that says what the object is, a ``_repr_html_`` for
notebooks, and plain numbers (never ``np.float64(...)``) in both."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import load_reference

from alsstats.design import SampleSizeResult, TrialDesign
from alsstats.survival import bootstrap_contrasts, fit_cox_batch


def _clean(text: str) -> None:
    assert "np.float64" not in text and "np.int64" not in text and "array(" not in text, text


def test_cox_batch_result() -> None:
    df, _ = load_reference("sim220_efron")
    t, e = df["time"].to_numpy(float), df["event"].to_numpy(float)
    X = np.column_stack([df["trt"], df["pnfh"], df["trt"] * df["pnfh"]]).astype(float)
    masks = np.ones((12, len(df)), bool)
    masks[np.arange(12), np.arange(12)] = False  # 12 leave-one-out fits
    res = fit_cox_batch(t, e, X, mask=masks)
    text = repr(res)
    _clean(text)
    _clean(res._repr_html_())
    assert text.startswith("CoxBatchResult: 12 fit(s) of 3 coefficient(s), 12 ok")
    assert "... 2 more fit(s)" in text and "coef[0]" in text


def test_bootstrap_band() -> None:
    rng = np.random.default_rng(0)
    trt = np.repeat([0.0, 1.0], 40)
    t = rng.exponential(1 / np.exp(-0.5 * trt))
    band = bootstrap_contrasts(t, np.ones(80), trt[:, None], [[1.0]], n_resamples=30, seed=4)
    text = repr(band)
    _clean(text)
    _clean(band._repr_html_())
    assert text.startswith("BootstrapBand: 95% percentile band of 1 contrast(s) (log scale)")
    assert "seed 4" in text and "estimate" in text


def test_sample_size_result() -> None:
    evaluations = pd.DataFrame(
        {
            "size": [300, 600],
            "power": [np.float64(0.61), np.float64(0.83)],
            "mc_se": [np.float64(0.015), np.float64(0.012)],
            "mean_events": [120.5, 240.2],
            "mean_screened": [300.0, 600.0],
        }
    )
    res = SampleSizeResult(
        600, np.float64(0.83), np.float64(0.012), 0.8, "logrank", "n", evaluations, TrialDesign(600)
    )
    text = repr(res)
    _clean(text)
    _clean(res._repr_html_())
    assert text.startswith(
        "SampleSizeResult: 600 patients for 80% power (logrank): simulated power 0.830 ± 0.012"
    )
