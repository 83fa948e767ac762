"""Consistency checks of reported hazard ratios.

Against the deaths per arm (``hr_vs_death_split``, ``death_split_vs_hr``), against their own CI
and p-value (``ci_symmetry``, ``ci_vs_p``), and across biomarker subgroups (``subgroup_shares``,
``subgroup_pooling``). Each check takes a :class:`~alsstats.summary.ReportedSummary` and
returns :class:`~alsstats.checks.CheckResult` rows; :mod:`alsstats.checks` runs them.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import stats

from ..summary import ALL_ARMS, HazardRatio, ReportedSummary
from ._approximations import Z_APPROX, _exp, _hr_implied, _overlap, _split_range
from ._inputs import _SWAPPED, _live, _no_loss, _overall_hrs, _pairs, _precision, _rng, _splits
from ._report import CheckResult, _row
from ._tests import _p_expected

__all__: list[str] = []  # the checks are private; alsstats.checks.check_summary runs them


# --------------------------------------------------------------------------- the checks
def _check_hr_vs_death_split(s: ReportedSummary) -> list[CheckResult]:
    """Reported overall HR vs the HR implied by deaths per arm (log-rank / landmark)."""
    rows = []
    for t_arm, c_arm in _pairs(s):
        rows += _hr_vs_death_split(s, t_arm, c_arm)
    return rows


def _hr_vs_death_split(s: ReportedSummary, t_arm, c_arm) -> list[CheckResult]:
    rows, n_t, n_c = [], t_arm.n.value, c_arm.n.value
    landmark = _no_loss(s)  # then S = 1 - d/n at the landmark
    for h in _overall_hrs(s, t_arm, c_arm):
        obs = h.interval("value")
        prec = _precision(h, "value", label="HR ")
        for sp in _splits(s, t_arm, c_arm):
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
                    precision=prec,
                )
            )
    return rows


def _check_death_split_vs_hr(s: ReportedSummary) -> list[CheckResult]:
    """The death split implied by the HR and the total deaths vs the reported split."""
    rows = []
    for t_arm, c_arm in _pairs(s):
        rows += _death_split_vs_hr(s, t_arm, c_arm)
    return rows


def _death_split_vs_hr(s: ReportedSummary, t_arm, c_arm) -> list[CheckResult]:
    rows, n_t, n_c = [], t_arm.n.value, c_arm.n.value
    arm = t_arm.id
    for h in _overall_hrs(s, t_arm, c_arm):
        if h.model.get("adjusted"):
            continue
        obs_hr = h.interval("value")
        prec = _precision(h, "value", label="HR ")
        for sp in _splits(s, t_arm, c_arm):
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
                    precision=prec,
                )
            )
    return rows


def _check_ci(s: ReportedSummary) -> list[CheckResult]:
    """CI symmetric on the log scale, and the p implied by the CI vs the reported p (by test)."""
    rows = []
    figures = [h for h in _live(s.hazard_ratios) if h.ci is not None]
    figures += [i for i in _live(s.interactions) if i.ci is not None]
    for h in figures:
        est, lo, hi = (h.interval(k) for k in ("value", "ci[0]", "ci[1]"))
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
        prec = _precision(h, "value", "ci[0]", "ci[1]")
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
                precision=prec,
            )
        )
        if h.p is None:
            continue
        z = stats.norm.ppf((1 + h.level) / 2)
        # a CI printed as [0.5, 0.5] may have zero width after rounding: keep SE positive
        se = (max(log(hi[0] / lo[1]), 1e-12) / (2 * z), log(hi[1] / lo[0]) / (2 * z))
        logs = sorted(abs(log(x)) for x in est)
        abs_lo = 0.0 if est[0] <= 1 <= est[1] else logs[0]
        z_range = (abs_lo / se[1], logs[1] / se[0])
        p_obs = h.interval("p")
        prec = _precision(h, "value", "ci[0]", "ci[1]", "p")
        point = 2 * stats.norm.sf(abs(log(h.value)) / (log(h.ci[1] / h.ci[0]) / (2 * z)))
        got = _p_expected(h.test or "wald", z_range, se[1])
        wald = (
            f"z = |log HR| / SE with SE = log(upper/lower) / {2 * z:.2f} gives Wald p {point:.3g}"
        )
        p_text = h.printed_form("p").text if "p" in h.printed else f"{h.p:g}"
        if got.expected is None:
            text = f"{wald}; reported {p_text} is a {got.test} p: {got.reason}"
            rows.append(
                _row("ci_vs_p", [h.id], f"p {p_text}", "-", None, text, p_obs, None, got.test, prec)
            )
            continue
        ok = _overlap(p_obs, got.expected)
        text = f"{wald} ({_rng(got.expected)} over the rounding of HR and CI"
        text += f"; {got.reason})" if got.reason else ")"
        text += f"; reported {p_text}"
        rows.append(
            _row(
                "ci_vs_p",
                [h.id],
                f"p {p_text}",
                f"p {_rng(got.expected)}",
                ok,
                text,
                p_obs,
                got.expected,
                got.test,
                prec,
            )
        )
    return rows


def _biomarker_groups(s: ReportedSummary) -> dict[str, list[HazardRatio]]:
    """Subgroup HRs of the primary comparison by modifier (biomarker ranges or categories)."""
    groups: dict[str, list[HazardRatio]] = {}
    primary = {"treatment": s.treatment_arm.id, "control": s.control_arm.id}
    for h in _live(s.hazard_ratios):
        if h.comparison != primary:
            continue
        if h.population.kind == "biomarker_range":
            groups.setdefault(h.population.biomarker, []).append(h)
        elif h.population.kind == "subgroup":
            groups.setdefault(h.population.modifier, []).append(h)
    return groups


def _disjoint(hrs: list[HazardRatio]) -> bool:
    if all(h.population.kind == "subgroup" for h in hrs):
        categories = [h.population.category for h in hrs]
        return len(set(categories)) == len(categories)
    if any(h.population.kind == "subgroup" for h in hrs):
        return False
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
        intervals = [h.interval("population.share") for h in with_share]
        total_r = (sum(r[0] for r in intervals), sum(r[1] for r in intervals))
        obs = f"sum {total:.3g}"
        prec = "; ".join(_precision(h, "population.share") for h in with_share)
        if not _disjoint(with_share):
            text = f"{marker} ranges overlap or are not stated: their shares need not add to <= 1"
            rows.append(
                _row("subgroup_shares", ids, obs, "<= 1", None, text, total_r, precision=prec)
            )
            continue
        ok = total_r[0] <= 1
        terms = " + ".join(f"{x:g}" for x in shares)
        text = (
            f"{terms} = {total:.3g}; {1 - total:.2g} of patients are in no reported {marker} group"
            if ok
            else f"disjoint {marker} groups hold {terms} = {total:.3g} > 1 of the patients"
        )
        rows.append(
            _row("subgroup_shares", ids, obs, "<= 1", ok, text, total_r, (0.0, 1.0), precision=prec)
        )
    return rows


def _total_deaths(s: ReportedSummary) -> int | None:
    totals = _live(s.events_in(ALL_ARMS))
    if totals and len(s.arms) == 2:
        return totals[0].value
    t, c = _live(s.events_in(s.treatment_arm.id)), _live(s.events_in(s.control_arm.id))
    return t[0].value + c[0].value if t and c else None


def _var_range(h: HazardRatio) -> tuple[float, float]:
    """var(log HR) from the CI, over the rounding of its printed bounds (min, max)."""
    z = stats.norm.ppf((1 + h.level) / 2)
    lo, hi = h.interval("ci[0]"), h.interval("ci[1]")
    narrow = max(math.log(hi[0] / max(lo[1], 1e-12)), 1e-12) / (2 * z)
    wide = math.log(hi[1] / max(lo[0], 1e-12)) / (2 * z)
    return narrow**2, wide**2


def _remainder_row(o, pooled, var_phi, var_o, how, coverage, marker, notes, inputs, prec):
    """Subgroups that leave patients out: the HR the rest of the trial must have."""
    left = "unknown" if coverage is None else f"{max(1 - coverage[1], 0):.2g}-{1 - coverage[0]:.2g}"
    info_rest = 1 / var_o - 1 / var_phi if var_o > 0 else 0.0
    if var_o <= 0:
        text = f"{how}; the {marker} subgroups leave {left} of the patients out"
        return _row("subgroup_pooling", inputs, f"HR {o.value:g}", "-", None, text, precision=prec)
    if info_rest <= 0:
        text = (
            f"the {marker} subgroups (var {var_phi:.3g}) hold more information than the whole "
            f"trial ({how}, var {var_o:.3g}): impossible for disjoint parts of it"
        )
        return _row(
            "subgroup_pooling", inputs, f"HR {o.value:g}", "var(pooled) >= var(overall)", False,
            text, precision=prec,
        )  # fmt: skip
    # overall = (I_phi phi + I_rest psi) / I_overall: the rest's log HR and its SE
    psi = (math.log(o.value) / var_o - pooled / var_phi) / info_rest
    se = 1 / math.sqrt(info_rest)
    implied = (_exp(psi - Z_APPROX * se), _exp(psi + Z_APPROX * se))
    text = (
        f"the {marker} subgroups leave {left} of the patients out; their HR "
        f"is not reported and may differ (treatment x {marker} interaction): with pooled HR "
        f"{math.exp(pooled):.3g} and overall {o.value:g} ({how}), they would have HR "
        f"{math.exp(psi):.3g} ({_rng(implied)}, {Z_APPROX:g} SE; information "
        f"{info_rest:.3g} = 1/var(overall) - 1/var(pooled))"
    )
    if notes:
        text += "; " + "; ".join(notes)
    return _row(
        "subgroup_pooling", inputs, f"HR {o.value:g}", f"rest HR {_rng(implied)}", True, text,
        o.interval("value"), None, precision=prec,
    )  # fmt: skip


def _check_subgroup_pooling(s: ReportedSummary) -> list[CheckResult]:
    """Overall HR vs the inverse-variance pooled subgroup HRs, by the variance of their gap.

    When the subgroups cover the whole trial (their printed shares add up to 1 within
    rounding), they are independent parts of the overall fit: the overall log HR is the
    information-weighted mean of their pooled phi (up to non-collapsibility), and
    var(overall - phi) = var(phi) - var(overall). The overall HR must lie within Z_APPROX
    standard errors of that gap, over the rounding of every printed figure (the variances
    taken at the widest gap the printed CIs allow). Without the overall CI, var(overall) ~
    1 / (deaths p (1 - p)), p the treatment share of the two arms.

    When they leave patients out (shares below 1, or not given), those patients' HR is not
    reported and may differ from the rest (that is what an interaction means), so the overall
    HR does not pin the pooled one: the row gives the HR the rest must have, psi =
    (I_overall log HR - I_phi phi) / I_rest with I_rest = I_overall - I_phi, and fails only
    when I_rest <= 0 (subgroups more precise than the whole trial).
    """
    rows, deaths = [], _total_deaths(s)
    overall = [h for h in _overall_hrs(s) if not h.model.get("adjusted")]
    n_t, n_c = s.treatment_arm.n.value, s.control_arm.n.value
    alloc = n_t * n_c / (n_t + n_c) ** 2
    for marker, hrs in _biomarker_groups(s).items():
        if len(hrs) < 2 or not overall or not _disjoint(hrs):
            continue
        logs, weights, var_hi, notes = [], [], [], []
        for h in hrs:
            if h.ci is not None and h.ci[1] > h.ci[0]:
                z = stats.norm.ppf((1 + h.level) / 2)
                se = math.log(h.ci[1] / h.ci[0]) / (2 * z)
                var_hi.append(_var_range(h)[1])
            elif h.ci is None and h.population.share and deaths:
                # no CI: var(log HR) ~ 4 / events, events ~ share x total deaths (approximate)
                se = 2 / math.sqrt(h.population.share * deaths)
                notes.append(f"SE of {h.id} ~ 2/sqrt({h.population.share:g} x {deaths} deaths)")
                var_hi.append(se**2)
            else:
                break
            lo_hi = h.interval("value")
            logs.append((math.log(lo_hi[0]), math.log(lo_hi[1]), math.log(h.value)))
            weights.append(1 / se**2)
        else:
            w = np.array(weights)
            pooled = float(np.dot(w, [x[2] for x in logs]) / w.sum())
            pooled_r = (
                float(np.dot(w, [x[0] for x in logs]) / w.sum()),
                float(np.dot(w, [x[1] for x in logs]) / w.sum()),
            )
            var_phi = 1 / float(np.sum(1 / np.array(var_hi)))  # widest the printed CIs allow
            var_phi_lo = 1 / float(np.sum(weights))  # at the printed CIs
            shares = [h.population.share for h in hrs]
            if None in shares:
                coverage = None
            else:
                ivs = [h.interval("population.share") for h in hrs]
                coverage = (sum(i[0] for i in ivs), sum(i[1] for i in ivs))
            complete = coverage is not None and coverage[1] >= 1.0
            for o in overall:
                if o.ci is not None:
                    var_o = _var_range(o)[0]
                    how = f"var(overall) from its CI {o.ci[0]:g}-{o.ci[1]:g}"
                elif deaths:
                    var_o = 1 / (deaths * alloc)
                    how = f"var(overall) ~ 1/({deaths} deaths x {alloc:.3g})"
                else:
                    var_o = 0.0
                    how = "var(overall) unknown: the pooled variance is used"
                obs = o.interval("value")
                prec = "; ".join(_precision(h, "value", "ci[0]", "ci[1]") for h in [*hrs, o])
                inputs = [*(h.id for h in hrs), o.id]
                if not complete:
                    rows.append(
                        _remainder_row(o, pooled, var_phi_lo, var_o, how, coverage, marker,
                                       notes, inputs, prec)
                    )  # fmt: skip
                    continue
                sd = math.sqrt(max(var_phi - var_o, 0.0))
                exp = (_exp(pooled_r[0] - Z_APPROX * sd), _exp(pooled_r[1] + Z_APPROX * sd))
                ok = _overlap(obs, exp)
                text = (
                    f"pooled {marker} subgroups HR {math.exp(pooled):.3g}; the overall HR may "
                    f"differ by {Z_APPROX:g} SE of the gap, sqrt(var(pooled) - var(overall)) = "
                    f"{sd:.3g} ({how}): {_rng(exp)}; " + "; ".join([*notes, f"overall {o.value:g}"])
                )
                rows.append(
                    _row(
                        "subgroup_pooling",
                        inputs,
                        f"HR {o.value:g}",
                        f"HR {_rng(exp)}",
                        ok,
                        text,
                        obs,
                        exp,
                        precision=prec,
                    )
                )
            continue
        text = f"a {marker} subgroup HR has no usable CI, nor a share with the total deaths"
        rows.append(_row("subgroup_pooling", [h.id for h in hrs], "-", "-", None, text))
    return rows
