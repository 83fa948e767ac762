"""Cut-off subgroups of a continuous modifier: per-subgroup treatment HRs and heterogeneity.

:func:`subgroup_analysis` fits a Cox model of treatment alone within each subgroup and tests
heterogeneity (Cochran Q; likelihood-ratio test of treatment x subgroup); the result is a
:class:`SubgroupAnalysis`.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError, ModelError
from ..survival import CoxModel

__all__ = ["SubgroupAnalysis", "subgroup_analysis"]


@dataclass(frozen=True)
class SubgroupAnalysis:
    """Per-subgroup treatment HRs (``table``) and heterogeneity tests (``heterogeneity``)."""

    table: pd.DataFrame
    heterogeneity: pd.DataFrame
    cutoffs: tuple[float, ...]
    modifier: str
    level: float

    _COLUMNS = ("n", "events_control", "events_treated", "hr", "lower", "upper", "p")

    def _title(self) -> str:
        cuts = ", ".join(f"{c:g}" for c in self.cutoffs)
        return (
            f"SubgroupAnalysis of {self.modifier} at {cuts}: treatment HR per subgroup "
            f"({100 * self.level:g}% Wald CI)"
        )

    def __str__(self) -> str:
        fmt = lambda v: f"{v:.4g}"  # noqa: E731
        return (
            self.table[list(self._COLUMNS)].to_string(float_format=fmt)
            + "\n"
            + self.heterogeneity.to_string(float_format=fmt)
        )

    def __repr__(self) -> str:
        return f"{self._title()}\n{self}"

    def _repr_html_(self) -> str:
        fmt = lambda v: f"{v:.4g}"  # noqa: E731
        return (
            f"<p>{html.escape(self._title())}</p>"
            + self.table[list(self._COLUMNS)].to_html(float_format=fmt)
            + self.heterogeneity.to_html(float_format=fmt)
        )


def subgroup_analysis(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    treatment_col: str,
    modifier_col: str,
    cutoffs: Sequence[float],
    *,
    ties: str = "efron",
    strata: str | Sequence[str] | None = None,
    level: float = 0.95,
    source: str = "data",
) -> SubgroupAnalysis:
    """Cox of treatment alone within each cut-off subgroup, plus heterogeneity tests.

    Subgroups are left-closed, [c_k, c_k+1), in raw units of ``modifier_col``; a subgroup
    whose HR cannot be estimated (no events in an arm) gets a note and NaN, not an error.
    """
    treatment, modifier = treatment_col, modifier_col
    cuts = tuple(sorted(float(c) for c in cutoffs))
    if not cuts:
        raise InputError("subgroups", "cutoffs", "need at least one cut-off")
    edges = [-np.inf, *cuts, np.inf]
    x = df[modifier].to_numpy(float)
    group = np.searchsorted(np.asarray(cuts), x, side="right")  # [c_k, c_k+1): left-closed
    q = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for g, (lo, hi) in enumerate(itertools.pairwise(edges)):
        label = (
            f"{modifier} < {hi:g}"
            if np.isinf(lo)
            else f"{modifier} >= {lo:g}"
            if np.isinf(hi)
            else f"{lo:g} <= {modifier} < {hi:g}"
        )
        sub = df[group == g]
        arm = sub[treatment].to_numpy(float)
        ev = sub[event_col].to_numpy(float)
        row = {
            "subgroup": label,
            "from": lo,
            "to": hi,
            "n": len(sub),
            "share": len(sub) / len(df),
            "n_control": int(np.sum(arm == 0)),
            "n_treated": int(np.sum(arm == 1)),
            "events_control": int(ev[arm == 0].sum()),
            "events_treated": int(ev[arm == 1].sum()),
            "log_hr": np.nan,
            "se": np.nan,
            "note": "",
        }
        try:
            m = CoxModel(treatment, ties=ties, strata=strata).fit(
                sub, duration_col, event_col, source=f"{source} [{label}]"
            )
            row["log_hr"], row["se"] = float(m.params_.iloc[0]), float(m.standard_errors_.iloc[0])
        except (ModelError, InputError) as exc:  # e.g. an empty subgroup or no events in an arm
            row["note"] = f"no finite HR: {exc}"
        rows.append(row)
    table = pd.DataFrame(rows).set_index("subgroup")
    table["hr"] = np.exp(table["log_hr"])
    table["lower"] = np.exp(table["log_hr"] - q * table["se"])
    table["upper"] = np.exp(table["log_hr"] + q * table["se"])
    table["p"] = 2 * stats.norm.sf(np.abs(table["log_hr"] / table["se"]))
    ok = table["se"].notna()
    tests = []
    k = int(ok.sum())
    if k >= 2:
        w = 1 / table.loc[ok, "se"] ** 2
        pooled = float((w * table.loc[ok, "log_hr"]).sum() / w.sum())
        cq = float((w * (table.loc[ok, "log_hr"] - pooled) ** 2).sum())
        tests.append(
            {
                "test": "Cochran Q",
                "statistic": cq,
                "df": k - 1,
                "p": float(stats.chi2.sf(cq, k - 1)),
            }
        )
        keep = np.isin(group, np.flatnonzero(ok.to_numpy()))
        data = df[keep].copy()
        name = "subgroup_"
        while name in data.columns:
            name += "_"
        data[name] = [f"g{g}" for g in group[keep]]
        try:
            full = CoxModel(f"{treatment} * C({name})", ties=ties, strata=strata).fit(
                data, duration_col, event_col, source=source
            )
            reduced = CoxModel(f"{treatment} + C({name})", ties=ties, strata=strata).fit(
                data, duration_col, event_col, source=source
            )
            lr = 2 * (full.log_likelihood_ - reduced.log_likelihood_)
            tests.append(
                {
                    "test": f"LR {treatment} x subgroup",
                    "statistic": lr,
                    "df": k - 1,
                    "p": float(stats.chi2.sf(lr, k - 1)),
                }
            )
        except ModelError as exc:
            tests.append(
                {
                    "test": f"LR {treatment} x subgroup",
                    "statistic": np.nan,
                    "df": k - 1,
                    "p": np.nan,
                    "note": str(exc),
                }
            )
    het = pd.DataFrame(tests, columns=["test", "statistic", "df", "p"]).set_index("test")
    return SubgroupAnalysis(table, het, cuts, modifier, level)
