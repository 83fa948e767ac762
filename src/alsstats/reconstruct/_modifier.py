"""The effect modifier of a summary (a biomarker), its assumptions and its distribution.

Everything the reconstruction knows about the modifier comes from the summary: its id, unit
and label (``biomarkers:``), the cut-offs and shares of the subgroup hazard ratios, and the
assumptions about it. An assumption about the modifier is keyed by its id (``nfl_distribution``,
``nfl_scale``), by the last part of its id (``pnfh_scale`` for ``csf_pnfh``), or generically
(``biomarker_distribution``, ``biomarker_scale``); the key used also names the cohort column
(``pnfh``), else the column is the id. A ``*_distribution`` or ``*_scale`` assumption that
names no known modifier is an error, never ignored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, ReconstructionError
from ..models import GammaBiomarker, LogNormalBiomarker

__all__: list[str] = ["CategoryCodes", "Modifier", "category_bounds", "modifier_of"]

GENERIC = "biomarker"
KINDS = ("distribution", "scale")
FAMILIES = {"lognormal": LogNormalBiomarker, "gamma": GammaBiomarker}
SCALES = ("linear", "log")
# Assumption ids with a *_distribution / *_scale form that are not about the modifier.
_OTHER_PREFIXES = ("age",)
# Spread assumed when the summary fixes fewer than two quantiles of the modifier: a log-scale
# SD of 1 (a 2.7-fold ratio per SD), typical of circulating biomarkers; stated as an
# assumption (``sigma_log`` in the distribution assumption) and overridable.
DEFAULT_SIGMA_LOG = 1.0


@dataclass(frozen=True)
class Modifier:
    """The modifier of a summary: ``id`` (as in the summary), ``column`` (its cohort column),
    ``unit`` and ``label``; ``present`` is False when the summary reports no modifier figure;
    ``median`` and ``iqr`` when printed (format version 2)."""

    id: str
    column: str
    unit: str | None = None
    label: str | None = None
    present: bool = True
    median: float | None = None
    iqr: tuple[float, float] | None = None
    categories: tuple[str, ...] = ()  # a categorical modifier's categories (reference first)
    shares: Mapping[str, float] | None = None  # a categorical modifier's printed shares

    @property
    def categorical(self) -> bool:
        return bool(self.categories)

    def aliases(self) -> tuple[str, ...]:
        short = self.id.rsplit("_", 1)[-1]
        return tuple(dict.fromkeys((self.id, short, self.column, GENERIC)))


def _referenced(summary: Any) -> list[str]:
    """Modifier ids the hazard ratios refer to, in order of appearance (then those of the
    survival landmarks in a categorical subgroup)."""
    ids: list[str] = []
    figures = [*(getattr(summary, "hazard_ratios", ()) or ())]
    figures += [s for s in getattr(summary, "survival", ()) or () if _in_subgroup(s)]
    for hr in figures:
        pop = hr.population
        for name in (getattr(pop, "biomarker", None), getattr(pop, "modifier", None)):
            if name and name not in ids:
                ids.append(name)
    return ids


def _in_subgroup(figure: Any) -> bool:
    return getattr(getattr(figure, "population", None), "kind", "all") == "subgroup"


def _split(key: str) -> tuple[str, str] | None:
    for kind in KINDS:
        if key.endswith(f"_{kind}"):
            return key[: -len(kind) - 1], kind
    return None


def modifier_of(summary: Any) -> Modifier:
    """The summary's modifier (the biomarker its hazard ratios refer to, else its only one).

    A summary without any has a placeholder (``present`` False) named ``biomarker``.
    """
    listed = {b.id: b for b in getattr(summary, "biomarkers", ()) or ()}
    # format version 2 names them modifiers: continuous ones, and categorical ones (a cohort
    # column of category labels; in the search, category codes, see CategoryCodes)
    ref = _referenced(summary)
    for m in getattr(summary, "modifiers", ()) or ():
        if getattr(m, "kind", "continuous") == "continuous" or m.id in ref:
            listed.setdefault(m.id, m)
    if ref:
        ident = ref[0]
    elif len(listed) == 1:
        ident = next(iter(listed))
    else:
        return Modifier(GENERIC, GENERIC, present=False)
    b = listed.get(ident)
    unit = getattr(b, "unit", None) if b is not None else None
    label = getattr(b, "label", None) if b is not None else None
    keys = [a.id for a in getattr(summary, "assumptions", ()) or ()]
    short = ident.rsplit("_", 1)[-1]
    column = ident
    for key in keys:
        parts = _split(key)
        if parts and parts[0] == short and short != ident:
            column = short  # e.g. pnfh_scale for csf_pnfh: the column is pnfh
    median = getattr(b, "median", None) if b is not None else None
    iqr = getattr(b, "iqr", None) if b is not None else None
    if getattr(b, "kind", "continuous") == "categorical":
        categories = tuple(b.categories)
        return Modifier(ident, ident, None, label, bool(ref), None, None, categories,
                        dict(getattr(b, "shares", None) or {}))  # fmt: skip
    return Modifier(ident, column, unit, label, bool(ref), median, tuple(iqr) if iqr else None)


@dataclass(frozen=True)
class CategoryCodes:
    """A categorical modifier as the distribution of its category codes 0, 1, ..., K-1 (the
    categories in the summary's order, the first the reference) with the given shares.

    The reconstruction's search holds a categorical modifier as these codes: category k is
    the "biomarker group" [k - 1/2, k + 1/2) of the code axis (cut-offs at 1/2, 3/2, ...), so
    subgroup fits, windows, cells and the calibrated model treat a category as a group with
    no cut-offs of its own; the interaction model's modifier column is the code (for two
    categories: the indicator of the second, treatment x category with the first as
    reference). Interface of the continuous distributions (median, share_between, quantile,
    sample).
    """

    categories: tuple[str, ...]
    weights: tuple[float, ...]
    unit: str = "category"

    @property
    def median(self) -> float:
        return float(self.quantile(np.array(0.5)))

    def _cum(self) -> np.ndarray:
        w = np.asarray(self.weights, float)
        return np.cumsum(w / w.sum())

    def share_between(self, lower: float | None, upper: float | None) -> float:
        codes = np.arange(len(self.categories))
        inside = np.ones(codes.size, bool)
        if lower is not None:
            inside &= codes >= lower
        if upper is not None:
            inside &= codes < upper
        w = np.asarray(self.weights, float)
        return float(w[inside].sum() / w.sum())

    def quantile(self, q: np.ndarray) -> np.ndarray:
        cum = self._cum()
        return np.minimum(np.searchsorted(cum, np.asarray(q, float), side="left"), cum.size - 1)

    def sample(self, size: int | tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return self.quantile(rng.random(size)).astype(float)

    def codes(self, labels: Any) -> np.ndarray:
        """Codes of category labels (NaN for a label that is no category)."""
        index = {c: float(k) for k, c in enumerate(self.categories)}
        return np.array([index.get(str(v), np.nan) for v in np.asarray(labels)], float)


def category_bounds(k: int, count: int) -> tuple[float | None, float | None]:
    """The code interval of category ``k`` of ``count`` (open at the ends, as groups are)."""
    return (None if k == 0 else k - 0.5), (None if k == count - 1 else k + 0.5)


def check_assumption_ids(keys: list[str], modifier: Modifier, where: str = "assumptions") -> None:
    """Every ``*_distribution`` / ``*_scale`` id names the modifier (or age): else an error."""
    known = set(modifier.aliases()) | set(_OTHER_PREFIXES)
    for key in keys:
        parts = _split(key)
        if parts is None or parts[0] in known:
            continue
        raise InputError(
            where,
            key,
            f"names no known modifier (this summary's is {modifier.id!r}: use "
            f"{modifier.column}_{parts[1]} or {GENERIC}_{parts[1]})",
        )


def modifier_key(values: Mapping[str, Any], modifier: Modifier, kind: str) -> str | None:
    """The id under which ``values`` holds the modifier's ``kind`` assumption (None: absent)."""
    for alias in modifier.aliases():
        if f"{alias}_{kind}" in values:
            return f"{alias}_{kind}"
    return None


