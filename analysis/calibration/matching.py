"""Calibration by history matching, then rejection ABC inside the space left.

Waves of emulators (``history_matching.py``) rule out the parameter sets that cannot give every
fitted figure within ``cutoff`` widths; they stop when a wave rules out less than a fifth of
the space it searched. Then ``population_size`` runs are drawn from the space left, and every
run of every wave that lies in it joins them: all are draws from the prior restricted to that
space. Those within the ABC tolerance (``min_epsilon``: every figure at its width on average)
are the posterior sample, with equal weights. If fewer than ``MIN_ACCEPTED`` are within it, the
tolerance is that of the ``MIN_ACCEPTED``-th nearest, and the record says so.

Reproducibility: every design is drawn from ``SeedSequence([seed, wave])`` and each run's seed
is a hash of the seed and its values (``model.particle_seed``); runs come back in order from
any ``mapper``, so one process, several, or a Dask cluster give the same posterior.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..progress import Progress
from .history_matching import MAX_CANDIDATES, draw_not_ruled_out, history_match, not_ruled_out
from .model import Simulator, ToleranceDistance
from .posterior import FULL_SCALE_POINT_REPS, POINT_CANDIDATES, choose_point, write_sample
from .priors import Prior
from .settings import Settings
from .setup import mapper, prepare

MIN_ACCEPTED = 100
REFERENCE_TABLE = "runs.npz"
TASK = 8  # runs per task handed to a worker


@dataclass
class Evaluator:
    """Picklable: the terms of the distance (errors in widths) of one run per row."""

    simulator: Simulator
    distance: ToleranceDistance
    observed: dict[str, float]
    keys: tuple[str, ...]

    def __call__(self, rows: np.ndarray) -> list[list[float]]:
        out = []
        for row in rows:
            values = {p.key: p.from_unit(u) for p, u in zip(self.simulator.priors, row)}
            terms = self.distance.terms(self.simulator.figures_at(values), self.observed)
            out.append([terms[k] for k in self.keys])
        return out


def evaluate_rows(map_, evaluator: Evaluator, design: np.ndarray) -> np.ndarray:
    """The terms of every row of ``design``, in order, in tasks of ``TASK`` rows over ``map_``."""
    tasks = [design[i : i + TASK] for i in range(0, len(design), TASK)]
    return np.array([terms for chunk in map_(evaluator, tasks) for terms in chunk], dtype=float)


def calibrate_by_matching(settings: Settings, log=print) -> Path:
    """History-match, draw the posterior's runs, and write ``posterior.json``; returns its path."""
    started = time.perf_counter()
    inputs = prepare(settings, "history-matching", log)
    priors, figures, meta = inputs.priors, inputs.figures, inputs.meta
    keys = tuple(f.key for f in figures)
    evaluator = Evaluator(inputs.simulator, inputs.distance, inputs.observed, keys)
    dims = len(priors)
    # A step per wave (at most ``max_waves``), then the posterior's runs and the choice of the
    # point, each costing about what a wave does.
    say = Progress.on_terminal(settings.max_waves + 2, at_most=True)
    with mapper(settings) as map_:

        def evaluate(design: np.ndarray) -> np.ndarray:
            return evaluate_rows(map_, evaluator, design)

        matching = history_match(
            evaluate,
            list(keys),
            dims,
            settings.seed,
            settings.runs_per_wave,
            settings.cutoff,
            max_waves=settings.max_waves,
            log=log,
            on_wave=lambda wave: record_wave(inputs, wave),
            map_=map_,
            progress=say,
        )
        if say:
            say.settle(len(matching.waves) + 2)
            say("the posterior's runs, drawn from the space left")
        rng = np.random.default_rng(np.random.SeedSequence([settings.seed, 0]))
        drawn, searched = draw_not_ruled_out(
            matching.waves, settings.population_size, dims, rng, settings.cutoff, MAX_CANDIDATES
        )
        drawn_terms = evaluate(drawn)
    waves = matching.waves
    earlier = np.concatenate([w.design for w in waves])
    earlier_terms = np.concatenate([w.terms for w in waves])
    inside = not_ruled_out(waves, earlier, settings.cutoff)
    points = np.concatenate([drawn, earlier[inside]])
    terms = np.concatenate([drawn_terms, earlier_terms[inside]])
    distances = np.sqrt((terms**2).sum(axis=1))
    min_epsilon = settings.tolerance(len(figures))
    epsilon = min_epsilon
    if np.sum(distances <= epsilon) < MIN_ACCEPTED:
        epsilon = float(np.sort(distances)[min(MIN_ACCEPTED, len(distances)) - 1])
    accepted = distances <= epsilon
    log(
        f"posterior: {int(accepted.sum())} of {len(points)} runs in the space left within "
        f"distance {epsilon:.2f} (target {min_epsilon:.2f})"
    )
    simulations = sum(len(w.design) for w in waves) + len(drawn)
    meta.update(
        generations=len(waves),  # meta["waves"] holds each as it ended (``record_wave``)
        total_simulations=simulations,
        effective_sample_sizes=[float(accepted.sum())],
        acceptance_rates=[float(accepted.mean())],
        stop={
            "reason": matching.reason,
            "converged": matching.converged,
            "epsilon": epsilon,
            "min_epsilon": min_epsilon,
            "acceptance_rate": float(accepted.mean()),
            "posterior_runs_in_space_left": int(len(points)),
            "posterior_candidates_searched": int(searched),
        },
        noise_simulations=settings.noise_reps,
        point_simulations=POINT_CANDIDATES * FULL_SCALE_POINT_REPS,
        point_scale=settings.point_scale,
    )
    session = {
        "started_generations": 0,
        "workers": settings.workers,
        "scheduler": settings.scheduler,
    }
    meta["sessions"].append(session)
    sample = sample_of(priors, points[accepted])
    nearest = np.argsort(distances[accepted], kind="stable")[:POINT_CANDIDATES]
    reps, scale = FULL_SCALE_POINT_REPS, settings.point_scale
    log(f"choosing the point: the {len(nearest)} nearest runs, {reps} each at scale {scale:g}")
    if say:
        say("choosing the point")
    candidates = choose_point(
        sample, nearest, inputs.simulator, figures, inputs.widths, scale, reps
    )
    rule = (
        f"among the {len(candidates)} runs of the sample nearest the documents, the one with the "
        f"smallest mean distance over {reps} replications at "
        + ("full scale" if scale == 1.0 else f"scale {scale:g}")
    )
    path = write_sample(
        inputs.out / "posterior.json",
        method_text(settings),
        sample,
        np.ones(int(accepted.sum())),
        distances[accepted],
        priors,
        figures,
        inputs.widths,
        meta,
        {
            "generations": [
                {
                    "t": w.number - 1,
                    "epsilon": w.median_distance(),
                    "simulations": len(w.design),
                }
                for w in waves
            ]
            + [{"t": len(waves), "epsilon": epsilon, "simulations": len(drawn)}],
            "prior_calibration_simulations": 0,
        },
        (rule, candidates),
    )
    write_reference_table(
        inputs.out / REFERENCE_TABLE,
        np.concatenate([earlier, drawn]),
        np.concatenate([earlier_terms, drawn_terms]),
        np.concatenate([[w.number for w in waves for _ in w.design], np.zeros(len(drawn), int)]),
        np.concatenate([inside, np.ones(len(drawn), bool)]),
        keys,
        priors,
    )
    session["wall_seconds"] = round(time.perf_counter() - started, 1)
    inputs.save_meta()
    seconds = session["wall_seconds"]
    log(f"wrote {path}: {len(waves)} waves, {simulations} simulations, {seconds:.0f} s")
    return path


