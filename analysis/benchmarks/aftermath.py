"""Benchmark of the after-arrival stage: what it adds to the wall time of a baseline run.

Times the README's main job with and without ``--aftermath`` (full scale, 20 replications,
seed 1959), each repeat a fresh ``repatriation run`` subprocess, alternating the two so that a
change in the machine's load falls on both; then, in one process, the stage alone
(``simulate_aftermath`` on the run's departures) beside the engine alone (its compiled loops
loaded first: ``warm.py``). Prints a Markdown table with the median and range of each.

    .venv/bin/python -m analysis.benchmarks.aftermath [--repeats 3] [--reps 20] [--scale 1.0]

The table is also written to docs/generated/benchmarks/aftermath.md, which the docs include.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .publish import published
from .warm import warm_up


def timed_run(aftermath: bool, reps: int, scale: float, out: Path) -> float:
    command = [
        sys.executable,
        "-m",
        "analysis.cli",
        "run",
        "historical",
        "--reps",
        str(reps),
        "--seed",
        "1959",
        "--scale",
        str(scale),
        "--quiet",
        "--out",
        str(out),
    ]
    started = time.perf_counter()
    subprocess.run(command + (["--aftermath"] if aftermath else []), check=True)
    return time.perf_counter() - started


def in_process(reps: int, scale: float) -> tuple[float, float]:
    from sim.aftermath import simulate_aftermath
    from sim.engine_numpy import simulate
    from sim.scenario import load_scenario

    scenario = load_scenario("historical")
    warm_up()
    started = time.perf_counter()
    result = simulate(scenario, 1959, reps, scale=scale)
    engine = time.perf_counter() - started
    started = time.perf_counter()
    simulate_aftermath(scenario, result, 1959)
    return engine, time.perf_counter() - started


def band(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f} - {max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    with published("aftermath", "python -m analysis.benchmarks.aftermath"):
        table(args)


def table(args) -> None:
    plain, followed, engine, stage = [], [], [], []
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            # Alternate which goes first, so that a drift of the machine falls on both.
            for aftermath in (False, True) if repeat % 2 == 0 else (True, False):
                (followed if aftermath else plain).append(
                    timed_run(aftermath, args.reps, args.scale, Path(folder) / str(aftermath))
                )
            e, s = in_process(args.reps, args.scale)
            engine.append(e)
            stage.append(s)
    added = [f / p - 1 for f, p in zip(followed, plain)]
    share = [s / e for s, e in zip(stage, engine)]
    print(
        f"After-arrival stage, {args.reps} replications at scale {args.scale}, "
        f"{args.repeats} repeats, load average {os.getloadavg()[0]:.1f} at the end\n"
    )
    print("| measure | median (range) |\n|---|---|")
    print(f"| `repatriation run` (main job) | {band(plain)} |")
    print(f"| `repatriation run --aftermath` | {band(followed)} |")
    print(
        f"| added wall time | {statistics.median(added):+.1%} "
        f"({min(added):+.1%} - {max(added):+.1%}) |"
    )
    print(f"| engine alone, in process | {band(engine)} |")
    print(f"| stage alone, in process | {band(stage)} |")
    print(
        f"| stage / engine | {statistics.median(share):.1%} ({min(share):.1%} - {max(share):.1%}) |"
    )


if __name__ == "__main__":
    main()
