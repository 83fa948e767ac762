"""Where the treatment hazard ratio differs from 1: the Johnson-Neyman region and the Fieller set.

:class:`JohnsonNeymanRegion` holds the modifier values where the Wald CI of the treatment HR
excludes 1; :class:`FiellerInterval` the modifier value where HR = 1 with its confidence set (the
complement of the region). Both render themselves as text and as JSON-ready dicts.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["FiellerInterval", "JohnsonNeymanRegion", "johnson_neyman_linear"]


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _interval_text(lo: float, hi: float, name: str) -> str:
    if np.isinf(lo) and np.isinf(hi):
        return f"every {name}"
    if np.isinf(lo):
        return f"{name} < {_fmt(hi)}"
    if np.isinf(hi):
        return f"{name} > {_fmt(lo)}"
    return f"{_fmt(lo)} < {name} < {_fmt(hi)}"


def _pieces(bounds: Sequence[float], searched: tuple[float, float]) -> list[tuple[float, float]]:
    edges = [searched[0], *[b for b in bounds if searched[0] < b < searched[1]], searched[1]]
    return list(itertools.pairwise(edges))


def _inside(lo: float, hi: float) -> float:
    """A point inside (lo, hi), also for infinite ends."""
    if np.isinf(lo) and np.isinf(hi):
        return 0.0
    if np.isinf(lo):
        return hi - max(1.0, abs(hi))
    if np.isinf(hi):
        return lo + max(1.0, abs(lo))
    return 0.5 * (lo + hi)


def _intersect(intervals, rng) -> list[tuple[float, float]]:
    out = [(max(lo, rng[0]), min(hi, rng[1])) for lo, hi in intervals]
    return [(lo, hi) for lo, hi in out if lo < hi]


@dataclass(frozen=True)
class JohnsonNeymanRegion:
    """Where the Wald CI of the treatment HR excludes 1.

    ``bounds`` are the modifier values where a CI limit touches HR = 1; ``excludes_one`` the
    open intervals between them where the CI excludes 1 (over ``searched``: the whole line for
    a linear term, the observed range otherwise); ``within_observed`` their part inside the
    observed modifier range.
    """

    bounds: tuple[float, ...]
    excludes_one: tuple[tuple[float, float], ...]
    observed_range: tuple[float, float]
    searched: tuple[float, float]
    level: float
    modifier: str
    method: str

    @classmethod
    def from_roots(cls, bounds, f, *, searched, observed, level, modifier, method):
        pieces = _pieces(sorted(bounds), searched)
        keep = tuple((lo, hi) for lo, hi in pieces if f(np.array([_inside(lo, hi)]))[0] > 0)
        merged: list[tuple[float, float]] = []
        for lo, hi in keep:  # a touching root (double root) does not split the region
            if merged and merged[-1][1] == lo:
                merged[-1] = (merged[-1][0], hi)
            else:
                merged.append((lo, hi))
        return cls(
            tuple(float(b) for b in sorted(bounds)),
            tuple((float(lo), float(hi)) for lo, hi in merged),
            (float(observed[0]), float(observed[1])),
            (float(searched[0]), float(searched[1])),
            float(level),
            modifier,
            method,
        )

    @property
    def within_observed(self) -> tuple[tuple[float, float], ...]:
        return tuple(_intersect(self.excludes_one, self.observed_range))

    @property
    def outside_observed(self) -> tuple[tuple[float, float], ...]:
        """Parts of the region beyond the observed modifier range (extrapolation)."""
        lo, hi = self.observed_range
        return tuple(
            _intersect(self.excludes_one, (-np.inf, lo))
            + _intersect(self.excludes_one, (hi, np.inf))
        )

    @property
    def excludes_one_inside_bounds(self) -> bool | None:
        """True if the CI excludes 1 between the two bounds, False if outside; None otherwise."""
        if len(self.bounds) != 2:
            return None
        mid = 0.5 * (self.bounds[0] + self.bounds[1])
        return any(lo < mid < hi for lo, hi in self.excludes_one)

    def __str__(self) -> str:
        pct, name = f"{100 * self.level:g}%", self.modifier
        lo, hi = self.observed_range
        if not self.excludes_one:
            head = f"The {pct} CI of the treatment HR includes 1 for every {name}"
        else:
            head = f"The {pct} CI of the treatment HR excludes 1 for " + " or ".join(
                _interval_text(a, b, name) for a, b in self.excludes_one
            )
        if self.searched != (-np.inf, np.inf):
            head += f" (searched {_fmt(self.searched[0])} to {_fmt(self.searched[1])})"
        inside = self.within_observed
        tail = f"; within the observed range ({_fmt(lo)} to {_fmt(hi)}): " + (
            ", ".join(f"{_fmt(a)} to {_fmt(b)}" for a, b in inside) if inside else "nowhere"
        )
        return head + tail + f" [{self.method}]"

    def __repr__(self) -> str:
        return f"<JohnsonNeymanRegion: {self}>"

    def _repr_html_(self) -> str:
        return f"<p><strong>Johnson-Neyman region</strong>: {html.escape(str(self))}</p>"

    def to_dict(self) -> dict[str, Any]:
        enc = lambda v: None if np.isinf(v) else float(v)  # noqa: E731 - JSON has no infinity
        return {
            "level": self.level,
            "bounds": list(self.bounds),
            "method": self.method,
            "excludes_one": [[enc(a), enc(b)] for a, b in self.excludes_one],
            "excludes_one_within_observed": [[a, b] for a, b in self.within_observed],
            "observed_range": list(self.observed_range),
            "text": str(self),
        }


@dataclass(frozen=True)
class FiellerInterval:
    """Modifier value where HR = 1 and its Fieller confidence set.

    The confidence set is every x whose Wald CI of the HR contains 1 (test inversion), the
    complement of the Johnson-Neyman region. It may be a bounded interval, two unbounded rays
    (the complement of an interval), or the whole line when the slope is not clearly non-zero.
    """

    estimate: float
    intervals: tuple[tuple[float, float], ...]
    level: float
    modifier: str
    searched: tuple[float, float] = (-np.inf, np.inf)

    @classmethod
    def from_region(cls, estimate: float, region: JohnsonNeymanRegion) -> FiellerInterval:
        pieces = _pieces(region.bounds, region.searched)
        keep = [
            (a, b)
            for a, b in pieces
            if not any(lo <= _inside(a, b) <= hi for lo, hi in region.excludes_one)
        ]
        merged: list[tuple[float, float]] = []
        for a, b in keep:
            if merged and merged[-1][1] == a:
                merged[-1] = (merged[-1][0], b)
            else:
                merged.append((a, b))
        return cls(
            float(estimate),
            tuple((float(a), float(b)) for a, b in merged),
            region.level,
            region.modifier,
            region.searched,
        )

    @property
    def kind(self) -> str:
        if not self.intervals:
            return "empty"
        if len(self.intervals) == 1:
            lo, hi = self.intervals[0]
            if np.isinf(lo) and np.isinf(hi):
                return "whole line"
            return "unbounded" if np.isinf(lo) or np.isinf(hi) else "bounded"
        if (
            len(self.intervals) == 2
            and np.isinf(self.intervals[0][0])
            and np.isinf(self.intervals[1][1])
        ):
            return "complement of an interval"
        return "union of intervals"

    @property
    def lower(self) -> float:
        return self.intervals[0][0] if self.kind == "bounded" else float("nan")

    @property
    def upper(self) -> float:
        return self.intervals[0][1] if self.kind == "bounded" else float("nan")

    def __str__(self) -> str:
        pct, name = f"{100 * self.level:g}%", self.modifier
        head = f"HR = 1 at {name} = {_fmt(self.estimate)}; {pct} Fieller set: "
        if self.kind == "bounded":
            body = f"{_fmt(self.lower)} to {_fmt(self.upper)}"
        elif self.kind == "whole line":
            body = "every value (unbounded: the data do not locate the crossing)"
        elif self.kind == "complement of an interval":
            (_, a), (b, _) = self.intervals
            body = (
                f"{name} <= {_fmt(a)} or {name} >= {_fmt(b)} "
                f"(unbounded; excludes {_fmt(a)} to {_fmt(b)})"
            )
        else:
            body = " or ".join(
                _interval_text(a, b, name).replace("<", "<=") for a, b in self.intervals
            )
        if self.searched != (-np.inf, np.inf):
            body += f" (searched {_fmt(self.searched[0])} to {_fmt(self.searched[1])})"
        return head + body

    def __repr__(self) -> str:
        return f"<FiellerInterval: {self}>"

    def _repr_html_(self) -> str:
        return f"<p><strong>Fieller interval</strong>: {html.escape(str(self))}</p>"

    def to_dict(self) -> dict[str, Any]:
        enc = lambda v: None if np.isinf(v) else float(v)  # noqa: E731
        return {
            "estimate": self.estimate,
            "kind": self.kind,
            "level": self.level,
            "intervals": [[enc(a), enc(b)] for a, b in self.intervals],
            "text": str(self),
        }


def _quadratic_roots(a: float, b: float, c: float) -> np.ndarray:
    """Real roots of a x^2 + b x + c, sorted (numerically stable form)."""
    disc = b * b - 4 * a * c
    if disc < 0 or (a == 0 and b == 0):
        return np.array([])
    if a == 0:
        return np.array([-c / b])
    s = -0.5 * (b + np.copysign(np.sqrt(disc), b))
    roots = [s / a, c / s] if s != 0 else [0.0, 0.0]
    return np.sort(np.array(roots, dtype=float))


def johnson_neyman_linear(
    b_trt: float,
    b_int: float,
    v_tt: float,
    v_ti: float,
    v_ii: float,
    level: float = 0.95,
) -> list[tuple[float, float]]:
    """Open intervals of a linear modifier x where the Wald CI of the treatment HR excludes 1.

    With log HR(x) = b_trt + b_int x and Var = v_tt + 2 x v_ti + x^2 v_ii, the CI excludes 1
    where (b_trt + b_int x)^2 - z^2 Var(x) > 0, a quadratic in x solved with the stable root
    formula (:func:`_quadratic_roots`); unbounded ends are +-inf, a touching (double) root does
    not split an interval.

    Examples
    --------
    >>> johnson_neyman_linear(-1.0, 0.5, 0.04, 0.0, 0.01)  # doctest: +ELLIPSIS
    [(-inf, 1.104...), (3.621..., inf)]
    """
    q2 = float(stats.norm.ppf(0.5 + level / 2)) ** 2
    a = b_int**2 - q2 * v_ii
    b = 2.0 * (b_trt * b_int - q2 * v_ti)
    c = b_trt**2 - q2 * v_tt

    def excess(x: float) -> float:
        return (b_trt + b_int * x) ** 2 - q2 * (v_tt + 2.0 * x * v_ti + x * x * v_ii)

    merged: list[tuple[float, float]] = []
    for lo, hi in _pieces(_quadratic_roots(a, b, c), (-np.inf, np.inf)):
        if excess(_inside(lo, hi)) <= 0:
            continue
        if merged and merged[-1][1] == lo:
            merged[-1] = (merged[-1][0], float(hi))
        else:
            merged.append((float(lo), float(hi)))
    return merged
