"""Phase 3 trial design by simulation from a data-generating model.

A :class:`TrialDesign` says how patients are accrued, randomised, followed and analysed;
:func:`simulate_trials` draws R such trials from a
:class:`~alsstats.dgm.DataGeneratingModel` as ``(R, n)`` arrays and analyses each one:

* ``logrank``: log-rank test stratified by the randomisation strata (the usual primary test);
* ``cox``: Cox hazard ratio of treatment, same strata (fast engine);
* ``subgroup``: Cox hazard ratio in the biomarker-defined population ``design.subgroup``;
* ``interaction``: Wald test of the treatment x biomarker term of
  ``treatment + g(x) + treatment:g(x)`` (g on the model's scale unless the design says otherwise).

:func:`power_curve`, :func:`sample_size` and :func:`plot_power_curves` turn these into power
against sample size and the n that reaches 80% or 90% power; :func:`mirocals_reference_model`
is the MIROCALS truth rebuilt from the reported figures alone.

Random numbers are drawn per chunk of replicates from ``SeedSequence(seed).spawn`` with one
stream per ingredient (biomarker, screening, accrual, randomisation, death, dropout), each drawn
patient-major, so patient i of replicate r gets the same draws whatever n is: power curves and
the sample-size search use common random numbers, and results do not depend on the executor.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special, stats
from tqdm import tqdm

from .dgm import DataGeneratingModel, LogNormalBiomarker, WeibullBaseline
from .errors import InputError
from .logrank import logrank_batch

__all__ = [
    "TESTS",
    "SampleSizeResult",
    "TrialDesign",
    "TrialSimulation",
    "draw_trials",
    "mirocals_model",
    "mirocals_reference_model",
    "plot_power_curves",
    "power_curve",
    "power_table",
    "rescale_baseline",
    "sample_size",
    "schoenfeld_events",
    "schoenfeld_power",
    "simulate_trials",
    "standard_designs",
]

TESTS = ("logrank", "cox", "subgroup", "interaction")
# Okabe-Ito palette (colour-blind safe), in the order designs are drawn.
_OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
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
        from .engine import fit_cox_batch  # the compiled engine loads only when needed

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
        The truth (e.g. :func:`mirocals_reference_model` or a calibrated model).
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


def standard_designs(
    n: int = 600,
    *,
    accrual_rate: float = 1.0,
    follow_up: float = 640.0,
    low_range: _Range = (750.0, 3700.0),
    strata_cut: float = 3700.0,
    target_events: int | None = None,
) -> dict[str, TrialDesign]:
    """The three confirmatory designs the MIROCALS comment points to.

    * ``all-comers``: everyone randomised, stratified by pNFH above/below ``strata_cut``;
      primary test the stratified log-rank; the HR in ``low_range`` is a secondary analysis.
    * ``enriched``: only patients with pNFH in ``low_range`` randomised (the rest are screen
      failures); primary test the log-rank.
    * ``interaction``: all-comers, powered for the Wald test of treatment x pNFH.

    ``target_events`` makes all three event-driven (capped at n); otherwise every patient is
    followed ``follow_up`` days (calendar analysis when the last one reaches it).
    """
    common = {
        "n": n,
        "accrual_rate": accrual_rate,
        "follow_up": follow_up,
        "target_events": target_events,
        "subgroup": low_range,
    }
    return {
        "all-comers": TrialDesign(**common, biomarker_strata=(strata_cut,)),
        "enriched": TrialDesign(**common, enrichment=low_range),
        "interaction": TrialDesign(
            **common, biomarker_strata=(strata_cut,), primary_test="interaction"
        ),
    }


# ----------------------------------------------------------------------------------------------
# Power curves and sample size


def power_curve(
    model: DataGeneratingModel,
    designs: Mapping[str, TrialDesign],
    sizes: Sequence[int],
    n_replicates: int = 1000,
    *,
    seed: int = 0,
    tests: Sequence[str] | Literal["primary"] | None = None,
    executor: Executor | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Power against sample size for several designs (common random numbers across n).

    ``tests``: the analyses run (default all); ``"primary"``: each design's primary test only
    (the fastest way to a curve).

    Each design is run at every n of ``sizes`` (its ``n`` replaced; an event-driven design keeps
    its ``target_events``, capped at n). Returns a tidy DataFrame, one row per (design, n,
    test): ``design``, ``n``, ``test``, ``primary`` (the design's primary test), ``power``,
    ``mc_se``, ``power_benefit``, ``failed_fits``, ``mean_events``, ``mean_screened``,
    ``screen_fail_share``, ``mean_analysis_day``, ``n_replicates``.
    """
    if not designs:
        raise InputError("power_curve", "designs", "give at least one design")
    rows = []
    for name, design in designs.items():
        for n in sizes:
            d = design.with_(n=int(n))
            if d.target_events is not None and d.target_events > d.n:
                d = d.with_(target_events=d.n)
            sim = simulate_trials(
                model,
                d,
                n_replicates,
                seed=seed,
                tests=(design.primary_test,) if tests == "primary" else tests,
                executor=executor,
                progress=progress,
            )
            s = sim.summary.reset_index()
            s.insert(0, "design", name)
            s["primary"] = s["test"] == design.primary_test
            rows.append(s)
    out = pd.concat(rows, ignore_index=True)
    first = ["design", "n", "test", "primary"]
    return out[first + [c for c in out.columns if c not in first]]


