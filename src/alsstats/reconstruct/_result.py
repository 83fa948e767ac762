"""The result of a reconstruction: the cohort, its match table and its provenance."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..models import DataGeneratingModel
from ._calibrate import Target
from ._fits import ACCEPT_MARGIN, MARGIN, meets, reconstructed_values
from ._search import ATTEMPT_STEPS, CANDIDATES

if TYPE_CHECKING:
    from ._rebuild import Plan

__all__: list[str] = ["COHORT_COLUMNS", "OUTCOMES", "Proof", "Reconstruction"]

# Columns of every rebuilt cohort; then the modifier (named as in the summary), the covariates
# the summary reports (age, male) and the randomisation strata its assumptions name.
COHORT_COLUMNS = ["id", "arm", "treatment", "time", "death"]

FEASIBLE, INFEASIBLE, NOT_FOUND = "feasible", "infeasible", "not found in the time given"
OUTCOMES = (FEASIBLE, INFEASIBLE, NOT_FOUND)

HINT = (
    "the search stopped at its time limit before meeting every figure: the figures may still "
    "be met jointly; try more time (max_seconds / --max-seconds) or another seed"
)


@dataclass(frozen=True)
class Proof:
    """Why some figures cannot be met jointly by any cohort: the smallest set of ``figures``
    that conflict and the ``reason`` (the arithmetic that decides it)."""

    figures: tuple[str, ...]
    reason: str

    def __str__(self) -> str:
        return f"{{{', '.join(self.figures)}}}: {self.reason}"


@dataclass
class Reconstruction:
    """A rebuilt cohort, how well it reproduces the reported figures and how it was made.

    Attributes
    ----------
    cohort : DataFrame with columns id, arm, treatment, time (in the summary's time unit),
        death, then the modifier (named by the summary), the reported covariates (age, male)
        and the strata the assumptions name.
    targets : the reported figures used.
    assumptions : assumption values used, by id.
    seed, summary_sha256, model (the calibrated DGM), steps (search steps), seconds.
    outcome_ : one of :data:`OUTCOMES`: "feasible" (every figure met), "infeasible" (a proof
        in ``proofs_``), "not found in the time given" (the closest cohort; ``hint_``).
    feasible : ``outcome_ == "feasible"``; ``conflicts`` names the figures not met.
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
    outcome_: str = FEASIBLE
    proofs_: list[Proof] = field(default_factory=list)
    hint_: str | None = None
    time_decimals: int = 0

    @property
    def biomarker_column_(self) -> str | None:
        """The modifier's column in ``cohort`` (None: the summary reports no modifier)."""
        column = getattr(self.design, "column", None)
        return column if column in self.cohort.columns else None

    def message(self) -> str:
        """One line saying the outcome: what was met, what conflicts and why, what to try."""
        table = self.match_table()
        met = f"{int(table['agrees'].sum())}/{len(table)} reported figures reproduced"
        if self.outcome_ == FEASIBLE:
            return f"feasible: {met}"
        if self.outcome_ == INFEASIBLE:
            return "infeasible: " + "; ".join(str(p) for p in self.proofs_)
        worst = self.residuals.abs().sort_values(ascending=False).head(3)
        shown = ", ".join(f"{k} {v:+.2f}" for k, v in worst.items())
        return (
            f"not found in the time given ({self.seconds:.0f} s): {met}; largest residuals "
            f"(in rounding half-widths) {shown}; {self.hint_}"
        )

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
        """The cohort as CSV text with fixed formatting (the modifier to 0.1 unit, times to
        the grid of the rebuild: whole days usually; ages as integers; "\\n" line ends), so
        the same rebuild gives the same bytes."""
        df = self.cohort
        if self.time_decimals:
            df = df.copy()
            df["time"] = [f"{t:.{self.time_decimals}f}" for t in df["time"]]
        return df.to_csv(index=False, float_format="%.1f", lineterminator="\n")

    def provenance(self) -> dict[str, Any]:
        """How the cohort was made: summary hash, seed, version, assumptions, engine settings
        and the match table (values to 10 significant digits)."""
        from ..version import __version__

        table = self.match_table()
        table["reconstructed"] = [float(f"{v:.10g}") for v in table["reconstructed"]]
        return {
            "summary_sha256": self.summary_sha256,
            "seed": self.seed,
            "alsstats_version": __version__,
            "assumptions": _jsonable(self.assumptions),
            "engine": {
                "cox": "alsstats.survival.fit_cox_batch",
                "ties": self.design.ties if self.design else None,
                "p_value_test": self.assumptions.get("p_value_test"),
                "candidates_per_step": CANDIDATES,
                "steps_per_attempt": ATTEMPT_STEPS,
                "margin": MARGIN,
                "accept_margin": ACCEPT_MARGIN,
                "wider_margins": dict(self.design.margins) if self.design else {},
            },
            "steps": self.steps,
            "feasible": self.feasible,
            "outcome": self.outcome_,
            "proofs": [{"figures": list(p.figures), "reason": p.reason} for p in self.proofs_],
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


def _frame(state: dict[str, np.ndarray], plan: Plan, decimals: int) -> pd.DataFrame:
    setup, cov = plan.setup, plan.cov
    trt = state["trt"].astype(int)
    time = state["time"] / setup.ticks
    arm = np.where(trt == 1, setup.trt_id, setup.ctl_id)
    if plan.design.arms:
        # several arms: ``trt`` holds arm codes; treatment marks every arm but the control
        arm = np.asarray(plan.design.arms, dtype=object)[trt]
        trt = (trt != 0).astype(int)
    df = pd.DataFrame(
        {
            "id": np.arange(1, trt.size + 1),
            "arm": arm,
            "treatment": trt,
            "time": np.round(time).astype(int) if decimals == 0 else np.round(time, decimals),
            "death": state["death"].astype(int),
        }
    )
    if plan.modifier is None or plan.modifier.present:
        column = plan.design.column
        if plan.design.categories:  # category codes as their labels
            codes = state["modifier"].astype(int)
            df[column] = np.asarray(plan.design.categories, dtype=object)[codes]
        else:
            df[column] = np.round(state["modifier"], 1)
    reported = {t.statistic for t in plan.targets}
    wanted = set(plan.design.covariates)
    if "covariate_median" in reported:
        wanted.add("age")
    if "covariate_proportion" in reported:
        wanted.add("male")
    for c in ("age", "male"):
        if c in wanted:
            df[c] = (state[c] if c in state else cov[c]).astype(int)
    for c in plan.strata:
        df[c] = cov[c]
    return df


def _finish(plan: Plan, state: dict[str, np.ndarray], steps: int, seconds: float) -> Reconstruction:
    """The Reconstruction of a searched state: cohort, residuals, the outcome (proofs found
    before the search make it infeasible; figures the search missed, not found)."""
    decimals = round(math.log10(plan.setup.ticks))
    cohort = _frame(state, plan, decimals)
    targets, design = plan.targets, plan.design
    got = reconstructed_values(cohort, targets, design)
    residuals = pd.Series(
        {t.id: (got[t.id] - t.value) / t.half_width for t in targets if t.half_width > 0},
        name="residual",
    )
    # printed as reported, and a Cox figure with room for another engine (ACCEPT_MARGIN)
    unmet = [t.id for t in targets if not meets(t, got[t.id])]
    conflicts = list(dict.fromkeys([*plan.conflicts, *unmet]))
    if not conflicts:
        outcome = FEASIBLE
    elif plan.proofs:
        outcome = INFEASIBLE
    else:
        outcome = NOT_FOUND
    return Reconstruction(
        cohort=cohort,
        targets=targets,
        assumptions=plan.values,
        seed=plan.seed,
        summary_sha256=getattr(plan.summary, "sha256", None),
        model=plan.model,
        residuals=residuals,
        feasible=not conflicts,
        conflicts=conflicts,
        steps=steps,
        seconds=seconds,
        design=design,
        outcome_=outcome,
        proofs_=list(plan.proofs),
        hint_=HINT if outcome == NOT_FOUND else None,
        time_decimals=decimals,
    )
