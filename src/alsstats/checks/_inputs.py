"""What the consistency checks read off a reported summary: live figures, death splits, survivors.

Shared by the check families of :mod:`alsstats.checks`: figures not superseded (:func:`_live`),
the arm pairs that overall hazard ratios compare (:func:`_pairs`), deaths per arm from counts,
survivors or event shares (:func:`_splits`), the overall hazard ratios, the number alive at a
landmark as an interval (from the figure's printed precision), and the formatting of ranges.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..summary import ALL_ARMS, Arm, HazardRatio, ReportedSummary

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


def _whole_arm(items):
    """Live figures about a whole arm (not a subgroup of it)."""
    return [x for x in _live(items) if getattr(x, "population", None) is None
            or x.population.kind == "all"]  # fmt: skip


def _pairs(s: ReportedSummary) -> list[tuple[Arm, Arm]]:
    """The (treatment, control) arm pairs to check: the primary one, then any other that an
    overall hazard ratio compares (several arms)."""
    out = [(s.treatment_arm, s.control_arm)]
    for h in _live(s.hazard_ratios):
        pair = (s.arm(h.comparison["treatment"]), s.arm(h.comparison["control"]))
        if h.population.kind == "all" and pair not in out:
            out.append(pair)
    return out


def _precision(fig, *fields: str, label: str = "") -> str:
    """How the printed figures were read, for a check row: ``HR 0.8 as [0.75, 0.85)``."""
    parts = []
    for name in fields:
        try:
            parts.append(fig.printed_form(name).describe())
        except (KeyError, AttributeError, TypeError):
            continue
    return f"{label}{'; '.join(parts)}"


def _no_loss(s: ReportedSummary) -> bool:
    ltfu = s.follow_up.get("lost_to_follow_up")
    return ltfu is not None and ltfu.value == 0


def _landmark_time(s: ReportedSummary) -> float | None:
    lm = s.follow_up.get("landmark")
    return None if lm is None else lm.value


def _splits(s: ReportedSummary, t: Arm | None = None, c: Arm | None = None) -> list[_Split]:
    t, c = t or s.treatment_arm, c or s.control_arm
    out = []
    for e_t, e_c in itertools.product(_live(s.events_in(t.id)), _live(s.events_in(c.id))):
        d = ((e_t.value,) * 2, (e_c.value,) * 2)
        out.append(_Split((e_t.id, e_c.id), *d, f"{e_t.value} vs {e_c.value} deaths"))
    if not out:  # no deaths per arm: read them off the survivors at the landmark
        per_arm = [
            [x for x in _whole_arm(s.survival) if x.arm == a.id and _at_landmark(s, x) is None]
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
        st, sc = es.interval(f"shares.{t.id}"), es.interval(f"shares.{c.id}")
        d_t, d_c = (st[0] * total, st[1] * total), (sc[0] * total, sc[1] * total)
        what = f"{es.shares[t.id]:g} x {total} = {es.shares[t.id] * total:.1f} vs "
        what += f"{es.shares[c.id] * total:.1f} deaths"
        out.append(_Split((es.id,), d_t, d_c, what, from_shares=True))
    return out


def _overall_hrs(
    s: ReportedSummary, t_arm: Arm | None = None, c_arm: Arm | None = None
) -> list[HazardRatio]:
    t, c = (t_arm or s.treatment_arm).id, (c_arm or s.control_arm).id
    return [
        h
        for h in _live(s.hazard_ratios)
        if h.population.kind == "all" and h.comparison == {"treatment": t, "control": c}
    ]


def _arm_n(s: ReportedSummary, arm: str, sv=None) -> int:
    """The arm's size, or a landmark's own denominator (``n``: printed as 6/17)."""
    if sv is not None and getattr(sv, "n", None) is not None:
        return sv.n
    return s.n_total if arm == ALL_ARMS else s.arm(arm).n.value


_SWAPPED = "; it matches with the arms swapped"


def _alive(s: ReportedSummary, sv) -> tuple[float, float]:
    """Number alive at a landmark, as an interval (a proportion is rounded)."""
    if sv.count is not None:
        return (float(sv.count), float(sv.count))
    p, n = sv.interval("proportion"), _arm_n(s, sv.arm, sv)
    return (p[0] * n, p[1] * n)


def _at_landmark(s: ReportedSummary, sv) -> str | None:
    """Why deaths cannot be read off this landmark (None when they can)."""
    if not _no_loss(s):
        return "needs follow_up.lost_to_follow_up = 0"
    if _landmark_time(s) != sv.time:
        return "deaths are counted to follow_up.landmark, not to this time"
    return None