def power_table(curves: pd.DataFrame, *, primary_only: bool = True) -> pd.DataFrame:
    """Wide table of power ("0.81 ± 0.01", value ± 1 Monte Carlo SE): designs by n."""
    df = curves[curves["primary"]] if primary_only else curves
    cell = df.assign(
        cell=[f"{p:.3f} ± {s:.3f}" for p, s in zip(df["power"], df["mc_se"], strict=True)]
    )
    index = ["design", "test"]
    return cell.pivot_table(index=index, columns="n", values="cell", aggfunc="first")


@dataclass(frozen=True)
class SampleSizeResult:
    """Outcome of :func:`sample_size`.

    Attributes
    ----------
    n
        Smallest evaluated size (patients, or events when searching over events) whose
        simulated power reaches the target.
    power, mc_se
        Simulated power at ``n`` and its Monte Carlo SE.
    target, test, over
        What was searched for.
    evaluations
        DataFrame of every size tried (``size``, ``power``, ``mc_se``, ``mean_events``,
        ``mean_screened``).
    design
        The design at the chosen size.
    """

    n: int
    power: float
    mc_se: float
    target: float
    test: str
    over: str
    evaluations: pd.DataFrame
    design: TrialDesign


def sample_size(
    model: DataGeneratingModel,
    design: TrialDesign,
    target: float = 0.8,
    *,
    over: Literal["n", "events"] = "n",
    test: str | None = None,
    bounds: tuple[int, int] = (40, 4000),
    n_replicates: int = 1000,
    seed: int = 0,
    step: int | None = None,
    executor: Executor | None = None,
    progress: bool = False,
) -> SampleSizeResult:
    """Smallest n (or number of events) whose simulated power reaches ``target``.

    Bisection on the power curve, every point simulated with the same seed (common random
    numbers, so the curve is smooth in n and the search reproducible). Sizes are multiples of
    the randomisation block when searching over n. The upper bound is doubled (up to 16 times
    ``bounds[1]``) until the target is reached.

    Parameters
    ----------
    over
        ``"n"``: patients randomised (``design.target_events``, if any, stays fixed, capped at
        n); ``"events"``: ``target_events`` of an event-driven design with ``design.n`` fixed.
    test
        Test whose power is targeted; default the design's ``primary_test``.
    step
        Resolution of the search; default the randomisation block (over n) or 1 (over events).
        Must be a multiple of the block size over n. A coarser step (e.g. 40 when n is in the
        thousands, where the Monte Carlo uncertainty of n is larger anyway) saves evaluations.
    """
    test = design.primary_test if test is None else test
    if test not in TESTS:
        raise InputError("sample_size", "test", f"{test!r}: not one of {TESTS}")
    if not 0 < target < 1:
        raise InputError("sample_size", "target", "must be in (0, 1)")
    if over not in ("n", "events"):
        raise InputError("sample_size", "over", f"{over!r}: use 'n' or 'events'")
    lo, hi = bounds
    if not 1 <= lo < hi:
        raise InputError("sample_size", "bounds", f"{bounds!r}: need 1 <= low < high")
    if step is None:
        step = design.block_size if over == "n" else 1
    if step < 1 or (over == "n" and step % design.block_size):
        raise InputError(
            "sample_size", "step", f"{step!r}: must be a positive multiple of the block size"
        )
    tests = ("logrank",) if test == "logrank" else (test,)
    evaluated: dict[int, dict] = {}

    def at(size: int) -> TrialDesign:
        if over == "events":
            return design.with_(target_events=min(size, design.n))
        d = design.with_(n=size)
        if d.target_events is not None and d.target_events > size:
            d = d.with_(target_events=size)
        return d

    def power(size: int) -> float:
        if size not in evaluated:
            sim = simulate_trials(
                model,
                at(size),
                n_replicates,
                seed=seed,
                tests=tests,
                executor=executor,
                progress=progress,
            )
            s = sim.summary.loc[test]
            evaluated[size] = {
                "size": size,
                "power": s["power"],
                "mc_se": s["mc_se"],
                "mean_events": s["mean_events"],
                "mean_screened": s["mean_screened"],
            }
        return evaluated[size]["power"]

    def snap(size: float) -> int:
        return max(step, math.ceil(size / step) * step)

    lo, hi = snap(lo), snap(hi)
    if over == "events":
        hi = min(hi, design.n)
    while power(hi) < target:
        if over == "events" or hi >= 16 * bounds[1]:
            raise InputError(
                "sample_size",
                "bounds",
                f"power {power(hi):.3f} < {target} at the largest size tried ({hi})",
            )
        lo, hi = hi, 2 * hi
    if power(lo) >= target:
        hi = lo
    while hi - lo > step:
        mid = snap((lo + hi) / 2)
        if mid >= hi:
            mid = hi - step
        if power(mid) >= target:
            hi = mid
        else:
            lo = mid
    table = pd.DataFrame(sorted(evaluated.values(), key=lambda e: e["size"]))
    best = evaluated[hi]
    return SampleSizeResult(
        n=hi,
        power=best["power"],
        mc_se=best["mc_se"],
        target=target,
        test=test,
        over=over,
        evaluations=table,
        design=at(hi),
    )


