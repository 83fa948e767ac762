"""Simulated trials printed as a paper would print them: summaries with a known truth.

:func:`simulate_summary` draws one trial from a :class:`TrialShape` (size, allocation,
modifier groups and which of them are reported, scale, interaction, time unit, ties,
covariates), fits it as a paper would (Cox, Efron ties, Wald CI and p) and writes every figure
rounded as printed (HRs and CIs to 2 decimals, p to 2 from 0.01 and to 3 below, shares to
2, counts exact) into a
reported-summary document (format version 1). The truth satisfies every figure, so a rebuild
that misses one is the search's fault: the validation (``validation/round_trip.py``) and the
tests of the reconstruction use it. :func:`simulate_follow_up_summary` draws a trial with
staggered entry (no landmark), :func:`simulate_km_landmark_summary` adds each arm's
Kaplan-Meier survival at a time with its CI, and :func:`simulate_categorical_summary` a trial
printed by category.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..models import DataGeneratingModel, LogNormalBiomarker, WeibullBaseline
from ..survival import fit_cox_batch, logrank_batch
from ._joint import joint_interaction_p
from ._km_landmark import CI_METHODS, km_at, survival_ci

__all__ = [
    "CategoricalShape",
    "TrialShape",
    "random_shape",
    "simulate_categorical_summary",
    "simulate_follow_up_summary",
    "simulate_km_landmark_summary",
    "simulate_summary",
]

_Z = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class TrialShape:
    """What a simulated trial and its printed summary look like.

    ``groups`` modifier groups (0: no modifier figure at all) from ``cuts`` (quantiles of the
    modifier, ``groups - 1`` of them); ``reported`` the indices of the groups whose HR is
    printed, ``with_ci`` those that also get a CI and p, ``shares`` those whose share is
    printed. ``binary``: the modifier takes two values (one cut, two groups). ``scale``:
    linear or log modifier effect; ``interaction``: the true log HR ratio per unit of the
    scaled modifier (0: none). ``model_term``: print the interaction model's treatment HR
    (with CI and p) and, if ``interaction_term``, the ratio of HRs. ``unit``: days, weeks,
    months or years (follow-up 720 days, 104 weeks, 24 months or 2 years); ``ties``: event
    times rounded up to whole units. ``covariates``: print median age and share
    of men. ``landmarks``: extra survival landmarks (fractions of follow-up) per arm.
    """

    n: int = 300
    allocation: tuple[int, int] = (1, 1)
    groups: int = 2
    reported: tuple[int, ...] = (0, 1)
    with_ci: tuple[int, ...] = (0, 1)
    shares: tuple[int, ...] = (0, 1)
    binary: bool = False
    scale: str = "linear"
    interaction: float = 0.3
    model_term: bool = False
    interaction_term: bool = False
    unit: str = "days"
    ties: bool = False
    covariates: bool = True
    landmarks: tuple[float, ...] = ()
    death_risk: float = 0.4
    log_hr: float = -0.3
    median: float = 200.0
    sigma_log: float = 0.8
    per_arm_deaths: bool = True
    overall_ci: bool = True
    adjusted_overall: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def random_shape(rng: np.random.Generator) -> TrialShape:
    """A shape from the validation family (n 60-1,000; 1:1, 2:1, 3:2; 0-4 groups with a
    random subset reported; continuous or binary modifier; linear or log scale; interaction or
    not; days or months; ties; age and sex)."""
    n = int(rng.integers(60, 1001))
    allocation = [(1, 1), (2, 1), (3, 2)][rng.integers(3)]
    groups = int(rng.integers(0, 5))
    binary = bool(groups >= 2 and rng.random() < 0.25)
    if binary:
        groups = 2
    reported = tuple(int(g) for g in range(groups) if rng.random() < 0.75) if groups else ()
    if groups and not reported:
        reported = (int(rng.integers(groups)),)
    with_ci = tuple(g for g in reported if rng.random() < 0.6)
    shares = tuple(g for g in reported if rng.random() < 0.7)
    unit = "days" if rng.random() < 0.6 else "months"
    model_term = bool(groups and not binary and rng.random() < 0.4)
    return TrialShape(
        n=n,
        allocation=allocation,
        groups=groups,
        reported=reported,
        with_ci=with_ci,
        shares=shares,
        binary=binary,
        scale="log" if rng.random() < 0.5 else "linear",
        interaction=0.0 if rng.random() < 0.4 else float(rng.uniform(0.2, 0.6)),
        model_term=model_term,
        interaction_term=bool(model_term and rng.random() < 0.5),
        unit=unit,
        ties=bool(unit == "months" and rng.random() < 0.5),
        covariates=bool(rng.random() < 0.7),
        landmarks=(0.5,) if rng.random() < 0.3 else (),
        death_risk=float(rng.uniform(0.2, 0.6)),
        log_hr=float(rng.uniform(-0.6, 0.1)),
        median=float([20.0, 200.0, 2000.0][rng.integers(3)]),
    )


def _fit(time: np.ndarray, event: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = X if X.ndim == 2 else X[:, None]
    res = fit_cox_batch(time[None], event[None], X[None].astype(float), ties="efron")
    if not res.ok[0]:
        raise ValueError("simulated trial: a Cox fit failed")
    return res.coef[0], res.cov[0]


def _plain(value: Any) -> Any:
    """A document with numpy scalars as Python numbers (what YAML and JSON write)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _p_text(p: float) -> str | None:
    """A p-value as journals print it: 2 decimals from 0.01, 3 below; below 0.001 (printed
    as a bound, which format version 1 cannot hold) or printed as 1.00 it is left out."""
    if p < 0.001 or p >= 0.995:
        return None
    return f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def _ratio_text(b: float, se: float, with_ci: bool = True) -> dict[str, Any]:
    """A printed hazard ratio (or ratio of HRs) as text: value and CI to 2 decimals, p as
    printed (format version 2 keeps the printed digits)."""
    out: dict[str, Any] = {"value": f"{math.exp(b):.2f}"}
    if with_ci:
        out["ci"] = [f"{math.exp(b - _Z * se):.2f}", f"{math.exp(b + _Z * se):.2f}"]
        p = _p_text(2 * float(stats.norm.sf(abs(b / se))))
        if p is not None:
            out["p"] = p
    return out


