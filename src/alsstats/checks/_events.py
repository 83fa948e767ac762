"""Checks between a hazard ratio's CI, the events, the medians and Kaplan-Meier landmarks.

``events_vs_ci_width``
    The width of a Wald CI fixes the Cox information I = 1 / SE^2. With no tied times
    I = sum over deaths of p_j (1 - p_j), p_j the treatment share of the risk set tilted by the
    HR (p e^b / (p e^b + 1 - p)). So I / D lies between the smallest and largest p (1 - p) over
    the shares the risk set passes through: from n_t / N at the start to (n_t - d_t) / (N - D)
    at the end when the deaths per arm are known (at 1:1 and HR near 1, I ~ D / 4: the familiar
    D ~ 4 / SE^2). The implied events I / f must meet the reported events, over the rounding of
    the HR and CI. Censoring moves the shares too; the check assumes it moves them no further
    than the deaths do (the explanation says so).
``hr_vs_medians``
    The exponential reading: with constant hazards HR = median_control / median_treatment.
    A Weibull with a common shape k gives HR = ratio^k; shapes from 0.5 to 2 are allowed.
    Sampling error: SE(log median) per arm from the median's CI when printed, else ~ 1 / sqrt(d)
    (the exponential MLE) with d the arm's deaths, else at least half the arm (d >= n / 2 at the
    median when nobody was censored before it); Z_APPROX SEs of the log ratio.
``km_landmark_vs_deaths``
    A Kaplan-Meier survival S(t) of an arm of n lies between the share alive counting the
    censored as alive and as dead: d(t) <= n (1 - S(t)) <= d(t) + c(t), c(t) censored before t.
    Deaths counted to the landmark T: for t >= T, n (1 - S(t)) >= d(T); for t <= T with the
    lost to follow-up L known (and nobody else censored before T), n (1 - S(t)) <= d(T) + L.
"""

from __future__ import annotations

import itertools
import math

from scipy import stats

from ..summary import ReportedSummary
from ._approximations import Z_APPROX, _exp, _overlap
from ._inputs import _live, _overall_hrs, _pairs, _precision, _rng, _whole_arm
from ._report import CheckResult, _row

__all__: list[str] = []  # the checks are private; alsstats.checks.check_summary runs them

_SHAPES = (0.5, 2.0)  # Weibull shapes allowed around the exponential reading of the medians


def _f_range(shares: tuple[float, float], hr: tuple[float, float]) -> tuple[float, float]:
    """min and max of p (1 - p) over risk-set shares in ``shares`` tilted by HRs in ``hr``."""
    ps = []
    for share, h in itertools.product(shares, hr):
        ps.append(share * h / (share * h + 1 - share))
    lo, hi = min(ps), max(ps)
    values = [p * (1 - p) for p in (lo, hi)]
    top = 0.25 if lo <= 0.5 <= hi else max(values)
    return min(values), top


def _arm_deaths(s: ReportedSummary, arm: str) -> int | None:
    counts = _live(s.events_in(arm))
    return counts[0].value if counts else None


