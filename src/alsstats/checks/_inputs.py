"""What the consistency checks read off a reported summary: live figures, death splits, survivors.

Shared by the check families of :mod:`alsstats.checks`: figures not superseded (:func:`_live`),
deaths per arm from counts, survivors or event shares (:func:`_splits`), the overall hazard
ratios, the number alive at a landmark as an interval, and the formatting of ranges.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..summary import ALL_ARMS, HazardRatio, ReportedSummary
from ._approximations import rounding_interval

__all__: list[str] = []  # private helpers of the check modules


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _rng(r: tuple[float, float] | None) -> str:
    if r is None:
        return "-"
    return _fmt(r[0]) if r[0] == r[1] else f"{_fmt(r[0])}-{_fmt(r[1])}"


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


def _arm_n(s: ReportedSummary, arm: str) -> int:
    return s.n_total if arm == ALL_ARMS else s.arm(arm).n.value


_SWAPPED = "; it matches with the arms swapped"


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
