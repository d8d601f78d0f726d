"""Benchmark of the numpy engine: household-months per second and memory per household.

Runs the historical baseline at full scale with 1 and with 20 replications, each in a fresh
subprocess pinned to one core (the engine's compiled loops loaded first: ``warm.py``), and
prints a Markdown table. Memory is traced by
``tracemalloc``: the population's own arrays (drawn once, shared by every replication) per
household, and the peak of everything else the run allocates (engine state and temporaries) per
household and replication; the process's peak resident size is shown beside them (numba's
compiler, loaded with the engine's compiled loops, among it).

    .venv/bin/python -m analysis.benchmarks.engine [--scale 1.0] [--reps 1 20]

The table is also written to docs/generated/benchmarks/engine.md, which the docs include.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

from .publish import published
from .warm import warm_up


def measure(scale: float, reps: int, seed: int) -> dict:
    from sim.engine_numpy import simulate
    from sim.population import generate_population
    from sim.scenario import load_scenario
    from sim.streams import population_stream

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    scenario = load_scenario("historical")
    warm_up()
    tracemalloc.start()
    population = generate_population(scenario.population, scale, population_stream(seed))
    population_bytes = population.nbytes()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    result = simulate(scenario, seed, reps, scale=scale, population=population)
    wall = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    households = result.households
    household_months = result.households * reps * len(result.months)
    return {
        "scale": scale,
        "replications": reps,
        "households": result.households,
        "wall_seconds": wall,
        "household_months_per_second": household_months / wall,
        "traced_peak_bytes": peak,
        "population_bytes_per_household": population_bytes / households,
        "run_bytes_per_household_replication": (peak - population_bytes) / (households * reps),
        "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--reps", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--seed", type=int, default=1959)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # the child process: one measurement, printed as JSON
        print(json.dumps(measure(args.scale, args.reps[0], args.seed)))
        return
    with published("engine", "python -m analysis.benchmarks.engine"):
        table(args)


def table(args) -> None:
    print(
        "Numpy engine, historical baseline, each run in a fresh process pinned to one core (the "
        "engine's compiled loops loaded before the clock starts).\n"
    )
    print(
        "| scale | replications | households | wall (s) | household-months/s | "
        "traced peak (MB) | population bytes / household | run bytes / household / replication "
        "| peak RSS (MB) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for reps in args.reps:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "analysis.benchmarks.engine",
                "--one",
                "--scale",
                str(args.scale),
                "--reps",
                str(reps),
                "--seed",
                str(args.seed),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        m = json.loads(out.strip().splitlines()[-1])
        print(
            f"| {m['scale']} | {m['replications']} | {m['households']:,} | "
            f"{m['wall_seconds']:.1f} | {m['household_months_per_second'] / 1e6:.1f} M | "
            f"{m['traced_peak_bytes'] / 1e6:.0f} | {m['population_bytes_per_household']:.0f} | "
            f"{m['run_bytes_per_household_replication']:.0f} | "
            f"{m['max_rss_bytes'] / 1e6:.0f} |"
        )


if __name__ == "__main__":
    main()
