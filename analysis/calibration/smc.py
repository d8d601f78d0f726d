"""Calibration of the baseline to the documented record: ABC-SMC with pyABC, resumable.

What is fitted, to what, and the distance: ``model.py``. How: approximate Bayesian computation
by sequential Monte Carlo (pyABC's ``ABCSMC``), the particles proposed by pyABC's perturbation
kernel and evaluated by ``model.Simulator``.

Where: the calibration folder (``results/calibration`` by default) holds pyABC's SQLite history
(``abc.db``), from which a killed calibration resumes at its last complete generation
(``ABCSMC.load``), ``calibration_run.json`` (the inputs, their hashes, the measured noise, the
sessions) and ``posterior.json`` (``posterior.py``). A posterior is adopted by copying the folder
to ``scenarios/calibration/<scenario>/``, which the scenario names in ``[calibration]``.

Reproducibility: each particle's simulation seed is a hash of the base seed and its parameter
values, so the model is a deterministic function of the parameters, and each particle's proposal
is drawn from a random state seeded by the base seed, its generation and its number
(``sampler.OrderedSampler``), the first accepted in number order making the generation. A run
from scratch with a fixed ``--seed`` is repeated exactly, on one process (``--workers 1``),
several, or a Dask cluster (``--scheduler``).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from sim.record import TARGETS_FILE, Figure, load_targets
from sim.scenario import scenario_file
from sim.staging import atomic_write_text

from .model import (
    Simulator,
    ToleranceDistance,
    base_scenario,
    fitted_figures,
    measure_noise,
    widths_of,
)
from .posterior import POINT_CANDIDATES, POINT_REPS, effective_sample_sizes, write_posterior
from .priors import load_priors
from .sampler import OrderedSampler
from .settings import TRANSITIONS, Settings

ROOT = Path(__file__).resolve().parents[2]


def _transition(name: str, scaling: float = 1.0):
    import pyabc

    if name == "local":
        return pyabc.LocalTransition(k_fraction=0.25, scaling=scaling)
    if name == "normal":
        return pyabc.MultivariateNormalTransition(scaling=scaling)
    raise ValueError(f"unknown transition {name!r} (allowed: {', '.join(TRANSITIONS)})")


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def calibrate(settings: Settings, log=print) -> Path:
    """Run (or resume) ABC-SMC and write ``posterior.json``; returns its path."""
    import pyabc

    started = time.perf_counter()
    targets_file = Path(settings.targets or TARGETS_FILE)
    scenario_path = scenario_file(settings.scenario)
    priors = load_priors(settings.priors)
    figures = fitted_figures(load_targets(targets_file))
    scenario = base_scenario(scenario_path, priors)
    out = Path(settings.out)
    db_path = out / "abc.db"
    meta_path = out / "calibration_run.json"
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    held = [p.name for p in (db_path, meta_path, out / "posterior.json") if p.exists()]
    if held and not settings.resume and not settings.overwrite:
        raise ValueError(
            f"{out} holds a calibration ({', '.join(held)}): --resume to continue it, "
            "--overwrite to replace it, or another --out"
        )
    out.mkdir(parents=True, exist_ok=True)

    if settings.resume:
        if not db_path.is_file() or not meta_path.is_file():
            raise FileNotFoundError(f"nothing to resume: {db_path} or {meta_path} is missing")
        try:
            meta = json.loads(meta_path.read_text())
            meta["noise"]
        except (ValueError, KeyError, TypeError):
            raise ValueError(
                f"{meta_path}: not a calibration record written by `repatriation calibrate`; "
                "cannot resume (start afresh with --overwrite)"
            ) from None
        check_same_inputs(meta, settings)
        noise = meta["noise"]
    else:
        if db_path.exists():
            db_path.unlink()
        log(
            f"measuring the sampling noise at scale {settings.scale} "
            f"({settings.noise_reps} replications at the priors' start point)"
        )
        noise = measure_noise(scenario, settings.scale, settings.seed, settings.noise_reps, figures)
        meta = {
            "format": "repatriation-calibration-run/1",
            "scenario_file": _rel(scenario_path),
            "scenario_sha256": scenario.digest(),
            "priors_file": _rel(settings.priors),
            "priors_sha256": _sha256(settings.priors),
            "targets_file": _rel(targets_file),
            "targets_sha256": _sha256(targets_file),
            "fitted_targets_sha256": fitted_digest(figures),
            "scale": settings.scale,
            "seed": settings.seed,
            "population_size": settings.population_size,
            "workers": settings.workers,
            "transition": settings.transition,
            "kernel_scaling": settings.kernel_scaling,
            "pyabc_scale": "logit of the place in the prior's range (log scale if log-uniform)",
            "pyabc_log10_parameters": [p.key for p in priors if p.dist == "loguniform"],
            "noise_reps": settings.noise_reps,
            "noise": noise,
            "sessions": [],
        }
        # Written before the first generation, so that a calibration killed or failed later can
        # be resumed from its database.
        atomic_write_text(meta_path, json.dumps(meta, indent=2))
    widths = widths_of(figures, noise)
    distance = ToleranceDistance.of(figures, widths)
    simulator = Simulator(scenario, priors, figures, settings.scale, settings.seed)
    observed = {f.key: f.centre for f in figures}
    prior = pyabc.Distribution(**{p.name: p.rv() for p in priors})

    np.random.seed(settings.seed % 2**32)
    random.seed(settings.seed)
    sampler = OrderedSampler(settings.seed)
    abc = pyabc.ABCSMC(
        simulator,
        prior,
        distance,
        population_size=settings.population_size,
        sampler=sampler,
        transitions=_transition(settings.transition, settings.kernel_scaling),
    )
    db = f"sqlite:///{db_path.resolve()}"
    if settings.resume:
        history = abc.load(db, 1)
        done = history.max_t + 1
        log(
            f"resuming from {db_path}: {done} generation(s) done, "
            f"{history.total_nr_simulations} simulations"
        )
    else:
        abc.new(db, observed)
        done = 0
    remaining = settings.generations - done
    min_epsilon = settings.min_epsilon or math.sqrt(len(figures))
    session_start = time.perf_counter()
    spent = sum(s["wall_seconds"] for s in meta["sessions"])  # by the earlier sessions
    failure = None
    if remaining > 0:
        from datetime import timedelta

        with _mapper(settings) as sampler.map_:
            try:
                history = abc.run(
                    minimum_epsilon=min_epsilon,
                    min_eps_diff=settings.min_eps_diff,
                    min_acceptance_rate=settings.min_acceptance_rate,
                    max_nr_populations=remaining,
                    max_total_nr_simulations=settings.max_simulations,
                    max_walltime=timedelta(seconds=max(settings.max_minutes * 60 - spent, 60)),
                )
            except (AssertionError, ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
                # pyABC failed within a generation (weights that are not finite when the kernel's
                # density underflows, say): the generations before it stand, and the posterior
                # is written from the last of them, saying why the calibration stopped.
                failure = f"{type(exc).__name__} in generation {abc.history.max_t + 1}: {exc}"
                log(f"the calibration stopped: {failure}")
                history = abc.history
    else:
        history = abc.history
    session = {
        "started_generations": done,
        "abc_seconds": round(time.perf_counter() - session_start, 1),
        "workers": settings.workers,
        "scheduler": settings.scheduler,
    }
    meta["sessions"].append(session)
    meta["generations"] = int(history.max_t + 1)
    meta["total_simulations"] = int(history.total_nr_simulations)
    meta["effective_sample_sizes"] = effective_sample_sizes(history)
    meta["acceptance_rates"] = acceptance_rates(history, settings.population_size)
    seconds = spent + time.perf_counter() - session_start
    meta["stop"] = stop_reason(history, settings, min_epsilon, seconds, failure)
    meta["noise_simulations"] = settings.noise_reps
    meta["point_simulations"] = POINT_CANDIDATES * POINT_REPS
    selecting = time.perf_counter()
    path = write_posterior(
        history, priors, figures, widths, meta, out / "posterior.json", simulator
    )
    session["point_seconds"] = round(time.perf_counter() - selecting, 1)
    # The whole session: noise (a fresh start), ABC generations, choice of the point.
    session["wall_seconds"] = round(time.perf_counter() - started, 1)
    atomic_write_text(meta_path, json.dumps(meta, indent=2))
    log(
        f"wrote {path}: {meta['generations']} generations, {meta['total_simulations']} "
        f"simulations, {sum(s['wall_seconds'] for s in meta['sessions']):.0f} s in all"
    )
    return path


@contextmanager
def _mapper(settings: Settings) -> Iterator[Callable]:
    """Where the particles are evaluated: this process (``workers`` 1), a pool of local
    processes, or a Dask cluster (``scheduler``); the posterior is the same on each."""
    if settings.scheduler:
        from distributed import Client

        with Client(settings.scheduler, timeout="30s") as client:
            yield lambda f, tasks: client.gather(client.map(f, list(tasks), pure=False))
    elif settings.workers > 1:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(settings.workers) as pool:
            yield pool.imap
    else:
        yield map


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def acceptance_rates(history, population_size: int) -> list[float]:
    """Particles accepted per simulation, generation by generation."""
    populations = history.get_all_populations()
    return [population_size / int(row.samples) for row in populations.itertuples() if row.t >= 0]


def stop_reason(
    history, settings: Settings, min_epsilon: float, seconds: float, failure: str | None = None
) -> dict:
    """Which criterion ended the calibration: convergence (epsilon at its target or no longer
    falling, or acceptance too rare to go on), one of the safety caps, or a ``failure`` of pyABC
    within a generation."""
    populations = history.get_all_populations()
    generations = populations[populations.t >= 0]
    eps = generations.epsilon.to_numpy()
    accepted = acceptance_rates(history, settings.population_size)
    if failure:
        reason, converged = f"pyABC failed: {failure}", False
    elif eps[-1] <= min_epsilon:
        reason, converged = f"epsilon reached its target {min_epsilon:.3g}", True
    elif len(eps) > 1 and abs(eps[-1] - eps[-2]) < settings.min_eps_diff:
        reason, converged = f"epsilon fell by less than {settings.min_eps_diff:g}", True
    elif accepted[-1] < settings.min_acceptance_rate:
        reason = f"acceptance rate below {settings.min_acceptance_rate:g}"
        converged = True
    elif len(eps) >= settings.generations:
        reason, converged = f"cap: {settings.generations} generations", False
    elif history.total_nr_simulations >= settings.max_simulations:
        reason, converged = f"cap: {settings.max_simulations} simulations", False
    else:
        reason = f"cap: {settings.max_minutes:g} minutes ({seconds / 60:.0f} spent)"
        converged = False
    return {
        "reason": reason,
        "converged": converged,
        "epsilon": float(eps[-1]),
        "min_epsilon": float(min_epsilon),
        "acceptance_rate": float(accepted[-1]),
    }


def fitted_digest(figures: Sequence[Figure]) -> str:
    """A hash of what the distance reads from the targets file: each fitted figure's key,
    measure, metric, period and band (and what a "stock_less_total" takes off). Other edits of
    the file (comments, quotes, targets that are not fitted, such as the after-arrival stage's)
    leave it unchanged."""

    def read(f: Figure) -> list:
        less = [f.less_metric, list(f.less_period)] if f.less_metric else []
        return [f.key, f.kind, f.metric, list(f.period), f.unit, f.low, f.high, *less]

    text = json.dumps([read(f) for f in figures])
    return hashlib.sha256(text.encode()).hexdigest()


def check_same_inputs(meta: dict, settings: Settings) -> None:
    """Refuse to resume a calibration whose inputs changed since it started (ValueError)."""
    if meta["priors_sha256"] != _sha256(settings.priors):
        raise ValueError(
            f"cannot resume: {settings.priors} changed since the calibration "
            "started; start afresh (without --resume)"
        )
    targets_file = Path(settings.targets or TARGETS_FILE)
    figures = fitted_figures(load_targets(targets_file))
    if meta.get("fitted_targets_sha256", meta["targets_sha256"]) != fitted_digest(figures):
        raise ValueError(
            f"cannot resume: the fitted targets of {targets_file} changed since "
            "the calibration started; start afresh (without --resume)"
        )
    if (meta.get("transition", "normal"), meta.get("kernel_scaling", 1.0)) != (
        settings.transition,
        settings.kernel_scaling,
    ):
        raise ValueError(
            f"cannot resume with another --transition or --kernel-scaling (the run "
            f"used {meta.get('transition', 'normal')!r}, "
            f"{meta.get('kernel_scaling', 1.0)}); start afresh"
        )
    if meta["scale"] != settings.scale or meta["seed"] != settings.seed:
        raise ValueError("cannot resume with another --scale or --seed; start afresh")
