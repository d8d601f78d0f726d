"""Benchmark: household-months per second of the numpy and the Mesa engine, and their ratio.

Both engines run the historical baseline (one replication, the same seed and the same
population) at two small scales, one after the other in this process.

    .venv/bin/python -m analysis.benchmarks.engines [--scales 0.01 0.03]

The table is also written to docs/generated/benchmarks/engines.md, which the docs include.
"""

from __future__ import annotations

import argparse
import time

from sim.engine_mesa import simulate_mesa
from sim.engine_numpy import simulate
from sim.population import generate_population
from sim.scenario import load_scenario
from sim.streams import population_stream

from .publish import published


def timed(run, *args, **kwargs) -> float:
    started = time.perf_counter()
    run(*args, **kwargs)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.01, 0.03])
    parser.add_argument("--seed", type=int, default=1959)
    args = parser.parse_args()
    with published("engines", "python -m analysis.benchmarks.engines"):
        table(args)


def table(args) -> None:
    scenario = load_scenario("historical")
    months = len(scenario.months)
    print(
        "Numpy against Mesa, one replication of the historical baseline on the same population "
        "(numpy: best of 3).\n"
    )
    print("| scale | households | numpy (household-months/s) | Mesa (household-months/s) | ratio |")
    print("|---|---|---|---|---|")
    for scale in args.scales:
        pop = generate_population(scenario.population, scale, population_stream(args.seed))
        work = pop.households * months
        numpy_s = min(
            timed(simulate, scenario, args.seed, 1, scale=scale, population=pop) for _ in range(3)
        )
        mesa_s = timed(simulate_mesa, scenario, args.seed, 1, scale=scale, population=pop)
        print(
            f"| {scale} | {pop.households:,} | {work / numpy_s:,.0f} | {work / mesa_s:,.0f} | "
            f"{mesa_s / numpy_s:,.0f} |"
        )


if __name__ == "__main__":
    main()
