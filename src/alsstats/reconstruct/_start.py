"""The start cohort: what is fixed before the search (:class:`Setup`), patients and deaths per
arm and biomarker group, pNFH and death days drawn from the calibrated model, covariates."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ..errors import ReconstructionError
from ..models import DataGeneratingModel, biomarker_cdf
from ..survival import fit_cox_batch
from ._calibrate import BiomarkerGroup, Target
from ._counts import _integer_count, _largest_remainder

__all__: list[str] = []


@dataclass
class Setup:
    """Everything fixed before the search: arms, groups, the model, the day sampler."""

    model: DataGeneratingModel
    groups: list[BiomarkerGroup]
    group_count: np.ndarray
    loq: float
    landmark: float
    trt_id: str
    ctl_id: str
    n_trt: int
    n_ctl: int

    def bounds(self, g: int) -> tuple[float, float]:
        grp = self.groups[g]
        lo = self.loq if grp.lower is None else max(grp.lower, self.loq)
        return lo, (math.inf if grp.upper is None else grp.upper)

    def draw_pnfh(
        self,
        g: int,
        rng: np.random.Generator,
        arm: int | None = None,
        death: int | None = None,
        size: int = 1,
    ) -> np.ndarray:
        """pNFH in group g, weighted by the model's chance of the patient's outcome."""
        if self.groups[g].missing:
            return np.full(size, np.nan)
        lo, hi = self.bounds(g)
        bm = self.model.biomarker
        q_lo, q_hi = biomarker_cdf(bm, lo), biomarker_cdf(bm, None if math.isinf(hi) else hi)
        k = 400
        q = q_lo + (np.arange(k) + rng.random((size, 1))) / k * (q_hi - q_lo)
        x = np.asarray(bm.quantile(q), float)
        if arm is None:
            pick = rng.integers(0, k, size)
        else:
            risk = 1.0 - self.model.survival(np.array(self.landmark), np.full_like(x, arm), x)
            w = risk if death else 1.0 - risk
            w = w / w.sum(axis=1, keepdims=True)
            pick = (w.cumsum(axis=1) < rng.random((size, 1))).sum(axis=1).clip(0, k - 1)
        out = np.round(x[np.arange(size), pick], 1)
        return np.clip(out, lo + 0.1, hi - 0.1)

    def draw_day(self, arm: float, x: float, rng: np.random.Generator) -> int:
        """A death day drawn from the model given death before the landmark."""
        x = self.model.biomarker.median if not np.isfinite(x) else x
        lp = float(self.model.linear_predictor(np.array(arm), np.array(x)))
        p_dead = 1.0 - math.exp(
            -float(self.model.baseline.cumulative_hazard(np.array(self.landmark))) * math.exp(lp)
        )
        u = rng.random() * p_dead
        t = float(
            self.model.baseline.inverse_cumulative_hazard(np.array(-math.log1p(-u) * math.exp(-lp)))
        )
        return int(min(max(math.ceil(t), 1), int(self.landmark) - 1))


def _free_day(day: int, used: set[int], landmark: int) -> int:
    """The nearest day not yet used (deterministic: earlier day first on a tie)."""
    for step in range(landmark):
        for cand in (day - step, day + step):
            if 1 <= cand < landmark and cand not in used:
                return cand
    raise ReconstructionError(f"more deaths than days before the landmark ({landmark})")


def _pilot_cells(
    setup: Setup,
    size: np.ndarray,
    dead: np.ndarray,
    windows: Mapping[int, tuple[float, float]],
    rng: np.random.Generator,
    reps: int = 48,
    reach: int = 6,
) -> np.ndarray:
    """Deaths per arm in each group whose subgroup fit can reach the reported CI and p.

    The SE of a subgroup log HR is set mostly by its deaths per arm, its estimate by the order
    of deaths. For each pair (deaths treatment, deaths control) near the model's expectation,
    ``reps`` random orders drawn with the target HR give SE as a linear function of the log HR;
    the pair whose predicted SE at the target is closest to the window's centre is taken, the
    other groups sharing the remaining deaths by the model's risks.
    """
    dead = dead.copy()
    total = dead.sum(axis=1)
    for g, (b_star, se_star) in windows.items():
        best, best_cost = None, math.inf
        pairs = [
            (dt, dc)
            for dt in range(max(1, dead[0, g] - reach), dead[0, g] + reach + 1)
            for dc in range(max(1, dead[1, g] - reach), dead[1, g] + reach + 1)
            if dt <= size[0, g] and dc <= size[1, g] and dt <= total[0] and dc <= total[1]
        ]
        n = size[0, g] + size[1, g]
        trt = np.r_[np.ones(size[0, g]), np.zeros(size[1, g])]
        for dt, dc in pairs:
            death = np.r_[np.arange(size[0, g]) < dt, np.arange(size[1, g]) < dc]
            t = rng.exponential(1.0, (reps, n)) / np.where(trt == 1, math.exp(b_star), 1.0)
            t = np.where(death, t, 1e9)
            res = fit_cox_batch(
                t,
                np.broadcast_to(death, t.shape),
                np.broadcast_to(trt[None, :, None], (reps, n, 1)),
            )
            b, se = res.coef[res.ok, 0], res.se[res.ok, 0]
            if b.size < 3 or not (b.min() <= b_star <= b.max()):
                continue
            slope, icpt = np.polyfit(b, se, 1)
            cost = ((icpt + slope * b_star - se_star) / (0.01 * se_star)) ** 2 + 0.01 * (
                (dt - dead[0, g]) ** 2 + (dc - dead[1, g]) ** 2
            )
            if cost < best_cost:
                best, best_cost = (dt, dc), cost
        if best is None:
            continue
        dead[:, g] = best
        for a in (0, 1):
            others = [k for k in range(dead.shape[1]) if k != g and k not in windows]
            if others:
                left = (
                    total[a] - dead[a, [k for k in range(dead.shape[1]) if k not in others]].sum()
                )
                dead[a, others] = _largest_remainder(
                    np.maximum(dead[a, others], 0.01), int(left), size[a, others]
                )
    return dead


def _cells(
    setup: Setup,
    deaths: tuple[int, int],
    rng: np.random.Generator,
    windows: Mapping[int, tuple[float, float]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Patients and deaths per arm (rows: treatment, control) and biomarker group."""
    n = setup.n_trt + setup.n_ctl
    size = np.zeros((2, len(setup.groups)), int)
    size[0] = _largest_remainder(
        setup.group_count * setup.n_trt / n, setup.n_trt, setup.group_count
    )
    size[1] = setup.group_count - size[0]
    dead = np.zeros_like(size)
    for a, arm in enumerate((1, 0)):
        risk = []
        for g in range(len(setup.groups)):
            x = setup.draw_pnfh(g, np.random.default_rng(0), size=200)
            x = np.where(np.isfinite(x), x, setup.model.biomarker.median)
            risk.append(
                float(
                    np.mean(
                        1 - setup.model.survival(np.array(setup.landmark), np.full_like(x, arm), x)
                    )
                )
            )
        dead[a] = _largest_remainder(size[a] * np.array(risk), deaths[a], size[a])
    if windows:
        dead = _pilot_cells(setup, size, dead, windows, rng)
    return size, dead


