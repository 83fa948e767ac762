"""``alsstats hr-curve``: treatment hazard ratio across a modifier, from a CSV of patients.

Prints the Cox fit, where exp(b_treatment) applies (the guard), the HR table, the
Johnson-Neyman region, the HR = 1 crossing with its Fieller set and the interaction tests;
``--json`` writes everything needed to compare with R's ``coxph`` side by side. ``--engine``
picks lifelines (default; falls back to the engine, R's algorithm, when lifelines does not
converge, and says so) or the fast engine; ``--na drop`` leaves out incomplete rows as R's
``na.omit`` and says how many.
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from typing import Any

from ..errors import HazardRatioAtUnobservedValueWarning, InputError
from ..io import read_csv
from . import confidence_level, positive_float

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "hr-curve",
        help="treatment HR across a modifier (Cox model with interaction)",
        description=(
            "Fit a Cox model with a treatment x modifier interaction and report the treatment "
            "hazard ratio at modifier values, the Johnson-Neyman region and where HR = 1."
        ),
    )
    p.add_argument("data", metavar="DATA.csv", help="one row per patient")
    p.add_argument("--time", required=True, help="follow-up time column")
    p.add_argument("--event", required=True, help="event indicator column (1 = event)")
    p.add_argument("--formula", required=True, help='right-hand side, e.g. "trt * pnfh"')
    p.add_argument("--treatment", required=True, help="0/1 treatment column")
    p.add_argument("--modifier", required=True, help="continuous modifier column")
    p.add_argument("--at", help="comma-separated modifier values (default: deciles 10-90%%)")
    p.add_argument("--ties", choices=("efron", "breslow"), default="efron")
    p.add_argument("--strata", action="append", help="stratification column (repeatable)")
    p.add_argument(
        "--loq", type=positive_float, help="assay limit of quantification (modifier units, > 0)"
    )
    p.add_argument("--center", help="centre the modifier at a value, 'median' or 'mean'")
    p.add_argument(
        "--level",
        type=confidence_level,
        default=0.95,
        help="confidence level: 0.95 or 95%% (default 0.95)",
    )
    p.add_argument(
        "--engine",
        choices=("lifelines", "fast"),
        default="lifelines",
        help="Cox fitter: lifelines (default; the engine takes over if lifelines does not "
        "converge) or fast (the package's engine, R's coxph algorithm)",
    )
    p.add_argument(
        "--na",
        choices=("refuse", "drop"),
        default="refuse",
        help="rows with missing values: refuse (default, an error naming the column) or drop "
        "them as R's na.omit (the output says how many)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)


def _values(text: str | None) -> Any:
    from ..interaction import Quantiles

    if text is None:
        return Quantiles((0.1, 0.25, 0.5, 0.75, 0.9))
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError("--at", "", f"expected comma-separated numbers, got {text!r}") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise InputError("--at", "", f"expected comma-separated finite numbers, got {text!r}")
    return values


def _centre(text: str | None) -> float | str | None:
    if text is None or text in ("median", "mean", "loq"):
        return text
    try:
        return float(text)
    except ValueError:
        raise InputError(
            "--center", "", f"a number, 'median', 'mean' or 'loq', not {text!r}"
        ) from None


def _clean(obj: Any) -> Any:
    """JSON-safe: NaN and infinity become null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def run(args: argparse.Namespace) -> int:
    from ..interaction import TreatmentInteraction

    df = read_csv(args.data)
    analysis = TreatmentInteraction(
        args.formula,
        args.treatment,
        args.modifier,
        ties=args.ties,
        strata=args.strata,
        limit_of_quantification=args.loq,
        center_at=_centre(args.center),
        engine=args.engine,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HazardRatioAtUnobservedValueWarning)
        analysis.fit(
            df,
            args.time,
            args.event,
            source=args.data,
            missing="drop" if args.na == "drop" else "raise",
        )
    guard_warned = any(issubclass(w.category, HazardRatioAtUnobservedValueWarning) for w in caught)
    for w in caught:  # anything else is not ours to swallow
        if not issubclass(w.category, HazardRatioAtUnobservedValueWarning):
            warnings.warn(w.message, w.category, stacklevel=1)
    table = analysis.hazard_ratio_at(_values(args.at), level=args.level)
    region = analysis.johnson_neyman(args.level)
    crossing = analysis.hr_equals_one(args.level)
    tests = analysis.interaction_tests()
    if args.json:
        out = analysis.model_.fitted_info()
        out.update(
            data=args.data,
            treatment=args.treatment,
            modifier=args.modifier,
            centred_at=analysis.shift_,
            notes=analysis.notes_,
            n_dropped=analysis.n_dropped_,
            coefficient_applies_at=analysis.coefficient_applies_at_,
            guard=analysis.guard_message(),
            guard_warning=guard_warned,
            hr_table=table.to_dict(orient="records"),
            johnson_neyman=region.to_dict(),
            hr_equals_one=crossing.to_dict(),
            interaction_tests=tests.reset_index().to_dict(orient="records"),
        )
        print(json.dumps(_clean(out), indent=2))
        return 0
    fmt = lambda v: f"{v:.4g}"  # noqa: E731
    print(analysis.model_._header())
    for note in analysis.notes_:
        print(f"note: {note}")
    print(analysis.model_.summary_frame(args.level).to_string(float_format=fmt))
    print(("WARNING: " if guard_warned else "NOTE: ") + analysis.guard_message())
    lo, hi = analysis.observed_range_
    table["note"] = ""
    table.loc[(table["value"] < lo) | (table["value"] > hi), "note"] = "outside observed range"
    if args.loq is not None:
        table.loc[table["value"] < args.loq, "note"] = "below LOQ"
    print(f"\nTreatment hazard ratio by {args.modifier} ({100 * args.level:g}% Wald CI):")
    print(table.to_string(index=False, float_format=fmt))
    print("\nJohnson-Neyman: " + str(region))
    print(str(crossing))
    print("\nInteraction tests:")
    print(tests.to_string(float_format=fmt))
    return 0
