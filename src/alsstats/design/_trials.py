"""Simulated phase 3 trials: the design, the patient generator and the per-trial analyses.

A :class:`TrialDesign` says how patients are accrued, randomised, followed and analysed;
:func:`simulate_trials` draws R such trials from a
:class:`~alsstats.models.DataGeneratingModel` as ``(R, n)`` arrays and analyses each one:

* ``logrank``: log-rank test stratified by the randomisation strata (the usual primary test);
* ``cox``: Cox hazard ratio of treatment, same strata (fast engine);
* ``subgroup``: Cox hazard ratio in the biomarker-defined population ``design.subgroup``;
* ``interaction``: Wald test of the treatment x biomarker term of
  ``treatment + g(x) + treatment:g(x)`` (g on the model's scale unless the design says otherwise).

The results are a :class:`TrialSimulation`; :func:`draw_trials` gives the patients before
analysis.

Random numbers are drawn per chunk of replicates from ``SeedSequence(seed).spawn`` with one
stream per ingredient (biomarker, screening, accrual, randomisation, death, dropout), each drawn
patient-major, so patient i of replicate r gets the same draws whatever n is: power curves and
the sample-size search use common random numbers, and results do not depend on the executor.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special
from tqdm import tqdm

from ..errors import InputError
from ..models import DataGeneratingModel, LogNormalBiomarker
from ..survival import logrank_batch

__all__ = ["TESTS", "TrialDesign", "TrialSimulation", "draw_trials", "simulate_trials"]

TESTS = ("logrank", "cox", "subgroup", "interaction")
_Range = tuple[float | None, float | None]


@dataclass(frozen=True)
class TrialDesign:
    """How a two-arm survival trial is run and analysed (times in days).

    Parameters
    ----------
    n
        Patients randomised.
    accrual_rate
        Patients screened per day. Screen ``i`` happens at ``(i + U) / accrual_rate`` with U
        uniform on [0, 1) (uniform accrual); without enrichment every screen is randomised.
    follow_up
        Longest follow-up of a patient (the endpoint's horizon, e.g. 640 days in MIROCALS);
        None: the model's ``follow_up``.
    min_follow_up
        Calendar analysis: held ``min_follow_up`` days after the last patient is randomised;
        None: ``follow_up`` (every patient followed to the horizon).
    dropout_rate
        Exponential loss to follow-up per day; None: the model's ``dropout_rate``.
    target_events
        Event-driven analysis: held on the calendar day of the ``target_events``-th death
        (or when follow-up ends if fewer deaths ever occur); None: calendar analysis.
    allocation
        (treatment, control) ratio, e.g. (1, 1) or (2, 1).
    block_multiple
        Permuted blocks of ``block_multiple * sum(allocation)`` within each stratum.
    biomarker_strata
        Biomarker cut points defining randomisation strata (e.g. ``(3700,)``).
    prognostic_shares, prognostic_log_hr
        A second stratification factor (e.g. site of onset): shares of its levels and their log
        hazard ratios (first level 0), added to the model's linear predictor.
    enrichment
        (lower, upper) biomarker range of eligible patients (None ends are open); patients
        screened outside it are screen failures.
    subgroup
        (lower, upper) biomarker range of the ``subgroup`` analysis; None: no such analysis.
    primary_test
        The design's primary analysis, one of :data:`TESTS` (used by curves and sizing).
    interaction_scale
        Scale of the biomarker in the interaction analysis; None: the model's scale.
    alpha
        Two-sided significance level.
    """

    n: int
    accrual_rate: float = 1.0
    follow_up: float | None = None
    min_follow_up: float | None = None
    dropout_rate: float | None = None
    target_events: int | None = None
    allocation: tuple[int, int] = (1, 1)
    block_multiple: int = 2
    biomarker_strata: tuple[float, ...] = ()
    prognostic_shares: tuple[float, ...] = ()
    prognostic_log_hr: tuple[float, ...] = ()
    enrichment: _Range | None = None
    subgroup: _Range | None = None
    primary_test: str = "logrank"
    interaction_scale: Literal["linear", "log"] | None = None
    alpha: float = 0.05

    def __post_init__(self) -> None:
        def bad(field_: str, problem: str) -> InputError:
            return InputError("TrialDesign", field_, problem)

        if int(self.n) != self.n or self.n < 4:
            raise bad("n", f"{self.n!r}: must be an integer >= 4")
        if not self.accrual_rate > 0:
            raise bad("accrual_rate", "must be positive (patients screened per day)")
        for name in ("follow_up", "min_follow_up", "dropout_rate"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise bad(name, f"{value!r}: must be finite and >= 0")
        if self.follow_up is not None and self.follow_up <= 0:
            raise bad("follow_up", "must be positive")
        if self.target_events is not None and not (1 <= self.target_events <= self.n):
            raise bad("target_events", f"{self.target_events!r}: must be in 1..n")
        if len(self.allocation) != 2 or min(self.allocation) < 1:
            raise bad("allocation", f"{self.allocation!r}: must be two positive integers")
        if self.block_multiple < 1:
            raise bad("block_multiple", "must be >= 1")
        if list(self.biomarker_strata) != sorted(set(self.biomarker_strata)):
            raise bad("biomarker_strata", "cut points must be increasing")
        shares = np.asarray(self.prognostic_shares, dtype=float)
        if shares.size and (np.any(shares <= 0) or not math.isclose(shares.sum(), 1.0)):
            raise bad("prognostic_shares", "must be positive and sum to 1")
        if len(self.prognostic_log_hr) != shares.size:
            raise bad("prognostic_log_hr", "needs one log HR per prognostic level")
        for name in ("enrichment", "subgroup"):
            rng_ = getattr(self, name)
            if rng_ is not None:
                lo, hi = rng_
                if (lo is not None and lo < 0) or (
                    lo is not None and hi is not None and not lo < hi
                ):
                    raise bad(name, f"{rng_!r}: need 0 <= lower < upper")
        if self.primary_test not in TESTS:
            raise bad("primary_test", f"{self.primary_test!r}: not one of {TESTS}")
        if self.primary_test == "subgroup" and self.subgroup is None:
            raise bad("subgroup", "the primary test is 'subgroup' but no subgroup is given")
        if not 0 < self.alpha < 1:
            raise bad("alpha", "must be in (0, 1)")

    @property
    def block_size(self) -> int:
        return self.block_multiple * sum(self.allocation)

    def with_(self, **changes: object) -> TrialDesign:
        """A copy with some fields changed."""
        return replace(self, **changes)


# ----------------------------------------------------------------------------------------------
# One chunk of trials


def _in_range(x: np.ndarray, rng_: _Range | None) -> np.ndarray:
    if rng_ is None:
        return np.ones(np.shape(x), dtype=bool)
    lo, hi = rng_
    keep = np.ones(np.shape(x), dtype=bool)
    if lo is not None:
        keep &= x >= lo
    if hi is not None:
        keep &= x <= hi
    return keep


def _biomarker_cdf(b: object, value: float | None, default: float) -> float:
    # Any biomarker with share_between(lower, upper) and quantile(q) works (lognormal, gamma).
    if value is None:
        return default
    if value <= 0:
        return 0.0
    return float(b.share_between(None, value))  # type: ignore[attr-defined]


def _biomarker_quantile(b: object, u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 1e-300, 1 - 1e-16)
    if isinstance(b, LogNormalBiomarker):  # fast path: no scipy distribution overhead
        return b.median * np.exp(b.sigma_log * special.ndtri(u))
    return np.asarray(b.quantile(u), dtype=float)  # type: ignore[attr-defined]


def _draw(rng: np.random.Generator, kind: str, n: int, r: int, **kw: float) -> np.ndarray:
    # Patient-major draws, transposed to (R, n): patient i's values do not depend on n.
    return getattr(rng, kind)(size=(n, r), **kw).T


def _generate(
    model: DataGeneratingModel, design: TrialDesign, r: int, seed: np.random.SeedSequence
):
    """Draw r trials; arrays (r, n) plus per-trial accrual facts."""
    n = design.n
    g_x, g_prog, g_screen, g_entry, g_block, g_death, g_drop = (
        np.random.default_rng(s) for s in seed.spawn(7)
    )
    bm = model.biomarker
    lo, hi = design.enrichment if design.enrichment is not None else (None, None)
    f_lo, f_hi = _biomarker_cdf(bm, lo, 0.0), _biomarker_cdf(bm, hi, 1.0)
    eligible = f_hi - f_lo
    if not eligible > 1e-9:
        raise InputError("TrialDesign", "enrichment", "range holds no patient under the model")
    # Biomarker of randomised patients: the lognormal truncated to the enrichment range.
    u = f_lo + eligible * _draw(g_x, "random", n, r)
    x = _biomarker_quantile(bm, u)
    # Screens needed per randomised patient (1 + screen failures), then calendar entry.
    screens = _draw(g_screen, "geometric", n, r, p=eligible) if eligible < 1 else np.ones((r, n))
    screened = np.cumsum(screens, axis=1)
    entry = (screened - 1 + _draw(g_entry, "random", n, r)) / design.accrual_rate

    # Strata: biomarker band x prognostic level.
    band = np.searchsorted(np.asarray(design.biomarker_strata, float), x, side="right")
    n_prog = max(len(design.prognostic_shares), 1)
    if design.prognostic_shares:
        cum = np.cumsum(design.prognostic_shares)[:-1]
        level = np.searchsorted(cum, _draw(g_prog, "random", n, r), side="right")
        prog_lp = np.asarray(design.prognostic_log_hr, float)[level]
    else:
        level = np.zeros((r, n), dtype=np.int64)
        prog_lp = 0.0
    stratum = band * n_prog + level
    n_strata = (len(design.biomarker_strata) + 1) * n_prog

    # Permuted blocks within strata, in order of arrival (= patient index).
    onehot = stratum[..., None] == np.arange(n_strata)
    rank = np.take_along_axis(np.cumsum(onehot, axis=1), stratum[..., None], axis=2)[..., 0] - 1
    bs = design.block_size
    n_blocks = -(-n // bs)
    keys = g_block.random(size=(n_blocks, n_strata, r, bs))
    k_trt, k_ctl = design.allocation
    template = np.r_[
        np.ones(k_trt * design.block_multiple), np.zeros(k_ctl * design.block_multiple)
    ]
    table = template[np.argsort(keys, axis=-1)]
    arm = table[rank // bs, stratum, np.arange(r)[:, None], rank % bs].astype(np.int8)

    lp = model.linear_predictor(arm, x) + prog_lp
    latent = model.baseline.inverse_cumulative_hazard(
        _draw(g_death, "standard_exponential", n, r) * np.exp(-lp)
    )
    horizon = model.follow_up if design.follow_up is None else design.follow_up
    rate = model.dropout_rate if design.dropout_rate is None else design.dropout_rate
    limit = np.full((r, n), float(horizon))
    if rate > 0:
        limit = np.minimum(limit, _draw(g_drop, "standard_exponential", n, r) / rate)
    dies = latent <= limit

    if design.target_events is None:
        min_fu = horizon if design.min_follow_up is None else design.min_follow_up
        analysis = entry[:, -1] + min_fu
        reached = np.ones(r, dtype=bool)
    else:
        death_day = np.where(dies, entry + latent, np.inf)
        d = design.target_events
        analysis = np.partition(death_day, d - 1, axis=1)[:, d - 1]
        reached = np.isfinite(analysis)
        analysis = np.where(reached, analysis, np.max(entry + limit, axis=1))
    on_study = analysis[:, None] - entry
    present = on_study > 0
    cut = np.minimum(limit, np.maximum(on_study, 0.0))
    # Compare on the calendar scale, the scale the analysis day was computed on (no rounding
    # loss for the death that defines an event-driven analysis).
    event = (dies & (entry + latent <= analysis[:, None]) & present).astype(np.int8)
    time = np.where(event == 1, latent, cut)
    return {
        "x": x,
        "arm": arm,
        "stratum": stratum,
        "time": time,
        "event": event,
        "present": present,
        "analysis_day": analysis,
        "events_reached": reached,
        "n_screened": screened[:, -1].astype(np.int64),
        "accrual_days": entry[:, -1],
    }


def _wald_p(coef: np.ndarray, se: np.ndarray, ok: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(ok & (se > 0), coef / se, np.nan)
    return special.erfc(np.abs(z) / np.sqrt(2.0))


def _analyse(
    trials: dict, model: DataGeneratingModel, design: TrialDesign, tests: Sequence[str]
) -> dict:
    """Per-trial estimates and p-values of the requested tests."""
    out: dict[str, np.ndarray] = {
        "n_analysed": trials["present"].sum(axis=1),
        "events": trials["event"].sum(axis=1),
        "n_screened": trials["n_screened"],
        "accrual_days": trials["accrual_days"],
        "analysis_day": trials["analysis_day"],
        "events_reached": trials["events_reached"],
    }
    time, event, arm, strata, present = (
        trials[k] for k in ("time", "event", "arm", "stratum", "present")
    )
    if "logrank" in tests:
        lr = logrank_batch(time, event, arm, strata=strata, mask=present)
        out["logrank_z"] = lr.z
        out["logrank_p"] = lr.p_value
    if {"cox", "subgroup", "interaction"} & set(tests):
        from ..survival import fit_cox_batch

    def cox(X: np.ndarray, mask: np.ndarray, prefix: str, col: int) -> None:
        fit = fit_cox_batch(time, event, X, strata=strata, mask=mask)
        ok = np.asarray(fit.ok)
        coef = np.where(ok, fit.coef[:, col], np.nan)
        out[f"{prefix}_coef"] = coef
        out[f"{prefix}_p"] = _wald_p(coef, fit.se[:, col], ok)
        out[f"{prefix}_failed"] = ~ok

    arm_f = arm.astype(float)[..., None]
    if "cox" in tests:
        cox(arm_f, present, "cox", 0)
    if "subgroup" in tests and design.subgroup is not None:
        sub = present & _in_range(trials["x"], design.subgroup)
        out["subgroup_n"] = sub.sum(axis=1)
        cox(arm_f, sub, "subgroup", 0)
    if "interaction" in tests:
        scale = design.interaction_scale or model.scale
        g = trials["x"] / 1000.0 if scale == "linear" else np.log(trials["x"])
        X = np.stack([arm_f[..., 0], g, arm_f[..., 0] * g], axis=-1)
        cox(X, present, "interaction", 2)
    return out


def draw_trials(
    model: DataGeneratingModel, design: TrialDesign, n_replicates: int, *, seed: int = 0
) -> dict[str, np.ndarray]:
    """The simulated patients of ``n_replicates`` trials, before analysis (one chunk).

    Returns a dict of arrays: per patient ``(R, n)`` -- ``x`` (biomarker), ``arm`` (1 =
    treatment), ``stratum`` (randomisation stratum code), ``time``, ``event`` (censored at the
    analysis), ``present`` (randomised before the analysis day) -- and per trial ``(R,)`` --
    ``analysis_day``, ``events_reached``, ``n_screened``, ``accrual_days`` (day of the last
    randomisation). Patients are in order of arrival. These are the draws of the first chunk
    of :func:`simulate_trials` with the same seed when ``n_replicates <= chunk_size``.
    """
    (r, s), *_ = _chunks(n_replicates, n_replicates, seed)
    return _generate(model, design, r, s)


def _run_chunk(task: tuple) -> dict:
    model, design, r, seed, tests = task
    return _analyse(_generate(model, design, r, seed), model, design, tests)


# ----------------------------------------------------------------------------------------------
# Many trials


@dataclass
class TrialSimulation:
    """R simulated trials of one design: ``trials`` has one row per trial.

    Columns: ``n_analysed``, ``events``, ``n_screened``, ``accrual_days``, ``analysis_day``,
    ``events_reached`` and, per test, ``<test>_p`` (two-sided) with ``logrank_z`` or
    ``<test>_coef`` (log HR; for ``interaction`` per 1,000 units of the biomarker on the linear
    scale, per unit of log on the log scale) and ``<test>_failed`` (the Cox fit failed: counted
    as no rejection).
    """

    model: DataGeneratingModel
    design: TrialDesign
    seed: int
    trials: pd.DataFrame = field(repr=False)

    @property
    def n_replicates(self) -> int:
        return len(self.trials)

    def power(self, alpha: float | None = None) -> pd.DataFrame:
        """Rejection rate per test, with its Monte Carlo standard error.

        ``power`` is P(p < alpha) (type I error under a null model); ``power_benefit`` also
        requires the estimate to favour treatment (for ``interaction``: a hazard ratio that
        falls as the biomarker rises).
        """
        alpha = self.design.alpha if alpha is None else alpha
        rows = []
        n_rep = self.n_replicates
        for test in TESTS:
            if f"{test}_p" not in self.trials:
                continue
            p = self.trials[f"{test}_p"].to_numpy()
            est = self.trials[f"{test}_z" if test == "logrank" else f"{test}_coef"].to_numpy()
            reject = np.nan_to_num(p, nan=1.0) < alpha
            power = reject.mean()
            favour = est > 0 if test == "interaction" else est < 0
            failed = self.trials.get(f"{test}_failed", pd.Series(False, index=self.trials.index))
            rows.append(
                {
                    "test": test,
                    "power": power,
                    "mc_se": math.sqrt(power * (1 - power) / n_rep),
                    "power_benefit": (reject & favour).mean(),
                    "failed_fits": int(failed.sum()),
                }
            )
        return pd.DataFrame(rows).set_index("test")

    @property
    def summary(self) -> pd.DataFrame:
        """Power per test plus the design's average size, events, screening and duration."""
        t = self.trials
        out = self.power()
        out["n"] = self.design.n
        out["mean_events"] = t["events"].mean()
        out["mean_screened"] = t["n_screened"].mean()
        out["screen_fail_share"] = 1.0 - self.design.n / out["mean_screened"]
        out["mean_analysis_day"] = t["analysis_day"].mean()
        out["n_replicates"] = len(t)
        return out

    def _repr_html_(self) -> str:
        return self.summary._repr_html_()  # type: ignore[operator]


def _chunks(
    n_replicates: int, chunk_size: int, seed: int
) -> Iterator[tuple[int, np.random.SeedSequence]]:
    seeds = np.random.SeedSequence(seed).spawn(-(-n_replicates // chunk_size))
    for i, s in enumerate(seeds):
        yield min(chunk_size, n_replicates - i * chunk_size), s


def simulate_trials(
    model: DataGeneratingModel,
    design: TrialDesign,
    n_replicates: int = 1000,
    *,
    seed: int = 0,
    tests: Sequence[str] | None = None,
    chunk_size: int = 250,
    executor: Executor | None = None,
    progress: bool = False,
) -> TrialSimulation:
    """Simulate and analyse ``n_replicates`` trials of ``design`` under ``model``.

    Parameters
    ----------
    model
        The truth (e.g. :func:`~alsstats.design.mirocals_reference_model` or a calibrated model).
    design
        How the trial is run.
    n_replicates
        Trials to simulate.
    seed
        Same seed, same ``chunk_size``: identical results, serial or with any executor.
    tests
        Analyses to run (default: all of :data:`TESTS` that apply); ``("logrank",)`` skips the
        Cox engine.
    chunk_size
        Replicates per task handed to ``executor``.
    executor
        Any :class:`concurrent.futures.Executor` (process pool, a Dask client's
        ``get_executor()``); None: serial.
    progress
        Show a tqdm progress bar over chunks.

    Examples
    --------
    >>> from alsstats.design import mirocals_reference_model
    >>> sim = simulate_trials(mirocals_reference_model(), TrialDesign(n=220, accrual_rate=0.5),
    ...                       200, seed=1, tests=("logrank",))
    >>> sim.n_replicates, bool(sim.trials["events"].mean() > 60)
    (200, True)
    """
    if not isinstance(model, DataGeneratingModel):
        raise InputError("simulate_trials", "model", "must be a DataGeneratingModel")
    if not isinstance(design, TrialDesign):
        raise InputError("simulate_trials", "design", "must be a TrialDesign")
    if int(n_replicates) != n_replicates or n_replicates < 1:
        raise InputError("simulate_trials", "n_replicates", "must be a positive integer")
    if chunk_size < 1:
        raise InputError("simulate_trials", "chunk_size", "must be a positive integer")
    tests = tuple(TESTS if tests is None else tests)
    unknown = set(tests) - set(TESTS)
    if unknown:
        raise InputError("simulate_trials", "tests", f"unknown {sorted(unknown)}; use {TESTS}")
    tasks = [(model, design, r, s, tests) for r, s in _chunks(n_replicates, chunk_size, seed)]
    mapper = map if executor is None else executor.map
    parts = []
    with tqdm(total=n_replicates, disable=not progress, desc="trials", unit="trial") as bar:
        for part in mapper(_run_chunk, tasks):
            parts.append(pd.DataFrame(part))
            bar.update(len(parts[-1]))
    trials = pd.concat(parts, ignore_index=True)
    return TrialSimulation(model=model, design=design, seed=seed, trials=trials)
