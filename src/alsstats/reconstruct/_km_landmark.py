"""Kaplan-Meier survival at a time, its Greenwood variance and its printed CI, for a batch.

A paper's "12-month survival 74% (95% CI 66-81%)" is the Kaplan-Meier estimate S(t) of an
arm with a pointwise CI. With staggered entry some patients are censored before t, so S(t) is
not the share alive: :func:`km_at` computes S(t) for R candidate cohorts at once (deaths before
censorings at a tied time, as a KM figure draws them; a death at exactly t counts), with
Greenwood's sum ``sum d / (n (n - d))`` over death times <= t. :func:`survival_ci` turns them
into the CI by one of the methods software prints:

* ``log_log`` (Kalbfleisch-Prentice; lifelines' and Stata's default):
  ``S ** exp(+-z sqrt(G) / log S)``;
* ``log`` (R ``survfit``'s default): ``S exp(+-z sqrt(G))``, the upper bound at most 1;
* ``plain`` (Greenwood, linear): ``S +- z S sqrt(G)``, within [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__: list[str] = []

# The CI methods a survival figure may name (``ci_method``), as the summary format spells them.
CI_METHODS = ("log_log", "log", "plain")

# Statistics of a survival figure's CI (targets made only when the method is stated).
SURVIVAL_CI = ("survival_ci_lower", "survival_ci_upper")


@dataclass(frozen=True)
class KmAt:
    """Per candidate: S(t), Greenwood's sum at t, and whether anyone selected is censored
    before t (when no one is, S(t) is the share alive)."""

    surv: np.ndarray
    greenwood: np.ndarray
    censored_before: np.ndarray


def km_order(time: np.ndarray, death: np.ndarray) -> np.ndarray:
    """(R, n) order of each candidate's patients by time, deaths first at a tied time."""
    time = np.asarray(time, float)
    death = np.asarray(death, np.int8)
    if time.size and np.all(time == np.floor(time)) and np.abs(time).max() < 2.0**50:
        # whole times (the search's ticks): one key, exact in float, sorts faster than two
        return np.argsort(time * 2.0 + (1 - death), axis=-1)
    return np.lexsort((1 - death, time), axis=-1)


class KmBatch:
    """R candidate cohorts sorted once for the Kaplan-Meier figures of several arms and times.

    Parameters
    ----------
    time, death
        (R, n) times and events (1 death, 0 censored).
    """

    def __init__(self, time: np.ndarray, death: np.ndarray) -> None:
        time = np.asarray(time, float)
        death = np.asarray(death)
        self.order = km_order(time, death)
        self.time = np.take_along_axis(time, self.order, axis=1)
        self.death = np.take_along_axis(death, self.order, axis=1) == 1

    def at(self, when: float, select: np.ndarray | None = None) -> KmAt:
        """S(``when``) of the ``select``-ed patients ((R, n) or (n,) mask; all when None)."""
        t, d = self.time, self.death
        R, n = t.shape
        if select is None:
            s = np.ones((R, n), bool)
        else:
            s = np.take_along_axis(np.broadcast_to(select, (R, n)), self.order, axis=1)
        before = np.cumsum(s, axis=1) - s  # selected patients earlier in the order
        at_risk = (s.sum(axis=1)[:, None] - before).astype(float)
        event = s & d & (t <= when)
        with np.errstate(divide="ignore", invalid="ignore"):
            surv = np.prod(np.where(event, 1.0 - 1.0 / at_risk, 1.0), axis=1)
            greenwood = np.sum(np.where(event, 1.0 / (at_risk * (at_risk - 1.0)), 0.0), axis=1)
        censored = (s & ~d & (t < when)).any(axis=1)
        return KmAt(surv, greenwood, censored)


def km_at(
    time: np.ndarray,
    death: np.ndarray,
    when: float,
    select: np.ndarray | None = None,
) -> KmAt:
    """Kaplan-Meier S(``when``) of the ``select``-ed patients of R candidate cohorts.

    Parameters
    ----------
    time, death
        (R, n) times and events (1 death, 0 censored).
    when
        The time t (same unit as ``time``).
    select
        (R, n) or (n,) which patients form the arm (all when None).

    Notes
    -----
    Each death is a factor ``1 - 1/r`` with ``r`` the selected patients still at risk when
    it is taken in the order (deaths first at a tie): over a tie of d deaths among n at risk
    the factors multiply to ``(n - d)/n`` and the terms ``1/(r (r - 1))`` add to Greenwood's
    ``d/(n (n - d))``, so the per-patient sums are the usual per-time ones without grouping.
    Several figures of one batch share a :class:`KmBatch` (one sort).
    """
    return KmBatch(time, death).at(when, select)


def survival_ci(
    surv: np.ndarray, greenwood: np.ndarray, z: float, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) pointwise CI of S(t) by ``method`` (one of :data:`CI_METHODS`); NaN
    where the method is undefined (S = 0, or S = 1 on the log-log scale)."""
    surv = np.asarray(surv, float)
    greenwood = np.asarray(greenwood, float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if method == "plain":
            half = z * surv * np.sqrt(greenwood)
            lower, upper = np.clip(surv - half, 0.0, 1.0), np.clip(surv + half, 0.0, 1.0)
        elif method == "log":
            se = np.sqrt(greenwood)
            ok = surv > 0
            lower = np.where(ok, surv * np.exp(-z * se), np.nan)
            upper = np.where(ok, np.minimum(surv * np.exp(z * se), 1.0), np.nan)
        elif method == "log_log":
            log_s = np.log(surv)
            ok = (surv > 0) & (surv < 1)
            # the SE of log(-log S) is sqrt(G)/|log S|; S falls as log(-log S) rises
            spread = np.exp(z * np.sqrt(greenwood) / np.where(ok, -log_s, 1.0))
            lower = np.where(ok, surv**spread, np.nan)
            upper = np.where(ok, surv ** (1.0 / spread), np.nan)
        else:
            raise ValueError(f"unknown CI method {method!r}; use one of {list(CI_METHODS)}")
    return lower, upper
