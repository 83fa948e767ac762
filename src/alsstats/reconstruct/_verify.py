"""Does a cohort reproduce a summary's figures? The match table of any cohort, at printed precision.

:func:`verify_cohort` takes any patient-level cohort (a rebuilt one, someone else's
reconstruction, or real patient data from a sponsor) and a reported summary, and says for each
figure whether the cohort's own statistic rounds to it as printed. It uses the reconstruction's
targets (:func:`targets_from_summary`), statistics (:func:`reconstructed_values`) and match
table (:meth:`Reconstruction.match_table`): the search and the verification judge a cohort by
one rule. :func:`assert_reproduces` is the same for a user's own pytest suite.

Cohort columns: ``arm`` (the summary's arm ids), ``time`` (in the summary's time unit),
``death`` (1 = event, 0 = censored; ``event`` is accepted too); ``treatment`` is derived from
the arm when absent; biomarker figures need the biomarker's column (named by its id, the last
part of its id, or ``biomarker``), covariate figures ``age``/``male``, and a categorical
subgroup figure a column named after its modifier.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from scipy import stats

from ..errors import InputError
from ..summary import Population, as_reported_summary
from ..survival import km_estimate, logrank_batch
from ._calibrate import Target, biomarker_groups, resolve_assumptions, targets_from_summary
from ._fits import _Z, Design
from ._joint import JOINT_P
from ._joint_check import joint_not_target_rows, lifelines_joint_p
from ._km_landmark import SURVIVAL_CI
from ._modifier import modifier_of
from ._result import Reconstruction

__all__ = ["VERIFY_VERDICTS", "Verification", "assert_reproduces", "verify_cohort"]

VERIFY_VERDICTS = ("met", "not met", "not checkable")

# The column the verification's fits read the modifier from (Design's default column); it is
# filled from whichever name the cohort gives the modifier.
_BIOMARKER = "biomarker"

# Tests whose p a cohort can recompute (the engine's Cox fit gives Wald; log-rank by count).
_WALD = {None, "wald"}
_LOG_RANK = {"log_rank", "log-rank", "logrank"}
# A p whose test is not named is met when the Wald or the log-rank p prints as reported.
_UNKNOWN = {"unknown"}

# Sections whose figures are listed even when no target covers them (so nothing is silently
# left out of the table).
_SECTIONS = (
    "events",
    "survival",
    "hazard_ratios",
    "medians",
    "comparisons",
    "interactions",
    "event_shares",
)


@dataclass
class Verification:
    """The match table of one cohort against one summary.

    Attributes
    ----------
    table : DataFrame
        One row per figure: ``figure`` (target id), ``statistic``, ``reported`` (as printed),
        ``cohort`` (the cohort's own value), ``rounded`` (written at the printed precision),
        ``verdict`` (met / not met / not checkable) and ``note``.
    passed : bool
        True when no figure is "not met" (figures that cannot be checked do not fail).
    summary_name, cohort_name : where the two came from.
    """

    table: pd.DataFrame
    summary_name: str = ""
    cohort_name: str = ""

    @property
    def passed(self) -> bool:
        return not (self.table["verdict"] == "not met").any()

    @property
    def failures(self) -> list[str]:
        """Ids of the figures the cohort does not reproduce."""
        return self.table.loc[self.table["verdict"] == "not met", "figure"].tolist()

    @property
    def counts(self) -> dict[str, int]:
        """How many figures are met, not met and not checkable."""
        return {v: int((self.table["verdict"] == v).sum()) for v in VERIFY_VERDICTS}

    def to_json(self) -> str:
        """Deterministic JSON: the verdict counts and the rows (values to 10 significant digits)."""
        rows = []
        for r in self.table.to_dict(orient="records"):
            v = r["cohort"]
            r["cohort"] = None if v is None or not np.isfinite(v) else float(f"{v:.10g}")
            rows.append(r)
        doc = {
            "summary": self.summary_name,
            "cohort": self.cohort_name,
            "passed": self.passed,
            "counts": self.counts,
            "figures": rows,
        }
        return json.dumps(doc, indent=2, sort_keys=True)

    def to_text(self) -> str:
        """A fixed-width table and a one-line verdict."""
        shown = self.table.assign(
            cohort=[
                "" if not np.isfinite(v) else f"{v:.6g}" for v in self.table["cohort"].to_numpy()
            ]
        )
        c = self.counts
        head = f"{c['met']} met, {c['not met']} not met, {c['not checkable']} not checkable: " + (
            "the cohort reproduces every checkable figure" if self.passed else "NOT REPRODUCED"
        )
        return shown.to_string(index=False) + "\n\n" + head

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False)


# ------------------------------------------------------------------------------- inputs


def _read_cohort(cohort: pd.DataFrame | str | os.PathLike[str]) -> tuple[pd.DataFrame, str]:
    if isinstance(cohort, pd.DataFrame):
        return cohort.copy(), "<DataFrame>"
    path = Path(cohort)
    if not path.is_file():
        raise InputError(path, "", "no such cohort file")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"not a readable CSV: {exc}") from None
    return df, str(path)


def _prepare_cohort(df: pd.DataFrame, name: str, summary: Any) -> pd.DataFrame:
    if "death" not in df.columns and "event" in df.columns:
        df = df.rename(columns={"event": "death"})
    for col in ("arm", "time", "death"):
        if col not in df.columns:
            raise InputError(name, col, "missing column (a cohort needs arm, time, death)")
    arm_ids = [a.id for a in summary.arms]
    df["arm"] = df["arm"].astype(str)
    unknown = sorted(set(df["arm"]) - set(arm_ids))
    if unknown:
        raise InputError(name, "arm", f"arm ids {unknown} are not in the summary ({arm_ids})")
    time = pd.to_numeric(df["time"], errors="coerce")
    if time.isna().any() or (time < 0).any():
        raise InputError(name, "time", "every time must be a number >= 0")
    death = pd.to_numeric(df["death"], errors="coerce")
    if not death.isin([0, 1]).all():
        raise InputError(name, "death", "every death must be 0 or 1")
    df["time"], df["death"] = time.astype(float), death.astype(int)
    values = next((df[c] for c in _biomarker_columns(summary) if c in df.columns), None)
    # the fits read the modifier from one column: fill every name it may have with the
    # cohort's values (NaN when it has none: those figures are "not checkable")
    for col in _biomarker_columns(summary):
        df[col] = np.nan if values is None else pd.to_numeric(values, errors="coerce")
    return df


def _biomarker_columns(summary: Any) -> list[str]:
    """Names a cohort may give the summary's biomarker: its id, the id's last part, generic."""
    # a biomarker entry with a value is a reported share or summary, not a measured column
    ids = [b.id for b in getattr(summary, "biomarkers", None) or () if b.value is None]
    ids += [m.id for m in getattr(summary, "modifiers", None) or () if _continuous(m)]
    names = [n for i in ids for n in (i, i.rsplit("_", 1)[-1])]
    return list(dict.fromkeys([*names, "biomarker"]))


def _continuous(modifier: Any) -> bool:
    return getattr(modifier, "kind", "continuous") == "continuous"


# ------------------------------------------------------------------------------- design


def _scale(summary: Any, values: Mapping[str, Any]) -> str:
    """The biomarker's scale in the interaction model, from the ``<name>_scale`` assumption."""
    for name in _biomarker_columns(summary):
        if f"{name}_scale" in values:
            return str(values[f"{name}_scale"])
    return "linear"


def _design(summary: Any, targets: list[Target], values: Mapping[str, Any], df: pd.DataFrame):
    """The fits' settings for a given cohort (no calibration: nothing is searched here)."""
    x = df[_BIOMARKER].to_numpy(float)
    x = x[np.isfinite(x) & (x > 0)]
    # scale only conditions the Newton steps; the treatment term does not depend on it
    x_unit = float(np.median(x)) if x.size else 1.0
    adjusted = values.get("adjusted_model_covariates") or []
    landmark = summary.follow_up.get("landmark") if summary.follow_up else None
    modifier = modifier_of(summary)
    categorical: dict[str, Any] = {}
    if modifier.categorical and modifier.id in df.columns:
        # the treatment x category model reads the labels as category codes
        categorical = {"column": modifier.id, "categories": modifier.categories}
        x_unit = 1.0
    return Design(
        targets=[t for t in targets if t.statistic.startswith("hr")],
        groups=biomarker_groups(targets, values.get("remaining_share", "below")),
        log_scale=_scale(summary, values) == "log",
        x_unit=x_unit,
        adjust=tuple(c for c in adjusted if c in ("age", "male") and c in df.columns),
        ties=values["ties"],
        level_z=float(_Z[0.95]),
        landmark=float(landmark.value) if landmark is not None else float(df["time"].max()),
        **categorical,
    )


# ------------------------------------------------------------------------------- verify


def _hr_figures(summary: Any) -> dict[str, Any]:
    """Figures fitted on the two arms they compare: hazard ratios, and interactions (a ratio
    of HRs from the treatment x modifier model, where the summary makes targets of them)."""
    out = {i.id: i for i in getattr(summary, "interactions", None) or ()}
    return {**out, **{h.id: h for h in summary.hazard_ratios}}


def _subgroup_targets(
    summary: Any,
    targets: list[Target],
    assumptions: Mapping[str, Any] | None,
    include: frozenset[str],
) -> tuple[list[Target], dict[str, tuple[str, str]]]:
    """Targets of the figures in a categorical subgroup (the rebuild makes none for them).

    A hazard ratio or a landmark survival in a category is that figure for the patients in
    the category: its targets are the ones the reconstruction makes for the whole population,
    computed later on the category's rows. Returns the targets and, by target id, the
    (modifier, category) they belong to.
    """
    covered = {t.figure for t in targets}
    out: list[Target] = []
    where: dict[str, tuple[str, str]] = {}
    for section in ("hazard_ratios", "survival"):
        for fig in getattr(summary, section, None) or ():
            pop = getattr(fig, "population", None)
            if getattr(pop, "kind", "all") != "subgroup" or fig.id in covered:
                continue
            whole = dataclasses.replace(fig, population=Population(kind="all"))
            emptied = {s: [] for s in ("hazard_ratios", "events", "survival", "event_shares")}
            alone = dataclasses.replace(summary, **{**emptied, section: [whole]}, covariates=[])
            for t in targets_from_summary(alone, assumptions, include=include):
                if t.figure == fig.id:
                    out.append(t)
                    where[t.id] = (str(pop.modifier), str(pop.category))
    return out, where


def _test(target: Target, hr: Any) -> str | None:
    """The test behind a p: the target's (format v2 targets carry it), else the figure's."""
    return getattr(target, "test", None) or getattr(hr, "test", None)


def _two_arm_frame(df: pd.DataFrame, trt: str, ctl: str) -> pd.DataFrame:
    sub = df[df["arm"].isin([trt, ctl])].copy()
    sub["treatment"] = (sub["arm"] == trt).astype(int)
    return sub.reset_index(drop=True)


def _logrank_p(sub: pd.DataFrame, population: Mapping[str, Any]) -> float:
    mask = np.ones(len(sub), bool)
    x = sub[_BIOMARKER].to_numpy(float)
    lo, hi = population.get("lower"), population.get("upper")
    if lo is not None or hi is not None:
        mask &= np.isfinite(x)
        if lo is not None:
            mask &= x >= lo
        if hi is not None:
            mask &= x < hi
    res = logrank_batch(
        sub["time"].to_numpy(float),
        sub["death"].to_numpy(int),
        sub["treatment"].to_numpy(int),
        mask=mask,
    )
    return float(res.p_value[0])


def verify_cohort(
    cohort: pd.DataFrame | str | os.PathLike[str],
    summary: Any,
    *,
    assumptions: Mapping[str, Any] | None = None,
    include: set[str] | frozenset[str] = frozenset(),
) -> Verification:
    """The match table of a cohort against a summary's figures at their printed precision.

    Parameters
    ----------
    cohort
        A DataFrame or a CSV path with columns ``arm``, ``time`` (the summary's time unit),
        ``death`` (or ``event``), optionally ``treatment``, the biomarker (by its id, the
        id's last part, or ``biomarker``), ``age``, ``male`` and one column per categorical
        modifier.
    summary
        A :class:`~alsstats.summary.ReportedSummary` or a path to one.
    assumptions
        Overrides of the summary's assumptions (ties, biomarker scale, adjusted covariates).
    include
        Ids of "conflicting" figures to verify as well (superseded ones never are).

    Returns
    -------
    Verification
        ``passed`` is False when a figure is not met; a figure the cohort cannot speak to (no
        biomarker column, a p from a test the engine does not run, an adjusted HR with unknown
        covariates, a section such as medians) is "not checkable", never silently dropped.

    Notes
    -----
    Hazard ratios and their CIs come from the engine's Cox fit of the two arms a figure
    compares (Efron ties unless the summary assumes otherwise); a p is recomputed by the test
    the summary names for it: Wald from the same fit, log-rank by count. Counts must be exact;
    every other figure must round to its printed digits.
    """
    summary = as_reported_summary(summary)
    df, name = _read_cohort(cohort)
    df = _prepare_cohort(df, name, summary)
    values = resolve_assumptions(summary, assumptions)
    targets = targets_from_summary(summary, assumptions, include=frozenset(include))
    extra, in_subgroup = _subgroup_targets(summary, targets, assumptions, frozenset(include))
    targets += extra
    hrs = _hr_figures(summary)

    notes: dict[str, str] = {}
    checkable: list[Target] = []
    by_pair: dict[tuple[str, str], list[Target]] = {}
    by_category: dict[tuple[str, str], list[Target]] = {}
    for t in targets:
        hr = hrs.get(t.figure)
        if t.statistic == "median":
            continue  # by _median_rows (R's survfit rule, the printed interval)
        if hr is None:
            if t.id in in_subgroup:
                modifier = in_subgroup[t.id][0]
                if modifier not in df.columns:
                    notes[t.id] = f"the cohort has no column {modifier!r} for this subgroup"
                    continue
                by_category.setdefault(in_subgroup[t.id], []).append(t)
            else:
                checkable.append(t)
            continue
        pop = getattr(hr, "population", None)  # an interaction has none: the whole cohort
        kind = getattr(pop, "kind", "all")
        pair = (hr.comparison["treatment"], hr.comparison["control"])
        if kind == "subgroup":
            modifier = getattr(pop, "modifier", None)
            if modifier not in df.columns:
                notes[t.id] = f"the cohort has no column {modifier!r} for this subgroup"
                continue
            t = dataclasses.replace(
                t, population={**t.population, "category": getattr(pop, "category", None)}
            )
        elif kind == "biomarker_range" and not np.isfinite(df[_BIOMARKER].to_numpy(float)).any():
            notes[t.id] = "the cohort has no biomarker values"
            continue
        if t.statistic == JOINT_P and modifier_of(summary).id not in df.columns:
            notes[t.id] = f"the cohort has no column {modifier_of(summary).id!r}"
            continue
        if t.statistic == "hr_p":
            test = _test(t, hr)
            if test not in _WALD and test not in _LOG_RANK and test not in _UNKNOWN:
                notes[t.id] = f"p from a {test} test, which a cohort fit does not recompute"
                continue
            if test in _LOG_RANK and kind == "model_term":
                notes[t.id] = "a log-rank p of a model term: no such test on a cohort"
                continue
        by_pair.setdefault(pair, []).append(t)

    # counts, shares, landmarks, covariates: on the whole cohort, by the reconstruction's own
    # match table; hazard ratios on the two arms each compares (and its subgroup, if any)
    design = _design(summary, targets, values, df)
    tables = [_match(df.assign(treatment=0), checkable, design, values, summary)]
    _lifelines_survival(tables[0], df, checkable)
    for (modifier, category), ts in by_category.items():
        part = df[df[modifier].astype(str) == category].reset_index(drop=True)
        tables.append(_match(part.assign(treatment=0), ts, design, values, summary))
        _lifelines_survival(tables[-1], part, ts)
    for (trt, ctl), ts in by_pair.items():
        sub = _two_arm_frame(df, trt, ctl)
        groups: dict[Any, list[Target]] = {}
        for t in ts:
            # a category's share is of the two arms' patients, not of the category's own
            share = t.statistic == "subgroup_share"
            groups.setdefault(None if share else t.population.get("category"), []).append(t)
        for category, tg in groups.items():
            part = sub
            if category is not None:
                modifier = hrs[tg[0].figure].population.modifier
                part = sub[sub[modifier].astype(str) == str(category)].reset_index(drop=True)
            plain = [
                t
                if t.statistic == "subgroup_share"
                else dataclasses.replace(
                    t, population={k: v for k, v in t.population.items() if k != "category"}
                )
                for t in tg
            ]
            table = _match(part, plain, dataclasses.replace(design, targets=plain), values, summary)
            # a p the summary says is log-rank is recomputed by the log-rank test
            for i, t in enumerate(plain):
                if t.statistic == "hr_p" and _test(t, hrs[t.figure]) in _LOG_RANK:
                    v = _logrank_p(part, t.population)
                    table.loc[i, ["cohort", "rounded", "agrees"]] = [v, t.format(v), t.rounds_to(v)]
                    table.loc[i, "note"] = "log-rank p"
                elif t.statistic == JOINT_P:
                    # lifelines' refit, independent of the engine's batch statistic
                    modifier = modifier_of(summary)
                    v = lifelines_joint_p(
                        part, modifier.id, modifier.categories, str(t.test), design.adjust
                    )
                    table.loc[i, ["cohort", "rounded", "agrees"]] = [v, t.format(v), t.rounds_to(v)]
                    table.loc[i, "note"] = (
                        f"joint {t.test} test of {len(modifier.categories) - 1} product terms "
                        "(lifelines)"
                    )
                elif t.statistic == "hr_p" and _test(t, hrs[t.figure]) in _UNKNOWN:
                    # the cohort value is the closer of the Wald and log-rank p (_fit_stats)
                    lr = _logrank_p(part, t.population)
                    table.loc[i, "note"] = (
                        f"test not named: Wald or log-rank p, the closer (log-rank {lr:.4g})"
                    )
            tables.append(table)

    table = pd.concat([t for t in tables if len(t)], ignore_index=True)
    table["verdict"] = np.where(table["agrees"].astype(bool), "met", "not met")
    table = table.drop(columns="agrees")
    done = set(table["figure"])
    skipped = [t for t in targets if t.id not in done and t.statistic != "median"]
    rows = [table]
    if skipped:
        rows.append(
            pd.DataFrame(
                {
                    "figure": [t.id for t in skipped],
                    "statistic": [t.statistic for t in skipped],
                    "reported": [t.reported for t in skipped],
                    "cohort": [math.nan] * len(skipped),
                    "rounded": [""] * len(skipped),
                    "note": [notes.get(t.id, "") for t in skipped],
                    "verdict": ["not checkable"] * len(skipped),
                }
            )
        )
    medians = _median_rows(summary, df, include)
    comparisons = _comparison_rows(summary, df, include)
    joint = joint_not_target_rows(summary, modifier_of(summary), frozenset(include))
    rows += [medians, comparisons, joint]
    done = set(medians["figure"]) | set(comparisons["figure"])
    done |= {f.rsplit(".", 1)[0] for f in joint["figure"]}  # listed with their reason
    rows.append(_uncovered(summary, targets, include, done=done))
    rows.append(_unstated_ci_rows(summary, include))
    out = pd.concat([r for r in rows if len(r)], ignore_index=True)
    out = out[["figure", "statistic", "reported", "cohort", "rounded", "verdict", "note"]]
    return Verification(out, summary_name=str(getattr(summary, "path", "")), cohort_name=name)


def _match(
    cohort: pd.DataFrame,
    targets: list[Target],
    design: Design,
    values: Mapping[str, Any],
    summary: Any,
) -> pd.DataFrame:
    """The reconstruction's match table (:meth:`Reconstruction.match_table`) of one cohort."""
    columns = ["figure", "statistic", "reported", "cohort", "rounded", "agrees", "note"]
    if not targets:
        return pd.DataFrame(columns=columns)
    match = Reconstruction(
        cohort=cohort,
        targets=targets,
        assumptions=dict(values),
        seed=None,  # a verification, not a rebuild: no seed, no model, no residuals
        summary_sha256=getattr(summary, "sha256", None),
        model=None,
        residuals=pd.Series(dtype=float),
        design=design,
    )
    table = match.match_table().rename(columns={"reconstructed": "cohort"})
    table["note"] = ""
    return table[columns]


def _lifelines_survival(table: pd.DataFrame, cohort: pd.DataFrame, targets: list[Target]) -> None:
    """Survival figures recomputed in place by lifelines' Kaplan-Meier fit, independently of
    the rebuild's own estimate: S(t), and the CI by the figure's method (log-log: lifelines'
    own interval; log and plain from lifelines' event table by Greenwood's formula). With no
    one censored before t, S(t) is the share alive and the counted value stays."""
    by_id = {t.id: t for t in targets}
    for i, figure in enumerate(table["figure"]):
        t = by_id.get(figure)
        if t is None or t.statistic not in ("alive_proportion", *SURVIVAL_CI):
            continue
        sel = cohort if t.arm is None else cohort[cohort["arm"] == t.arm]
        category = t.population.get("category")
        if category is not None and t.population.get("modifier") in cohort.columns:
            sel = sel[sel[t.population["modifier"]].astype(str) == str(category)]
        time, death = sel["time"].to_numpy(float), sel["death"].to_numpy(int)
        when = float(t.population["time"])
        if t.statistic == "alive_proportion" and not ((death == 0) & (time < when)).any():
            table.loc[i, "note"] = "share alive (no one censored before t)"
            continue
        level = t.level or 0.95
        kmf = KaplanMeierFitter(alpha=1 - level).fit(time, death)
        surv = float(kmf.survival_function_at_times(when).iloc[0])
        if t.statistic == "alive_proportion":
            value, note = surv, "Kaplan-Meier S(t) (lifelines)"
        else:
            method = t.population["ci_method"]
            value = _lifelines_ci(kmf, surv, when, level, method)[
                0 if t.statistic == "survival_ci_lower" else 1
            ]
            note = f"Kaplan-Meier {method} CI (lifelines)"
        table.loc[i, ["cohort", "rounded", "agrees"]] = [value, t.format(value), t.rounds_to(value)]
        table.loc[i, "note"] = note


def _lifelines_ci(
    kmf: KaplanMeierFitter, surv: float, when: float, level: float, method: str
) -> tuple[float, float]:
    """The CI of S(``when``) of a fitted lifelines KM by ``method``."""
    if method == "log_log":  # lifelines' own (Kalbfleisch-Prentice) interval
        ci = kmf.confidence_interval_survival_function_.loc[:when]
        return float(ci.iloc[-1, 0]), float(ci.iloc[-1, 1])
    events = kmf.event_table.loc[:when]
    d, n = events["observed"].to_numpy(float), events["at_risk"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = float(np.sum(np.where(d > 0, d / (n * (n - d)), 0.0)))
    z = float(stats.norm.ppf(0.5 + level / 2))
    if method == "log":  # R survfit's default
        if surv <= 0:
            return math.nan, math.nan
        se = math.sqrt(greenwood)
        return surv * math.exp(-z * se), min(1.0, surv * math.exp(z * se))
    half = z * surv * math.sqrt(greenwood)  # plain
    return max(0.0, surv - half), min(1.0, surv + half)


def _unstated_ci_rows(summary: Any, include: set[str] | frozenset[str]) -> pd.DataFrame:
    """A survival figure's CI without ``ci_method``: recorded, never a target (the method is
    not guessed), listed as not checkable."""
    rows = []
    for s in getattr(summary, "survival", None) or ():
        status = getattr(s, "status", None) or "reported"
        if s.ci is None or getattr(s, "ci_method", None) is not None or status == "superseded":
            continue
        if status == "conflicting" and s.id not in include:
            continue
        try:
            bounds = [s.printed_form(f"ci[{k}]").text for k in (0, 1)]
        except KeyError:
            bounds = [f"{b:g}" for b in s.ci]
        rows.append(
            {
                "figure": f"{s.id}.ci",
                "statistic": "survival_ci",
                "reported": f"{bounds[0]}-{bounds[1]}",
                "cohort": math.nan,
                "rounded": "",
                "verdict": "not checkable",
                "note": "CI method not stated (ci_method): recorded, not a target",
            }
        )
    return pd.DataFrame(
        rows, columns=["figure", "statistic", "reported", "cohort", "rounded", "verdict", "note"]
    )


def km_median(time: np.ndarray, death: np.ndarray) -> float:
    """Kaplan-Meier median (R's survfit rule): the first time S(t) <= 0.5, or the midpoint to
    the next event time when S(t) is exactly 0.5 on a flat stretch; inf when never reached."""
    times, surv = km_estimate(time, death)
    below = np.flatnonzero(surv <= 0.5 + 1e-12)
    if below.size == 0:
        return math.inf
    i = int(below[0])
    if abs(surv[i] - 0.5) < 1e-12 and i + 1 < times.size:
        return float((times[i] + times[i + 1]) / 2)
    return float(times[i])


def _median_rows(summary: Any, df: pd.DataFrame, include: set[str] | frozenset[str]):
    """Reported medians (format version 2) against the cohort's Kaplan-Meier medians."""
    columns = ["figure", "statistic", "reported", "cohort", "rounded", "verdict", "note"]
    rows = []
    for m in getattr(summary, "medians", None) or ():
        status = getattr(m, "status", None) or "reported"
        kind = getattr(getattr(m, "population", None), "kind", "all")
        if status == "superseded" or (status == "conflicting" and m.id not in include):
            continue  # listed by _uncovered with the reason
        sel = df if m.arm in (None, "all") else df[df["arm"] == m.arm]
        if kind != "all" or sel.empty:
            continue
        x = km_median(sel["time"].to_numpy(float), sel["death"].to_numpy(int))
        if m.value is None:  # "not reached"
            ok = not math.isfinite(x)
            rows.append(
                [
                    m.id,
                    "median",
                    "not reached",
                    x,
                    "not reached" if ok else f"{x:g}",
                    "met" if ok else "not met",
                    "",
                ]
            )
            continue
        # the loader keeps a median's printed interval in the trial's time unit (converted
        # from the unit it was written in); the printed text gives the factor back for display
        printed = m.printed_form("value")
        try:
            factor = float(printed.text) / printed.value
        except (ValueError, ZeroDivisionError):
            factor = 1.0
        digits = printed.decimals or 0
        rounded = f"{x * factor:.{digits}f}" if math.isfinite(x) else "not reached"
        note = "Kaplan-Meier median" + ("" if abs(factor - 1) < 1e-12 else ", converted")
        verdict = "met" if printed.contains(x) else "not met"
        rows.append([m.id, "median", printed.text, x, rounded, verdict, note])
    return pd.DataFrame(rows, columns=columns)


def _comparison_rows(summary: Any, df: pd.DataFrame, include: set[str] | frozenset[str]):
    """Log-rank p values printed without a hazard ratio (format version 2 ``comparisons``),
    recomputed on the two arms compared (and the category's rows for a subgroup). A p from
    another test, or at a landmark time, is left to :func:`_uncovered` (not checkable)."""
    columns = ["figure", "statistic", "reported", "cohort", "rounded", "verdict", "note"]
    rows = []
    for c in getattr(summary, "comparisons", None) or ():
        status = getattr(c, "status", None) or "reported"
        if status == "superseded" or (status == "conflicting" and c.id not in include):
            continue
        if getattr(c, "test", None) not in _LOG_RANK or getattr(c, "time", None) is not None:
            continue
        pop = getattr(c, "population", None)
        kind = getattr(pop, "kind", "all")
        part = _two_arm_frame(df, c.comparison["treatment"], c.comparison["control"])
        if kind == "subgroup":
            if pop.modifier not in df.columns:
                continue
            part = part[part[pop.modifier].astype(str) == str(pop.category)]
        elif kind != "all":
            continue
        x = _logrank_p(part.reset_index(drop=True), {})
        printed = c.printed_form("p")
        digits = printed.decimals if printed.decimals is not None else 4
        rounded = f"{x:.{digits}f}" if np.isfinite(x) else "nan"
        verdict = "met" if printed.contains(x) else "not met"
        rows.append([c.id, "comparison_p", printed.text, x, rounded, verdict, "log-rank p"])
    return pd.DataFrame(rows, columns=columns)


def _uncovered(
    summary: Any,
    targets: list[Target],
    include: set[str] | frozenset[str],
    done: set[str] = frozenset(),
):
    """Rows for the figures that no target covers, with the reason."""
    covered = {t.figure for t in targets} | {t.id for t in targets} | set(done)
    rows = []
    for section in _SECTIONS:
        for fig in getattr(summary, section, None) or ():
            ident = getattr(fig, "id", None)
            if ident is None or ident in covered:
                continue
            status = getattr(fig, "status", None) or "reported"
            if status == "superseded":
                why = "superseded: never verified"
            elif status == "conflicting" and ident not in include:
                why = "conflicting: verified only when included"
            elif section == "hazard_ratios":
                why = "no cohort statistic: an adjusted model, an unstated range or a ratio of HRs"
            elif section == "events" and getattr(fig, "arm", None) not in (None, "all"):
                why = "not a count the verification computes"
            else:
                why = f"{section}: not computed by the verification yet"
            rows.append(
                {
                    "figure": ident,
                    "statistic": section,
                    "reported": "",
                    "cohort": math.nan,
                    "rounded": "",
                    "verdict": "not checkable",
                    "note": why,
                }
            )
    return pd.DataFrame(
        rows, columns=["figure", "statistic", "reported", "cohort", "rounded", "verdict", "note"]
    )


def assert_reproduces(
    cohort: pd.DataFrame | str | os.PathLike[str], summary: Any, **kwargs: Any
) -> Verification:
    """Fail (AssertionError) unless the cohort reproduces every checkable figure of the summary.

    For a user's own pytest suite::

        def test_my_reconstruction():
            assert_reproduces("my_cohort.csv", "reported.yaml")

    Returns the :class:`Verification` when every figure is met; keyword arguments go to
    :func:`verify_cohort`.
    """
    result = verify_cohort(cohort, summary, **kwargs)
    if not result.passed:
        bad = result.table[result.table["verdict"] == "not met"]
        lines = [
            f"  {r.figure}: reported {r.reported}, cohort {r.rounded}" for r in bad.itertuples()
        ]
        raise AssertionError(
            f"the cohort does not reproduce {len(bad)} figure(s) of "
            f"{result.summary_name or 'the summary'}:\n" + "\n".join(lines)
        )
    return result
