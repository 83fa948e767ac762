"""Rebuild a patient-level cohort from published summary figures alone ("level b").

:func:`rebuild_cohort` returns a cohort of exactly the reported size whose own fitted models
reproduce every reported figure at its reported precision (110/110 randomised, 41/49 deaths,
HR 0.81, subgroup and interaction-model HRs with CIs and p-values, shares, median age, share of
men). Method:

1. Count targets are checked exactly first (integer enumeration of deaths per arm and subgroup
   counts); jointly impossible figures are named (:attr:`Reconstruction.conflicts`) before any
   search.
2. A start cohort is drawn from the calibrated model (:func:`alsstats.calibrate.calibrate_model`):
   arm x biomarker-group x death cells from the model's expected counts, pNFH within each cell
   from the biomarker distribution weighted by the model's risk of death, death days from the
   model conditional on death before the landmark, survivors censored at the landmark.
3. A seeded stochastic local search improves it: each step proposes a batch of single moves
   (swap two death days, redraw one death day, swap two patients' pNFH, redraw one pNFH within
   its group, move a death to another patient of the same arm), scores all of them at once with
   :func:`alsstats.engine.fit_cox_batch` (one (R, n) batch per model; Efron ties, although a
   rebuilt cohort has no tied death days), and keeps the best. Objective: sum over targets of
   ((deviation from the interval centre) / rounding half-width)^2 beyond a safety margin, plus a
   small pull to the centre. It stops as soon as every figure rounds right with the margin.

Count-type figures hold by construction and every move keeps them. :func:`assign_biomarker`
runs the same search with arm, time and event fixed (the Kaplan-Meier reconstruction path).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time as _time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .calibrate import (
    BiomarkerGroup,
    Target,
    _cdf,
    biomarker_groups,
    calibrate_model,
    resolve_assumptions,
    targets_from_summary,
)
from .dgm import DataGeneratingModel
from .engine import fit_cox_batch
from .errors import InputError, ReconstructionError

__all__ = ["Reconstruction", "assign_biomarker", "count_conflicts", "rebuild_cohort"]

# Fraction of the rounding half-width a statistic must stay inside, so that fits that differ
# in the last digits (another engine, another platform) round the same way.
MARGIN = 0.9
# Figures whose estimate, CI and p leave no joint room at MARGIN get the smallest margin in
# _WIDER_MARGINS that does (found by _subgroup_windows; kept in _Design.margins by target id).
_WIDER_MARGINS = (0.95, 0.99, 0.999)
CANDIDATES = 128  # moves scored per search step (one engine batch per model)
# Search steps per start cohort before a restart (a count, not seconds: the result must not
# depend on the machine's speed). max_seconds is only a safety cap.
ATTEMPT_STEPS = 300
_Z = {0.95: stats.norm.ppf(0.975)}
COHORT_COLUMNS = [
    "id",
    "arm",
    "treatment",
    "time",
    "death",
    "pnfh",
    "age",
    "male",
    "country",
    "onset",
]


# ------------------------------------------------------------------------------- counts


def _count_ok(
    t: Target,
    d_trt: np.ndarray,
    d_ctl: np.ndarray,
    n: dict[str, int],
    trt: str,
    ctl: str,
    landmark: float,
) -> np.ndarray | None:
    """Whether each (deaths treatment, deaths control) pair meets a count-type target."""
    deaths = {trt: d_trt, ctl: d_ctl, None: d_trt + d_ctl}
    size = {trt: n[trt], ctl: n[ctl], None: n[trt] + n[ctl]}
    if t.statistic == "deaths":
        return deaths[t.arm] == round(t.value)
    if t.statistic in ("alive_count", "alive_proportion"):
        if t.population.get("time", landmark) < landmark:
            return None  # depends on death days: a search target
        alive = size[t.arm] - deaths[t.arm]
        if t.statistic == "alive_count":
            return alive == round(t.value)
        return np.vectorize(t.rounds_to)(alive / size[t.arm])
    if t.statistic == "death_share":
        total = d_trt + d_ctl
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, deaths[t.arm] / np.maximum(total, 1), np.nan)
        return np.vectorize(t.rounds_to)(share)
    return None


def count_conflicts(summary: Any, targets: list[Target]) -> tuple[list[str], tuple[int, int]]:
    """Count-type targets that no integer deaths-per-arm pair meets jointly, exactly.

    Returns the ids in minimal infeasible subsets (empty when the counts are consistent) and
    the best compromise (deaths treatment, deaths control): the pair that violates the fewest
    targets, figures with status "conflicting" counting less than the others.
    """
    trt, ctl = summary.treatment_arm.id, summary.control_arm.id
    n = {a.id: int(a.n.value) for a in summary.arms}
    landmark = float(summary.follow_up["landmark"].value)
    d_t, d_c = np.meshgrid(np.arange(n[trt] + 1), np.arange(n[ctl] + 1), indexing="ij")
    d_t, d_c = d_t.ravel(), d_c.ravel()
    ids, ok_cols = [], []
    for t in targets:
        ok = _count_ok(t, d_t, d_c, n, trt, ctl, landmark)
        if ok is not None:
            ids.append(t.id)
            ok_cols.append(np.asarray(ok, bool))
    ok = np.column_stack(ok_cols) if ok_cols else np.ones((d_t.size, 0), bool)
    weights = np.array([0.5 if "conflicting" in _status(summary, t) else 1.0 for t in ids])
    bad = (~ok).astype(float) @ weights if ids else np.zeros(d_t.size)
    best = int(np.argmin(bad))
    if ok.all(axis=1).any():
        return [], (int(d_t[best]), int(d_c[best]))
    minimal: list[set[int]] = []
    for size in range(2, len(ids) + 1):
        for subset in itertools.combinations(range(len(ids)), size):
            if any(m <= set(subset) for m in minimal):
                continue
            if not ok[:, list(subset)].all(axis=1).any():
                minimal.append(set(subset))
    names = sorted({ids[i] for m in minimal for i in m}, key=ids.index)
    return names, (int(d_t[best]), int(d_c[best]))


def _status(summary: Any, target_id: str) -> str:
    figure = target_id.split(".")[0]
    for collection in ("events", "survival", "event_shares"):
        for f in getattr(summary, collection, ()):
            if f.id == figure:
                return getattr(f, "status", "") or ""
    return ""


def _integer_count(t: Target | None, n: int, fallback: float) -> int:
    """The integer count whose share rounds to a reported share (closest to it)."""
    if t is None:
        return round(fallback * n)
    fits = [k for k in range(n + 1) if t.rounds_to(k / n)]
    if not fits:
        raise ReconstructionError(f"{t.id}: no count out of {n} rounds to {t.reported}")
    return min(fits, key=lambda k: (abs(k / n - t.value), k))


# ------------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class _Design:
    """What the search needs to know about the cohort's models and targets."""

    targets: list[Target]  # search targets (statistics of Cox fits)
    groups: list[BiomarkerGroup]
    log_scale: bool
    x_unit: float  # biomarker divided by this inside fits (coefficients near 1)
    adjust: tuple[str, ...]  # extra covariates of the interaction model (age, male)
    ties: str
    level_z: float
    landmark: float
    # per-target margin where it differs from MARGIN (a value of the design, not module
    # state, so that rebuilds in one process may run concurrently)
    margins: Mapping[str, float] = field(default_factory=dict)