def schoenfeld_events(
    hazard_ratio: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    allocation: tuple[int, int] = (1, 1),
) -> float:
    """Events needed by a two-sided log-rank test (Schoenfeld 1983).

    D = (z_{1-alpha/2} + z_{power})**2 / (q (1 - q) log(HR)**2) with q the treatment share;
    4 (z_{1-alpha/2} + z_{power})**2 / log(HR)**2 for 1:1.

    Examples
    --------
    >>> round(schoenfeld_events(0.7), 1)
    246.8
    """
    if not (hazard_ratio > 0 and hazard_ratio != 1):
        raise InputError("schoenfeld_events", "hazard_ratio", "must be positive and not 1")
    q = allocation[0] / sum(allocation)
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float(z**2 / (q * (1 - q) * math.log(hazard_ratio) ** 2))


def schoenfeld_power(
    events: float, hazard_ratio: float, *, alpha: float = 0.05, allocation: tuple[int, int] = (1, 1)
) -> float:
    """Approximate power of the two-sided log-rank test with ``events`` deaths (Schoenfeld)."""
    q = allocation[0] / sum(allocation)
    drift = math.sqrt(events * q * (1 - q)) * abs(math.log(hazard_ratio))
    return float(stats.norm.cdf(drift - stats.norm.ppf(1 - alpha / 2)))


