"""Data-generating models: what a simulated patient looks like and when they die.

A :class:`DataGeneratingModel` is the parametric truth behind a reconstruction (calibrated so
that the expected fitted estimates equal the reported ones) and behind trial simulation. Its
hazard is proportional::

    h(t | arm, x) = h0(t) * exp(b_trt * arm + b_mod * g(x) + b_int * arm * g(x))

with a Weibull baseline h0, g(x) = x (linear) or log(x), and a lognormal biomarker x.
All methods take and return numpy arrays of any shape, so R replicates of n patients are one
call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from ..errors import InputError

__all__ = ["DataGeneratingModel", "LogNormalBiomarker", "WeibullBaseline"]


@dataclass(frozen=True)
class WeibullBaseline:
    """Baseline survival S0(t) = exp(-(t / scale) ** shape), time in days."""

    shape: float
    scale: float

    def __post_init__(self) -> None:
        if not (self.shape > 0 and self.scale > 0):
            raise InputError("WeibullBaseline", "shape/scale", "must be positive")

    def cumulative_hazard(self, t: np.ndarray) -> np.ndarray:
        return (np.asarray(t, dtype=float) / self.scale) ** self.shape

    def inverse_cumulative_hazard(self, h: np.ndarray) -> np.ndarray:
        return self.scale * np.asarray(h, dtype=float) ** (1.0 / self.shape)


@dataclass(frozen=True)
class LogNormalBiomarker:
    """A lognormal biomarker: log(x) ~ N(log(median), sigma_log**2)."""

    median: float
    sigma_log: float
    unit: str = "pg/mL"

    def __post_init__(self) -> None:
        if not (self.median > 0 and self.sigma_log > 0):
            raise InputError("LogNormalBiomarker", "median/sigma_log", "must be positive")

    @classmethod
    def from_shares(
        cls, lower_cut: float, share_below: float, upper_cut: float, share_above: float
    ) -> LogNormalBiomarker:
        """The lognormal with ``share_below`` below ``lower_cut`` and ``share_above`` above
        ``upper_cut`` (two quantiles fix the two parameters).

        Examples
        --------
        >>> b = LogNormalBiomarker.from_shares(750, 0.09, 3700, 0.21)
        >>> round(b.median), round(b.share_between(750, 3700), 2)
        (2032, 0.7)
        """
        if not (0 < lower_cut < upper_cut and 0 < share_below < 1 - share_above < 1):
            raise InputError("LogNormalBiomarker.from_shares", "cuts/shares", "inconsistent")
        z_lo = stats.norm.ppf(share_below)
        z_hi = stats.norm.ppf(1.0 - share_above)
        sigma = (math.log(upper_cut) - math.log(lower_cut)) / (z_hi - z_lo)
        mu = math.log(lower_cut) - z_lo * sigma
        return cls(median=math.exp(mu), sigma_log=sigma)

    # ndtr and ndtri are what scipy.stats.norm's cdf and ppf compute (to the bit: loc 0,
    # scale 1), without their argument checks, which cost more than the values in a search
    # that draws one modifier value per move
    def share_between(self, lower: float | None, upper: float | None) -> float:
        lo = 0.0 if lower is None or lower <= 0 else special.ndtr(self._z(lower))
        hi = 1.0 if upper is None else special.ndtr(self._z(upper))
        return float(hi - lo)

    def quantile(self, q: np.ndarray) -> np.ndarray:
        return self.median * np.exp(self.sigma_log * special.ndtri(q))

    def sample(self, size: int | tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return self.median * np.exp(self.sigma_log * rng.standard_normal(size))

    def _z(self, x: float) -> float:
        return (math.log(x) - math.log(self.median)) / self.sigma_log


@dataclass(frozen=True)
class DataGeneratingModel:
    """Proportional hazards in arm and biomarker with a treatment x biomarker interaction.

    Parameters
    ----------
    baseline
        Baseline (control arm, g(x) = 0) survival.
    biomarker
        Distribution of the modifier at randomisation.
    log_hr_treatment, log_hr_biomarker, log_hr_interaction
        b_trt (log HR of treatment where g(x) = 0), b_mod (per unit of g(x) in the control
        arm) and b_int.
    scale
        ``"linear"``: g(x) = x; ``"log"``: g(x) = log(x).
    follow_up
        Administrative censoring time (days).
    dropout_rate
        Exponential loss-to-follow-up hazard per day (0: nobody lost).
    """

    baseline: WeibullBaseline
    biomarker: LogNormalBiomarker
    log_hr_treatment: float
    log_hr_biomarker: float
    log_hr_interaction: float
    scale: Literal["linear", "log"] = "linear"
    follow_up: float = 640.0
    dropout_rate: float = 0.0

    def __post_init__(self) -> None:
        if self.scale not in ("linear", "log"):
            raise InputError("DataGeneratingModel", "scale", f"{self.scale!r}: not linear/log")
        if not (self.follow_up > 0 and self.dropout_rate >= 0):
            raise InputError("DataGeneratingModel", "follow_up/dropout_rate", "out of range")

    def transform(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return x if self.scale == "linear" else np.log(x)

    def log_hazard_ratio(self, x: np.ndarray) -> np.ndarray:
        """True log HR of treatment vs control at biomarker value(s) x."""
        return self.log_hr_treatment + self.log_hr_interaction * self.transform(x)

    def linear_predictor(self, arm: np.ndarray, x: np.ndarray) -> np.ndarray:
        g = self.transform(x)
        arm = np.asarray(arm, dtype=float)
        return (
            self.log_hr_treatment * arm
            + self.log_hr_biomarker * g
            + self.log_hr_interaction * arm * g
        )

    def survival(self, t: np.ndarray, arm: np.ndarray, x: np.ndarray) -> np.ndarray:
        """S(t | arm, x) (before censoring)."""
        lp = self.linear_predictor(arm, x)
        with np.errstate(over="ignore"):  # a hazard beyond float range: S = exp(-inf) = 0
            return np.exp(-self.baseline.cumulative_hazard(t) * np.exp(lp))

    def sample_event_times(
        self, arm: np.ndarray, x: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Latent event times (days) by inversion of the cumulative hazard."""
        lp = self.linear_predictor(arm, x)
        e = rng.standard_exponential(np.shape(lp))
        return self.baseline.inverse_cumulative_hazard(e * np.exp(-lp))

    def censor(
        self,
        latent: np.ndarray,
        rng: np.random.Generator,
        follow_up: np.ndarray | float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Observed (time, event) after dropout and administrative censoring."""
        limit = np.broadcast_to(
            self.follow_up if follow_up is None else follow_up, np.shape(latent)
        )
        if self.dropout_rate > 0:
            limit = np.minimum(
                limit, rng.standard_exponential(np.shape(latent)) / self.dropout_rate
            )
        event = latent <= limit
        return np.where(event, latent, limit), event.astype(np.int8)

    def simulate(self, n_per_arm: tuple[int, int], rng: np.random.Generator) -> pd.DataFrame:
        """One trial: columns ``arm`` (1 = treatment), ``biomarker``, ``time``, ``event``.

        Examples
        --------
        >>> m = DataGeneratingModel(WeibullBaseline(1.0, 1200.0),
        ...     LogNormalBiomarker(2000.0, 0.74), -1.1, 2e-4, 2.4e-4)
        >>> df = m.simulate((110, 110), np.random.default_rng(1))
        >>> len(df), sorted(df["arm"].unique().tolist())
        (220, [0, 1])
        """
        n_trt, n_ctl = n_per_arm
        arm = np.r_[np.ones(n_trt, dtype=np.int8), np.zeros(n_ctl, dtype=np.int8)]
        x = self.biomarker.sample(arm.size, rng)
        time, event = self.censor(self.sample_event_times(arm, x, rng), rng)
        return pd.DataFrame({"arm": arm, "biomarker": x, "time": time, "event": event})

    def with_(self, **changes: object) -> DataGeneratingModel:
        """A copy with some parameters changed."""
        return replace(self, **changes)