def _check_events_vs_ci_width(s: ReportedSummary) -> list[CheckResult]:
    """Events implied by the width of an overall HR's CI vs the reported events."""
    rows = []
    for t_arm, c_arm in _pairs(s):
        d_t, d_c = _arm_deaths(s, t_arm.id), _arm_deaths(s, c_arm.id)
        if d_t is not None and d_c is not None:
            deaths, which = d_t + d_c, f"{d_t} + {d_c} deaths"
        elif len(s.arms) == 2 and _live(s.events_in("all")):
            total = _live(s.events_in("all"))[0]
            deaths, which = total.value, f"{total.value} deaths in all"
        else:
            continue
        n_t, n_c = t_arm.n.value, c_arm.n.value
        start = n_t / (n_t + n_c)
        end = start
        if d_t is not None and d_c is not None and deaths < n_t + n_c:
            end = (n_t - d_t) / (n_t + n_c - deaths)
        # the share at a death time is a random proportion of those at risk: widen the drift
        # by Z_APPROX binomial SDs of the final share (at most N - D still at risk)
        left = max(n_t + n_c - deaths, 1)
        spread = Z_APPROX * math.sqrt(end * (1 - end) / left)
        shares = (
            max(min(start, end) - spread, 1e-6),
            min(max(start, end) + spread, 1 - 1e-6),
        )
        for h in _overall_hrs(s, t_arm, c_arm):
            if h.ci is None or h.model.get("adjusted"):
                continue
            whole = _whole_arm(s.events)
            inputs = [h.id, *(e.id for e in whole if e.arm in (t_arm.id, c_arm.id))]
            if len(s.arms) == 2:
                inputs = [h.id, *(e.id for e in whole)]
            z = stats.norm.ppf((1 + h.level) / 2)
            lo, hi = h.interval("ci[0]"), h.interval("ci[1]")
            se_lo = max(math.log(hi[0] / lo[1]), 1e-12) / (2 * z)
            se_hi = math.log(hi[1] / max(lo[0], 1e-12)) / (2 * z)
            f_lo, f_hi = _f_range(shares, h.interval("value"))
            implied = (1 / (se_hi**2 * f_hi), 1 / (se_lo**2 * f_lo))
            ok = _overlap((deaths, deaths), implied)
            point = 1 / ((math.log(h.ci[1] / h.ci[0]) / (2 * z)) ** 2 * start * (1 - start))
            text = (
                f"SE {math.log(h.ci[1] / h.ci[0]) / (2 * z):.3g} from the {h.level:.0%} CI: "
                f"information 1/SE^2 ~ D p(1-p), p the treatment share of the risk set "
                f"({start:.3g} at the start, tilted by the HR): {point:.0f} events at the start "
                f"share, {_rng(implied)} over the shares and the rounding; reported {which}"
            )
            if d_t is None:
                text += " (deaths per arm unknown: the share is kept at its start)"
            rows.append(
                _row(
                    "events_vs_ci_width",
                    inputs,
                    f"{deaths} events",
                    f"{_rng(implied)} events",
                    ok,
                    text,
                    (float(deaths),) * 2,
                    implied,
                    precision=_precision(h, "value", "ci[0]", "ci[1]"),
                )
            )
    return rows


def _median_se(s: ReportedSummary, md, arm) -> tuple[float, str]:
    """SE of log median: from its CI, else from the arm's deaths, else d >= n / 2."""
    if md.ci is not None and None not in md.ci and md.ci[0] > 0:
        z = stats.norm.ppf((1 + md.level) / 2)
        return math.log(md.ci[1] / md.ci[0]) / (2 * z), "its CI"
    d = _arm_deaths(s, arm.id)
    if d:
        return 1 / math.sqrt(d), f"1/sqrt({d} deaths)"
    return math.sqrt(2 / arm.n.value), f"1/sqrt(n/2 = {arm.n.value / 2:g})"