def _fit_stats(
    design: _Design,
    trt: np.ndarray,
    time: np.ndarray,
    death: np.ndarray,
    pnfh: np.ndarray,
    cov: dict[str, np.ndarray],
    targets: list[Target] | None = None,
) -> np.ndarray:
    """(R, k) values of the search targets for R candidate cohorts."""
    R, n = time.shape
    measured = np.isfinite(pnfh)
    x = np.where(measured, pnfh, 1.0)
    g = np.log(x) if design.log_scale else x / design.x_unit
    trt_b = np.broadcast_to(trt, (R, n)).astype(float)
    cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def fit(key: tuple) -> tuple[np.ndarray, np.ndarray]:
        if key in cache:
            return cache[key]
        if key[0] == "interaction":
            cols = [trt_b, g, trt_b * g] + [np.broadcast_to(cov[c], (R, n)) for c in design.adjust]
            X = np.stack(cols, axis=-1)
            mask = measured
        else:
            X = trt_b[..., None]
            lo, hi = key[1], key[2]
            mask = np.ones((R, n), bool)
            if lo is not None or hi is not None:
                mask = measured.copy()
                if lo is not None:
                    mask &= x >= lo
                if hi is not None:
                    mask &= x < hi
        res = fit_cox_batch(time, death, X, mask=mask, ties=design.ties)
        coef = np.where(res.ok, res.coef[:, 0], np.nan)
        se = np.where(res.ok, np.sqrt(np.abs(res.cov[:, 0, 0])), np.nan)
        cache[key] = (coef, se)
        return coef, se

    targets = design.targets if targets is None else targets
    out = np.empty((R, len(targets)))
    for j, t in enumerate(targets):
        pop = t.population
        key = (
            ("interaction",)
            if t.model == "interaction"
            else ("treatment", pop.get("lower"), pop.get("upper"))
        )
        b, se = fit(key)
        with np.errstate(invalid="ignore", over="ignore"):
            if t.statistic == "hr":
                out[:, j] = np.exp(b)
            elif t.statistic == "hr_ci_lower":
                out[:, j] = np.exp(b - design.level_z * se)
            elif t.statistic == "hr_ci_upper":
                out[:, j] = np.exp(b + design.level_z * se)
            elif t.statistic == "hr_p":
                out[:, j] = 2.0 * stats.norm.sf(np.abs(b / se))
    return out


