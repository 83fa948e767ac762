"""Directed search for :func:`alsstats.reconstruct.bounds`: from a feasible rebuild, push one
quantity of the interaction model down (or up) while every reported figure stays met.

The coupling to the reconstruction is narrow on purpose: a feasible
:class:`~alsstats.reconstruct.Reconstruction` gives the start cohort, the targets (with their
printed precision) and its match table, which certifies every cohort kept as an end. Moves and
the batched evaluation of the fitted figures are this module's own:

* every move keeps arm sizes, deaths per arm, survivors' follow-up and the sizes of the
  modifier groups (count figures hold by construction): two deaths exchange days, a death
  moves a few days, two patients of one arm exchange outcomes, two patients exchange modifier
  values, a modifier value moves within its group, two patients exchange an adjusted-model
  covariate;
* R candidate cohorts per step are fitted at once with :func:`alsstats.survival.fit_cox_batch`
  (one batch per model: overall, each subgroup, the interaction model); a candidate is
  admissible when every fitted figure is within :data:`LOOSE` x its rounding half-width of
  the reported value (or the rebuild's own wider margin), so that an independent refit rounds
  the same way;
* the admissible candidate with the best quantity is taken when it improves; after
  ``patience`` steps without improvement, a random admissible candidate among the better
  quarter is taken (a walk along the plateau); every new best is certified by the full match
  table (rounding of every figure, counts included) before it is kept.

Step k of start s in direction d draws from the random stream (seed, s, d) only, and the
number of steps is fixed, so the result does not depend on the machine's speed unless the
``deadline`` safety cap is reached (reported).
"""

from __future__ import annotations

import dataclasses
import math
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from tqdm import tqdm

from ..errors import InputError
from ..survival import fit_cox_batch
from ._fits import MARGIN
from ._result import Reconstruction

__all__: list[str] = []

_STAT_PREFIX = "hr"  # fitted figures: hr, hr_ci_lower, hr_ci_upper, hr_p

# Admissible: every fitted figure within this share of its rounding half-width of the
# reported value (at least; the rebuild's own margins where wider). 5% of half a unit in the
# last printed place is far beyond the differences between Cox implementations run to tight
# convergence, so an independent refit rounds the same way.
LOOSE = 0.95


@dataclass(frozen=True)
class Quantity:
    """A conclusion of the interaction model on a cohort.

    kind: "slope" (interaction coefficient per modifier unit, or per log unit on the log
    scale), "crossing" (modifier value where the treatment HR is 1), "hr_at" (treatment HR at
    modifier value ``at``), "jn_lower" / "jn_upper" (the smaller / larger modifier value where
    the 95% CI of the treatment HR touches 1: the Johnson-Neyman bounds).
    """

    kind: str
    at: float | None = None

    @property
    def name(self) -> str:
        return f"hr_at_{self.at:g}" if self.kind == "hr_at" else self.kind


QUANTITY_KINDS = ("slope", "crossing", "hr_at", "jn_lower", "jn_upper")


def parse_quantities(spec: Sequence[Any]) -> list[Quantity]:
    """Quantities from names ("crossing", "slope", "jn", "jn_lower", "hr_at:20,80" or
    ("hr_at", [20, 80])) or :class:`Quantity` values."""
    out: list[Quantity] = []
    for item in spec:
        if isinstance(item, Quantity):
            out.append(item)
            continue
        if isinstance(item, tuple | list):
            kind, values = str(item[0]), list(item[1])
        else:
            kind, _, rest = str(item).partition(":")
            values = [v for v in rest.split(",") if v.strip()]
        kind = kind.strip().lower().replace("-", "_")
        if kind == "jn":
            out += [Quantity("jn_lower"), Quantity("jn_upper")]
        elif kind == "hr_at":
            if not values:
                raise InputError("quantity", "hr_at", "needs modifier values (hr_at:20,80)")
            try:
                out += [Quantity("hr_at", float(v)) for v in values]
            except ValueError as exc:
                raise InputError("quantity", "hr_at", f"not a number: {exc}") from None
        elif kind in QUANTITY_KINDS:
            out.append(Quantity(kind))
        else:
            raise InputError(
                "quantity", str(item), "unknown (crossing, slope, jn, jn_lower, jn_upper, hr_at)"
            )
    return list(dict.fromkeys(out))


