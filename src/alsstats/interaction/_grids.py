"""Where to evaluate a treatment hazard-ratio curve: modifier-value grids.

:class:`Values`, :class:`Quantiles` and :class:`EvenGrid` say where (raw modifier units), apart
from what is computed there; :func:`resolve_grid` turns a grid or any array-like into values, and
:func:`roots_on_grid` locates the roots of a vectorised function by sign changes on a grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize

from ..errors import InputError

__all__ = ["EvenGrid", "Grid", "Quantiles", "Values", "resolve_grid", "roots_on_grid"]


# ---------------------------------------------------------------------- where to evaluate
class Grid:
    """Where to evaluate the HR curve, apart from what to compute there."""

    def resolve(self, observed: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class Values(Grid):
    """Explicit modifier values (raw units)."""

    values: Sequence[float]

    def resolve(self, observed: np.ndarray) -> np.ndarray:
        return np.asarray(self.values, dtype=float).ravel()


@dataclass(frozen=True)
class Quantiles(Grid):
    """Quantiles of the observed modifier, e.g. ``Quantiles((0.25, 0.5, 0.75))``."""

    probs: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9)

    def resolve(self, observed: np.ndarray) -> np.ndarray:
        probs = np.asarray(self.probs, dtype=float)
        if np.any((probs < 0) | (probs > 1)):
            raise InputError("Quantiles", "probs", "must lie in [0, 1]")
        return np.quantile(observed, probs)


@dataclass(frozen=True)
class EvenGrid(Grid):
    """``n`` evenly spaced values over the observed range (or over [lower, upper])."""

    n: int = 101
    lower: float | None = None
    upper: float | None = None

    def resolve(self, observed: np.ndarray) -> np.ndarray:
        lo = float(observed.min()) if self.lower is None else self.lower
        hi = float(observed.max()) if self.upper is None else self.upper
        return np.linspace(lo, hi, int(self.n))


def resolve_grid(values: Any, observed: np.ndarray) -> np.ndarray:
    """Modifier values from a :class:`Grid` or any array-like of numbers."""
    x = values.resolve(observed) if isinstance(values, Grid) else values
    try:
        x = np.atleast_1d(np.asarray(x, dtype=float)).ravel()
    except (TypeError, ValueError):
        raise InputError("values", "modifier values", f"not numbers: {values!r}") from None
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise InputError("values", "modifier values", "need at least one finite value")
    return x


def roots_on_grid(f: Any, grid: np.ndarray) -> list[float]:
    """Roots of a vectorised ``f`` located by sign changes on ``grid``, refined by brentq."""
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.asarray(f(grid), dtype=float)
    roots: list[float] = [float(x) for x, v in zip(grid, y, strict=True) if v == 0.0]
    scalar = lambda x: float(f(np.array([x]))[0])  # noqa: E731
    for i in range(len(grid) - 1):
        a, b = y[i], y[i + 1]
        if np.isfinite(a) and np.isfinite(b) and a * b < 0:
            roots.append(optimize.brentq(scalar, grid[i], grid[i + 1], xtol=1e-12, rtol=1e-14))
    return sorted(roots)
