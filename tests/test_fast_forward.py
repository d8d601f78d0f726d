"""Fast-forward (``sim/fast_forward.py``): a Mesa model brought to a month by the numpy engine is
in the very state that stepping it reaches, and stepping on from there gives the same months as
never jumping, at the baseline and with every mechanism on."""

import numpy as np
import pytest
from test_formation import ALL_ON as FORMATION
from test_kin_and_pushes import ALL_ON as KIN_AND_PUSHES
from test_mechanisms import ALL_ON as MECHANISMS

from sim.engine_mesa import Household, RepatriationModel
from sim.fast_forward import fast_forward, load, run_replication
from sim.population import generate_population
from sim.result import GROUP_METRICS, METRICS, UNFORMED
from sim.scenario import with_parameters
from sim.streams import population_stream

SEED, SCALE = 8, 0.003  # about 450 households
EVERY_MECHANISM = MECHANISMS | KIN_AND_PUSHES | FORMATION
# Every attribute a household changes as the months go (the others are set once, from the
# population): what the month after reads, and the last month's decision and log-odds.
HOUSEHOLD = (
    "state",
    "next_state",
    "registered_month",
    "ready",
    "doubt_when_registered",
    "belief",
    "logit",
    "engaged_neighbours",
    "letter_sources",
    "second_hand",
    "kin_departed",
    "switched",
    "features",
    "formed_neighbours",
    "per_neighbour",
    "degree",
)
MODEL = ("t", "month", "policy", "heard", "flows", "running", "steps", "time")


def assert_same(stepped: RepatriationModel, jumped: RepatriationModel) -> None:
    """Every household's attributes and the model's, value and type, the random streams'
    positions and the data collector's records."""
    for a, b in zip(stepped.households, jumped.households, strict=True):
        for name in HOUSEHOLD:
            x, y = getattr(a, name), getattr(b, name)
            assert type(x) is type(y) and x == y, (a.index, name, x, y)
    for name in MODEL:
        x, y = getattr(stepped, name), getattr(jumped, name)
        assert type(x) is type(y) and x == y, (name, x, y)
    assert stepped.draws.dtype == jumped.draws.dtype
    assert np.array_equal(stepped.draws, jumped.draws)
    assert stepped.draw_stream.bit_generator.state == jumped.draw_stream.bit_generator.state
    assert stepped.random.getstate() == jumped.random.getstate(), "Mesa's own generator"
    ours, theirs = stepped.datacollector, jumped.datacollector
    assert ours.model_vars == theirs.model_vars
    assert ours._agent_records == theirs._agent_records
    assert ours._collection_steps == theirs._collection_steps


def stepped_and_jumped(scenario, to: int, on: int, start: int = 0):
    """The model stepped ``to + on`` months, and one stepped ``start`` months, fast-forwarded to
    month ``to`` (checked against the first then) and stepped ``on`` months more."""
    population = generate_population(scenario.population, SCALE, population_stream(SEED))
    stepped = RepatriationModel(scenario, SEED, 2, SCALE, population)
    jumped = RepatriationModel(scenario, SEED, 2, SCALE, population)
    for _ in range(start):
        jumped.step()
    for _ in range(to):
        stepped.step()
    fast_forward(jumped, to)
    assert_same(stepped, jumped)
    for _ in range(on):
        stepped.step()
        jumped.step()
    assert_same(stepped, jumped)
    return stepped


@pytest.mark.parametrize("to", [60, 100, 190])  # before the ships, in 1963, in 1970 (lapsed)
def test_a_fast_forward_at_the_baseline_is_stepping(historical, to):
    stepped = stepped_and_jumped(historical, to, 30)
    assert sum(stepped.datacollector.model_vars["departures"]) > 0


def test_a_fast_forward_with_every_mechanism_on_is_stepping(historical):
    """Letters fading, discounted and anchoring; deferring, reconsidering, families not ready,
    cancelling anchored; kin, hearsay along ties, switching to Kankoku, work easier to find,
    mixed families, the next generation and the households the young form: all of them at work
    by the month jumped to."""
    scenario = with_parameters(historical, EVERY_MECHANISM)
    stepped = stepped_and_jumped(scenario, 150, 24, start=7)
    households = stepped.households
    assert sum(stepped.datacollector.model_vars["deferrals"]) > 0
    assert any(h.switched for h in households) and any(h.second_hand > 0 for h in households)
    assert any(h.kin_departed > 0 for h in households)
    assert any(h.doubt_when_registered > 0 for h in households)
    first = stepped.population.family_ties  # the first generation's
    assert any(h.features.family_ties != first[h.index] for h in households), "next generation"
    assert any(h.state == UNFORMED for h in households), "some still to form"
    at_start = stepped.formed_degree  # neighbours formed at the start
    assert any(h.formed_neighbours > at_start[h.index] for h in households), "some formed"
    letters = [h.letter_sources for h in households]
    assert any(0 < x != round(x) for x in letters), "letters faded"


def test_kin_are_counted_as_the_households_count_them_when_they_do_not_pull(historical):
    """With kin ties but no pull, the numpy engine keeps no count of kin who left; the Mesa
    households count them all the same, and so does the fast-forward."""
    scenario = with_parameters(historical, {"population.kin_share": 0.3, "decision.kin": 0.0})
    stepped = stepped_and_jumped(scenario, 90, 6)
    assert any(h.kin_departed > 0 for h in stepped.households)


def test_the_whole_run_at_once_and_the_metrics_of_the_numpy_engine(historical):
    scenario = historical
    population = generate_population(scenario.population, SCALE, population_stream(SEED))
    jumped = RepatriationModel(scenario, SEED, 2, SCALE, population)
    fast_forward(jumped, len(jumped.months))
    assert not jumped.running
    state = run_replication(scenario, SEED, 2, SCALE, population, len(jumped.months))
    table = jumped.datacollector.get_model_vars_dataframe()
    for name in METRICS + GROUP_METRICS:
        assert np.array_equal(table[name], state.metrics[name]), name


def test_what_cannot_be_loaded_exactly_is_refused(historical):
    """Going back, households of another kind, and the state of another run."""
    model = RepatriationModel(historical, SEED, 0, 0.001)
    model.step()
    with pytest.raises(ValueError, match="from month 1 to 0"):
        fast_forward(model, 0)

    class Other(Household):
        pass

    other = RepatriationModel(historical, SEED, 0, 0.001, household_type=Other)
    with pytest.raises(ValueError, match="Household only"):
        fast_forward(other, 5)

    for _ in range(70):  # into the months of the ships, when runs of two seeds part
        model.step()
    state = run_replication(historical, SEED + 1, 0, 0.001, model.population, 80)
    with pytest.raises(ValueError, match="not of the model's run"):
        load(model, state)