def _ratio(b: float, se: float, with_ci: bool = True) -> dict[str, Any]:
    """:func:`_ratio_text` as numbers (format version 1 reads bare YAML numbers)."""
    return {
        k: [float(x) for x in v] if isinstance(v, list) else float(v)
        for k, v in _ratio_text(b, se, with_ci).items()
    }


def _hr(time, event, trt, with_ci: bool) -> dict[str, Any]:
    b, v = _fit(time, event, trt)
    return _ratio(float(b[0]), math.sqrt(v[0, 0]), with_ci)


def _printable(out: dict[str, Any]) -> bool:
    """A printed HR whose figures a paper could show (positive, CI around the estimate, p
    not printed as 0 or 1)."""
    v = out["value"]
    if not 0.05 <= v <= 20:
        return False
    if "ci" in out:
        lo, hi = out["ci"]
        if not (0 < lo <= v <= hi and lo < hi):
            return False
    return True


def simulate_summary(
    shape: TrialShape, rng: np.random.Generator
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One simulated trial of ``shape`` and its printed summary.

    Returns
    -------
    doc, truth
        The summary document (a dict to write as YAML) and the truth: the trial itself
        (columns arm, modifier, time, event, age, male) and the model.
    """
    follow_up = {"days": 720.0, "weeks": 104.0, "months": 24.0, "years": 2.0}[shape.unit]
    n_t = round(shape.n * shape.allocation[0] / sum(shape.allocation))
    n_c = shape.n - n_t
    if shape.binary:
        median, sigma = 1.0, 1.0
    else:
        median, sigma = shape.median, shape.sigma_log
    bm = LogNormalBiomarker(median, sigma, unit="u")
    unit_x = 1.0 if shape.scale == "log" else median
    b_int = shape.interaction / unit_x
    b_mod = 0.3 / unit_x
    # baseline scale so that about death_risk die by the landmark in the control arm at the
    # median modifier
    g_median = median if shape.scale == "linear" else math.log(median)
    scale = follow_up * math.exp(b_mod * g_median) / (-math.log(1 - shape.death_risk))
    model = DataGeneratingModel(
        WeibullBaseline(1.0, scale),
        bm,
        shape.log_hr - b_int * g_median,
        b_mod,
        b_int,
        scale=shape.scale,
        follow_up=follow_up,
    )
    trial = model.simulate((n_t, n_c), rng)
    trt = trial["arm"].to_numpy(float)
    x = trial["biomarker"].to_numpy(float)
    if shape.binary:
        x = np.where(x >= 1.0, 2.0, 0.5)  # two values; the groups split at 1
    x = np.round(x, 1)
    t = trial["time"].to_numpy(float)
    e = trial["event"].to_numpy(np.int8)
    # event times as a trial records them: whole days, whole months (ties) or 0.01 month
    if shape.ties or shape.unit == "days":
        t = np.where(e == 1, np.maximum(np.ceil(t), 1.0), t)
    else:
        t = np.where(e == 1, np.maximum(np.round(t, 2), 0.01), t)
    e = np.where(t >= follow_up, 0, e).astype(np.int8)
    t = np.minimum(t, follow_up)
    age = np.clip(np.round(rng.normal(60, 10, shape.n)), 18, 85)
    male = (rng.random(shape.n) < 0.6).astype(int)
    d_t, d_c = int(e[trt == 1].sum()), int(e[trt == 0].sum())
    src = {"source": "sim"}
    doc: dict[str, Any] = {
        "format": "alsstats.reported-summary",
        "format_version": 1,
        "trial": {
            "name": "SIMULATED",
            "allocation": f"{shape.allocation[0]}:{shape.allocation[1]}",
            "endpoint": {"name": "death", "time_unit": shape.unit},
            "treatment_arm": "active",
            "control_arm": "control",
        },
        "sources": [{"key": "sim", "citation": "simulated trial (alsstats validation)"}],
        "arms": [
            {"id": "active", "label": "active", "role": "treatment", "n": {"value": n_t, **src}},
            {"id": "control", "label": "control", "role": "control", "n": {"value": n_c, **src}},
        ],
        "follow_up": {
            "landmark": {"value": follow_up, "unit": shape.unit, **src},
            "lost_to_follow_up": {"value": 0, **src},
        },
        "events": [{"id": "deaths_total", "arm": "all", "value": d_t + d_c, **src}],
        "survival": [],
        "hazard_ratios": [],
        "assumptions": [
            {
                "id": "baseline_hazard",
                "value": {"family": "weibull", "shape": 1.0},
                "reason": "simulated with a constant hazard",
            },
        ],
    }
    if shape.per_arm_deaths:
        doc["events"] += [
            {"id": "deaths_active", "arm": "active", "value": d_t, **src},
            {"id": "deaths_control", "arm": "control", "value": d_c, **src},
        ]
    for frac in shape.landmarks:
        when = round(follow_up * frac, 1)
        for arm, sel in (("active", trt == 1), ("control", trt == 0)):
            alive = float(np.mean(~((e[sel] == 1) & (t[sel] <= when))))
            doc["survival"].append(
                {
                    "id": f"alive_{arm}_{when:g}",
                    "arm": arm,
                    "time": when,
                    "proportion": round(alive, 2),
                    **src,
                }
            )
    overall = _hr(t, e, trt, shape.overall_ci)
    doc["hazard_ratios"].append(
        {
            "id": "overall",
            "comparison": {"treatment": "active", "control": "control"},
            **overall,
            **src,
            "population": {"kind": "all"},
            "model": {"method": "cox", "adjusted": False},
        }
    )
    if shape.adjusted_overall:
        b, v = _fit(t, e, np.column_stack([trt, age, male]))
        se = math.sqrt(v[0, 0])
        doc["hazard_ratios"].append(
            {
                "id": "overall_adjusted",
                "comparison": {"treatment": "active", "control": "control"},
                **_ratio(float(b[0]), se),
                **src,
                "population": {"kind": "all"},
                "model": {"method": "cox", "adjusted": True, "covariates": ["age", "male"]},
            }
        )
    if shape.groups:
        doc["biomarkers"] = [{"id": "marker", "label": "a biomarker", "unit": "u", **src}]
        if shape.binary:
            cuts = [1.0]
        else:
            qs = np.linspace(0, 1, shape.groups + 1)[1:-1]
            cuts = [float(f"{c:.2g}") for c in bm.quantile(qs)]
        edges: list[float | None] = [None, *cuts, None]
        for g in range(shape.groups):
            lo, hi = edges[g], edges[g + 1]
            inside = np.ones(shape.n, bool)
            if lo is not None:
                inside &= x >= lo
            if hi is not None:
                inside &= x < hi
            if g not in shape.reported or inside.sum() < 4 or e[inside].sum() < 2:
                continue
            if e[inside & (trt == 1)].sum() == 0 or e[inside & (trt == 0)].sum() == 0:
                continue
            fig = _hr(t[inside], e[inside], trt[inside], g in shape.with_ci)
            if not _printable(fig):
                continue
            pop: dict[str, Any] = {"kind": "biomarker_range", "biomarker": "marker"}
            if lo is not None:
                pop["lower"] = lo
            if hi is not None:
                pop["upper"] = hi
            if g in shape.shares:
                pop["share"] = round(float(inside.mean()), 2)
            doc["hazard_ratios"].append(
                {
                    "id": f"group_{g + 1}",
                    "comparison": {"treatment": "active", "control": "control"},
                    **fig,
                    **src,
                    "population": pop,
                    "model": {"method": "cox", "adjusted": False},
                }
            )
        doc["assumptions"].append(
            {"id": "marker_scale", "value": shape.scale, "reason": "simulated on this scale"}
        )
        if not shape.binary:
            # Table 1's median (IQR) of the modifier, as a lognormal (format version 1 has no
            # field for them; version 2's modifiers.median / iqr)
            q1, med, q3 = (float(v) for v in np.quantile(x, [0.25, 0.5, 0.75]))
            doc["assumptions"].append(
                {
                    "id": "marker_distribution",
                    "value": {
                        "family": "lognormal",
                        "median": float(f"{med:.3g}"),
                        "sigma_log": round(math.log(q3 / q1) / 1.349, 2),
                    },
                    "reason": "lognormal with the printed median and IQR",
                }
            )
        if shape.model_term:
            g = np.log(x) if shape.scale == "log" else x
            coef, cov = _fit(t, e, np.column_stack([trt, g, trt * g]))
            se = math.sqrt(cov[0, 0])
            term = _ratio(float(coef[0]), se)
            if _printable(term):
                doc["hazard_ratios"].append(
                    {
                        "id": "model_treatment",
                        "comparison": {"treatment": "active", "control": "control"},
                        **term,
                        **src,
                        "population": {
                            "kind": "model_term",
                            "term": "treatment",
                            "modifier": "marker",
                            "at": 1 if shape.scale == "log" else 0,
                        },
                        "model": {
                            "method": "cox",
                            "adjusted": False,
                            "interaction": ["treatment", "marker"],
                        },
                    }
                )
            if shape.interaction_term:
                se2 = math.sqrt(cov[2, 2])
                ratio = _ratio(float(coef[2]), se2)
                if _printable(ratio):
                    doc["hazard_ratios"].append(
                        {
                            "id": "model_interaction",
                            "comparison": {"treatment": "active", "control": "control"},
                            **ratio,
                            **src,
                            "population": {
                                "kind": "model_term",
                                "term": "treatment:marker",
                                "modifier": "marker",
                            },
                            "model": {
                                "method": "cox",
                                "adjusted": False,
                                "interaction": ["treatment", "marker"],
                            },
                        }
                    )
    if shape.covariates:
        doc["covariates"] = [
            {
                "name": "age",
                "statistic": "median",
                "value": float(np.median(age)),
                "unit": "years",
                **src,
            },
            {
                "name": "male",
                "statistic": "proportion",
                "value": round(float(male.mean()), 2),
                **src,
            },
        ]
    truth = {
        "model": model,
        "trial": {"arm": trt, "modifier": x, "time": t, "event": e, "age": age, "male": male},
    }
    return _plain(doc), truth


def _km_median_printed(time: np.ndarray, event: np.ndarray, decimals: int) -> str | None:
    """The Kaplan-Meier median as printed, or None when not reached or when the conventions
    (first time S <= 0.5; R's midpoint where S = 0.5 exactly) print differently."""
    order = np.lexsort((1 - event, time))
    t, d = time[order], event[order].astype(float)
    surv = np.cumprod(1.0 - d / (t.size - np.arange(t.size)))
    below = np.flatnonzero(surv <= 0.5 + 1e-12)
    if below.size == 0:
        return None
    k = int(below[0])
    first = f"{t[k]:.{decimals}f}"
    if abs(surv[k] - 0.5) < 1e-12:
        later = t[(d > 0) & (t > t[k])]
        if later.size and f"{(t[k] + later[0]) / 2:.{decimals}f}" != first:
            return None
    return first


def simulate_follow_up_summary(
    rng: np.random.Generator,
    *,
    n: tuple[int, int] = (90, 90),
    log_hr: float = -0.5,
    median_control: float = 14.0,
    maximum: float = 30.0,
    lost: int = 2,
    deaths: bool = True,
    medians: bool = False,
    test: str = "log_rank",
    grid: float | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """A simulated two-arm trial followed to a maximum follow-up (no landmark), printed.

    Constant hazards (control median ``median_control`` months, treatment HR exp(log_hr)),
    entry spread so that survivors are censored uniformly between half the maximum and the
    maximum (the rebuild's default reading of a maximum follow-up), ``lost`` patients lost to
    follow-up censored uniformly before that. Printed: arm sizes, the maximum follow-up
    (months, 1 decimal), deaths per arm (``deaths``), Kaplan-Meier medians per arm to 1
    decimal (``medians``; the trial is redrawn until both are reached and unambiguous), the
    Cox HR and Wald 95% CI to 2 decimals and a p from ``test`` ("log_rank", "wald" or
    "unknown": the log-rank p is printed). ``grid``: times recorded in whole steps of it
    (deaths and censorings rounded up: ties, as in a trial followed monthly); default 0.01
    month. Returns the summary document (format version 2) and the trial (columns arm, time,
    death).
    """
    for _ in range(100):
        trt = np.r_[np.ones(n[0]), np.zeros(n[1])]
        rate = math.log(2.0) / median_control * np.exp(log_hr * trt)
        t_event = rng.exponential(1.0 / rate)
        cens = rng.uniform(0.5 * maximum, maximum, trt.size)
        lost_idx = rng.choice(trt.size, lost, replace=False)
        cens[lost_idx] = rng.uniform(0.0, 0.5 * maximum, lost)
        time = np.round(np.minimum(t_event, cens), 2)
        event = (t_event <= cens).astype(np.int8)
        time = np.maximum(time, 0.01)
        if grid is not None:  # a death and a censoring in one step: the death comes first
            time = np.minimum(np.ceil(np.minimum(t_event, cens) / grid) * grid, maximum)
        b, v = _fit(time, event, trt)
        se = math.sqrt(v[0, 0])
        a, c = trt == 1, trt == 0
        p_lr = float(logrank_batch(time, event, trt.astype(int)).p_value[0])
        p_wald = 2 * float(stats.norm.sf(abs(b[0] / se)))
        p = _p_text(p_wald if test == "wald" else p_lr)
        med = [_km_median_printed(time[s], event[s], 1) for s in (a, c)]
        if p is None or (medians and None in med):
            continue
        break
    else:  # pragma: no cover - 100 draws without a printable trial
        raise ValueError("simulated trial: no printable draw")
    src = {"source": "sim", "figure_role": "primary"}
    hr = {
        "id": "os",
        "comparison": {"treatment": "active", "control": "control"},
        "value": f"{math.exp(b[0]):.2f}",
        "ci": [f"{math.exp(b[0] - _Z * se):.2f}", f"{math.exp(b[0] + _Z * se):.2f}"],
        "level": 0.95,
        "p": p,
        "test": test,
        "model": {"method": "cox", "adjusted": False},
        **src,
    }
    doc: dict[str, Any] = {
        "format": "alsstats.reported-summary",
        "format_version": 2,
        "trial": {
            "name": "SIMULATED (maximum follow-up)",
            "time_unit": "months",
            "endpoint": {"name": "death", "definition": "death from any cause"},
            "treatment_arm": "active",
            "control_arm": "control",
        },
        "sources": [{"key": "sim", "citation": "simulated trial (alsstats tests)"}],
        "arms": [
            {"id": "active", "label": "active", "role": "treatment", "n": {"value": n[0], **src}},
            {"id": "control", "label": "control", "role": "control", "n": {"value": n[1], **src}},
        ],
        "follow_up": {
            "lost_to_follow_up": {"value": lost, **src},
            "maximum_follow_up": {"value": f"{maximum:.1f}", "unit": "months", **src},
        },
        "hazard_ratios": [hr],
    }
    if deaths:
        doc["events"] = [
            {"id": f"deaths_{arm}", "arm": arm, "value": int(event[s].sum()), **src}
            for arm, s in (("active", a), ("control", c))
        ]
    if medians:
        doc["medians"] = [
            {"id": f"median_{arm}", "arm": arm, "value": m, **src}
            for arm, m in zip(("active", "control"), med, strict=True)
        ]
    trial = pd.DataFrame(
        {"arm": np.where(trt == 1, "active", "control"), "time": time, "death": event}
    )
    return _plain(doc), trial


def simulate_km_landmark_summary(
    rng: np.random.Generator,
    *,
    time: float = 18.0,
    ci_method: str = "log_log",
    decimals: int = 0,
    level: float = 0.95,
    **follow_up: Any,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """:func:`simulate_follow_up_summary` (keywords ``follow_up``) with each arm's
    Kaplan-Meier survival at ``time`` printed as papers print it: a percentage with
    ``decimals`` decimals and its ``level`` CI by ``ci_method`` (one of "log_log", "log",
    "plain"), the method named in the summary.

    ``time`` should lie before the maximum follow-up: survivors are censored from half the
    maximum on, so S(t) there is not the share alive.
    """
    if ci_method not in CI_METHODS:
        raise ValueError(f"unknown CI method {ci_method!r}; use one of {list(CI_METHODS)}")
    doc, trial = simulate_follow_up_summary(rng, **follow_up)
    z = float(stats.norm.ppf((1 + level) / 2))
    src = {"source": "sim", "figure_role": "primary"}

    def pct(x: float) -> str:
        return f"{100 * x:.{decimals}f}%"

    doc["survival"] = []
    for arm in ("active", "control"):
        sel = (trial["arm"] == arm).to_numpy()
        km = km_at(
            trial["time"].to_numpy(float)[None, sel], trial["death"].to_numpy()[None, sel], time
        )
        lower, upper = survival_ci(km.surv, km.greenwood, z, ci_method)
        doc["survival"].append(
            {
                "id": f"km_{arm}_{time:g}",
                "arm": arm,
                "time": time,
                "proportion": pct(float(km.surv[0])),
                "ci": [pct(float(lower[0])), pct(float(upper[0]))],
                "level": level,
                "ci_method": ci_method,
                **src,
            }
        )
    return _plain(doc), trial


@dataclass(frozen=True)
class CategoricalShape:
    """A simulated trial with a categorical modifier (format version 2), printed by category.

    ``categories`` and their true ``shares``; ``log_hr`` the treatment log HR in the first
    (reference) category, ``interaction`` the log ratio of HRs of every other category to it,
    ``prognostic`` the control-arm log HR of each category after the first. Printed: arm
    sizes and deaths, the overall HR, per category its HR with CI and p, its share, and per
    arm its alive count with denominator at ``landmark`` (a fraction of follow-up) and, with
    ``end_counts``, at the end of follow-up; with ``category_events`` the events per arm and
    category (``events:`` with a subgroup population); with two categories the interaction
    (ratio of HRs, CI, Wald p). ``interaction_on`` names the categories (indices) whose ratio
    of HRs to the first is ``exp(interaction)`` (default: every other one; the rest have
    none); with three or more categories and ``joint_test`` ("wald" or "likelihood_ratio")
    the p for interaction of the joint (k-1)-df test is printed as a subgroup table prints it
    (2 decimals, 3 below 0.01; left out below 0.001).
    """

    n: int = 300
    allocation: tuple[int, int] = (1, 1)
    categories: tuple[str, ...] = ("bulbar", "limb")
    shares: tuple[float, ...] = (0.3, 0.7)
    log_hr: float = -0.5
    interaction: float = 0.4
    prognostic: float = -0.5
    death_risk: float = 0.55
    landmark: float = 0.5
    unit: str = "months"
    with_ci: bool = True
    end_counts: bool = True
    interaction_figure: bool = True
    category_events: bool = False
    interaction_on: tuple[int, ...] | None = None
    joint_test: str | None = None


def simulate_categorical_summary(
    shape: CategoricalShape, rng: np.random.Generator
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One simulated trial of ``shape`` and its printed summary (format version 2).

    Returns
    -------
    doc, truth
        The summary document and the trial (arm 1/0, category labels, time, event).
    """
    follow_up = {"days": 720.0, "weeks": 104.0, "months": 24.0, "years": 2.0}[shape.unit]
    n_t = round(shape.n * shape.allocation[0] / sum(shape.allocation))
    n_c = shape.n - n_t
    k = len(shape.categories)
    trt = np.r_[np.ones(n_t), np.zeros(n_c)]
    code = rng.choice(k, size=shape.n, p=np.asarray(shape.shares) / sum(shape.shares))
    other = (code > 0).astype(float)
    modified = other if shape.interaction_on is None else np.isin(code, shape.interaction_on)
    lp = trt * (shape.log_hr + shape.interaction * modified) + shape.prognostic * other
    rate = -math.log(1 - shape.death_risk) / follow_up
    latent = rng.standard_exponential(shape.n) / (rate * np.exp(lp))
    e = (latent < follow_up).astype(np.int8)
    t = np.where(e == 1, np.maximum(np.round(latent, 2), 0.01), follow_up)
    if shape.unit == "days":
        t = np.where(e == 1, np.maximum(np.ceil(latent), 1.0), follow_up)
    e = np.where(t >= follow_up, 0, e).astype(np.int8)
    t = np.minimum(t, follow_up)
    labels = np.asarray(shape.categories, dtype=object)[code]
    src = {"source": "sim"}
    arms = (("active", trt == 1), ("control", trt == 0))
    doc: dict[str, Any] = {
        "format": "alsstats.reported-summary",
        "format_version": 2,
        "trial": {
            "name": "SIMULATED categorical",
            "allocation": f"{shape.allocation[0]}:{shape.allocation[1]}",
            "time_unit": shape.unit,
            "endpoint": {"name": "death"},
            "treatment_arm": "active",
            "control_arm": "control",
        },
        "sources": [{"key": "sim", "citation": "simulated trial (alsstats validation)"}],
        "arms": [
            {"id": "active", "label": "active", "role": "treatment", "n": {"value": n_t, **src}},
            {"id": "control", "label": "control", "role": "control", "n": {"value": n_c, **src}},
        ],
        "follow_up": {"landmark": {"value": follow_up, "unit": shape.unit, **src}},
        "modifiers": [
            {
                "id": "onset",
                "label": "site of onset",
                "kind": "categorical",
                "categories": list(shape.categories),
                "shares": {c: f"{np.mean(code == j):.2f}" for j, c in enumerate(shape.categories)},
                **src,
            }
        ],
        "events": [
            {"id": f"deaths_{arm}", "arm": arm, "value": int(e[sel].sum()), **src}
            for arm, sel in arms
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
    b, v = _fit(t, e, trt)
    doc["hazard_ratios"].append(
        {
            "id": "overall",
            "comparison": {"treatment": "active", "control": "control"},
            **_ratio_text(float(b[0]), math.sqrt(v[0, 0])),
            **src,
            "population": {"kind": "all"},
            "model": {"method": "cox", "adjusted": False},
        }
    )
    when = round(follow_up * shape.landmark, 1)
    for j, cat in enumerate(shape.categories):
        inside = code == j
        pop = {"kind": "subgroup", "modifier": "onset", "category": cat}
        b, v = _fit(t[inside], e[inside], trt[inside])
        doc["hazard_ratios"].append(
            {
                "id": f"hr_{cat}",
                "comparison": {"treatment": "active", "control": "control"},
                **_ratio_text(float(b[0]), math.sqrt(v[0, 0]), shape.with_ci),
                **src,
                "population": pop,
                "model": {"method": "cox", "adjusted": False},
            }
        )
        for arm, sel in arms:
            cell = sel & inside
            if shape.category_events:
                doc["events"].append(
                    {"id": f"deaths_{arm}_{cat}", "arm": arm, "value": int(e[cell].sum()),
                     "population": pop, **src}
                )  # fmt: skip
            times = [(when, f"alive_{arm}_{cat}_{when:g}")]
            if shape.end_counts:
                times.append((follow_up, f"alive_{arm}_{cat}_end"))
            for at, ident in times:
                alive = int((~((e[cell] == 1) & (t[cell] <= at))).sum())
                doc["survival"].append(
                    {
                        "id": ident,
                        "arm": arm,
                        "time": at,
                        "count": alive,
                        "n": int(cell.sum()),
                        "proportion": f"{100 * alive / cell.sum():.0f}%",
                        "population": pop,
                        **src,
                    }
                )
    if k == 2 and shape.interaction_figure:
        x = (code == 1).astype(float)
        coef, cov = _fit(t, e, np.column_stack([trt, x, trt * x]))
        doc["interactions"] = [
            {
                "id": "interaction",
                "modifier": "onset",
                "comparison": {"treatment": "active", "control": "control"},
                **_ratio_text(float(coef[2]), math.sqrt(cov[2, 2])),
                "test": "wald",
                **src,
            }
        ]
    if k > 2 and shape.joint_test is not None:
        p = _p_text(
            float(joint_interaction_p(t[None], e[None], trt, code[None], k, shape.joint_test)[0])
        )
        if p is not None:
            doc["interactions"] = [
                {
                    "id": "interaction",
                    "modifier": "onset",
                    "comparison": {"treatment": "active", "control": "control"},
                    "p": p,
                    "test": shape.joint_test,
                    **src,
                }
            ]
    truth = {"trial": {"arm": trt, "onset": labels, "time": t, "event": e}}
    return _plain(doc), truth
