"""Two scenarios on one seed: paired runs and the differences between them.

Runs of different scenarios with the same seed share their households (the population is drawn
from the seed) and their random numbers (replication k draws from child k of the seed's
replication branch): common random numbers. The difference taken replication by replication is
then the effect of the change of scenario, with most of the chance variation cancelled out; its
median and 90% band across replications are reported in full-population persons.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .engine_numpy import simulate
from .outcomes import measure, outcomes
from .population import Population, generate_population
from .result import RunResult
from .schema import Scenario
from .streams import population_stream
from .tables import band

# The outcomes a comparison reports by default (names of ``outcomes.outcomes()``).
COMPARED = (
    "departures",
    "departures_1960",
    "registrations",
    "cancellations",
    "deportee_departures",
    "japanese_national_departures",
)


def difference_band(values, prefix: str = "difference") -> dict[str, float]:
    """Median and 90% band of paired differences: {prefix_p05, prefix_median, prefix_p95}."""
    low, mid, high = band(np.asarray(values, dtype=float)).values()
    return {
        f"{prefix}_p05": float(low),
        f"{prefix}_median": float(mid),
        f"{prefix}_p95": float(high),
    }


def paired_differences(
    baseline: RunResult, other: RunResult, scale: float, keys: Sequence[str] = COMPARED
) -> pd.DataFrame:
    """One row per outcome: the baseline's median and the band of ``other`` minus ``baseline``,
    replication by replication, in full-population persons (runs at ``scale``):
    ``baseline_persons_median``, ``difference_persons_p05``, ``_median``, ``_p95``. Every
    outcome of ``keys`` must count persons (ValueError otherwise)."""
    shares = [key for key in keys if outcomes()[key].unit != "persons"]
    if shares:
        raise ValueError(f"paired_differences counts persons; {', '.join(shares)} are shares")
    rows = []
    for key in keys:
        base = measure(baseline, key) / scale
        diff = (measure(other, key) - measure(baseline, key)) / scale
        rows.append(
            {
                "outcome": key,
                "baseline_persons_median": float(np.median(base)),
                **difference_band(diff, prefix="difference_persons"),
            }
        )
    return pd.DataFrame(rows)


def shared_population(baseline: Scenario, scale: float, seed: int) -> Population:
    """The households every scenario run with ``seed`` sees."""
    return generate_population(baseline.population, scale, population_stream(seed))


def check_paired(baseline: Scenario, scenarios: Sequence[Scenario]) -> None:
    """Refuse a scenario whose population differs from the baseline's: it could not be paired."""
    for scenario in scenarios:
        if scenario.population != baseline.population:
            raise ValueError(
                f"scenario '{scenario.name}' changes [population]; its households would differ "
                "from the baseline's and the comparison would not be paired"
            )


def compare(
    baseline: Scenario,
    other: Scenario,
    *,
    seed: int = 1959,
    replications: int = 20,
    scale: float = 1.0,
    keys: Sequence[str] = COMPARED,
) -> pd.DataFrame:
    """Run two scenarios with common random numbers; their paired differences by outcome.

    ``compare(load_scenario("historical"), load_scenario("no_welfare_cuts"), scale=0.1)``
    """
    check_paired(baseline, [other])
    population = shared_population(baseline, scale, seed)
    base = simulate(baseline, seed, replications, scale=scale, population=population)
    run = simulate(other, seed, replications, scale=scale, population=population)
    return paired_differences(base, run, scale, keys)
