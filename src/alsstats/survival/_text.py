"""Readable text and HTML of the survival results (plain Python numbers, never ``np.float64``).

Kept apart from the engine so that the compiled path imports nothing it does not run.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["band_frame", "band_title", "batch_frame", "batch_title", "fmt"]

_SHOWN = 10  # rows of a batch shown in text


def fmt(value: Any) -> str:
    """A number as 4 significant digits, a plain Python string (no ``np.float64(...)``)."""
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)


def batch_title(res: Any) -> str:
    status = np.asarray(res.status).astype(str)
    n_ok = int(np.sum(status == "ok"))
    p = res.coef.shape[1] if np.ndim(res.coef) == 2 else 0
    line = f"CoxBatchResult: {len(status)} fit(s) of {p} coefficient(s), {n_ok} ok"
    failed = sorted({s for s in status if s != "ok"})
    if failed:
        line += f"; failed: {'; '.join(failed[:3])}" + (" ..." if len(failed) > 3 else "")
    return line


def batch_frame(res: Any, limit: int = _SHOWN) -> pd.DataFrame:
    coef = np.asarray(res.coef, dtype=float)
    rows = min(limit, coef.shape[0])
    out = pd.DataFrame(
        coef[:rows], columns=[f"coef[{j}]" for j in range(coef.shape[1])]
    ).rename_axis("fit")
    out["loglik"] = np.asarray(res.loglik, dtype=float)[:rows]
    out["n"] = np.asarray(res.n)[:rows].astype(int)
    out["events"] = np.asarray(res.n_events)[:rows].astype(int)
    out["status"] = np.asarray(res.status).astype(str)[:rows]
    return out


def batch_repr(res: Any) -> str:
    more = len(res) - _SHOWN
    tail = f"\n... {more} more fit(s)" if more > 0 else ""
    table = batch_frame(res).to_string(float_format=fmt)
    return f"{batch_title(res)}\n{table}{tail}"


def batch_repr_html(res: Any) -> str:
    more = len(res) - _SHOWN
    tail = f"<p>... {more} more fit(s)</p>" if more > 0 else ""
    return (
        f"<p>{html.escape(batch_title(res))}</p>"
        + batch_frame(res).to_html(float_format=fmt)
        + tail
    )


def band_title(band: Any) -> str:
    b = band.replicates.shape[0]
    return (
        f"BootstrapBand: {100 * band.level:g}% {band.method} band of {band.estimate.size} "
        f"contrast(s) (log scale), {b} resamples fitted, {band.n_failed} failed, seed {band.seed}"
    )


def band_frame(band: Any) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "estimate": np.asarray(band.estimate, dtype=float),
            "lower": np.asarray(band.lower, dtype=float),
            "upper": np.asarray(band.upper, dtype=float),
        }
    ).rename_axis("contrast")