def plot_power_curves(
    curves: pd.DataFrame, ax=None, *, targets: Sequence[float] = (0.8, 0.9), x: str = "n"
):
    """Power of each design's primary test against n, with ±2 Monte Carlo SE bars.

    Parameters
    ----------
    curves
        Output of :func:`power_curve`.
    ax
        Matplotlib Axes to draw on (a new figure if None).
    targets
        Powers drawn as dotted reference lines.
    x
        Column on the horizontal axis: ``"n"`` (patients randomised) or ``"mean_screened"``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    df = curves[curves["primary"]]
    for i, (name, d) in enumerate(df.groupby("design", sort=False)):
        d = d.sort_values(x)
        colour = _OKABE_ITO[i % len(_OKABE_ITO)]
        ax.errorbar(
            d[x],
            d["power"],
            yerr=2 * d["mc_se"],
            color=colour,
            marker="o",
            ms=4,
            capsize=2,
            label=f"{name} ({d['test'].iloc[0]})",
        )
    for t in targets:
        ax.axhline(t, color="0.5", ls=":", lw=1)
    xlabel = {"n": "patients randomised", "mean_screened": "patients screened (mean)"}
    ax.set_xlabel(xlabel.get(x, x))
    ax.set_ylabel("power (two-sided, simulated)")
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize="small")
    return ax


# ----------------------------------------------------------------------------------------------
# The MIROCALS truth from the reported figures


def _landmark_survival(model: DataGeneratingModel, day: float) -> float:
    """Survival at ``day`` averaged over a 1:1 trial's arms and the biomarker.

    Midpoint rule on 4,000 biomarker quantiles (any biomarker with ``quantile``).
    """
    x = np.asarray(model.biomarker.quantile((np.arange(4000) + 0.5) / 4000), dtype=float)
    with np.errstate(over="ignore"):  # exp overflow at extreme values: survival 0, as it should
        s = 0.5 * (model.survival(day, 1, x) + model.survival(day, 0, x))
    return float(np.mean(s))


def rescale_baseline(
    model: DataGeneratingModel, alive: float, day: float | None = None
) -> DataGeneratingModel:
    """The model with its Weibull scale changed so that a 1:1 trial has ``alive`` alive at
    ``day`` (default: the model's follow-up); everything else kept (a "what if survival is
    better than planned" truth).

    Examples
    --------
    >>> m = rescale_baseline(mirocals_reference_model(), 0.70)
    >>> round(_landmark_survival(m, 640.0), 3)
    0.7
    """
    if not 0 < alive < 1:
        raise InputError("rescale_baseline", "alive", f"{alive!r}: must be in (0, 1)")
    day = model.follow_up if day is None else day
    shape = model.baseline.shape

    def gap(log_scale: float) -> float:
        m = model.with_(baseline=WeibullBaseline(shape, math.exp(log_scale)))
        return _landmark_survival(m, day) - alive

    log_scale = optimize.brentq(gap, math.log(1e-3 * day), math.log(1e6 * day), xtol=1e-12)
    return model.with_(baseline=WeibullBaseline(shape, math.exp(log_scale)))


def mirocals_model() -> tuple[DataGeneratingModel, str]:
    """The calibrated MIROCALS model if :mod:`alsstats.reconstruct` is installed, else the
    reference model; returns ``(model, "calibrated" | "reference")``."""
    try:
        from .reconstruct import calibrate_model  # another module; optional here
    except ImportError:
        return mirocals_reference_model(), "reference"
    from ._data import data_path
    from .summaries import load_reported_summary

    summary = load_reported_summary(data_path("mirocals", "reported.yaml"))
    return calibrate_model(summary), "calibrated"


def mirocals_reference_model(
    *,
    prognostic_hr_per_1000: float = 1.25,
    weibull_shape: float = 1.2,
    alive_at_640: float = 0.59,
) -> DataGeneratingModel:
    """MIROCALS rebuilt from its reported figures alone (the documented fallback truth).

    Calibration (each line an explicit assumption where nothing was reported):

    * treatment effect, linear scale: log HR(x) = log 0.32 + 2.4e-4 x, x = CSF-pNFH in pg/mL
      (HR 0.32 at pNFH = 0, reported; 2.4e-4 reproduces HR 0.52 near 2,000 and 1.37 near
      6,000 pg/mL; HR = 1 near 4,700 pg/mL);
    * pNFH lognormal with 9% below 750 and 21% above 3,700 pg/mL (70% between, reported; the
      9% below 750 is an assumption): median ~2,030 pg/mL, sigma_log ~0.74;
    * prognostic pNFH effect in the placebo arm: HR ``prognostic_hr_per_1000`` per 1,000 pg/mL
      (not reported; pNFH was an independent predictor of survival);
    * Weibull baseline of shape ``weibull_shape`` (assumed: no Kaplan-Meier curve published),
      scale solved so that a 1:1 trial has ``alive_at_640`` (59%, reported) alive at 640 days;
    * follow-up 640 days, nobody lost (reported).

    Examples
    --------
    >>> m = mirocals_reference_model()
    >>> round(float(np.exp(m.log_hazard_ratio(2000.0))), 2)
    0.52
    """
    if not prognostic_hr_per_1000 > 0 or not weibull_shape > 0 or not 0 < alive_at_640 < 1:
        raise InputError("mirocals_reference_model", "arguments", "out of range")
    base = DataGeneratingModel(
        baseline=WeibullBaseline(weibull_shape, 1000.0),
        biomarker=LogNormalBiomarker.from_shares(750, 0.09, 3700, 0.21),
        log_hr_treatment=math.log(0.32),
        log_hr_biomarker=math.log(prognostic_hr_per_1000) / 1000.0,
        log_hr_interaction=2.4e-4,
        scale="linear",
        follow_up=640.0,
        dropout_rate=0.0,
    )
    return rescale_baseline(base, alive_at_640, 640.0)
