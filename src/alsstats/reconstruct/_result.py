"""The result of a reconstruction: the cohort, its match table and its provenance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..models import DataGeneratingModel
from ._calibrate import Target
from ._fits import MARGIN, reconstructed_values
from ._search import ATTEMPT_STEPS, CANDIDATES

if TYPE_CHECKING:
    from ._rebuild import Plan
    from ._start import Setup

__all__: list[str] = ["COHORT_COLUMNS", "Reconstruction"]

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
                "wider_margins": dict(self.design.margins) if self.design else {},
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


def _frame(state: dict[str, np.ndarray], setup: Setup, cov: dict[str, np.ndarray]) -> pd.DataFrame:
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


def _finish(plan: Plan, state: dict[str, np.ndarray], steps: int, seconds: float) -> Reconstruction:
    """The Reconstruction of a searched state: cohort, residuals, and the figures it misses
    (added to the conflicts found before the search)."""
    cohort = _frame(state, plan.setup, plan.cov)
    targets, design = plan.targets, plan.design
    got = reconstructed_values(cohort, targets, design)
    residuals = pd.Series(
        {t.id: (got[t.id] - t.value) / t.half_width for t in targets if t.half_width > 0},
        name="residual",
    )
    unmet = [t.id for t in targets if not t.rounds_to(got[t.id])]
    conflicts = list(dict.fromkeys([*plan.conflicts, *unmet]))
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
    )
