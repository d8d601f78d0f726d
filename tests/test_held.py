"""The held part of the logits, kept from month to month (sim/held.py): every month the same, bit
for bit, as computed whole from the households' features of that month."""

import numpy as np

from sim import decision
from sim.engine_state import Engine
from sim.population import generate_population
from sim.result import RunResult
from sim.rows import as_policy
from sim.scenario import with_parameters
from sim.streams import population_stream, replication_streams


def test_the_kept_values_are_those_computed_whole_every_month(historical):
    # two parameter sets by row, so the values are (scenarios, 1, households)
    scenarios = [historical, with_parameters(historical, {"decision.family_ties": 1.5})]
    population = generate_population(historical.population, 0.02, population_stream(8))
    run = RunResult.empty(historical.months, [0] * 2, population.households, population.people)
    engine = Engine(scenarios, population, replication_streams(8, [0]) * 2, 0.02, run.metrics)
    passed = 0
    for t in range(len(historical.months)):
        engine.step(t)
        passed += len(engine.turnovers.get(t, ()))
        policy = as_policy(engine.levers[t].per_scenario())
        whole = decision.population_held(engine.features, policy, engine.w)
        assert np.array_equal(engine._held.values, whole), t
    assert passed > population.households / 4  # many households passed, under changing levers
    levers = engine.levers
    assert sum(not levers[t].same_as(levers[t - 1]) for t in range(1, len(levers))) > 5