def _start(
    setup: Setup, cells: tuple[np.ndarray, np.ndarray], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """A start cohort drawn from the calibrated model with the given cells."""
    size, dead = cells
    n = int(size.sum())
    trt = np.r_[np.ones(setup.n_trt), np.zeros(setup.n_ctl)]
    group = np.empty(n, int)
    death = np.zeros(n, np.int8)
    pnfh = np.empty(n)
    start = 0
    for a, arm in enumerate((1, 0)):
        for g in range(len(setup.groups)):
            for d, count in ((1, dead[a, g]), (0, size[a, g] - dead[a, g])):
                sl = slice(start, start + count)
                group[sl], death[sl] = g, d
                pnfh[sl] = setup.draw_pnfh(g, rng, arm, d, count) if count else []
                start += count
    time = np.full(n, setup.landmark)
    used: set[int] = set()
    for i in np.flatnonzero(death):
        day = _free_day(setup.draw_day(trt[i], pnfh[i], rng), used, int(setup.landmark))
        used.add(day)
        time[i] = day
    return {"trt": trt, "time": time, "death": death, "pnfh": pnfh, "group": group}


def _covariates(
    n_arm: tuple[int, int],
    targets: list[Target],
    values: Mapping[str, Any],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Age (median exactly as reported), sex (share as reported), strata balanced by arm."""
    n = sum(n_arm)
    spec = values.get("age_distribution") or {}
    med_t = next((t for t in targets if t.statistic == "covariate_median"), None)
    median = float(med_t.value if med_t else spec.get("median", 60))
    sd, lo, hi = (float(spec.get(k, v)) for k, v in (("sd", 10), ("lower", 18), ("upper", 75)))
    a, b = (lo - median) / sd, (hi - median) / sd
    age = np.sort(np.round(stats.truncnorm.ppf(rng.random(n), a, b, median, sd)))
    half = n // 2
    age[:half] = np.minimum(age[:half], math.floor(median))
    age[half:] = np.maximum(age[half:], math.ceil(median))
    if n % 2 == 0:  # the two middle values average to the median
        age[half - 1], age[half] = math.floor(median), math.ceil(median)
    else:
        age[half] = median
    age = rng.permutation(age)
    male_t = next((t for t in targets if t.statistic == "covariate_proportion"), None)
    n_male = _integer_count(male_t, n, 0.5)
    male = rng.permutation(np.r_[np.ones(n_male), np.zeros(n - n_male)])
    out = {"age": age.astype(int), "male": male.astype(int)}
    strata = values.get("randomisation_strata_shares") or {}
    for name, column in (("country", "country"), ("site_of_onset", "onset")):
        shares = strata.get(name) or {}
        labels = list(shares) or ["unknown"]
        col = []
        for n_a in n_arm:
            counts = _largest_remainder(np.array([shares.get(k, 1.0) for k in labels]), n_a)
            col.append(rng.permutation(np.repeat(labels, counts)))
        out[column] = np.concatenate(col)
    return out
