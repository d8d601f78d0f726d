"""Parameters by row: ``simulate_batch`` runs several scenarios in the same arrays, and each
(scenario, replication) row is bit-for-bit the run of that scenario alone."""

import numpy as np
import pytest

from sim.engine_numpy import simulate, simulate_batch
from sim.sailing import _queue_order
from sim.scenario import with_parameters

SCALE, SEED, REPS = 0.01, 8, [1, 4]
OFF = {
    "process.letter_fading": 0.0,
    "process.letter_discount": 0.0,
    "process.defer_rate": 0.0,
    "process.reconsider_rate": 0.0,
    "process.ready_share": 1.0,
    "process.ready_rate": 0.0,
    "process.cancel_anchor": 0.0,
    "process.hearsay": 0.0,
}


@pytest.fixture(scope="module")
def scenarios(historical):
    """The baseline (every mechanism on) beside variants that switch mechanisms off or change
    them, change decision weights, and move levers: the programme's opening, the letters of
    hardship (from before the first ship), propaganda, the confirmation's privacy."""
    return [
        historical,
        with_parameters(historical, OFF),
        with_parameters(
            historical,
            {
                "process.ready_share": 0.7,
                "process.ready_rate": 0.08,
                "process.cancel_anchor": 0.0,
                "process.hearsay": 2.0,
                "process.letter_learning": 1.2,
                "process.letter_anchoring": 0.6,
                "process.doubt_threshold": -3.0,
                "process.defer_rate": 0.0,
            },
        ),
        with_parameters(
            historical,
            {
                "decision.peers": 1.0,
                "decision.intercept": -11.5,
                "decision.belief": 5.0,
                "process.letter_fading": 0.0,
                "process.letter_discount": 0.0,
                "process.cancel_anchor": 0.95,
                "process.reconsider_rate": 0.05,
            },
        ),
        with_parameters(
            historical,
            {
                "levers.programme_open": [
                    {"from": "1955-01", "value": 0},
                    {"from": "1961-06", "value": 1},
                ],
                "levers.bad_news": [
                    {"from": "1955-01", "value": 0},
                    {"from": "1958-01", "value": 0.6},
                ],
                "levers.propaganda": [{"from": "1955-01", "value": 0.3}],
                "levers.confirmation_privacy": [{"from": "1955-01", "value": 1}],
            },
        ),
    ]


def test_every_row_of_a_batch_is_its_scenario_run_alone(scenarios):
    batch = simulate_batch(scenarios, SEED, REPS, scale=SCALE, check_invariants=True)
    assert len(batch) == len(scenarios)
    for scenario, result in zip(scenarios, batch):
        assert result.replications.tolist() == REPS
        for row, replication in enumerate(REPS):
            alone = simulate(scenario, SEED, [replication], scale=SCALE)
            assert alone.households == result.households and alone.people == result.people
            np.testing.assert_array_equal(alone.months, result.months)
            assert set(alone.metrics) == set(result.metrics)
            for name, values in alone.metrics.items():
                np.testing.assert_array_equal(
                    result.metrics[name][row], values[0], err_msg=f"{scenario.name}: {name}"
                )
    # The comparison says something only if the scenarios' runs differ from one another.
    departures = {r.metrics["departures"].tobytes() for r in batch}
    assert len(departures) == len(scenarios)


def test_a_batch_refuses_scenarios_that_do_not_share_the_population_or_the_months(historical):
    other_people = with_parameters(historical, {"population.welfare_share": 0.3})
    with pytest.raises(ValueError, match=r"population section \(welfare_share\)"):
        simulate_batch([historical, other_people], SEED, 1, scale=SCALE)
    shorter = with_parameters(historical, {"simulation.end": "1970-12"})
    with pytest.raises(ValueError, match=r"simulation section \(end\)"):
        simulate_batch([historical, shorter], SEED, 1, scale=SCALE)
    with pytest.raises(ValueError, match="at least one scenario"):
        simulate_batch([], SEED, 1, scale=SCALE)


@pytest.mark.parametrize("n", [500, 5000, 300_000])  # short and long queues: two sorts
def test_the_queue_is_ordered_by_row_then_month_then_draw_even_with_equal_draws(n):
    rng = np.random.default_rng(0)
    rows = np.sort(rng.integers(0, 30, n))
    months = rng.integers(0, 40, n).astype(np.int16)
    draws = rng.random(n)
    assert np.array_equal(_queue_order(rows, months, draws), np.lexsort((draws, months, rows)))
    draws = rng.integers(0, 3, n) / 4  # many equal draws: lexsort's stable order
    assert np.array_equal(_queue_order(rows, months, draws), np.lexsort((draws, months, rows)))
    # the same draws in every row (replications of different scenarios share their seeds), and
    # draws next to 1, whose sum with the row and month rounds up
    draws = np.tile(rng.random(n // 10), 10)
    draws[::7] = 1 - 2.0**-53
    assert np.array_equal(_queue_order(rows, months, draws), np.lexsort((draws, months, rows)))
    # draws that differ only below the leading bits a long queue's key keeps
    draws = 0.5 + np.arange(n) * 2.0**-52
    assert np.array_equal(_queue_order(rows, months, draws), np.lexsort((draws, months, rows)))


def test_a_batch_run_in_several_passes_gives_the_same_rows(scenarios):
    one_pass = simulate_batch(scenarios, SEED, REPS, scale=SCALE)
    households = one_pass[0].households
    in_passes = simulate_batch(scenarios, SEED, REPS, scale=SCALE, pass_size=2 * households * 2)
    for alone, passed in zip(one_pass, in_passes, strict=True):
        for name, values in alone.metrics.items():
            np.testing.assert_array_equal(passed.metrics[name], values, err_msg=name)