def _check_hr_vs_medians(s: ReportedSummary) -> list[CheckResult]:
    """Overall HR vs the ratio of median times (exponential reading, Weibull shapes allowed)."""
    rows = []
    for t_arm, c_arm in _pairs(s):
        m_t = [m for m in _whole_arm(s.medians) if m.arm == t_arm.id and m.reached]
        m_c = [m for m in _whole_arm(s.medians) if m.arm == c_arm.id and m.reached]
        pairs = [(a, b) for a, b in itertools.product(m_t, m_c) if a.source == b.source]
        pairs = pairs or list(itertools.product(m_t, m_c))
        hrs = [h for h in _overall_hrs(s, t_arm, c_arm) if not h.model.get("adjusted")]
        for (a, b), h in itertools.product(pairs, hrs):
            at, bt = a.interval("value"), b.interval("value")
            log_r = (math.log(bt[0] / at[1]), math.log(bt[1] / at[0]))  # log(m_c / m_t)
            se_a, how_a = _median_se(s, a, t_arm)
            se_b, how_b = _median_se(s, b, c_arm)
            sd = math.sqrt(se_a**2 + se_b**2)
            wide = (log_r[0] - Z_APPROX * sd, log_r[1] + Z_APPROX * sd)
            # HR = ratio^k for a Weibull of shape k: the hull over k in _SHAPES (and 0)
            cands = [k * x for k in _SHAPES for x in wide]
            lo, hi = min(cands), max(cands)
            if wide[0] <= 0 <= wide[1]:
                lo, hi = min(lo, 0.0), max(hi, 0.0)
            exp = (_exp(lo), _exp(hi))
            ok = _overlap(h.interval("value"), exp)
            ratio = b.value / a.value
            text = (
                f"medians {a.value:g} vs {b.value:g}: exponential reading HR = "
                f"{b.value:g}/{a.value:g} = {ratio:.3g}; {Z_APPROX:g} SE of the log ratio "
                f"(SE {how_a}, {how_b}) and Weibull shapes {_SHAPES[0]:g}-{_SHAPES[1]:g} "
                f"(HR = ratio^shape) give {_rng(exp)}; reported {h.value:g}"
            )
            prec = "; ".join(
                [_precision(a, "value"), _precision(b, "value"), _precision(h, "value")]
            )
            rows.append(
                _row(
                    "hr_vs_medians",
                    [a.id, b.id, h.id],
                    f"HR {h.value:g}",
                    f"HR {_rng(exp)}",
                    ok,
                    text,
                    h.interval("value"),
                    exp,
                    precision=prec,
                )
            )
    return rows


def _landmark_time(s: ReportedSummary) -> float | None:
    lm = s.follow_up.get("landmark")
    return None if lm is None else float(lm.value)


def _check_km_landmark_vs_deaths(s: ReportedSummary) -> list[CheckResult]:
    """Kaplan-Meier survival of an arm at a time vs the deaths counted to the landmark."""
    rows = []
    when = _landmark_time(s)
    ltfu = s.follow_up.get("lost_to_follow_up")
    lost = None if ltfu is None else int(ltfu.value)
    for sv in _whole_arm(s.survival):
        if sv.proportion is None or sv.count is not None:
            continue  # a count alive is checked exactly by survival_vs_deaths
        n = s.n_total if sv.arm == "all" else s.arm(sv.arm).n.value
        if sv.n is not None and sv.n != n:
            continue  # a denominator other than the arm: not the KM of the arm
        for e in _live(s.events_in(sv.arm)):
            s_r = sv.interval("proportion")
            dead = (n * (1 - s_r[1]), n * (1 - s_r[0]))  # n (1 - S) over the rounding
            inputs, obs = [sv.id, e.id], f"n(1-S) {_rng(dead)}"
            prec = _precision(sv, "proportion")
            if when is None:
                text = "deaths counted to an unknown time (no follow_up.landmark)"
                rows.append(
                    _row("km_landmark_vs_deaths", inputs, obs, "-", None, text, precision=prec)
                )
                continue
            lower = float(e.value) if sv.time >= when else 0.0
            upper = (
                float(min(e.value + lost, n)) if lost is not None and sv.time <= when else math.inf
            )
            if lower == 0.0 and upper == math.inf:
                text = (
                    f"survival at {sv.time:g} before the landmark {when:g} and the lost to "
                    "follow-up unknown: the deaths do not bound it"
                )
                rows.append(
                    _row("km_landmark_vs_deaths", inputs, obs, "-", None, text, precision=prec)
                )
                continue
            bounded = upper < math.inf
            upper = min(upper, float(n))
            ok = _overlap(dead, (lower, upper))
            exp = f"{lower:g}-{upper:g}" if bounded else f">= {lower:g}"
            text = (
                f"Kaplan-Meier: deaths d <= n(1 - S) <= d + censored; {n} x (1 - "
                f"{sv.proportion:g}) = {_rng(dead)} vs {e.value} deaths to the landmark "
                f"{when:g}" + (f" and {lost} lost to follow-up" if bounded else "")
            )
            rows.append(
                _row(
                    "km_landmark_vs_deaths",
                    inputs,
                    obs,
                    exp,
                    ok,
                    text,
                    dead,
                    (lower, upper),
                    precision=prec,
                )
            )
    return rows
