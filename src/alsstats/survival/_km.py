"""The Kaplan-Meier estimate of a survival function."""

from __future__ import annotations

import numpy as np

__all__ = ["km_estimate"]


def km_estimate(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate: (distinct event times, survival just after each)."""
    time, event = np.asarray(time, float), np.asarray(event, int)
    uniq, inv = np.unique(time, return_inverse=True)
    deaths = np.bincount(inv, weights=event, minlength=uniq.size)
    at_risk = time.size - np.concatenate(
        [[0], np.cumsum(np.bincount(inv, minlength=uniq.size))[:-1]]
    )
    has = deaths > 0
    return uniq[has], np.cumprod(1.0 - deaths[has] / at_risk[has])
