"""Consistency checks between the figures of a reported summary.

Published figures constrain each other: deaths per arm and the hazard ratio, a CI and its
p-value, subgroup shares and their total, subgroup HRs and the overall HR, survival proportions
and death counts, event shares and event counts. :func:`check_summary` runs every check that the
figures of a :class:`~alsstats.summaries.ReportedSummary` allow and returns a
:class:`CheckReport`, one row per check, with a verdict ("pass", "fail", "not checkable").

Every comparison allows for rounding: a figure printed with k decimals (at least 2 are assumed,
since YAML drops trailing zeros: 0.30 reads as 0.3) stands for an interval of half a unit in the
last place, and the checks use interval arithmetic over those ranges. Figures with status
"superseded" are not checked (they get a "not checkable" row saying so).

Examples
--------
>>> from alsstats import data_path
>>> from alsstats.summaries import load_reported_summary
>>> report = check_summary(load_reported_summary(data_path("mirocals", "reported.yaml")))
>>> report.passed
False
>>> sorted(set(report.summary.loc[report.summary.verdict == "fail", "check"]))[:2]
['death_split_vs_hr', 'event_shares_vs_events']
"""

from __future__ import annotations

import html
import itertools
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
from scipy import stats

from .summaries import ALL_ARMS, HazardRatio, ReportedSummary

__all__ = [
    "VERDICTS",
    "CheckReport",
    "CheckResult",
    "check_summary",
    "hr_from_deaths_landmark",
    "hr_from_deaths_logrank",
    "rounding_interval",
]

VERDICTS = ("pass", "fail", "not checkable")
MIN_DECIMALS = 2  # YAML drops trailing zeros, so assume figures were printed to >= 2 decimals
Z_APPROX = 2.0  # multiples of the approximation's standard error allowed


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class CheckResult:
    """One check: which figures, what was observed, what they imply, the verdict and why."""

    check: str
    inputs: tuple[str, ...]
    observed: str
    expected: str
    verdict: str
    explanation: str
    observed_range: tuple[float, float] | None = None
    expected_range: tuple[float, float] | None = None