def modifier_value(values: Mapping[str, Any], modifier: Modifier, kind: str, default: Any) -> Any:
    key = modifier_key(values, modifier, kind)
    return default if key is None else values[key]


def validate_modifier_values(values: Mapping[str, Any], modifier: Modifier) -> None:
    """The modifier's family and scale are ones the reconstruction implements."""
    key = modifier_key(values, modifier, "scale")
    if key is not None and values[key] not in SCALES:
        raise InputError("assumptions", key, f"{values[key]!r}: use one of {list(SCALES)}")
    key = modifier_key(values, modifier, "distribution")
    if key is not None:
        spec = values[key] or {}
        family = spec.get("family", "lognormal") if isinstance(spec, Mapping) else str(spec)
        if family not in FAMILIES:
            raise InputError("assumptions", key, f"family {family!r} unknown; use {list(FAMILIES)}")


def _known_cdf(groups: list[Any]) -> dict[float, float]:
    """Share of patients below each cut-off that the reported subgroup shares fix.

    The cut-off's share is known when every group above it has a reported share (1 minus
    their sum; summed in group order) or every measured group below it has one."""
    ranged = [g for g in groups if not g.missing]
    cuts = sorted({b for g in ranged for b in (g.lower, g.upper) if b is not None})
    out: dict[float, float] = {}
    for c in cuts:
        above = [g for g in ranged if g.lower is not None and g.lower >= c]
        below = [g for g in ranged if g.upper is not None and g.upper <= c]
        missing = any(g.missing for g in groups)
        if above and all(g.share is not None for g in above):
            out[c] = 1.0 - sum(g.share for g in above)
        elif below and not missing and all(g.share is not None for g in below):
            out[c] = sum(g.share for g in below)
    return {c: s for c, s in out.items() if 0.0 < s < 1.0 and c > 0}


