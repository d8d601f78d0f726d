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

import random
import time
from pathlib import Path

import numpy as np

from ..progress import Progress
from .posterior import POINT_CANDIDATES, POINT_REPS, effective_sample_sizes, write_posterior
from .sampler import OrderedSampler
from .settings import TRANSITIONS, Settings
from .setup import mapper, prepare


def _transition(name: str, scaling: float = 1.0):
    import pyabc

    if name == "local":
        return pyabc.LocalTransition(k_fraction=0.25, scaling=scaling)
    if name == "normal":
        return pyabc.MultivariateNormalTransition(scaling=scaling)
    raise ValueError(f"unknown transition {name!r} (allowed: {', '.join(TRANSITIONS)})")


def calibrate(settings: Settings, log=print) -> Path:
    """Run (or resume) ABC-SMC and write ``posterior.json``; returns its path."""
    import pyabc

    started = time.perf_counter()
    inputs = prepare(settings, "smc", log)
    priors, figures, meta, simulator = (
        inputs.priors,
        inputs.figures,
        inputs.meta,
        inputs.simulator,
    )
    out = inputs.out
    db_path = out / "abc.db"
    widths, distance, observed = inputs.widths, inputs.distance, inputs.observed
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
    min_epsilon = settings.tolerance(len(figures))
    session_start = time.perf_counter()
    spent = sum(s["wall_seconds"] for s in meta["sessions"])  # by the earlier sessions
    failure = None
    # A step per generation (at most those left, and the sample that sets the first threshold
    # on a fresh start), then the choice of the point.
    say = Progress.on_terminal(remaining + (not settings.resume) + 1, at_most=True)
    if say:
        sampler.on_generation = lambda t: say(
            "the prior sample that sets the first threshold" if t < 0 else f"generation {t}"
        )
    if remaining > 0:
        from datetime import timedelta

        with mapper(settings) as sampler.map_:
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
    if say:
        say.settle(say.done + 1)
        say("choosing the point")
    path = write_posterior(
        history, priors, figures, widths, meta, out / "posterior.json", simulator
    )
    session["point_seconds"] = round(time.perf_counter() - selecting, 1)
    # The whole session: noise (a fresh start), ABC generations, choice of the point.
    session["wall_seconds"] = round(time.perf_counter() - started, 1)
    inputs.save_meta()
    log(
        f"wrote {path}: {meta['generations']} generations, {meta['total_simulations']} "
        f"simulations, {sum(s['wall_seconds'] for s in meta['sessions']):.0f} s in all"
    )
    return path


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
