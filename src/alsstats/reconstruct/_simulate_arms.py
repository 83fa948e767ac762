"""Simulated trials with several arms (a control and two or more doses), printed as papers
print them: a summary with a known truth for the several-arms rebuild
(:mod:`alsstats.reconstruct._arms`).

:func:`simulate_arms_summary` draws one trial of an :class:`ArmsShape` (arms with their own
true log HRs against the control, any allocation, a constant hazard, everyone followed to a
fixed end) and prints, per arm, its size, deaths and the count alive at a landmark; per
comparison with the control the Cox HR with its Wald CI and p; optionally a log-rank p of a
comparison in ``comparisons:``; HRs by a categorical modifier (site of onset) with the
modifier's shares of the trial, on the primary comparison or on every comparison with the
control; and an HR between two treatment arms. The truth meets every figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..survival import logrank_batch
from ._simulate import _fit, _p_text, _plain, _ratio_text

__all__ = ["ArmsShape", "simulate_arms_summary"]


@dataclass(frozen=True)
class ArmsShape:
    """What a simulated trial with several arms and its printed summary look like.

    ``arms`` the treatment arms as (id, true log HR against the control), the first the
    primary comparison; ``allocation`` patients per arm in proportion, the control first;
    ``death_risk`` the control arm's risk of death by the end of follow-up (``follow_up``,
    in ``unit``); ``landmark`` the fraction of follow-up of the printed alive counts.
    ``logrank`` ids of treatment arms whose comparison also gets a log-rank p under
    ``comparisons:``. ``subgroups``: the primary comparison is also printed by site of onset
    (bulbar / limb, bulbar ``bulbar_share`` of the trial), bulbar patients with hazard
    ``exp(prognostic)`` times higher and a primary-arm log HR ``interaction`` higher.
    """

    n: int = 300
    arms: tuple[tuple[str, float], ...] = (("high", -0.5), ("low", -0.2))
    allocation: tuple[int, ...] = (1, 1, 1)
    control: str = "placebo"
    death_risk: float = 0.5
    follow_up: float = 18.0
    unit: str = "months"
    landmark: float = 0.5
    logrank: tuple[str, ...] = ()
    subgroups: bool = False
    bulbar_share: float = 0.3
    prognostic: float = 0.5
    interaction: float = 0.3
    subgroups_everywhere: bool = False
    printed_categories: tuple[str, ...] = ("bulbar", "limb")
    between: tuple[str, str] | None = None


def simulate_arms_summary(
    shape: ArmsShape, rng: np.random.Generator
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One simulated trial of ``shape`` and its printed summary (format version 2).

    Returns
    -------
    doc, truth
        The summary document and the trial (``truth["trial"]``: arm ids, onset labels when
        printed, time, event).
    """
    if len(shape.allocation) != len(shape.arms) + 1:
        raise ValueError("allocation: one number per arm, the control first")
    ids = [shape.control, *(a for a, _ in shape.arms)]
    log_hr = {shape.control: 0.0, **dict(shape.arms)}
    weights = np.asarray(shape.allocation, float)
    sizes = np.floor(shape.n * weights / weights.sum()).astype(int)
    sizes[0] += shape.n - sizes.sum()
    arm = np.repeat(np.asarray(ids, dtype=object), sizes)
    primary = shape.arms[0][0]
    if shape.subgroups_everywhere and not shape.subgroups:
        raise ValueError("subgroups_everywhere: needs subgroups")
    if shape.between is not None and not set(shape.between) <= set(log_hr) - {shape.control}:
        raise ValueError("between: two treatment arms")
    split = [a for a, _ in shape.arms] if shape.subgroups_everywhere else [primary]
    bulbar = (
        rng.random(shape.n) < shape.bulbar_share if shape.subgroups else np.zeros(shape.n, bool)
    )
    lp = np.array([log_hr[a] for a in arm])
    if shape.subgroups:
        lp = lp + bulbar * (shape.prognostic + shape.interaction * np.isin(arm, split))
    end = shape.follow_up
    rate = -math.log(1 - shape.death_risk) / end
    latent = rng.standard_exponential(shape.n) / (rate * np.exp(lp))
    # death times to 2 decimals of the unit (distinct in practice), survivors at the end
    event = (latent < end).astype(np.int8)
    time = np.where(event == 1, np.clip(np.round(latent, 2), 0.01, end - 0.01), end)
    src = {"source": "sim"}
    when = round(end * shape.landmark, 1)
    doc: dict[str, Any] = {
        "format": "alsstats.reported-summary",
        "format_version": 2,
        "trial": {
            "name": "SIMULATED several arms",
            "allocation": ":".join(str(a) for a in shape.allocation),
            "time_unit": shape.unit,
            "endpoint": {"name": "death"},
            "treatment_arm": primary,
            "control_arm": shape.control,
        },
        "sources": [{"key": "sim", "citation": "simulated trial (alsstats validation)"}],
        "arms": [
            {
                "id": a,
                "label": a,
                "role": "control" if a == shape.control else "treatment",
                "n": {"value": int(k), **src},
            }
            for a, k in zip(ids, sizes, strict=True)
        ],
        "follow_up": {"landmark": {"value": end, "unit": shape.unit, **src}},
        "events": [
            {"id": f"deaths_{a}", "arm": a, "value": int(event[arm == a].sum()), **src} for a in ids
        ],
        "survival": [],
        "hazard_ratios": [],
        "assumptions": [
            {
                "id": "baseline_hazard",
                "value": {"family": "weibull", "shape": 1.0},
                "reason": "simulated with a constant hazard",
            }
        ],
    }
    for a in ids:
        sel = arm == a
        alive = int((~((event[sel] == 1) & (time[sel] <= when))).sum())
        doc["survival"].append(
            {"id": f"alive_{a}_{when:g}", "arm": a, "time": when, "count": alive, **src}
        )
    comparisons = []
    for a, _ in shape.arms:
        pair = (arm == a) | (arm == shape.control)
        trt = (arm[pair] == a).astype(float)
        b, v = _fit(time[pair], event[pair], trt)
        doc["hazard_ratios"].append(
            {
                "id": f"{a}_vs_{shape.control}",
                "comparison": {"treatment": a, "control": shape.control},
                **_ratio_text(float(b[0]), math.sqrt(v[0, 0])),
                **src,
                "model": {"method": "cox", "adjusted": False},
            }
        )
        if a in shape.logrank:
            p = float(logrank_batch(time[pair][None], event[pair][None], trt[None]).p_value[0])
            text = _p_text(p)
            if text is not None:
                comparisons.append(
                    {
                        "id": f"logrank_{a}",
                        "comparison": {"treatment": a, "control": shape.control},
                        "p": text,
                        "test": "log_rank",
                        **src,
                    }
                )
    if shape.between is not None:
        a, ref = shape.between
        pair = (arm == a) | (arm == ref)
        b, v = _fit(time[pair], event[pair], (arm[pair] == a).astype(float))
        doc["hazard_ratios"].append(
            {
                "id": f"{a}_vs_{ref}",
                "comparison": {"treatment": a, "control": ref},
                **_ratio_text(float(b[0]), math.sqrt(v[0, 0])),
                **src,
                "model": {"method": "cox", "adjusted": False},
            }
        )
    if comparisons:
        doc["comparisons"] = comparisons
    truth: dict[str, Any] = {"arm": arm, "time": time, "event": event}
    if shape.subgroups:
        labels = np.where(bulbar, "bulbar", "limb").astype(object)
        doc["modifiers"] = [
            {
                "id": "onset",
                "label": "site of onset",
                "kind": "categorical",
                "categories": ["bulbar", "limb"],
                "shares": {c: f"{np.mean(labels == c):.2f}" for c in ("bulbar", "limb")},
                **src,
            }
        ]
        for a, cat in ((a, c) for a in split for c in shape.printed_categories):
            inside = ((arm == a) | (arm == shape.control)) & (labels == cat)
            b, v = _fit(time[inside], event[inside], (arm[inside] == a).astype(float))
            doc["hazard_ratios"].append(
                {
                    "id": f"{a}_{cat}",
                    "comparison": {"treatment": a, "control": shape.control},
                    **_ratio_text(float(b[0]), math.sqrt(v[0, 0])),
                    **src,
                    "population": {"kind": "subgroup", "modifier": "onset", "category": cat},
                    "model": {"method": "cox", "adjusted": False},
                }
            )
        truth["onset"] = labels
    return _plain(doc), {"trial": truth}