def write_reference_table(path, points, terms, wave, inside, keys, priors) -> None:
    """Every run of the calibration: its place in the unit cube of the priors, its terms of the
    distance, its wave (0: drawn for the posterior) and whether it lies in the space left; what
    the validation checks (``validation.py``) refit from without simulating again."""
    np.savez_compressed(
        path,
        points=points.astype(np.float32),
        terms=terms.astype(np.float32),
        wave=wave.astype(np.int16),
        inside=inside,
        figures=np.array(keys),
        parameters=np.array([p.key for p in priors]),
    )


def record_wave(inputs, wave) -> None:
    """Add a finished wave to calibration_run.json, so that a long calibration can be followed
    and a killed one understood."""
    inputs.meta.setdefault("waves", []).append(wave.record())
    inputs.save_meta()


def sample_of(priors: tuple[Prior, ...], points: np.ndarray) -> dict[str, list]:
    """Scenario values by key of each row of places in the prior ranges."""
    return {p.key: [p.from_unit(u) for u in points[:, i]] for i, p in enumerate(priors)}


def method_text(settings: Settings) -> str:
    return (
        "history matching (Gaussian-process emulators per figure, scikit-learn; implausibility "
        f"cutoff {settings.cutoff:g}; {settings.runs_per_wave} runs a wave), then rejection ABC "
        "over the runs in the space not ruled out, equal weights"
    )