def _score(
    targets: list[Target], values: np.ndarray, margins: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Objective per candidate and whether every target holds with the margin."""
    centre = np.array([t.value for t in targets])
    half = np.array([t.half_width for t in targets])
    d = (values - centre) / half
    d = np.where(np.isfinite(d), d, 1e3)
    margin = np.array([margins.get(t.id, MARGIN) for t in targets])
    excess = np.maximum(np.abs(d) - margin, 0.0)
    return (100.0 * (excess + excess**2) + 0.01 * d**2).sum(axis=1), (np.abs(d) <= margin).all(
        axis=1
    )


# ------------------------------------------------------------------------------- result


@dataclass
class Reconstruction:
    """A rebuilt cohort, how well it reproduces the reported figures and how it was made.

    Attributes
    ----------
    cohort : DataFrame with columns id, arm, treatment, time, death, pnfh, age, male,
        country, onset.
    targets : the reported figures used.
    assumptions : assumption values used, by id.
    seed, summary_sha256, model (the calibrated DGM), steps (search steps), seconds.
    feasible : False when some figures cannot be met jointly; ``conflicts`` names them.
    residuals : Series of (reconstructed - reported) / rounding half-width per search target.
    """

    cohort: pd.DataFrame
    targets: list[Target]
    assumptions: dict[str, Any]
    seed: int
    summary_sha256: str | None
    model: DataGeneratingModel | None
    residuals: pd.Series
    feasible: bool = True
    conflicts: list[str] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    design: Any = None

    def match_table(self) -> pd.DataFrame:
        """Reported vs reconstructed, one row per target figure."""
        values = reconstructed_values(self.cohort, self.targets, self.design)
        rows = []
        for t in self.targets:
            v = values[t.id]
            rows.append(
                {
                    "figure": t.id,
                    "statistic": t.statistic,
                    "reported": t.reported,
                    "reconstructed": v,
                    "rounded": t.format(v),
                    "agrees": t.rounds_to(v),
                }
            )
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        return self.match_table().to_html(index=False)

    def to_csv(self) -> str:
        """The cohort as CSV text with fixed formatting (pNFH to 0.1 pg/mL, days and ages as
        integers, "\\n" line ends), so the same rebuild gives the same bytes."""
        return self.cohort.to_csv(index=False, float_format="%.1f", lineterminator="\n")

    def provenance(self) -> dict[str, Any]:
        """How the cohort was made: summary hash, seed, version, assumptions, engine settings
        and the match table (values to 10 significant digits)."""
        from ._version import __version__

        table = self.match_table()
        table["reconstructed"] = [float(f"{v:.10g}") for v in table["reconstructed"]]
        return {
            "summary_sha256": self.summary_sha256,
            "seed": self.seed,
            "alsstats_version": __version__,
            "assumptions": _jsonable(self.assumptions),
            "engine": {
                "cox": "alsstats.engine.fit_cox_batch",
                "ties": self.design.ties if self.design else None,
                "p_value_test": self.assumptions.get("p_value_test"),
                "candidates_per_step": CANDIDATES,
                "steps_per_attempt": ATTEMPT_STEPS,
                "margin": MARGIN,
            },
            "steps": self.steps,
            "feasible": self.feasible,
            "conflicts": list(self.conflicts),
            "match_table": table.to_dict(orient="records"),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def reconstructed_values(
    cohort: pd.DataFrame, targets: list[Target], design: _Design
) -> dict[str, float]:
    """Every target statistic computed from a cohort (counts by counting, HRs by the engine)."""
    out: dict[str, float] = {}
    n = len(cohort)
    landmark = design.landmark
    for t in targets:
        sel = cohort if t.arm is None else cohort[cohort["arm"] == t.arm]
        if t.statistic == "arm_size":
            out[t.id] = float(len(sel))
        elif t.statistic == "deaths":
            out[t.id] = float(sel["death"].sum())
        elif t.statistic in ("alive_count", "alive_proportion"):
            when = t.population.get("time", landmark)
            alive = float(
                ((sel["time"] >= when) & ~((sel["death"] == 1) & (sel["time"] <= when))).sum()
            )
            out[t.id] = alive if t.statistic == "alive_count" else alive / len(sel)
        elif t.statistic == "death_share":
            out[t.id] = float(sel["death"].sum() / cohort["death"].sum())
        elif t.statistic == "subgroup_share":
            x = cohort["pnfh"].to_numpy(float)
            lo, hi = t.population.get("lower"), t.population.get("upper")
            inside = np.isfinite(x)
            inside &= (x >= lo) if lo is not None else inside
            inside &= (x < hi) if hi is not None else inside
            out[t.id] = float(inside.sum() / n)
        elif t.statistic == "covariate_median":
            out[t.id] = float(cohort["age"].median())
        elif t.statistic == "covariate_proportion":
            out[t.id] = float(cohort["male"].mean())
    fits = [t for t in targets if t.id not in out]
    if fits:
        trt = cohort["treatment"].to_numpy(float)
        cov = {c: cohort[c].to_numpy(float) for c in design.adjust}
        vals = _fit_stats(
            design,
            trt,
            cohort["time"].to_numpy(float)[None, :],
            cohort["death"].to_numpy(np.int8)[None, :],
            cohort["pnfh"].to_numpy(float)[None, :],
            {c: v[None, :] for c, v in cov.items()},
        )
        lookup = {t.id: j for j, t in enumerate(design.targets)}
        for t in fits:
            out[t.id] = float(vals[0, lookup[t.id]]) if t.id in lookup else math.nan
    return out


# ------------------------------------------------------------------------------- start cohort


def _largest_remainder(
    expected: np.ndarray, total: int, cap: np.ndarray | None = None
) -> np.ndarray:
    """Integers summing to ``total``, each near ``expected`` (and at most ``cap``)."""
    expected = np.asarray(expected, float)
    if expected.sum() > 0:
        expected = expected * total / expected.sum()
    out = np.floor(expected).astype(int)
    if cap is not None:
        out = np.minimum(out, cap)
    order = np.argsort(-(expected - out), kind="stable")
    while out.sum() < total:
        moved = False
        for k in order:
            if out.sum() >= total:
                break
            if cap is None or out[k] < cap[k]:
                out[k] += 1
                moved = True
        if not moved:
            raise ReconstructionError(f"cannot place {total} patients in cells of size {cap}")
    return out


@dataclass
class _Setup:
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
        q_lo, q_hi = _cdf(bm, lo), _cdf(bm, None if math.isinf(hi) else hi)
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


def _window(targets: list[Target], margin: float = MARGIN) -> tuple[float, float] | None:
    """Centre of the (log HR, SE) region where every target of one figure holds with the
    margin (None: the figure has no CI or p, or no point meets them all)."""
    hr = next((t for t in targets if t.statistic == "hr"), None)
    if hr is None or len(targets) == 1:
        return None
    b = np.linspace(math.log(hr.lower), math.log(hr.upper), 201)[:, None]
    lo = next((t for t in targets if t.statistic == "hr_ci_lower"), None)
    hi = next((t for t in targets if t.statistic == "hr_ci_upper"), None)
    p = next((t for t in targets if t.statistic == "hr_p"), None)
    z = float(_Z[0.95])
    if lo is not None and hi is not None:
        se_c = (math.log(hi.value) - math.log(lo.value)) / (2 * z)
    else:
        se_c = abs(math.log(hr.value)) / float(stats.norm.isf(p.value / 2))
    se = np.linspace(0.7 * se_c, 1.3 * se_c, 601)[None, :]
    stat = {
        "hr": np.exp(b + 0 * se),
        "hr_ci_lower": np.exp(b - z * se),
        "hr_ci_upper": np.exp(b + z * se),
        "hr_p": 2 * stats.norm.sf(np.abs(b / se)),
    }
    ok = np.ones((b.size, se.size), bool)
    for t in targets:
        ok &= np.abs(stat[t.statistic] - t.value) <= margin * t.half_width
    if not ok.any():
        return None
    bb, ss = np.broadcast_to(b, ok.shape)[ok], np.broadcast_to(se, ok.shape)[ok]
    return float(bb.mean()), float(ss.mean())


def _subgroup_windows(
    design: _Design,
) -> tuple[dict[int, tuple[float, float]], list[str], dict[str, float]]:
    """(log HR, SE) windows of the subgroup figures that are one biomarker group each, the
    ids of figures whose HR, CI and p cannot hold together at any (log HR, SE), and the wider
    margins of the figures that need one (by target id)."""
    windows: dict[int, tuple[float, float]] = {}
    inconsistent: list[str] = []
    margins: dict[str, float] = {}
    by_figure: dict[str, list[Target]] = {}
    for t in design.targets:
        by_figure.setdefault(t.figure, []).append(t)
    for ts in by_figure.values():
        if len(ts) < 2:
            continue
        w = _window(ts)
        for m in _WIDER_MARGINS:
            if w is not None:
                break
            w = _window(ts, m)
            if w is not None:
                margins.update({t.id: m for t in ts})
        if w is None:
            inconsistent += [t.id for t in ts]
            continue
        pop = ts[0].population
        if ts[0].model != "treatment":
            continue
        for g, grp in enumerate(design.groups):
            if not grp.missing and (grp.lower, grp.upper) == (pop.get("lower"), pop.get("upper")):
                windows[g] = w
    return windows, inconsistent, margins


def _pilot_cells(
    setup: _Setup,
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
    setup: _Setup,
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
    setup: _Setup, cells: tuple[np.ndarray, np.ndarray], rng: np.random.Generator
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


# ------------------------------------------------------------------------------- search

# Moves (each keeps arm sizes, deaths per arm and subgroup sizes):
#   swap_time        two deaths exchange days
#   swap_time_group  two deaths of the same biomarker group exchange days
#   redraw_time      a death gets a new day from the model (a free day)
#   shift_in_group   a death gets a free day between its group neighbours' days: the order
#                    within every group, hence every subgroup fit, is unchanged
#   move_death       a death passes to a survivor of the same arm (any group)
#   move_death_group ... of the same arm and group: subgroup and overall fits unchanged
#   swap_pnfh        two patients exchange pNFH (and group)
#   swap_pnfh_group  two patients of the same group exchange pNFH: only the model term moves
#   redraw_pnfh      a patient gets a new pNFH within the group
#   swap_<column>    two patients exchange a covariate of the adjusted model
_STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("subgroups", ("swap_time_group", "adjacent_in_group", "adjacent_in_group", "redraw_time")),
    (
        "treatment",
        (
            "adjacent_in_group",
            "shift_in_group",
            "shift_in_group",
            "swap_time_group",
            "redraw_time",
            "move_death",
            "swap_pnfh",
        ),
    ),
    ("model", ("swap_pnfh_group", "swap_pnfh_group", "redraw_pnfh", "move_death_group")),
)
_ALL_MOVES = (
    "swap_time",
    "adjacent_in_group",
    "redraw_time",
    "shift_in_group",
    "move_death",
    "move_death_group",
    "swap_pnfh",
    "swap_pnfh_group",
    "redraw_pnfh",
)
_BIOMARKER_MOVES = ("swap_pnfh_across", "swap_pnfh_group", "swap_pnfh_group", "redraw_pnfh")


def _pick(rng: np.random.Generator, idx: np.ndarray) -> int:
    return int(idx[rng.integers(idx.size)])


def _free(rng: np.random.Generator, used: np.ndarray, lo: int, hi: int) -> int | None:
    """A random day in [lo, hi] that no death uses (None if there is none)."""
    free = np.flatnonzero(~used[lo : hi + 1])
    return None if free.size == 0 else lo + int(free[rng.integers(free.size)])


def _propose(
    state: dict[str, np.ndarray],
    setup: _Setup,
    moves: tuple[str, ...],
    adjust: tuple[str, ...],
    rng: np.random.Generator,
    R: int,
) -> dict[str, np.ndarray]:
    """R candidate cohorts, each the current one after one random move."""
    cand = {k: np.repeat(v[None, :], R, axis=0) for k, v in state.items()}
    death, time, group, trt = state["death"], state["time"], state["group"], state["trt"]
    deaths = np.flatnonzero(death)
    measured = np.flatnonzero(np.isfinite(state["pnfh"]))
    landmark = int(setup.landmark)
    used = np.zeros(landmark + 1, bool)
    used[time[deaths].astype(int)] = True
    by_group = {g: np.flatnonzero(group == g) for g in range(len(setup.groups))}
    dead_by_group = {g: np.flatnonzero((group == g) & (death == 1)) for g in by_group}
    kinds = moves + tuple(f"swap_{c}" for c in adjust)
    n = time.size
    for r in range(R):
        kind = kinds[rng.integers(len(kinds))]
        if kind in ("swap_time", "swap_time_group"):
            i = _pick(rng, deaths)
            pool = dead_by_group[group[i]] if kind == "swap_time_group" else deaths
            j = _pick(rng, pool)
            cand["time"][r, [i, j]] = time[[j, i]]
        elif kind == "redraw_time":
            i = _pick(rng, deaths)
            day = setup.draw_day(trt[i], state["pnfh"][i], rng)
            if used[day]:
                day = _free(rng, used, max(1, day - 30), min(landmark - 1, day + 30))
            if day is not None:
                cand["time"][r, i] = day
        elif kind == "adjacent_in_group":  # next death of the same group: a small step
            i = _pick(rng, deaths)
            pool = dead_by_group[group[i]]
            later = pool[time[pool] > time[i]]
            if later.size:
                j = later[np.argmin(time[later])]
                cand["time"][r, [i, j]] = time[[j, i]]
        elif kind == "shift_in_group":
            i = _pick(rng, deaths)
            t_g = time[dead_by_group[group[i]]]
            lo = int(t_g[t_g < time[i]].max(initial=0)) + 1
            hi = int(t_g[t_g > time[i]].min(initial=landmark)) - 1
            day = _free(rng, used, lo, hi)
            if day is not None:
                cand["time"][r, i] = day
        elif kind in ("move_death", "move_death_group"):
            i = _pick(rng, deaths)
            same = (trt == trt[i]) & (death == 0)
            if kind == "move_death_group":
                same &= group == group[i]
            same = np.flatnonzero(same)
            if same.size:
                j = _pick(rng, same)
                cand["time"][r, j], cand["death"][r, j] = time[i], 1
                cand["time"][r, i], cand["death"][r, i] = setup.landmark, 0
        elif kind in ("swap_pnfh", "swap_pnfh_group", "swap_pnfh_across"):
            i = _pick(rng, measured)
            if kind == "swap_pnfh_group":
                pool = by_group[group[i]]
            elif kind == "swap_pnfh_across":  # another group: subgroup membership changes
                pool = measured[group[measured] != group[i]]
            else:
                pool = measured
            j = _pick(rng, pool)
            for key in ("pnfh", "group"):
                cand[key][r, [i, j]] = state[key][[j, i]]
        elif kind == "redraw_pnfh":
            i = _pick(rng, measured)
            cand["pnfh"][r, i] = setup.draw_pnfh(int(group[i]), rng)[0]
        else:  # swap a covariate of the adjusted model between two patients
            i, j = rng.integers(0, n, 2)
            col = kind.removeprefix("swap_")
            cand[col][r, [i, j]] = state[col][[j, i]]
    return cand


@dataclass
class _Budget:
    """Search steps left in an attempt, and the wall-clock safety cap of the whole rebuild."""

    steps: int
    deadline: float

    def take(self) -> bool:
        if self.steps <= 0 or _time.perf_counter() >= self.deadline:
            return False
        self.steps -= 1
        return True


def _search(
    design: _Design,
    setup: _Setup,
    state: dict[str, np.ndarray],
    targets: list[Target],
    moves: tuple[str, ...],
    rng: np.random.Generator,
    budget: _Budget,
    progress: bool,
    label: str = "",
) -> tuple[dict, int, bool]:
    """Best-of-batch local search on ``targets``; returns the state, steps and success.

    The best of a batch of moves is taken when it lowers the objective; after 20 batches
    without progress the best move that changes anything is taken anyway (to leave a
    plateau). Stops when every target holds with the margin, or when the budget is spent.
    """

    def evaluate(s: dict[str, np.ndarray]) -> np.ndarray:
        return _fit_stats(
            design,
            s["trt"],
            s["time"],
            s["death"],
            s["pnfh"],
            {c: s[c] for c in design.adjust},
            targets,
        )

    if not targets:
        return state, 0, True
    score, ok = _score(targets, evaluate({k: v[None, :] for k, v in state.items()}), design.margins)
    current, done = float(score[0]), bool(ok[0])
    steps, stuck = 0, 0
    while not done and budget.take():
        steps += 1
        cand = _propose(state, setup, moves, design.adjust, rng, CANDIDATES)
        sc, good = _score(targets, evaluate(cand), design.margins)
        best = int(np.argmin(sc))
        if sc[best] >= current and stuck >= 20:
            moved = np.flatnonzero(np.abs(sc - current) > 1e-12)
            best = int(moved[np.argmin(sc[moved])]) if moved.size else best
        if sc[best] < current or stuck >= 20:
            state = {k: v[best].copy() for k, v in cand.items()}
            current, done, stuck = float(sc[best]), bool(good[best]), 0
        else:
            stuck += 1
        if progress and steps % 20 == 0:
            print(f"{label} step {steps}: objective {current:.4f}")
    return state, steps, done


def _staged_search(
    design: _Design,
    setup: _Setup,
    state: dict[str, np.ndarray],
    rng: np.random.Generator,
    budget: _Budget,
    progress: bool,
    stages: tuple[tuple[str, tuple[str, ...]], ...] = _STAGES,
    fallback: tuple[str, ...] = _ALL_MOVES,
) -> tuple[dict, int]:
    """Subgroup fits first, then the overall HR by interleaving groups (subgroup fits fixed),
    then the interaction model by pNFH within groups (both fixed); a search over every target
    with every move for whatever budget is left if a stage could not finish."""
    kinds = {
        "treatment": lambda t: t.model == "treatment",
        "subgroups": lambda t: (
            t.model == "treatment"
            and (t.population.get("lower") is not None or t.population.get("upper") is not None)
        ),
        "overall": lambda t: (
            t.model == "treatment"
            and t.population.get("lower") is None
            and t.population.get("upper") is None
        ),
        "model": lambda t: t.model == "interaction",
    }
    steps = 0
    for name, moves in stages:
        stage_targets = [t for t in design.targets if kinds[name](t)]
        state, k, done = _search(
            design, setup, state, stage_targets, moves, rng, budget, progress, name
        )
        steps += k
        if not done:
            break
    state, k, done = _search(
        design, setup, state, design.targets, fallback, rng, budget, progress, "all"
    )
    return state, steps + k, done


def _restarts(
    design: _Design,
    setup: _Setup,
    start: Any,
    seed: int,
    max_seconds: float,
    progress: bool,
    **kw: Any,
) -> tuple[dict, int, int]:
    """Staged searches from fresh start cohorts until one meets every target.

    Attempt k uses the random stream (seed, k) for its start cohort and its moves, and at most
    ATTEMPT_STEPS steps (a stalled greedy search is cheaper to restart than to shake loose). The
    best attempt (lowest objective) is kept if none succeeds by ``max_seconds``.
    """
    deadline = _time.perf_counter() + max_seconds
    best, best_score, steps, attempt = None, math.inf, 0, 0
    while True:
        rng = np.random.default_rng([seed, attempt])
        state = start(rng)
        budget = _Budget(ATTEMPT_STEPS, deadline)
        state, k, done = _staged_search(design, setup, state, rng, budget, progress, **kw)
        steps += k
        attempt += 1
        if done:
            return state, steps, attempt
        one = {key: v[None, :] for key, v in state.items()}
        score = float(
            _score(
                design.targets,
                _fit_stats(
                    design,
                    one["trt"],
                    one["time"],
                    one["death"],
                    one["pnfh"],
                    {c: one[c] for c in design.adjust},
                ),
                design.margins,
            )[0][0]
        )
        if score < best_score:
            best, best_score = state, score
        if _time.perf_counter() >= deadline:
            return best, steps, attempt


def _prepare(
    summary: Any, assumptions: Mapping[str, Any] | None, include: frozenset[str]
) -> tuple[list[Target], dict[str, Any], _Design, _Setup, DataGeneratingModel]:
    values = resolve_assumptions(summary, assumptions)
    targets = targets_from_summary(summary, assumptions, include=include)
    groups = biomarker_groups(targets, values.get("remaining_share", "below"))
    model = calibrate_model(summary, assumptions)
    loq_spec = values.get("limit_of_quantification") or {}
    loq = float(loq_spec.get("value", 0.0) if isinstance(loq_spec, Mapping) else loq_spec)
    n = {a.id: int(a.n.value) for a in summary.arms}
    trt_id, ctl_id = summary.treatment_arm.id, summary.control_arm.id
    n_all = n[trt_id] + n[ctl_id]
    share_t = {
        (t.population["lower"], t.population["upper"]): t
        for t in targets
        if t.statistic == "subgroup_share"
    }
    counts = [
        None if g.share is None else _integer_count(share_t.get((g.lower, g.upper)), n_all, g.share)
        for g in groups
    ]
    rest = [i for i, c in enumerate(counts) if c is None]
    left = n_all - sum(c for c in counts if c is not None)
    if left < 0:
        raise ReconstructionError("reported subgroup shares add up to more than 100%")
    weights = np.array(
        [model.biomarker.share_between(groups[i].lower, groups[i].upper) for i in rest]
    )
    for i, c in zip(rest, _largest_remainder(weights, left), strict=True):
        counts[i] = int(c)
    adjusted = values.get("adjusted_model_covariates") or []
    adjust = tuple(c for c in adjusted if c in ("age", "male"))
    design = _Design(
        targets=[t for t in targets if t.statistic.startswith("hr")],
        groups=groups,
        log_scale=values.get("pnfh_scale", "linear") == "log",
        x_unit=float(model.biomarker.median),
        adjust=adjust,
        ties=values["ties"],
        level_z=float(_Z[0.95]),
        landmark=float(summary.follow_up["landmark"].value),
    )
    design = dataclasses.replace(design, margins=_subgroup_windows(design)[2])
    setup = _Setup(
        model,
        groups,
        np.array(counts, int),
        loq,
        design.landmark,
        trt_id,
        ctl_id,
        n[trt_id],
        n[ctl_id],
    )
    return targets, values, design, setup, model


def _frame(state: dict[str, np.ndarray], setup: _Setup, cov: dict[str, np.ndarray]) -> pd.DataFrame:
    trt = state["trt"].astype(int)
    df = pd.DataFrame(
        {
            "id": np.arange(1, trt.size + 1),
            "arm": np.where(trt == 1, setup.trt_id, setup.ctl_id),
            "treatment": trt,
            "time": np.round(state["time"]).astype(int),
            "death": state["death"].astype(int),
            "pnfh": np.round(state["pnfh"], 1),
        }
    )
    for c in ("age", "male", "country", "onset"):
        df[c] = state[c] if c in state else cov[c]
    df["age"] = df["age"].astype(int)
    df["male"] = df["male"].astype(int)
    return df[COHORT_COLUMNS]


def _finish(
    state,
    setup,
    design,
    targets,
    values,
    seed,
    summary,
    model,
    steps,
    seconds,
    extra_conflicts: list[str],
    cov,
) -> Reconstruction:
    cohort = _frame(state, setup, cov)
    rec = Reconstruction(
        cohort=cohort,
        targets=targets,
        assumptions=values,
        seed=seed,
        summary_sha256=getattr(summary, "sha256", None),
        model=model,
        residuals=pd.Series(dtype=float),
        steps=steps,
        seconds=seconds,
        design=design,
    )
    got = reconstructed_values(cohort, targets, design)
    rec.residuals = pd.Series(
        {t.id: (got[t.id] - t.value) / t.half_width for t in targets if t.half_width > 0},
        name="residual",
    )
    unmet = [t.id for t in targets if not t.rounds_to(got[t.id])]
    conflicts = list(dict.fromkeys([*extra_conflicts, *unmet]))
    rec.conflicts = conflicts
    rec.feasible = not conflicts
    return rec


def rebuild_cohort(
    summary: Any,
    *,
    seed: int = 0,
    assumptions: Mapping[str, Any] | None = None,
    max_seconds: float = 60.0,
    progress: bool = False,
    include: set[str] | frozenset[str] = frozenset(),
) -> Reconstruction:
    """Rebuild a patient-level cohort whose fitted models reproduce every reported figure.

    Parameters
    ----------
    summary
        A :class:`~alsstats.summaries.ReportedSummary` (or a path to one).
    seed
        Seed of the start cohort and of the search: same summary and seed, same cohort.
    assumptions
        Overrides of the summary's assumptions, by id.
    max_seconds
        Search time limit; if it is reached, the best compromise is returned with
        ``feasible`` False and the figures it misses in ``conflicts``.
    progress
        Print the objective every 20 steps.
    include
        Ids of figures with status "conflicting" to use as targets.

    Returns
    -------
    Reconstruction
        ``feasible`` False with ``conflicts`` when figures cannot be met jointly (counts are
        checked exactly before any search; hazard ratios by the search). Nothing is raised
        for infeasible figures.
    """
    summary = _as_summary(summary)
    targets, values, design, setup, model = _prepare(summary, assumptions, frozenset(include))
    conflicts, deaths = count_conflicts(summary, targets)
    rng = np.random.default_rng(seed)
    cov = _covariates((setup.n_trt, setup.n_ctl), targets, values, rng)
    windows, inconsistent, _ = _subgroup_windows(design)
    conflicts += inconsistent
    conflicts += _hr_bound_conflicts(design, setup, deaths, targets)

    cells = _cells(setup, deaths, np.random.default_rng([seed, 1 << 20]), windows)

    def start(rng_k: np.random.Generator) -> dict[str, np.ndarray]:
        state = _start(setup, cells, rng_k)
        for c in design.adjust:
            state[c] = cov[c].astype(float)
        return state

    clock = _time.perf_counter()
    state, steps, _ = _restarts(design, setup, start, seed, max_seconds, progress)
    return _finish(
        state,
        setup,
        design,
        targets,
        values,
        seed,
        summary,
        model,
        steps,
        _time.perf_counter() - clock,
        conflicts,
        cov,
    )


def _hr_bound_conflicts(
    design: _Design, setup: _Setup, deaths: tuple[int, int], targets: list[Target]
) -> list[str]:
    """The overall HR out of reach of the death counts, whatever the order of deaths."""
    overall = [
        t
        for t in design.targets
        if t.statistic == "hr"
        and t.model == "treatment"
        and t.population.get("lower") is None
        and t.population.get("upper") is None
    ]
    if not overall:
        return []
    n = setup.n_trt + setup.n_ctl
    trt = np.r_[np.ones(setup.n_trt), np.zeros(setup.n_ctl)]
    death = np.r_[np.arange(setup.n_trt) < deaths[0], np.arange(setup.n_ctl) < deaths[1]]
    rank_first = np.where(trt == 1, 0.0, 1.0)  # treatment deaths first, then control
    time = np.stack(
        [
            np.where(death, 1 + rank_first * n + np.arange(n), setup.landmark),
            np.where(death, 1 + (1 - rank_first) * n + np.arange(n), setup.landmark),
        ]
    )
    res = fit_cox_batch(
        time,
        np.broadcast_to(death, time.shape),
        np.broadcast_to(trt[None, :, None], (*time.shape, 1)),
        ties=design.ties,
    )
    hi, lo = np.exp(res.coef[:, 0])
    out = []
    for t in overall:
        if not (lo < t.upper and t.lower < hi):
            out += [t.id] + [
                c.id for c in targets if c.statistic in ("deaths", "alive_count", "death_share")
            ]
    return out


def assign_biomarker(
    ipd: pd.DataFrame,
    summary: Any,
    seed: int = 0,
    *,
    assumptions: Mapping[str, Any] | None = None,
    max_seconds: float = 60.0,
    progress: bool = False,
) -> Reconstruction:
    """Assign pNFH and covariates to fixed individual outcomes (arm, time, event).

    For individual data reconstructed from Kaplan-Meier curves (:mod:`alsstats.km`): the
    outcomes stay as given; pNFH values (group sizes from the reported shares) and covariates
    are placed on patients by the same search so that the subgroup and interaction hazard
    ratios are met. ``ipd`` needs columns arm (the summary's arm ids), time, event.
    """
    summary = _as_summary(summary)
    for col in ("arm", "time", "event"):
        if col not in ipd.columns:
            raise InputError("ipd", col, "missing column (need arm, time, event)")
    targets, values, design, setup, model = _prepare(summary, assumptions, frozenset())
    arms = ipd["arm"].astype(str).to_numpy()
    unknown = sorted(set(arms) - {setup.trt_id, setup.ctl_id})
    if unknown:
        raise InputError("ipd", "arm", f"unknown arm ids {unknown}")
    order = np.r_[np.flatnonzero(arms == setup.trt_id), np.flatnonzero(arms == setup.ctl_id)]
    n_trt = int((arms == setup.trt_id).sum())
    setup.n_trt, setup.n_ctl = n_trt, len(arms) - n_trt
    if setup.group_count.sum() != len(arms):
        setup.group_count = _largest_remainder(setup.group_count.astype(float), len(arms))
    event = ipd["event"].to_numpy(int)[order]
    deaths = (int(event[:n_trt].sum()), int(event[n_trt:].sum()))
    cov = _covariates((setup.n_trt, setup.n_ctl), targets, values, np.random.default_rng(seed))
    times = ipd["time"].to_numpy(float)[order]

    windows, _, _ = _subgroup_windows(design)
    cells = _cells(setup, deaths, np.random.default_rng([seed, 1 << 20]), windows)

    def start(rng_k: np.random.Generator) -> dict[str, np.ndarray]:
        state = _start(setup, cells, rng_k)
        # outcomes as given: the start cohort only supplies pNFH, moved onto the patients
        # with the same arm and outcome
        trt = state["trt"]
        new_pnfh, new_group = np.empty_like(state["pnfh"]), np.empty_like(state["group"])
        for a in (1, 0):
            for d in (1, 0):
                dest = np.flatnonzero((trt == a) & (event == d))
                src = np.flatnonzero((trt == a) & (state["death"] == d))
                new_pnfh[dest], new_group[dest] = state["pnfh"][src], state["group"][src]
        state.update(time=times.copy(), death=event.astype(np.int8), pnfh=new_pnfh, group=new_group)
        for c in design.adjust:
            state[c] = cov[c].astype(float)
        return state

    clock = _time.perf_counter()
    stages = (("subgroups", ("swap_pnfh_across",)), ("model", ("swap_pnfh_group", "redraw_pnfh")))
    state, steps, _ = _restarts(
        design, setup, start, seed, max_seconds, progress, stages=stages, fallback=_BIOMARKER_MOVES
    )
    return _finish(
        state,
        setup,
        design,
        targets,
        values,
        seed,
        summary,
        model,
        steps,
        _time.perf_counter() - clock,
        [],
        cov,
    )


def _as_summary(summary: Any) -> Any:
    if isinstance(summary, str) or hasattr(summary, "__fspath__"):
        from .summaries import load_reported_summary

        return load_reported_summary(summary)
    return summary
