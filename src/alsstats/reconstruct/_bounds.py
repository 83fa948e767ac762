"""What the published figures allow: the range of a conclusion over cohorts that reproduce
every reported figure at its printed precision.

A paper that reports subgroup HRs and one term of an interaction model leaves the interaction
coefficient unreported: every cohort whose fits round to the printed figures is an equally good
reading of the paper. :func:`bounds` searches that set for the smallest and the largest value of
a quantity (the interaction coefficient, the HR = 1 crossing, the HR at given modifier values,
the Johnson-Neyman bounds): feasible rebuilds from several seeds are the starts, and a directed
search (:mod:`alsstats.reconstruct._bounds_search`) pushes the quantity down, then up, keeping
every figure met. Both extreme cohorts are certified by their match table.

The ends found are attained by real cohorts, so the set of compatible cohorts reaches at least
from ``lower`` to ``upper``; the search may miss cohorts further out, so the true range can be
wider, never narrower (ends that still move between starts are flagged as not stable).
:func:`bounds_across` repeats this under each alternative assumption and takes the union.
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ReconstructionError
from ..summary import as_reported_summary
from ._bounds_search import Problem, Quantity, directed_search, parse_quantities
from ._rebuild import rebuild_cohort
from ._result import Reconstruction
from ._sensitivity import default_alternatives

__all__ = ["Bounds", "BoundsAcross", "QuantityBounds", "bounds", "bounds_across"]

# An end is stable when another start reaches it within this share of the range's width.
STABLE_SHARE = 0.05


@dataclass
class QuantityBounds:
    """The range of one quantity and the two cohorts that attain its ends.

    Attributes
    ----------
    quantity : what is bounded (:class:`~alsstats.reconstruct._bounds_search.Quantity`).
    unit : the unit of ``lower`` and ``upper``.
    lower, upper : the smallest and largest value found over compatible cohorts.
    lower_cohort, upper_cohort : the certified cohorts that attain them.
    ends : one row per feasible start: its seed, its own value, the lowest and highest value
        its searches reached, steps and seconds.
    stable_lower, stable_upper : another start reached the end within 5% of the width.
    """

    quantity: Quantity
    unit: str
    lower: float
    upper: float
    lower_cohort: Reconstruction
    upper_cohort: Reconstruction
    ends: pd.DataFrame
    stable_lower: bool
    stable_upper: bool

    @property
    def width(self) -> float:
        return self.upper - self.lower

    @property
    def stable(self) -> bool:
        return self.stable_lower and self.stable_upper

    def to_dict(self) -> dict[str, Any]:
        return {
            "lower": _num(self.lower),
            "upper": _num(self.upper),
            "unit": self.unit,
            "width": _num(self.width),
            "stable": {"lower": self.stable_lower, "upper": self.stable_upper},
            "width_is": "the range found" if self.stable else "a lower bound on the width",
            "start_values": [_num(v) for v in self.ends["start_value"]],
        }


@dataclass
class Bounds:
    """Ranges of conclusions over cohorts that reproduce a summary's figures.

    Attributes
    ----------
    quantities : {name: QuantityBounds} (empty when no start was feasible).
    feasible : whether any rebuild met every figure.
    conflicts : when none did, the figures the best rebuild missed.
    assumptions : the overrides used (empty: the summary's stated assumptions).
    search : how the search was run: seeds, starts (asked, feasible), steps and candidates per
        direction, seconds, whether the wall-clock cap was hit.
    modifier_unit : the modifier's unit.
    """

    quantities: dict[str, QuantityBounds]
    feasible: bool
    conflicts: list[str]
    assumptions: dict[str, Any]
    search: dict[str, Any]
    modifier_unit: str
    examples: list[Reconstruction] = field(default_factory=list)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per quantity: lower, upper, width, unit, stability, starts."""
        rows = []
        for name, qb in self.quantities.items():
            rows.append(
                {
                    "quantity": name,
                    "lower": qb.lower,
                    "upper": qb.upper,
                    "width": qb.width,
                    "unit": qb.unit,
                    "stable_lower": qb.stable_lower,
                    "stable_upper": qb.stable_upper,
                    "starts": len(qb.ends),
                }
            )
        cols = ["quantity", "lower", "upper", "width", "unit", "stable_lower", "stable_upper"]
        return pd.DataFrame(rows, columns=[*cols, "starts"])

    def __getitem__(self, name: str) -> QuantityBounds:
        return self.quantities[name]

    def cohorts(self) -> dict[str, Reconstruction]:
        """The extreme cohorts by name ("crossing_lower", "crossing_upper", ...)."""
        out = {}
        for name, qb in self.quantities.items():
            out[f"{name}_lower"] = qb.lower_cohort
            out[f"{name}_upper"] = qb.upper_cohort
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: one object per quantity (``crossing``: {lower, upper, ...}; the HRs at
        given values under ``hr_at``, keyed by the value), the search and the assumptions."""
        out: dict[str, Any] = {}
        for name, qb in self.quantities.items():
            if qb.quantity.kind == "hr_at":
                out.setdefault("hr_at", {})[f"{qb.quantity.at:g}"] = qb.to_dict()
            else:
                out[name] = qb.to_dict()
        out["feasible"] = self.feasible
        out["conflicts"] = list(self.conflicts)
        out["assumptions"] = _jsonable(self.assumptions)
        out["search"] = _jsonable(self.search)
        return out

    def _repr_html_(self) -> str:
        return self.summary.to_html(index=False)

    def curves(self, values: Sequence[float]) -> pd.DataFrame:
        """Treatment HR at ``values`` for every extreme cohort (long format: cohort, value,
        hr); the band of HR(x) curves over the compatible cohorts found."""
        from ._sensitivity import interaction_fit

        rows = []
        x = np.asarray(values, float)
        for name, rec in self.cohorts().items():
            coef, _, log_scale = interaction_fit(rec)
            g = np.log(x) if log_scale else x
            for v, h in zip(x, np.exp(coef[0] + coef[2] * g), strict=True):
                rows.append({"cohort": name, "value": v, "hr": h})
        return pd.DataFrame(rows, columns=["cohort", "value", "hr"])

    def plot(
        self,
        values: Sequence[float] | None = None,
        example: Reconstruction | None = None,
        ax: Any = None,
    ) -> Any:
        """The band of HR(x) curves of the extreme cohorts (pointwise min to max), each
        extreme curve, and one example cohort's curve with its 95% CI; log HR axis."""
        import matplotlib.pyplot as plt

        from ..palette import OKABE_ITO
        from ._sensitivity import interaction_fit

        if not self.quantities:
            raise ReconstructionError("no compatible cohort: nothing to plot")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.5))
        if values is None:
            any_rec = next(iter(self.cohorts().values()))
            col = _modifier_of(any_rec)
            xs = any_rec.cohort[col].to_numpy(float)
            xs = xs[np.isfinite(xs)]
            values = np.linspace(max(xs.min(), 1e-9), np.quantile(xs, 0.98), 200)
        curves = self.curves(values).pivot(index="value", columns="cohort", values="hr")
        x = curves.index.to_numpy(float)
        ax.fill_between(
            x,
            curves.min(axis=1),
            curves.max(axis=1),
            color=OKABE_ITO["sky blue"],
            alpha=0.35,
            lw=0,
            label="range over the compatible cohorts found",
        )
        for name in curves.columns:
            ax.plot(x, curves[name], color=OKABE_ITO["blue"], lw=0.7, alpha=0.6)
        if example is not None:
            coef, cov, log_scale = interaction_fit(example)
            g = np.log(x) if log_scale else x
            est = coef[0] + coef[2] * g
            se = np.sqrt(cov[0, 0] + 2 * g * cov[0, 2] + g**2 * cov[2, 2])
            ax.plot(x, np.exp(est), color=OKABE_ITO["vermillion"], lw=2, label="one cohort")
            ax.plot(x, np.exp(est - 1.96 * se), color=OKABE_ITO["vermillion"], lw=1, ls="--")
            ax.plot(
                x,
                np.exp(est + 1.96 * se),
                color=OKABE_ITO["vermillion"],
                lw=1,
                ls="--",
                label="its 95% CI",
            )
        ax.axhline(1.0, color=OKABE_ITO["black"], lw=0.8)
        ax.set_yscale("log")
        ax.set_xlabel(f"modifier ({self.modifier_unit})")
        ax.set_ylabel("treatment hazard ratio (log scale)")
        ax.legend(frameon=False, fontsize=8)
        return ax