def _modifier_column(cohort: pd.DataFrame, summary: Any, rec: Any = None) -> str:
    """The cohort's modifier column: the reconstruction's own (``biomarker_column_``), else
    the summary's biomarker id if the cohort has it."""
    column = getattr(rec, "biomarker_column_", None)
    if column and column in cohort.columns:
        return str(column)
    for b in getattr(summary, "biomarkers", None) or []:
        if b.id in cohort.columns:
            return str(b.id)
    raise InputError("cohort", "modifier", "no biomarker column in the rebuilt cohort")


@dataclass
class Problem:
    """What the directed search needs, taken from one feasible reconstruction."""

    rec: Reconstruction
    modifier: str
    trt: np.ndarray
    fit_targets: list[Any]
    centre: np.ndarray
    half: np.ndarray
    margin: np.ndarray
    log_scale: bool
    scale: float  # the modifier is divided by this inside fits (coefficients near 1)
    adjust: tuple[str, ...]  # covariates of the interaction model
    covariates: tuple[str, ...]  # covariates of any model (moved by swaps)
    ties: str
    z: float
    cuts: np.ndarray  # modifier cut-offs of the reported groups, sorted
    x_range: tuple[float, float]  # measured modifier values stay inside (the start's range)
    t_range: tuple[float, float]  # death days stay inside
    integer_days: bool

    @classmethod
    def from_reconstruction(cls, rec: Reconstruction, summary: Any) -> Problem:
        cohort = rec.cohort
        modifier = _modifier_column(cohort, summary, rec)
        design = rec.design
        fit_targets = [t for t in rec.targets if t.statistic.startswith(_STAT_PREFIX)]
        margins = dict(getattr(design, "margins", {}) or {})
        x = cohort[modifier].to_numpy(float)
        measured = x[np.isfinite(x)]
        if measured.size == 0:
            raise InputError("cohort", modifier, "no measured modifier values")
        cuts = sorted(
            {
                float(v)
                for t in rec.targets
                for v in (t.population.get("lower"), t.population.get("upper"))
                if v is not None
            }
        )
        time = cohort["time"].to_numpy(float)
        death = cohort["death"].to_numpy(int)
        step = 1.0 if np.all(time == np.round(time)) else 0.0
        problem = cls(
            rec=rec,
            modifier=modifier,
            trt=cohort["treatment"].to_numpy(float),
            fit_targets=fit_targets,
            centre=np.array([t.value for t in fit_targets], float),
            half=np.array([t.half_width for t in fit_targets], float),
            margin=np.array([margins.get(t.id, MARGIN) for t in fit_targets], float),
            log_scale=bool(getattr(design, "log_scale", False)),
            scale=float(np.median(measured)),
            adjust=tuple(getattr(design, "adjust", ()) or ()),
            covariates=tuple(
                getattr(design, "covariates", None) or getattr(design, "adjust", ()) or ()
            ),
            ties=str(getattr(design, "ties", "efron")),
            z=float(stats.norm.ppf(0.975)),
            cuts=np.array(cuts, float),
            x_range=(float(measured.min()), float(measured.max())),
            t_range=(step or float(time[death == 1].min()), float(time.max()) - step),
            integer_days=bool(step),
        )
        # The start must be admissible: a rebuild may stop with a figure between the
        # reconstruction's margin and LOOSE (both far beyond engine differences); such a
        # figure keeps the start's slack.
        one = {k: v[None, :] for k, v in problem.state(cohort).items()}
        values = problem.evaluate(one)[0][0]
        with np.errstate(invalid="ignore"):
            d = np.abs((values - problem.centre) / problem.half)
        start = np.where(np.isfinite(d), np.minimum(d, 1.0), 0.0)
        problem.margin = np.maximum(np.maximum(problem.margin, LOOSE), start)
        return problem

    # --- state ---------------------------------------------------------------------------

    def state(self, cohort: pd.DataFrame) -> dict[str, np.ndarray]:
        s = {
            "time": cohort["time"].to_numpy(float),
            "death": cohort["death"].to_numpy(np.int8),
            "x": cohort[self.modifier].to_numpy(float),
        }
        for c in self.covariates:
            s[c] = cohort[c].to_numpy(float)
        return s

    def cohort(self, state: dict[str, np.ndarray]) -> pd.DataFrame:
        df = self.rec.cohort.copy()
        df["time"] = state["time"].astype(df["time"].dtype)
        df["death"] = state["death"].astype(df["death"].dtype)
        df[self.modifier] = state["x"]
        for c in self.covariates:
            df[c] = state[c].astype(df[c].dtype)
        return df

    def certify(self, state: dict[str, np.ndarray]) -> bool:
        """Every reported figure rounds right on this cohort (the reconstruction's match
        table: counts, shares, covariates and fits)."""
        return bool(self.match_table(state)["agrees"].all())

    def match_table(self, state: dict[str, np.ndarray]) -> pd.DataFrame:
        return self.reconstruction(state).match_table()

    def reconstruction(self, state: dict[str, np.ndarray]) -> Reconstruction:
        return dataclasses.replace(self.rec, cohort=self.cohort(state))

    # --- batched evaluation --------------------------------------------------------------

    def g(self, x: np.ndarray) -> np.ndarray:
        """The modifier as it enters the interaction model."""
        return np.log(x) if self.log_scale else x / self.scale

    def evaluate(
        self, cand: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Fitted figures (R, k), whether each candidate meets them all with the margin (R,),
        and the interaction model's coefficients (R, p) and covariance (R, p, p)."""
        time, death, x = cand["time"], cand["death"], cand["x"]
        R, n = time.shape
        measured = np.isfinite(x)
        xs = np.where(measured, x, 1.0)
        trt = np.broadcast_to(self.trt, (R, n))
        cols = [trt, self.g(xs), trt * self.g(xs)]
        cols += [cand[c] for c in self.adjust]
        inter = fit_cox_batch(time, death, np.stack(cols, -1), mask=measured, ties=self.ties)
        fits: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        values = np.full((R, len(self.fit_targets)), np.nan)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            for j, t in enumerate(self.fit_targets):
                pop = t.population
                if t.model == "interaction":
                    k = 2 if ":" in str(pop.get("term") or "") else 0
                    b = np.where(inter.ok, inter.coef[:, k], np.nan)
                    se = np.sqrt(np.abs(inter.cov[:, k, k]))
                    if k == 2 and not self.log_scale:  # the ratio of HRs per modifier unit
                        b, se = b / self.scale, se / self.scale
                else:
                    extra = tuple(pop.get("adjust") or ())
                    key = (pop.get("lower"), pop.get("upper"), extra)
                    if key not in fits:
                        mask = np.ones((R, n), bool)
                        if key[:2] != (None, None):
                            mask = measured.copy()
                            if key[0] is not None:
                                mask &= xs >= key[0]
                            if key[1] is not None:
                                mask &= xs < key[1]
                        X = np.stack([trt, *(cand[c] for c in extra)], -1)
                        res = fit_cox_batch(time, death, X, mask=mask, ties=self.ties)
                        fits[key] = (
                            np.where(res.ok, res.coef[:, 0], np.nan),
                            np.sqrt(np.abs(res.cov[:, 0, 0])),
                        )
                    b, se = fits[key]
                values[:, j] = _statistic(t.statistic, b, se, self.z)
            d = (values - self.centre) / self.half
        ok = np.all(np.abs(d) <= self.margin, axis=1) & inter.ok
        self.last_slack = np.mean((d / self.margin) ** 2, axis=1)
        return values, ok, inter.coef, inter.cov

    def quantity(self, q: Quantity, coef: np.ndarray, cov: np.ndarray) -> np.ndarray:
        """Values of a quantity from (R, p) coefficients and (R, p, p) covariances of the
        interaction model (NaN where it is undefined)."""
        bt, bi = coef[:, 0], coef[:, 2]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            if q.kind == "slope":
                return bi if self.log_scale else bi / self.scale
            if q.kind == "crossing":
                g = -bt / bi
                return np.exp(g) if self.log_scale else g * self.scale
            if q.kind == "hr_at":
                return np.exp(bt + bi * self.g(np.asarray(q.at, float)))
            vtt, vti, vii = cov[:, 0, 0], cov[:, 0, 2], cov[:, 2, 2]
            z2 = self.z**2
            a = bi**2 - z2 * vii
            b = 2.0 * (bt * bi - z2 * vti)
            c = bt**2 - z2 * vtt
            disc = np.sqrt(b * b - 4 * a * c)  # NaN: no real root
            r1, r2 = (-b - disc) / (2 * a), (-b + disc) / (2 * a)
            g = np.minimum(r1, r2) if q.kind == "jn_lower" else np.maximum(r1, r2)
            return np.exp(g) if self.log_scale else g * self.scale

    # --- moves ---------------------------------------------------------------------------

    def propose(
        self, state: dict[str, np.ndarray], rng: np.random.Generator, R: int
    ) -> dict[str, np.ndarray]:
        """R candidate cohorts, each the current one after one random move."""
        cand = {k: np.repeat(v[None, :], R, axis=0) for k, v in state.items()}
        time, death, x = state["time"], state["death"], state["x"]
        deaths = np.flatnonzero(death == 1)
        measured = np.flatnonzero(np.isfinite(x))
        arms = [np.flatnonzero(self.trt == a) for a in (0.0, 1.0)]
        kinds = ["swap_days", "nudge_day", "nudge_day", "swap_outcome", "swap_x"]
        kinds += ["nudge_x", "nudge_x"] + [f"swap:{c}" for c in self.covariates]
        lo_t, hi_t = self.t_range
        span = hi_t - lo_t
        for r in range(R):
            kind = kinds[rng.integers(len(kinds))]
            if kind == "swap_days":
                i, j = deaths[rng.integers(deaths.size, size=2)]
                cand["time"][r, [i, j]] = time[[j, i]]
            elif kind == "nudge_day":
                i = deaths[rng.integers(deaths.size)]
                step = rng.normal(0.0, 0.03 * span)
                day = min(max(time[i] + step, lo_t), hi_t)
                cand["time"][r, i] = round(day) if self.integer_days else day
            elif kind == "swap_outcome":
                arm = arms[rng.integers(2)]
                i, j = arm[rng.integers(arm.size, size=2)]
                for key in ("time", "death"):
                    cand[key][r, [i, j]] = state[key][[j, i]]
            elif kind == "swap_x":
                i, j = measured[rng.integers(measured.size, size=2)]
                cand["x"][r, [i, j]] = x[[j, i]]
            elif kind == "nudge_x":
                i = measured[rng.integers(measured.size)]
                cand["x"][r, i] = self._nudge_x(x[i], rng)
            else:
                col = kind.removeprefix("swap:")
                i, j = rng.integers(0, time.size, 2)
                cand[col][r, [i, j]] = state[col][[j, i]]
        return cand

    def _nudge_x(self, xi: float, rng: np.random.Generator) -> float:
        """A new value in the same reported group (between the cut-offs around it) and inside
        the start cohort's range, at the cohort's precision (0.1)."""
        below = self.cuts[self.cuts <= xi]
        above = self.cuts[self.cuts > xi]
        lo = max(below.max() if below.size else -math.inf, self.x_range[0])
        hi = min(above.min() - 0.1 if above.size else math.inf, self.x_range[1])
        new = xi * math.exp(rng.normal(0.0, 0.15))
        return round(min(max(new, lo), hi), 1)


def _statistic(kind: str, b: np.ndarray, se: np.ndarray, z: float) -> np.ndarray:
    if kind == "hr":
        return np.exp(b)
    if kind == "hr_ci_lower":
        return np.exp(b - z * se)
    if kind == "hr_ci_upper":
        return np.exp(b + z * se)
    if kind == "hr_p":
        return 2.0 * stats.norm.sf(np.abs(b / se))
    raise InputError("target", kind, "unknown fitted statistic")


@dataclass
class End:
    """One end of one directed search: the value reached and the certified cohort state."""

    value: float
    state: dict[str, np.ndarray]
    start_value: float
    steps: int
    accepted: int
    seconds: float
    capped: bool  # stopped by the wall-clock safety cap, not by the step count


def directed_search(
    problem: Problem,
    state: dict[str, np.ndarray],
    quantity: Quantity,
    sign: int,
    rng: np.random.Generator,
    *,
    steps: int,
    candidates: int,
    deadline: float,
    patience: int = 8,
    slack: float = 0.01,
    progress: bool = False,
) -> End:
    """Minimise ``sign`` x quantity over admissible cohorts reached by single moves.

    ``state`` must meet every figure. Returns the best certified end (the start itself if
    nothing better was certified). For the crossing, only cohorts whose interaction keeps the
    start's sign count: where the slope changes sign the crossing jumps from one infinity to the
    other (bound the slope to see whether it can).
    """
    clock = _time.monotonic()
    one = {k: v[None, :] for k, v in state.items()}
    _, _, coef, cov = problem.evaluate(one)
    start_value = float(problem.quantity(quantity, coef, cov)[0])
    slope_sign = float(np.sign(coef[0, 2]))
    scale = abs(start_value) if math.isfinite(start_value) and start_value != 0 else 1.0
    best = sign * start_value if math.isfinite(start_value) else math.inf
    current = best + slack * scale * float(problem.last_slack[0])
    best_state = state
    stall, accepted, done, capped = 0, 0, 0, False
    label = f"bounds: {quantity.name} {'down' if sign > 0 else 'up'}"
    bar = tqdm(total=steps, desc=label, unit="step", disable=not progress, leave=False)
    for _ in range(steps):
        if _time.monotonic() >= deadline:
            capped = True
            break
        done += 1
        bar.update(1)
        cand = problem.propose(state, rng, candidates)
        _, ok, coef, cov = problem.evaluate(cand)
        q = sign * problem.quantity(quantity, coef, cov)
        if quantity.kind == "crossing":
            ok = ok & (np.sign(coef[:, 2]) == slope_sign)
        q = np.where(ok & np.isfinite(q), q, np.inf)
        f = q + slack * scale * problem.last_slack
        i = int(np.argmin(f))
        if not np.isfinite(f[i]):
            stall += 1
            continue
        if f[i] < current - 1e-12 * (1 + abs(current)):
            pick = i
        elif stall >= patience:
            # a walk along the plateau: a random admissible candidate of the better quarter
            good = np.flatnonzero(np.isfinite(f))
            cut = np.quantile(f[good], 0.25)
            pool = good[f[good] <= cut]
            pick = int(pool[rng.integers(pool.size)])
        else:
            stall += 1
            continue
        new = {k: v[pick].copy() for k, v in cand.items()}
        if q[pick] < best - 1e-12 * (1 + abs(best)):
            if not problem.certify(new):  # a figure the batch does not see (a count) moved
                stall += 1
                continue
            best, best_state = float(q[pick]), new
        state, current, stall = new, float(f[pick]), 0
        accepted += 1
    bar.close()
    value = sign * best if math.isfinite(best) else math.nan
    return End(
        value=value,
        state=best_state,
        start_value=start_value,
        steps=done,
        accepted=accepted,
        seconds=_time.monotonic() - clock,
        capped=capped,
    )
