"""Benchmark of the calibration's simulations: runs a second on 1 and 2 workers.

The calibration evaluates each parameter set as one replication of the historical baseline at
its scale, with the set's own seed, and turns it into the terms of the distance
(``matching.Evaluator``). This times that evaluation over the same design of parameter sets
(uniform on the priors' unit cube) through the calibration's own ``mapper``: this process, or a
pool of 2 local processes, at scales 0.05 and 0.2. Each worker first takes a task of its own
(importing the model, loading its compiled loops, 8 runs): that start-up is timed apart, as a
calibration pays it once a session. Both give the same terms (checked), as they must.

    .venv/bin/python -m analysis.benchmarks.calibration [--runs 48]

The table is also written to docs/generated/benchmarks/calibration.md, which the docs include.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from .publish import published
from .sweep import _machine

SCALES, WORKERS, SEED = (0.05, 0.2), (1, 2), 1959


def evaluator(scale: float):
    """The calibration's evaluator of the historical baseline at ``scale`` (figures' widths
    without the measured noise: the distance's arithmetic costs the same)."""
    from analysis.calibration.matching import Evaluator
    from analysis.calibration.model import (
        Simulator,
        ToleranceDistance,
        base_scenario,
        fitted_figures,
    )
    from analysis.calibration.priors import load_priors
    from analysis.calibration.settings import HISTORICAL, PRIORS_FILE
    from sim.record import TARGETS_FILE, load_targets

    priors = tuple(load_priors(PRIORS_FILE))
    figures = tuple(
        fitted_figures([t for t in load_targets(TARGETS_FILE) if t.stage != "aftermath"])
    )
    widths = {f.key: (f.high - f.low) / 2 for f in figures}
    observed = {f.key: (f.low + f.high) / 2 for f in figures}
    simulator = Simulator(base_scenario(HISTORICAL, priors), priors, figures, scale, SEED)
    return Evaluator(simulator, ToleranceDistance.of(figures, widths), observed, tuple(widths))


def measure(scale: float, workers: int, runs: int) -> dict:
    from analysis.calibration.matching import TASK, evaluate_rows
    from analysis.calibration.settings import Settings
    from analysis.calibration.setup import mapper

    evaluate = evaluator(scale)
    dims = len(evaluate.simulator.priors)
    design = np.random.default_rng(SEED).random((runs, dims))
    first_tasks = np.random.default_rng(SEED + 1).random((workers * TASK, dims))
    settings = dataclasses.replace(Settings(), workers=workers)
    started = time.perf_counter()
    with mapper(settings) as map_:
        # a first task for each worker (idle workers each take one): it imports the model and
        # loads the compiled loops
        evaluate_rows(map_, evaluate, first_tasks)
        startup = time.perf_counter() - started
        busy, wall = _machine()[0], time.perf_counter()
        terms = evaluate_rows(map_, evaluate, design)
        wall = time.perf_counter() - wall
        busy = (_machine()[0] - busy) / wall
    return {"wall_s": wall, "per_s": runs / wall, "terms": terms, "busy": busy, "startup": startup}


def table(runs: int) -> None:
    print(
        f"The calibration's evaluation of {runs} parameter sets of the historical baseline (one "
        "replication each, its own seed, uniform on the priors' unit cube), through its own "
        "mapper, after a first task for each worker (its start-up: importing the model, loading "
        "its compiled loops and 8 runs), which is timed apart, as a calibration pays it once a "
        'session. Both worker counts gave the same terms of the distance. "Machine busy": the '
        "cores the whole machine used meanwhile, this benchmark included (about the number of "
        "workers on an otherwise idle machine).\n"
    )
    print(
        "| scale | workers | start-up and a first task (s) | runs a second | s per run | "
        "speed-up | machine busy (cores) |"
    )
    print("|---|---|---|---|---|---|---|")
    for scale in SCALES:
        one = None
        for workers in WORKERS:
            m = measure(scale, workers, runs)
            if one is None:
                one = m
            elif not np.array_equal(one["terms"], m["terms"]):
                raise SystemExit("1 and 2 workers gave different terms")
            print(
                f"| {scale:g} | {workers} | {m['startup']:.1f} | {m['per_s']:.1f} | "
                f"{1 / m['per_s']:.3f} | {m['per_s'] / one['per_s']:.2f} | {m['busy']:.1f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=48)
    args = parser.parse_args()
    with published("calibration", f"python -m analysis.benchmarks.calibration --runs {args.runs}"):
        table(args.runs)


if __name__ == "__main__":
    main()