class CheckReport:
    """The result of :func:`check_summary`: a table with one row per check.

    Attributes
    ----------
    results : list of CheckResult
    summary : pandas.DataFrame
        Columns check, inputs (comma-separated figure ids), observed, expected, verdict,
        explanation.
    passed : bool
        True when no check failed.
    """

    columns = ("check", "inputs", "observed", "expected", "verdict", "explanation")

    def __init__(self, results: list[CheckResult], path: str = "", sha256: str = "") -> None:
        self.results = list(results)
        self.path = path
        self.sha256 = sha256

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[CheckResult]:
        return iter(self.results)

    @property
    def passed(self) -> bool:
        return not any(r.verdict == "fail" for r in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.verdict == "fail"]

    def __getitem__(self, column: str) -> pd.Series:
        return self.summary[column]

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame (same as :attr:`summary`)."""
        return self.summary

    @property
    def summary(self) -> pd.DataFrame:
        rows = [{**asdict(r), "inputs": ", ".join(r.inputs)} for r in self.results]
        return pd.DataFrame(rows, columns=list(self.columns))

    def to_json(self) -> str:
        """The rows as JSON (also numeric observed/expected ranges), deterministic."""
        rows = [{**asdict(r), "inputs": list(r.inputs)} for r in self.results]
        out = {"file": self.path, "sha256": self.sha256, "passed": self.passed, "checks": rows}
        return json.dumps(out, indent=2)

    def to_text(self) -> str:
        """A fixed-width table; each row's explanation on the line below it."""
        head = ("verdict", "check", "inputs", "observed", "expected")
        cells = [(r.verdict, r.check, ", ".join(r.inputs), r.observed, r.expected) for r in self]
        widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(head)]
        line = "  ".join("{:<%d}" % w for w in widths)  # noqa: UP031 - a width template
        out = [line.format(*(h.upper() for h in head)).rstrip(), "-" * (sum(widths) + 8)]
        for r, c in zip(self.results, cells, strict=True):
            out += [line.format(*c).rstrip(), f"    {r.explanation}"]
        n_fail = len(self.failures)
        verdict = "all checks passed" if self.passed else f"{n_fail} check(s) FAILED"
        out.append(f"{len(self)} checks on {self.path}: {verdict}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<CheckReport {self.path}: {len(self)} checks, {len(self.failures)} failed>"

    def _repr_html_(self) -> str:
        status = "passed" if self.passed else f"{len(self.failures)} failed"
        return f"<p>Checks of {html.escape(self.path)}: {status}</p>" + self.summary.to_html(
            index=False
        )


# --------------------------------------------------------------------------- arithmetic
def rounding_interval(x: float, exact: bool = False) -> tuple[float, float]:
    """The values that round to ``x`` as printed (at least 2 decimals assumed).

    >>> rounding_interval(0.3)
    (0.295, 0.305)
    >>> rounding_interval(0.007)
    (0.0065, 0.0075)
    """
    if exact:
        return (float(x), float(x))
    decimals = max(-int(Decimal(repr(float(x))).as_tuple().exponent), MIN_DECIMALS)
    half = 0.5 * 10.0**-decimals
    return (round(x - half, decimals + 2), round(x + half, decimals + 2))


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _exp(x: float) -> float:
    return math.exp(min(x, 700.0))  # far beyond any HR; avoids OverflowError on absurd inputs


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _rng(r: tuple[float, float] | None) -> str:
    if r is None:
        return "-"
    return _fmt(r[0]) if r[0] == r[1] else f"{_fmt(r[0])}-{_fmt(r[1])}"


def hr_from_deaths_logrank(d_t: float, d_c: float, n_t: float, n_c: float) -> tuple[float, float]:
    """HR range implied by deaths per arm, log-rank (Peto and O/E) approximations.

    Without death times the log-rank expected count E_t = sum over deaths of the treatment arm's
    share p of the risk set is bracketed: under proportional hazards and no censoring p moves
    monotonically from n_t/N (start) to (n_t - d_t)/(N - D) (end). The range covers Peto's
    log HR = (O_t - E_t) / V, V = D p (1 - p), and the ratio (O_t/E_t)/(O_c/E_c), at both ends.

    >>> lo, hi = hr_from_deaths_logrank(41, 49, 110, 110)
    >>> round(lo, 3), round(hi, 3)
    (0.739, 0.837)
    """
    big_n, deaths = n_t + n_c, d_t + d_c
    p_start, p_end = n_t / big_n, (n_t - d_t) / (big_n - deaths)
    values = []
    for p in (p_start, p_end):
        e_t, e_c = deaths * p, deaths * (1 - p)
        values.append(_exp((d_t - e_t) / (deaths * p * (1 - p))))
        if d_c > 0 and e_t > 0:
            values.append((d_t / e_t) / (d_c / e_c))
    return (min(values), max(values))


def hr_from_deaths_landmark(s_t: float, s_c: float, n_t: float, n_c: float) -> tuple[float, float]:
    """HR implied by survival at one landmark, and the SE of its gap to the Cox estimate.

    Under proportional hazards S_t(t) = S_c(t) ** HR exactly, so HR = log S_t / log S_c (for a
    constant hazard this is also the exponential person-time estimate). Both it and the Cox
    estimate are consistent under proportional hazards and Cox is efficient, so the variance of
    their difference is var(landmark) - var(Cox) (Hausman): var(landmark) by the delta method,
    S(1 - S) / (n (S log S)^2) per arm, var(Cox) ~ 1/d_t + 1/d_c (deaths per arm).

    >>> hr, se = hr_from_deaths_landmark(69 / 110, 61 / 110, 110, 110)
    >>> round(hr, 3), round(se, 3)
    (0.791, 0.032)
    """
    hr = math.log(s_t) / math.log(s_c)
    var_landmark = sum(
        s * (1 - s) / (n * (s * math.log(s)) ** 2) for s, n in ((s_t, n_t), (s_c, n_c))
    )
    var_cox = 1 / (n_t * (1 - s_t)) + 1 / (n_c * (1 - s_c))
    return hr, math.sqrt(max(var_landmark - var_cox, 0.0))


def _hr_implied(d_t, d_c, n_t, n_c, landmark: bool) -> tuple[tuple[float, float], str] | None:
    """Hull of the HRs implied by death-count intervals (corners of the rounding boxes)."""
    lows, highs, methods = [], [], {"log-rank"}
    for a, b in itertools.product(sorted(set(d_t)), sorted(set(d_c))):
        if not (0 < a < n_t and 0 < b < n_c):
            return None
        try:
            lo, hi = hr_from_deaths_logrank(a, b, n_t, n_c)
            if landmark:
                hr, se = hr_from_deaths_landmark(1 - a / n_t, 1 - b / n_c, n_t, n_c)
                lo, hi = min(lo, hr * _exp(-Z_APPROX * se)), max(hi, hr * _exp(Z_APPROX * se))
                methods.add("landmark")
        except (ZeroDivisionError, ValueError):  # counts at the edge of floating point
            return None
        lows.append(lo)
        highs.append(hi)
    return (min(lows), max(highs)), " and ".join(sorted(methods))


# --------------------------------------------------------------------------- figures
@dataclass(frozen=True)
class _Split:
    """Deaths per arm (intervals) from one set of figures."""

    inputs: tuple[str, ...]
    d_t: tuple[float, float]
    d_c: tuple[float, float]
    what: str
    from_shares: bool = False


def _live(items):
    return [x for x in items if x.status != "superseded"]


def _no_loss(s: ReportedSummary) -> bool:
    ltfu = s.follow_up.get("lost_to_follow_up")
    return ltfu is not None and ltfu.value == 0


def _landmark_time(s: ReportedSummary) -> float | None:
    lm = s.follow_up.get("landmark")
    return None if lm is None else lm.value


def _splits(s: ReportedSummary) -> list[_Split]:
    t, c = s.treatment_arm, s.control_arm
    out = []
    for e_t, e_c in itertools.product(_live(s.events_in(t.id)), _live(s.events_in(c.id))):
        d = ((e_t.value,) * 2, (e_c.value,) * 2)
        out.append(_Split((e_t.id, e_c.id), *d, f"{e_t.value} vs {e_c.value} deaths"))
    if not out:  # no deaths per arm: read them off the survivors at the landmark
        per_arm = [
            [x for x in _live(s.survival) if x.arm == a.id and _at_landmark(s, x) is None]
            for a in (t, c)
        ]
        for sv_t, sv_c in itertools.product(*per_arm):
            (at_lo, at_hi), (ac_lo, ac_hi) = _alive(s, sv_t), _alive(s, sv_c)
            d_t, d_c = (
                (t.n.value - at_hi, t.n.value - at_lo),
                (c.n.value - ac_hi, c.n.value - ac_lo),
            )
            what = f"{_rng(d_t)} vs {_rng(d_c)} deaths (arm size - survivors)"
            out.append(_Split((sv_t.id, sv_c.id), d_t, d_c, what))
    for es in _live(s.event_shares):
        total = es.total
        if total is None:
            totals = _live(s.events_in(ALL_ARMS))
            total = totals[0].value if totals else None
        if total is None or t.id not in es.shares or c.id not in es.shares:
            continue
        st, sc = rounding_interval(es.shares[t.id]), rounding_interval(es.shares[c.id])
        d_t, d_c = (st[0] * total, st[1] * total), (sc[0] * total, sc[1] * total)
        what = f"{es.shares[t.id]:g} x {total} = {es.shares[t.id] * total:.1f} vs "
        what += f"{es.shares[c.id] * total:.1f} deaths"
        out.append(_Split((es.id,), d_t, d_c, what, from_shares=True))
    return out


def _overall_hrs(s: ReportedSummary) -> list[HazardRatio]:
    t, c = s.treatment_arm.id, s.control_arm.id
    return [
        h
        for h in _live(s.hazard_ratios)
        if h.population.kind == "all" and h.comparison == {"treatment": t, "control": c}
    ]


def _row(check, inputs, obs, exp, ok, explanation, obs_r=None, exp_r=None) -> CheckResult:
    verdict = {True: "pass", False: "fail", None: "not checkable"}[ok]
    return CheckResult(check, tuple(inputs), obs, exp, verdict, explanation, obs_r, exp_r)


def _arm_n(s: ReportedSummary, arm: str) -> int:
    return s.n_total if arm == ALL_ARMS else s.arm(arm).n.value


_SWAPPED = "; it matches with the arms swapped"


# --------------------------------------------------------------------------- the checks
def _check_hr_vs_death_split(s: ReportedSummary) -> list[CheckResult]:
    """Reported overall HR vs the HR implied by deaths per arm (log-rank / landmark)."""
    rows, n_t, n_c = [], s.treatment_arm.n.value, s.control_arm.n.value
    landmark = _no_loss(s)  # then S = 1 - d/n at the landmark
    for h in _overall_hrs(s):
        obs = rounding_interval(h.value)
        for sp in _splits(s):
            inputs = (*sp.inputs, h.id)
            if h.model.get("adjusted"):
                rows.append(
                    _row(
                        "hr_vs_death_split",
                        inputs,
                        f"HR {h.value:g}",
                        "-",
                        None,
                        "adjusted HR: adjustment moves it away from the crude death split",
                    )
                )
                continue
            got = _hr_implied(sp.d_t, sp.d_c, n_t, n_c, landmark)
            if got is None:
                rows.append(
                    _row(
                        "hr_vs_death_split",
                        inputs,
                        f"HR {h.value:g}",
                        "-",
                        None,
                        "a zero death count or no survivor in an arm: no HR implied",
                    )
                )
                continue
            exp, methods = got
            ok = _overlap(obs, exp)
            text = f"{sp.what} imply HR {_rng(exp)} ({methods} approximations"
            text += ", rounding of the shares)" if sp.from_shares else ")"
            text += f"; reported {h.value:g} {'agrees' if ok else 'does not'}"
            swapped = _hr_implied(sp.d_c, sp.d_t, n_t, n_c, landmark)
            if not ok and swapped is not None and _overlap(obs, swapped[0]):
                text += _SWAPPED
            rows.append(
                _row(
                    "hr_vs_death_split",
                    inputs,
                    f"HR {h.value:g}",
                    f"HR {_rng(exp)}",
                    ok,
                    text,
                    obs,
                    exp,
                )
            )
    return rows


def _split_range(hr: tuple[float, float], deaths: float, n_t: int, n_c: int, landmark: bool):
    """Treatment-arm deaths (of ``deaths``) whose implied HR range meets ``hr``; None if none.

    Bisection: both bounds of the implied HR range increase with the treatment-arm deaths.
    """
    eps = 1e-9  # the end points give a zero count or no survivor
    lo, hi = max(0.0, deaths - n_c) + eps, min(float(n_t), deaths) - eps

    def bounds(d: float) -> tuple[float, float]:
        got = _hr_implied((d, d), (deaths - d, deaths - d), n_t, n_c, landmark)
        return got[0] if got is not None else (math.nan, math.nan)

    if lo >= hi or not (bounds(hi)[1] >= hr[0] and bounds(lo)[0] <= hr[1]):
        return None

    def boundary(reached: Callable[[float], bool]) -> float:
        """Smallest d in [lo, hi] where ``reached`` (False then True along d) turns True."""
        a, b = lo, hi
        if reached(a) or not reached(b):
            return a if reached(a) else b
        for _ in range(60):
            mid = (a + b) / 2
            a, b = (a, mid) if reached(mid) else (mid, b)
        return b

    first = boundary(lambda d: bounds(d)[1] >= hr[0])
    last = boundary(lambda d: bounds(d)[0] > hr[1])
    return (first, last) if first <= last else None


def _check_death_split_vs_hr(s: ReportedSummary) -> list[CheckResult]:
    """The death split implied by the HR and the total deaths vs the reported split."""
    rows, n_t, n_c = [], s.treatment_arm.n.value, s.control_arm.n.value
    arm = s.treatment_arm.id
    for h in _overall_hrs(s):
        if h.model.get("adjusted"):
            continue
        obs_hr = rounding_interval(h.value)
        for sp in _splits(s):
            deaths = (sum(sp.d_t) + sum(sp.d_c)) / 2
            inputs = (*sp.inputs, h.id)
            if deaths <= 0:
                rows.append(_row("death_split_vs_hr", inputs, "-", "-", None, "no deaths"))
                continue
            share = (sp.d_t[0] / deaths, sp.d_t[1] / deaths)
            got = _split_range(obs_hr, deaths, n_t, n_c, _no_loss(s))
            obs = f"{arm} share {_rng(share)}"
            if got is None:
                text = f"no split of {deaths:g} deaths gives HR {h.value:g}"
                rows.append(_row("death_split_vs_hr", inputs, obs, "-", False, text, share))
                continue
            exp = (got[0] / deaths, got[1] / deaths)
            ok = _overlap(share, exp)
            text = (
                f"HR {h.value:g} with {deaths:g} deaths implies {got[0]:.1f}-{got[1]:.1f} deaths "
                f"on {arm}; reported {sp.what}"
            )
            if not ok and _overlap((1 - share[1], 1 - share[0]), exp):
                text += _SWAPPED
            rows.append(
                _row(
                    "death_split_vs_hr",
                    inputs,
                    obs,
                    f"{arm} share {_rng(exp)}",
                    ok,
                    text,
                    share,
                    exp,
                )
            )
    return rows


def _check_ci(s: ReportedSummary) -> list[CheckResult]:
    """CI symmetric on the log scale, and the p implied by the CI vs the reported p."""
    rows = []
    for h in _live(s.hazard_ratios):
        if h.ci is None:
            continue
        est, lo, hi = (rounding_interval(x) for x in (h.value, *h.ci))
        lo = (max(lo[0], 1e-12), lo[1])  # a bound printed as 0.00 is still positive
        log = math.log
        asym = (
            log(hi[0]) + log(lo[0]) - 2 * log(est[1]),
            log(hi[1]) + log(lo[1]) - 2 * log(est[0]),
        )
        arms = f"{log(h.value / h.ci[0]):.3f} / {log(h.ci[1] / h.value):.3f}"
        ok = asym[0] <= 0 <= asym[1]
        text = "equal log-scale distances from the estimate to each bound, within rounding"
        if not ok:
            text = "bounds not symmetric about log HR beyond rounding: not a Wald CI, or a typo"
        rows.append(
            _row(
                "ci_symmetry",
                [h.id],
                f"log arms {arms}",
                "equal within rounding",
                ok,
                text,
                asym,
                (0.0, 0.0),
            )
        )
        if h.p is None:
            continue
        z = stats.norm.ppf((1 + h.level) / 2)
        # a CI printed as [0.5, 0.5] may have zero width after rounding: keep SE positive
        se = (max(log(hi[0] / lo[1]), 1e-12) / (2 * z), log(hi[1] / lo[0]) / (2 * z))
        logs = sorted(abs(log(x)) for x in est)
        abs_lo = 0.0 if est[0] <= 1 <= est[1] else logs[0]
        p_exp = (2 * stats.norm.sf(logs[1] / se[0]), 2 * stats.norm.sf(abs_lo / se[1]))
        p_obs = rounding_interval(h.p)
        ok = _overlap(p_obs, p_exp)
        point = 2 * stats.norm.sf(abs(log(h.value)) / (log(h.ci[1] / h.ci[0]) / (2 * z)))
        text = (
            f"z = |log HR| / SE with SE = log(upper/lower) / {2 * z:.2f} gives p {point:.3g} "
            f"({_rng(p_exp)} over the rounding of HR and CI); reported {h.p:g}"
        )
        rows.append(
            _row("ci_vs_p", [h.id], f"p {h.p:g}", f"p {_rng(p_exp)}", ok, text, p_obs, p_exp)
        )
    return rows


def _biomarker_groups(s: ReportedSummary) -> dict[str, list[HazardRatio]]:
    groups: dict[str, list[HazardRatio]] = {}
    for h in _live(s.hazard_ratios):
        if h.population.kind == "biomarker_range":
            groups.setdefault(h.population.biomarker, []).append(h)
    return groups


def _disjoint(hrs: list[HazardRatio]) -> bool:
    bounds = [(h.population.lower, h.population.upper) for h in hrs]
    if any(lo is None and hi is None for lo, hi in bounds):
        return False  # range not stated
    spans = sorted(
        (-math.inf if lo is None else lo, math.inf if hi is None else hi) for lo, hi in bounds
    )
    return all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def _check_subgroup_shares(s: ReportedSummary) -> list[CheckResult]:
    """Shares of disjoint subgroups add up to at most 1; the remainder is stated."""
    rows = []
    for marker, hrs in _biomarker_groups(s).items():
        with_share = [h for h in hrs if h.population.share is not None]
        if not with_share:
            continue
        ids = [h.id for h in with_share]
        shares = [h.population.share for h in with_share]
        total = sum(shares)
        total_r = (
            sum(rounding_interval(x)[0] for x in shares),
            sum(rounding_interval(x)[1] for x in shares),
        )
        obs = f"sum {total:.3g}"
        if not _disjoint(with_share):
            text = f"{marker} ranges overlap or are not stated: their shares need not add to <= 1"
            rows.append(_row("subgroup_shares", ids, obs, "<= 1", None, text, total_r))
            continue
        ok = total_r[0] <= 1
        terms = " + ".join(f"{x:g}" for x in shares)
        text = (
            f"{terms} = {total:.3g}; {1 - total:.2g} of patients are in no reported {marker} group"
            if ok
            else f"disjoint {marker} groups hold {terms} = {total:.3g} > 1 of the patients"
        )
        rows.append(_row("subgroup_shares", ids, obs, "<= 1", ok, text, total_r, (0.0, 1.0)))
    return rows


def _total_deaths(s: ReportedSummary) -> int | None:
    totals = _live(s.events_in(ALL_ARMS))
    if totals:
        return totals[0].value
    t, c = _live(s.events_in(s.treatment_arm.id)), _live(s.events_in(s.control_arm.id))
    return t[0].value + c[0].value if t and c else None


def _check_subgroup_pooling(s: ReportedSummary) -> list[CheckResult]:
    """Inverse-variance pooled subgroup HRs vs the overall HR."""
    rows, deaths = [], _total_deaths(s)
    overall = [h for h in _overall_hrs(s) if not h.model.get("adjusted")]
    for marker, hrs in _biomarker_groups(s).items():
        if len(hrs) < 2 or not overall or not _disjoint(hrs):
            continue
        logs, weights, notes = [], [], []
        for h in hrs:
            if h.ci is not None and h.ci[1] > h.ci[0]:
                z = stats.norm.ppf((1 + h.level) / 2)
                se = math.log(h.ci[1] / h.ci[0]) / (2 * z)
            elif h.ci is None and h.population.share and deaths:
                # no CI: var(log HR) ~ 4 / events, events ~ share x total deaths (approximate)
                se = 2 / math.sqrt(h.population.share * deaths)
                notes.append(f"SE of {h.id} ~ 2/sqrt({h.population.share:g} x {deaths} deaths)")
            else:
                break
            logs.append(math.log(h.value))
            weights.append(1 / se**2)
        else:
            pooled = float(np.dot(weights, logs) / sum(weights))
            half = stats.norm.ppf(0.975) / math.sqrt(sum(weights))
            exp = (_exp(pooled - half), _exp(pooled + half))
            for o in overall:
                obs = rounding_interval(o.value)
                ok = _overlap(obs, exp)
                text = (
                    f"pooled {marker} subgroups HR {math.exp(pooled):.3g} (95% {_rng(exp)}); "
                    + "; ".join([*notes, f"overall {o.value:g}"])
                )
                rows.append(
                    _row(
                        "subgroup_pooling",
                        [*(h.id for h in hrs), o.id],
                        f"HR {o.value:g}",
                        f"HR {_rng(exp)}",
                        ok,
                        text,
                        obs,
                        exp,
                    )
                )
            continue
        text = f"a {marker} subgroup HR has no usable CI, nor a share with the total deaths"
        rows.append(_row("subgroup_pooling", [h.id for h in hrs], "-", "-", None, text))
    return rows


def _alive(s: ReportedSummary, sv) -> tuple[float, float]:
    """Number alive at a landmark, as an interval (a proportion is rounded)."""
    if sv.count is not None:
        return (float(sv.count), float(sv.count))
    p, n = rounding_interval(sv.proportion), _arm_n(s, sv.arm)
    return (p[0] * n, p[1] * n)


def _at_landmark(s: ReportedSummary, sv) -> str | None:
    """Why deaths cannot be read off this landmark (None when they can)."""
    if not _no_loss(s):
        return "needs follow_up.lost_to_follow_up = 0"
    if _landmark_time(s) != sv.time:
        return "deaths are counted to follow_up.landmark, not to this time"
    return None


def _check_survival_vs_deaths(s: ReportedSummary) -> list[CheckResult]:
    """Share or number alive at the landmark vs deaths in the same arm (no loss to follow-up)."""
    rows = []
    for sv in _live(s.survival):
        n = _arm_n(s, sv.arm)
        if sv.proportion is not None and sv.count is not None:
            p = rounding_interval(sv.proportion)
            ok = p[0] <= sv.count / n <= p[1]
            text = f"{sv.count}/{n} = {sv.count / n:.3f} vs {sv.proportion:g} printed"
            rows.append(
                _row(
                    "survival_count_vs_proportion",
                    [sv.id],
                    f"{sv.proportion:g}",
                    f"{sv.count / n:.3f}",
                    ok,
                    text,
                    p,
                )
            )
        for e in _live(s.events_in(sv.arm)):
            why = _at_landmark(s, sv)
            obs = f"{_rng(_alive(s, sv))} alive"
            if why:
                rows.append(_row("survival_vs_deaths", [sv.id, e.id], obs, "-", None, why))
                continue
            alive = n - e.value
            ok = _overlap(_alive(s, sv), (alive, alive))
            shown = f"{sv.proportion:g} x {n}" if sv.count is None else f"{sv.count}"
            text = f"{n} - {e.value} deaths = {alive} alive ({alive / n:.3f}); reported {shown}"
            rows.append(
                _row(
                    "survival_vs_deaths",
                    [sv.id, e.id],
                    obs,
                    f"{alive} alive",
                    ok,
                    text,
                    _alive(s, sv),
                    (alive, alive),
                )
            )
    return rows


def _check_arms_vs_totals(s: ReportedSummary) -> list[CheckResult]:
    """Per-arm deaths and survivors add up to the reported totals."""
    rows, t, c = [], s.treatment_arm.id, s.control_arm.id
    for tot in _live(s.events_in(ALL_ARMS)):
        for e_t, e_c in itertools.product(_live(s.events_in(t)), _live(s.events_in(c))):
            total = e_t.value + e_c.value
            ok = total == tot.value
            text = f"{e_t.value} + {e_c.value} = {total} deaths; total reported {tot.value}"
            rows.append(
                _row(
                    "arms_vs_total",
                    [e_t.id, e_c.id, tot.id],
                    str(total),
                    str(tot.value),
                    ok,
                    text,
                    (total, total),
                    (tot.value,) * 2,
                )
            )
    for sv in _live(s.survival):
        if sv.arm != ALL_ARMS:
            continue
        per_arm = [
            [x for x in _live(s.survival) if x.arm == a and x.time == sv.time] for a in (t, c)
        ]
        for a, b in itertools.product(*per_arm):
            got = tuple(x + y for x, y in zip(_alive(s, a), _alive(s, b), strict=True))
            ok = _overlap(got, _alive(s, sv))
            text = f"alive per arm add to {_rng(got)}; overall {_rng(_alive(s, sv))} of {s.n_total}"
            rows.append(
                _row(
                    "arms_vs_total",
                    [a.id, b.id, sv.id],
                    _rng(got),
                    _rng(_alive(s, sv)),
                    ok,
                    text,
                    got,
                    _alive(s, sv),
                )
            )
    return rows


def _share_deaths(es, total) -> dict[str, tuple[float, float]]:
    return {a: tuple(x * total for x in rounding_interval(v)) for a, v in es.shares.items()}


def _compare_shares(check, es, total, counts: dict[str, tuple[float, float]], inputs, source):
    """Deaths per arm from shares vs counts per arm, with the swapped-arms note."""
    d = _share_deaths(es, total)
    arms = list(counts)
    ok = all(_overlap(d[a], counts[a]) for a in arms)
    swapped = all(_overlap(d[a], counts[b]) for a, b in zip(arms, arms[::-1], strict=True))
    obs = " vs ".join(f"{es.shares[a] * total:.1f}" for a in arms)
    exp = " vs ".join(_rng(counts[a]) for a in arms)
    text = f"shares x {total} give {obs} deaths ({', '.join(arms)}); {source} give {exp}"
    if not ok and swapped:
        text += _SWAPPED
    return _row(check, [es.id, *inputs], obs, exp, ok, text)


def _check_event_shares(s: ReportedSummary) -> list[CheckResult]:
    """Event shares x total vs event counts per arm, vs the total, and vs survivors per arm."""
    rows, arms = [], [s.treatment_arm, s.control_arm]
    for es in _live(s.event_shares):
        if any(a.id not in es.shares for a in arms):
            continue
        totals = _live(s.events_in(ALL_ARMS))
        for tot in totals if es.total is not None else []:
            ok = tot.value == es.total
            text = f"shares are of {es.total} deaths; {tot.id} reports {tot.value}"
            rows.append(
                _row(
                    "event_shares_vs_events",
                    [es.id, tot.id],
                    str(es.total),
                    str(tot.value),
                    ok,
                    text,
                )
            )
        total = es.total if es.total is not None else (totals[0].value if totals else None)
        if total is None:
            continue
        per_arm = [_live(s.events_in(a.id)) for a in arms]
        for e_t, e_c in itertools.product(*per_arm):
            counts = {e.arm: (float(e.value),) * 2 for e in (e_t, e_c)}
            rows.append(
                _compare_shares(
                    "event_shares_vs_events", es, total, counts, [e_t.id, e_c.id], "counts"
                )
            )
        landmarks = [[x for x in _live(s.survival) if x.arm == a.id] for a in arms]
        for sv_t, sv_c in itertools.product(*landmarks):
            why = _at_landmark(s, sv_t) or _at_landmark(s, sv_c)
            if why:
                rows.append(
                    _row("event_shares_vs_survival", [es.id, sv_t.id, sv_c.id], "-", "-", None, why)
                )
                continue
            counts = {}
            for sv in (sv_t, sv_c):
                alive, n = _alive(s, sv), _arm_n(s, sv.arm)
                counts[sv.arm] = (n - alive[1], n - alive[0])
            rows.append(
                _compare_shares(
                    "event_shares_vs_survival",
                    es,
                    total,
                    counts,
                    [sv_t.id, sv_c.id],
                    "survivors per arm",
                )
            )
    return rows


def _superseded(s: ReportedSummary) -> list[CheckResult]:
    rows = []
    for section in (s.events, s.survival, s.event_shares, s.hazard_ratios, s.biomarkers):
        for x in section:
            if x.status == "superseded":
                text = "status superseded: later figures replace it; not checked"
                rows.append(_row("superseded", [x.id], "-", "-", None, text))
    return rows


CHECKS: tuple[Callable[[ReportedSummary], list[CheckResult]], ...] = (
    _check_hr_vs_death_split,
    _check_death_split_vs_hr,
    _check_ci,
    _check_subgroup_shares,
    _check_subgroup_pooling,
    _check_survival_vs_deaths,
    _check_arms_vs_totals,
    _check_event_shares,
    _superseded,
)


def check_summary(summary: ReportedSummary) -> CheckReport:
    """Run every consistency check the figures of ``summary`` allow.

    Parameters
    ----------
    summary
        A loaded reported summary (:func:`alsstats.summaries.load_reported_summary`).

    Returns
    -------
    CheckReport
        One row per check (check, inputs, observed, expected, verdict, explanation);
        ``report.passed`` is False when any check fails.
    """
    results = [row for check in CHECKS for row in check(summary)]
    return CheckReport(results, summary.path, summary.sha256)