def fit_distribution(groups: list[Any], spec: Any, key: str = "biomarker_distribution") -> Any:
    """The modifier's distribution from the reported shares and the assumption ``spec``.

    Two or more cut-offs with known shares: the family through the two outer ones. One: the
    family through it with the assumed spread (``sigma_log``, lognormal; ``shape``, gamma).
    None: the median is assumed (``median`` in ``spec``; else the geometric mean of the
    cut-offs, else 1), with the assumed spread. ``median`` and ``sigma_log`` in ``spec``
    override the shares.
    """
    spec = spec if isinstance(spec, Mapping) else ({"family": spec} if spec else {})
    family = spec.get("family", "lognormal")
    if family not in FAMILIES:
        raise InputError("assumptions", key, f"family {family!r} unknown; use {list(FAMILIES)}")
    known = _known_cdf(groups)
    if "median" in spec and "sigma_log" in spec and family == "lognormal":
        return LogNormalBiomarker(float(spec["median"]), float(spec["sigma_log"]))
    if len(known) >= 2:
        lo, hi = min(known), max(known)
        if not known[lo] < known[hi]:
            raise ReconstructionError(f"reported subgroup shares decrease along the axis ({key})")
        return FAMILIES[family].from_shares(lo, known[lo], hi, 1.0 - known[hi])
    sigma = float(spec.get("sigma_log", DEFAULT_SIGMA_LOG))
    from scipy import stats

    if known:
        cut, below = next(iter(known.items()))
        median = cut * math.exp(-sigma * float(stats.norm.ppf(below)))
    else:
        cuts = [b for g in groups for b in (g.lower, g.upper) if b is not None and b > 0]
        median = float(
            spec.get("median", math.exp(sum(map(math.log, cuts)) / len(cuts)) if cuts else 1.0)
        )
    lognormal = LogNormalBiomarker(median, sigma)
    if family == "lognormal":
        return lognormal
    # a gamma through the lognormal's quartiles
    q1, q3 = (float(v) for v in lognormal.quantile([0.25, 0.75]))
    return GammaBiomarker.from_shares(q1, 0.25, q3, 0.25)
