"""Benchmark of parameters by row: many parameter sets in one call of the engine, or one at a time.

The first 64 points of the design of ``sweeps/sobol_8.toml`` (five decision weights and three
process rates varied around the historical baseline), 4 replications each, at scale 0.05 (the
calibration's scale), run four ways: one call per set and replication (as the calibration runs
its particles), one call per set, and ``simulate_batch`` with all 64 sets in one call, run in one
pass (all rows in the same arrays) or in passes of the engine's ``PASS_SIZE``.
Each way runs in a fresh process pinned to one core, the population drawn and the engine's
compiled loops loaded (``warm.py``) before the clock starts; the ways alternate, ``--repeats``
times, and the table gives the median and the range.
Household-months per second are given on wall time and on the process's CPU time: on a shared
machine the wall time stretches, the CPU time much less. Every way must give the same numbers
(a digest of all metrics), or the benchmark stops.

    .venv/bin/python -m analysis.benchmarks.batch [--repeats 3]

The table is also written to docs/generated/benchmarks/batch.md, which the docs include.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .publish import published
from .sweep import _machine
from .warm import warm_up

SOBOL = Path(__file__).resolve().parents[2] / "sweeps" / "sobol_8.toml"
SETS, REPS, SCALE, SEED = 64, 4, 0.05, 1959
# (name, parameter sets per call, replications per call, rows x households per pass: 0, the
# engine's PASS_SIZE)
WAYS = (
    ("one at a time, 1 replication a call", 1, 1, 0),
    ("one at a time, 4 replications a call", 1, REPS, 0),
    ("simulate_batch, 64 sets x 4 replications in one pass", SETS, REPS, 2**40),
    ("simulate_batch, 64 sets x 4 replications, passes of PASS_SIZE", SETS, REPS, 0),
)


def measure(sets_per_call: int, reps_per_call: int, pass_size: int) -> dict:
    """Run the 64 sets x 4 replications in calls of the given size; time them on one core."""
    from analysis.sweeps.spec import load_sweep
    from sim.engine_numpy import PASS_SIZE, simulate, simulate_batch
    from sim.population import generate_population
    from sim.scenario import with_parameters
    from sim.streams import population_stream

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    sweep = load_sweep(SOBOL)
    scenarios = [
        with_parameters(sweep.base, sweep.point_values(row))
        for _, row in sweep.design.head(SETS).iterrows()
    ]
    population = generate_population(sweep.base.population, SCALE, population_stream(SEED))
    warm_up()
    results = {}
    busy, cpu, wall = _machine()[0], time.process_time(), time.perf_counter()
    for first in range(0, SETS, sets_per_call):
        batch = scenarios[first : first + sets_per_call]
        for reps in range(0, REPS, reps_per_call):
            numbers = list(range(reps, reps + reps_per_call))
            if len(batch) == 1:
                runs = [simulate(batch[0], SEED, numbers, SCALE, population=population)]
            else:
                runs = simulate_batch(
                    batch,
                    SEED,
                    numbers,
                    SCALE,
                    population=population,
                    pass_size=pass_size or PASS_SIZE,
                )
            for k, run in enumerate(runs):
                for row, replication in enumerate(numbers):
                    results[first + k, replication] = {
                        name: values[row] for name, values in run.metrics.items()
                    }
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    busy = _machine()[0] - busy
    digest = hashlib.sha256()
    for key in sorted(results):
        for name in sorted(results[key]):
            digest.update(results[key][name].tobytes())
    household_months = population.households * len(sweep.base.months) * SETS * REPS
    return {
        "households": population.households,
        "wall_s": wall,
        "cpu_s": cpu,
        "per_wall": household_months / wall,
        "per_cpu": household_months / cpu,
        "digest": digest.hexdigest(),
        # What the rest of the machine used meanwhile, in cores (/proc/stat).
        "other_cpu_share": max(0.0, busy - cpu) / wall,
    }


def _child(sets: int, reps: int, pass_size: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "analysis.benchmarks.batch", "--one"]
        + [str(sets), str(reps), str(pass_size)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def table(repeats: int) -> None:
    runs: dict[str, list[dict]] = {name: [] for name, *_ in WAYS}
    for repeat in range(repeats):
        order = WAYS if repeat % 2 == 0 else WAYS[::-1]  # a drift of the machine favours none
        for name, sets, reps, pass_size in order:
            runs[name].append(_child(sets, reps, pass_size))
    digests = {m["digest"] for ms in runs.values() for m in ms}
    if len(digests) != 1:
        raise SystemExit(f"the ways gave different numbers: {len(digests)} digests")
    households = runs[WAYS[0][0]][0]["households"]
    print(
        f"Numpy engine, historical baseline with {SETS} parameter sets (the first points of "
        f"sweeps/sobol_8.toml) x {REPS} replications at scale {SCALE} ({households:,} "
        f"households, 360 months), each way in a fresh process pinned to one core (the "
        f"engine's compiled loops loaded before the clock starts), {repeats} "
        "times alternating; median [range]. All ways gave the same numbers, bit for bit. "
        '"Other CPU" is what the rest of the machine used meanwhile, in cores (0 on an idle '
        "machine; the wall-time figures stretch with it).\n"
    )
    print(
        "| way | ms per set and replication (CPU) | household-months/s (CPU) | "
        "household-months/s (wall) | other CPU (cores) |"
    )
    print("|---|---|---|---|---|")
    for name, *_ in WAYS:
        ms = runs[name]
        per_cpu = [m["per_cpu"] / 1e6 for m in ms]
        per_wall = [m["per_wall"] / 1e6 for m in ms]
        per_run = statistics.median(m["cpu_s"] for m in ms) / (SETS * REPS) * 1e3
        other = statistics.median(m["other_cpu_share"] for m in ms)
        print(f"| {name} | {per_run:.1f} | {_band(per_cpu)} | {_band(per_wall)} | {other:.1f} |")


def _band(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} M [{min(values):.1f} - {max(values):.1f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", type=int, nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # the child process: one measurement, printed as JSON
        print(json.dumps(measure(*args.one)))
        return
    with published("batch", "python -m analysis.benchmarks.batch"):
        table(args.repeats)


if __name__ == "__main__":
    main()
