"""Biomarker distributions beside the lognormal: the gamma, fitted through two cut-off shares."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, stats

__all__ = ["GammaBiomarker", "biomarker_cdf"]


@dataclass(frozen=True)
class GammaBiomarker:
    """A gamma biomarker (alternative to the lognormal), fitted through two cut-off shares."""

    shape: float
    scale: float
    unit: str = "pg/mL"

    @classmethod
    def from_shares(
        cls, lower_cut: float, share_below: float, upper_cut: float, share_above: float
    ) -> GammaBiomarker:
        def gap(log_shape: float) -> float:
            k = math.exp(log_shape)
            scale = lower_cut / stats.gamma.ppf(share_below, k)
            return stats.gamma.sf(upper_cut / scale, k) - share_above

        root = optimize.brentq(gap, math.log(0.05), math.log(200.0))
        k = math.exp(root)
        return cls(shape=k, scale=lower_cut / stats.gamma.ppf(share_below, k))

    @property
    def median(self) -> float:
        return float(stats.gamma.ppf(0.5, self.shape, scale=self.scale))

    def share_between(self, lower: float | None, upper: float | None) -> float:
        lo = (
            0.0
            if lower is None or lower <= 0
            else stats.gamma.cdf(lower, self.shape, scale=self.scale)
        )
        hi = 1.0 if upper is None else stats.gamma.cdf(upper, self.shape, scale=self.scale)
        return float(hi - lo)

    def quantile(self, q: np.ndarray) -> np.ndarray:
        return stats.gamma.ppf(q, self.shape, scale=self.scale)

    def sample(self, size: int | tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.gamma(self.shape, self.scale, size)


def biomarker_cdf(biomarker: Any, x: float | None) -> float:
    """Share of the biomarker distribution at or below ``x`` (1 for ``None``, 0 for x <= 0)."""
    if x is None:
        return 1.0
    return 1.0 - biomarker.share_between(x, None) if x > 0 else 0.0
