"""Consistency checks of counts: survivors, deaths per arm and in total, and event shares.

``survival_count_vs_proportion``, ``survival_vs_deaths``, ``arms_vs_total``,
``event_shares_vs_events`` and ``event_shares_vs_survival``. Each check takes a
:class:`~alsstats.summary.ReportedSummary` and returns
:class:`~alsstats.checks.CheckResult` rows; :mod:`alsstats.checks` runs them.
"""

from __future__ import annotations

import itertools

from ..summary import ALL_ARMS, ReportedSummary
from ._approximations import _overlap
from ._inputs import _SWAPPED, _alive, _arm_n, _at_landmark, _live, _precision, _rng, _whole_arm
from ._report import CheckResult, _row

__all__: list[str] = []  # the checks are private; alsstats.checks.check_summary runs them


def _check_survival_vs_deaths(s: ReportedSummary) -> list[CheckResult]:
    """Share or number alive at the landmark vs deaths in the same arm (no loss to follow-up)."""
    rows = []
    for sv in _live(s.survival):
        n = _arm_n(s, sv.arm, sv)
        if sv.proportion is not None and sv.count is not None:
            p = sv.interval("proportion")
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
                    precision=_precision(sv, "proportion"),
                )
            )
        if sv.population.kind != "all" or n != _arm_n(s, sv.arm):
            continue  # a subgroup or another denominator: the arm's deaths do not apply
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
    """Per-arm deaths and survivors add up to the reported totals (every arm)."""
    rows, t, c = [], s.treatment_arm.id, s.control_arm.id
    arm_ids = [a.id for a in s.arms]
    for tot in _live(s.events_in(ALL_ARMS)):
        for per_arm in itertools.product(*(_live(s.events_in(a)) for a in arm_ids)):
            total = sum(e.value for e in per_arm)
            ok = total == tot.value
            terms = " + ".join(str(e.value) for e in per_arm)
            text = f"{terms} = {total} deaths; total reported {tot.value}"
            rows.append(
                _row(
                    "arms_vs_total",
                    [*(e.id for e in per_arm), tot.id],
                    str(total),
                    str(tot.value),
                    ok,
                    text,
                    (total, total),
                    (tot.value,) * 2,
                )
            )
    if len(arm_ids) != 2:
        return rows  # survivors per arm: only when both arms make the whole trial
    for sv in _whole_arm(s.survival):
        if sv.arm != ALL_ARMS:
            continue
        per_arm = [
            [x for x in _whole_arm(s.survival) if x.arm == a and x.time == sv.time] for a in (t, c)
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
    return {a: tuple(x * total for x in es.interval(f"shares.{a}")) for a in es.shares}


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
        landmarks = [[x for x in _whole_arm(s.survival) if x.arm == a.id] for a in arms]
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