@dataclass
class BoundsAcross:
    """:func:`bounds` under the stated assumptions and each alternative, and their union.

    ``summary``: one row per scenario (assumption, value, feasible, conflicts, lower and upper
    of each quantity), then a "union" row over the feasible scenarios. ``results``: the
    :class:`Bounds` of each scenario, in the same order.
    """

    summary: pd.DataFrame
    results: list[Bounds]

    def _repr_html_(self) -> str:
        return self.summary.to_html(index=False)

    def to_dict(self) -> dict[str, Any]:
        return {"scenarios": _jsonable(self.summary.to_dict(orient="records"))}


def _num(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _modifier_of(rec: Reconstruction) -> str:
    column = rec.biomarker_column_  # named by the summary
    if column is None:
        raise ReconstructionError("the rebuilt cohort has no modifier column")
    return column


def _unit(summary: Any, q: Quantity, assumptions: Mapping[str, Any] | None = None) -> str:
    unit = next((b.unit for b in summary.biomarkers if b.unit and b.unit != "proportion"), "")
    scale = _scale_of(summary, assumptions)
    if q.kind in ("crossing", "jn_lower", "jn_upper"):
        return unit
    if q.kind == "hr_at":
        return "hazard ratio"
    return f"log HR per log {unit}" if scale == "log" else f"log HR per {unit}"


def _scale_of(summary: Any, assumptions: Mapping[str, Any] | None = None) -> str:
    for key, value in (assumptions or {}).items():
        if key.endswith("_scale"):
            return str(value)
    for a in summary.assumptions:
        if a.id.endswith("_scale"):
            return str(a.value)
    return "linear"


def _start_task(args: tuple) -> dict[str, Any]:
    """One start: a rebuild, then a directed search down and up for each quantity (module
    level, so that a process pool can run it)."""
    (summary, assumptions, seed, k, quantities, steps, candidates, deadline, rebuild_seconds,
     progress) = args  # fmt: skip
    clock = _time.monotonic()
    left = max(deadline - _time.monotonic(), 1.0)
    rec = rebuild_cohort(
        summary,
        seed=seed + k,
        assumptions=assumptions,
        max_seconds=min(rebuild_seconds, left),
        progress=progress,
    )
    out: dict[str, Any] = {"seed": seed + k, "rec": rec, "ends": {}}
    if not rec.feasible:
        out["seconds"] = _time.monotonic() - clock
        return out
    problem = Problem.from_reconstruction(rec, summary)
    state = problem.state(rec.cohort)
    for qi, q in enumerate(quantities):
        pair = []
        for di, sign in enumerate((1, -1)):
            rng = np.random.default_rng([seed, k, qi, di])
            end = directed_search(
                problem,
                state,
                q,
                sign,
                rng,
                steps=steps,
                candidates=candidates,
                deadline=deadline,
                progress=progress,
            )
            made = problem.reconstruction(end.state)
            if not made.match_table()["agrees"].all():  # certified in the search; kept honest
                raise ReconstructionError(f"bounds: the {q.name} end of seed {seed + k} is not met")
            pair.append((end, made))
        out["ends"][q.name] = pair
    out["seconds"] = _time.monotonic() - clock
    return out


def bounds(
    summary: Any,
    quantity: str | Quantity | Sequence[Any] = "crossing",
    *,
    assumptions: Mapping[str, Any] | None = None,
    seed: int = 0,
    starts: int = 4,
    steps: int = 600,
    candidates: int = 128,
    max_seconds: float = 600.0,
    rebuild_seconds: float = 120.0,
    executor: Executor | None = None,
    progress: bool = False,
) -> Bounds:
    """Smallest and largest value of a quantity over cohorts that meet every reported figure.

    Parameters
    ----------
    summary
        A reported summary (or its path).
    quantity
        "crossing" (modifier value where the treatment HR is 1), "slope" (interaction
        coefficient per modifier unit), "jn" (both Johnson-Neyman bounds; or "jn_lower",
        "jn_upper"), "hr_at:20,80" (treatment HR at those modifier values), a
        :class:`Quantity`, or a list of these.
    assumptions
        Overrides of the summary's assumptions, by id (as :func:`rebuild_cohort`).
    seed
        Start k is the rebuild with seed ``seed + k``; its searches use the random stream
        (seed, k, quantity, direction). Same inputs, same result (unless the time cap is hit).
    starts
        Feasible rebuilds to start from (a start whose rebuild fails is skipped and counted).
    steps, candidates
        Search steps per direction and candidate moves scored per step (one engine batch).
    max_seconds
        Wall-clock safety cap of the whole call; reaching it is reported in ``search``.
    rebuild_seconds
        Cap of each start's rebuild.
    executor
        Runs the starts (any :class:`concurrent.futures.Executor`; default: in turn).
    progress
        A tqdm bar per rebuild and per directed search, on stderr.

    Returns
    -------
    Bounds
        ``summary`` (one row per quantity), the extreme cohorts, the per-start ends and how the
        search was run. ``feasible`` False (with ``conflicts``) when no rebuild met the figures.
    """
    summary = as_reported_summary(summary)
    if isinstance(quantity, str | Quantity):
        quantity = [quantity]
    quantities = parse_quantities(quantity)
    if starts < 1 or steps < 0 or candidates < 1:
        raise ReconstructionError("bounds: starts and candidates must be >= 1, steps >= 0")
    clock = _time.monotonic()
    deadline = clock + max_seconds
    tasks = [
        (summary, dict(assumptions or {}), seed, k, quantities, steps, candidates, deadline,
         rebuild_seconds, progress)
        for k in range(starts)
    ]  # fmt: skip
    mapper = map if executor is None else executor.map
    done = list(mapper(_start_task, tasks))
    seconds = _time.monotonic() - clock
    feasible = [d for d in done if d["ends"]]
    search = {
        "seeds": [d["seed"] for d in done],
        "starts": starts,
        "feasible_starts": len(feasible),
        "steps_per_direction": steps,
        "candidates_per_step": candidates,
        "seconds": round(seconds, 1),
        "max_seconds": max_seconds,
        "capped": any(
            end.capped for d in feasible for pair in d["ends"].values() for end, _ in pair
        )
        or seconds >= max_seconds,
        "stable_share": STABLE_SHARE,
    }
    unit_x = next((b.unit for b in summary.biomarkers if b.unit and b.unit != "proportion"), "")
    if not feasible:
        best = min((d["rec"] for d in done), key=lambda r: len(r.conflicts))
        return Bounds({}, False, list(best.conflicts), dict(assumptions or {}), search, unit_x)
    out: dict[str, QuantityBounds] = {}
    for q in quantities:
        rows = []
        for d in feasible:
            (lo, lo_rec), (hi, hi_rec) = d["ends"][q.name]
            rows.append(
                {
                    "seed": d["seed"],
                    "start_value": lo.start_value,
                    "lower": lo.value,
                    "upper": hi.value,
                    "steps": lo.steps + hi.steps,
                    "accepted": lo.accepted + hi.accepted,
                    "seconds": round(lo.seconds + hi.seconds, 1),
                    "_lo": lo_rec,
                    "_hi": hi_rec,
                }
            )
        ends = pd.DataFrame(rows)
        i_lo = int(np.nanargmin(ends["lower"].to_numpy(float)))
        i_hi = int(np.nanargmax(ends["upper"].to_numpy(float)))
        lower, upper = float(ends["lower"].iloc[i_lo]), float(ends["upper"].iloc[i_hi])
        tol = STABLE_SHARE * max(upper - lower, 1e-12)
        lows = np.sort(ends["lower"].to_numpy(float))
        highs = np.sort(ends["upper"].to_numpy(float))[::-1]
        out[q.name] = QuantityBounds(
            quantity=q,
            unit=_unit(summary, q, assumptions),
            lower=lower,
            upper=upper,
            lower_cohort=ends["_lo"].iloc[i_lo],
            upper_cohort=ends["_hi"].iloc[i_hi],
            ends=ends.drop(columns=["_lo", "_hi"]),
            stable_lower=len(lows) > 1 and lows[1] - lows[0] <= tol,
            stable_upper=len(highs) > 1 and highs[0] - highs[1] <= tol,
        )
    return Bounds(
        out,
        True,
        [],
        dict(assumptions or {}),
        search,
        unit_x,
        examples=[d["rec"] for d in feasible],
    )


def _scenario_task(args: tuple) -> Bounds:
    summary, override, quantity, kwargs = args
    return bounds(summary, quantity, assumptions=override, **kwargs)


def bounds_across(
    summary: Any,
    quantity: str | Quantity | Sequence[Any] = "crossing",
    alternatives: Mapping[str, Sequence[Any]] | None = None,
    *,
    executor: Executor | None = None,
    **kwargs: Any,
) -> BoundsAcross:
    """:func:`bounds` under the stated assumptions and under each alternative (one changed at
    a time), and the union over the feasible ones, as one table.

    Parameters
    ----------
    summary, quantity
        As :func:`bounds`.
    alternatives
        {assumption id: [values]}; default
        :func:`~alsstats.reconstruct.default_alternatives` (those of the assumptions the
        summary states).
    executor
        Runs the scenarios (any :class:`concurrent.futures.Executor`, a Dask client's
        included); default: in turn.
    **kwargs
        Passed to :func:`bounds` (seed, starts, steps, candidates, max_seconds, ...).

    Returns
    -------
    BoundsAcross
        ``summary``: one row per scenario ("stated" first) and a final "union" row; a scenario
        where no rebuild met the figures has ``feasible`` False and the figures it missed.
    """
    summary = as_reported_summary(summary)
    if alternatives is None:
        alternatives = default_alternatives(summary)
    runs: list[tuple[str, Any, dict[str, Any] | None]] = [("stated", None, None)]
    runs += [(k, v, {k: v}) for k, vs in alternatives.items() for v in vs]
    tasks = [(summary, override, quantity, kwargs) for _, _, override in runs]
    mapper = map if executor is None else executor.map
    results = list(mapper(_scenario_task, tasks))
    rows = []
    for (name, value, _), res in zip(runs, results, strict=True):
        row: dict[str, Any] = {
            "assumption": name,
            "value": "" if value is None else str(value),
            "feasible": res.feasible,
            "conflicts": ", ".join(res.conflicts),
            "feasible_starts": res.search["feasible_starts"],
        }
        for qname, qb in res.quantities.items():
            row[f"{qname}_lower"] = qb.lower
            row[f"{qname}_upper"] = qb.upper
            row[f"{qname}_stable"] = qb.stable
        rows.append(row)
    table = pd.DataFrame(rows)
    union: dict[str, Any] = {"assumption": "union", "value": "feasible scenarios"}
    ok = table[table["feasible"]]
    union["feasible"] = bool(len(ok))
    union["conflicts"] = ""
    union["feasible_starts"] = int(ok["feasible_starts"].sum()) if len(ok) else 0
    for col in table.columns:
        if col.endswith("_lower"):
            union[col] = ok[col].min() if len(ok) else math.nan
        elif col.endswith("_upper"):
            union[col] = ok[col].max() if len(ok) else math.nan
        elif col.endswith("_stable"):
            union[col] = bool(ok[col].all()) if len(ok) else False
    table = pd.concat([table, pd.DataFrame([union])], ignore_index=True)
    return BoundsAcross(table, results)
