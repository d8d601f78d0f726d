"""The vectorised engine: every household of many replications in arrays (reps, households).

Each month, for every replication at once:

1. the policy of the month is read from the scenario's timeline;
2. beliefs move with propaganda and published news (shared by all replications while they
   depend on the household and the month only) and, once letters of hardship come, with the
   letters from neighbours who left (then per replication);
3. the propensity logit is computed with ``decision.py``; one uniform draw per household decides
   its move: settled -> intending, intending -> registered (when the programme is open) or back
   to settled, registered -> cancelled, cancelled -> settled again;
4. deportable households are deported where the scenario deports;
5. the month's sailing offers places to registered households first-come first-served until the
   ship capacity is full; each family defers to a later ship, withdraws at the confirmation of
   free will (cancelled) or sails;
6. neighbours' counts of engaged (registered or gone) and departed households are updated.

Replication k draws from its own stream, ``SeedSequence(seed).spawn`` child k of the replication
branch, so its results do not depend on how many replications run or how they are grouped. The
population is drawn once per run from the population branch of the same seed, so every
replication (and every scenario compared with the same seed) sees the same households.

``simulate_batch`` runs several scenarios that share the population and the months (they differ
in decision weights, process rates or levers) in the same arrays, one block of rows per scenario
(``rows.py``); each row gets the numbers it would get alone. ``simulate`` is a batch of one.
The arrays and the month itself are ``engine_state.Engine``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from tqdm import tqdm

from .engine_state import Engine
from .population import Population, generate_population
from .result import RunResult
from .rows import check_shared_population
from .schema import Scenario
from .streams import population_stream, replication_streams

# Bytes a run holds per household and replication, and per household for the population, rounded
# up from the engine benchmark (docs/generated/benchmarks/engine.md): 95 and 95 at 20 replications
# on 30 November 2026, 83 and 95 since the compiled listing pass (1 December).
RUN_BYTES_PER_HOUSEHOLD, POPULATION_BYTES_PER_HOUSEHOLD = 104, 104


# Rows x households of one pass of ``simulate_batch``: a larger batch runs in passes of about this
# size, one after another (the same numbers). A pass's work a month is partly per household
# (passes over its arrays, slower once they spill out of the core's cache) and partly per month
# (index lists, the ships, each row's draws). At scale 0.05 on one core (CPU time), 64 sets x 4
# replications of 7,500 households ran fastest in passes of 8 sets (2**18): 21.6-23.4 ms per set
# and replication, against 23.9-24.3 in passes of 4 sets, 22.5-24.4 of 10 or 12, 24.2-26.0 of 17
# and 27.3-30.3 in one pass (2026-11-30). With 8,281 households (7 sets a pass) passes of 7 to 12
# sets ran within the machine's drift of each other. See docs/generated/benchmarks/batch.md.
PASS_SIZE = 2**18


def memory_needed(scenario: Scenario, replications: int, scale: float) -> int:
    """About how many bytes ``simulate`` needs for a run (to refuse one that cannot fit before it
    starts)."""
    p = scenario.population
    # the households of the start, and those the young form later
    households = p.people * scale / p.mean_household_size * (1 + p.young_households)
    return int(
        households * (POPULATION_BYTES_PER_HOUSEHOLD + RUN_BYTES_PER_HOUSEHOLD * replications)
    )


def simulate(
    scenario: Scenario,
    seed: int,
    replications: int | Sequence[int],
    scale: float = 1.0,
    population: Population | None = None,
    progress: bool = False,
    check_invariants: bool = False,
) -> RunResult:
    """Run replications of a scenario. ``replications`` is a count (0..n-1) or a list of numbers.

    ``check_invariants`` recounts every state from scratch each month and compares it with the
    running stocks (slow; for tests).
    """
    return simulate_batch(
        [scenario], seed, replications, scale, population, progress, check_invariants
    )[0]


def simulate_batch(
    scenarios: Sequence[Scenario],
    seed: int,
    replications: int | Sequence[int],
    scale: float = 1.0,
    population: Population | None = None,
    progress: bool = False,
    check_invariants: bool = False,
    pass_size: int = PASS_SIZE,
) -> list[RunResult]:
    """Run replications of several scenarios in the same arrays: one ``RunResult`` per scenario,
    bit-for-bit ``simulate(scenarios[k], seed, replications, scale)``.

    The scenarios must share the population section and the months (ValueError otherwise):
    they may differ in decision weights, process rates and levers. Runs in passes of at most
    ``pass_size`` rows x households (at least one scenario a pass).
    """
    check_shared_population(scenarios)
    reps = list(range(replications)) if isinstance(replications, int) else list(replications)
    if population is None:
        population = generate_population(scenarios[0].population, scale, population_stream(seed))
    per_pass = max(1, pass_size // max(1, len(reps) * population.households))
    passes = -(-len(scenarios) // per_pass)
    # as many scenarios in each pass, give or take one (not full passes and a small last one:
    # each pass costs as much a month as a full one, whatever its size, on top of its rows)
    bounds = np.linspace(0, len(scenarios), passes + 1).round().astype(int)
    results = []
    for first, end in itertools.pairwise(bounds):
        batch = scenarios[first:end]
        results += _run(batch, seed, reps, scale, population, progress, check_invariants)
    return results


def _run(scenarios, seed, reps, scale, population, progress, check_invariants) -> list[RunResult]:
    """One pass of ``simulate_batch``: its scenarios' rows in the same arrays."""
    months = scenarios[0].months
    rows = RunResult.empty(months, reps * len(scenarios), population.households, population.people)
    streams = [stream for _ in scenarios for stream in replication_streams(seed, reps)]
    engine = Engine(scenarios, population, streams, scale, rows.metrics)
    for t in tqdm(
        range(len(months)),
        desc=scenarios[0].name if len(scenarios) == 1 else f"{len(scenarios)} scenarios",
        unit="month",
        disable=not progress,
        leave=False,
    ):
        engine.step(t)
        if check_invariants:
            engine.check_stocks()
    R = len(reps)
    return [
        RunResult(
            rows.months,
            np.array(reps),
            {name: values[k * R : (k + 1) * R].copy() for name, values in rows.metrics.items()},
            rows.households,
            rows.people,
        )
        for k in range(len(scenarios))
    ]
