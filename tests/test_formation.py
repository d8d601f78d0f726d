"""Households the young form (``sim/formation.py``): drawn after the households of the start, tied
to their parents, unable to move until their month, and the same in both engines."""

import numpy as np
import pytest
from conftest import engines_agree

from sim.engine_numpy import simulate
from sim.engine_state import Engine
from sim.formation import young_households
from sim.population import RESIDENT, generate_population
from sim.result import SETTLED, UNFORMED, RunResult
from sim.scenario import ScenarioError, with_parameters
from sim.streams import population_stream, replication_streams

ALL_ON = {"population.young_households": 0.4}


@pytest.fixture(scope="module")
def forming(historical):
    return with_parameters(historical, ALL_ON)


@pytest.fixture(scope="module")
def populations(historical, forming):
    """The same seed without and with households of the young, at 5%."""
    without = with_parameters(historical, {"population.young_households": 0.0})
    return tuple(
        generate_population(s.population, 0.05, population_stream(5)) for s in (without, forming)
    )


def test_the_households_of_the_start_are_drawn_as_without_them(populations):
    before, after = populations
    n = before.households
    assert after.households > n and (after.formed_month[:n] == 0).all()
    for name in ("size", "kankoku", "soren_tie", "belief_prior", "legal_status", "turnover_month"):
        assert np.array_equal(getattr(before, name), getattr(after, name)[:n]), name
    among_themselves = after.adjacency()[:n, :n].toarray()
    assert np.array_equal(among_themselves, before.adjacency().toarray())
    for household in range(n):  # and the same of them kin
        kin = after.kin_of(household)
        assert np.array_equal(kin[kin < n], before.kin_of(household)), household


def test_a_share_of_households_forms_one_of_the_young_within_the_window(forming, populations):
    before, after = populations
    n, young = before.households, slice(before.households, None)
    assert abs((after.households - n) / n - 0.4) < 0.02
    window = forming.population.generation_years * 12
    assert after.formed_month[young].min() >= 1 and after.formed_month[young].max() < window
    assert (after.legal_status[young] == RESIDENT).all() and (after.deportees[young] == 0).all()
    # Households of the young are their generation already: no later turnover.
    assert (after.turnover_month[young] > window).all()


def test_each_household_of_the_young_is_kin_of_its_parents_and_lives_beside_them(forming):
    params = forming.population
    base = generate_population(
        params.model_copy(update={"young_households": 0.0}), 0.05, population_stream(5)
    )
    young = young_households(
        base.kankoku,
        base.soren_tie,
        base.neighbour_start,
        base.neighbours,
        base.kin,
        params,
        np.random.default_rng(6),
    )
    n, start, ties, kin = base.households, young.neighbour_start, young.neighbours, young.kin
    assert (young.kankoku == base.kankoku[young.parent]).all()
    for i, parent in enumerate(young.parent.tolist()):
        own = ties[start[n + i] : start[n + i + 1]]
        own_kin = kin[start[n + i] : start[n + i + 1]]
        assert list(own).count(parent) == 1 and own_kin[list(own).index(parent)], i
        others = set(own.tolist()) - {parent}
        assert others <= set(base.neighbours_of(parent).tolist()), i  # its parents' neighbours
        assert 1 <= len(own) <= params.network_degree


def test_no_household_of_the_young_moves_before_its_month(forming):
    population = generate_population(forming.population, 0.02, population_stream(3))
    run = RunResult.empty(forming.months, [0, 1], population.households, population.people)
    engine = Engine([forming], population, replication_streams(3, [0, 1]), 0.02, run.metrics)
    for t in range(len(forming.months)):
        engine.step(t)
        unformed = population.formed_month > t
        assert (engine.state[:, unformed] == UNFORMED).all()
        assert (engine.state[:, ~unformed] != UNFORMED).all()
        expected = population.size[unformed].sum()
        assert (run.metrics["unformed_stock"][:, t] == expected).all()
    formed_late = population.formed_month > 200
    assert (engine.state[:, formed_late] != SETTLED).any(), "some moved once formed"
    # Once all have formed, each household shares the peer weight among all its neighbours.
    assert np.array_equal(engine.formed_neighbours, population.degree)


def test_the_formed_neighbours_change_in_the_months_the_young_form(populations):
    population = populations[1]
    months = int(population.formed_month.max())  # a run that ends before the last forms
    changes = population.degree_changes(months)
    assert changes
    formed = population.formed_degree()
    for t in range(1, months):
        if t in changes:
            households, counts = changes[t]
            assert np.all(np.diff(households) > 0) and counts.dtype == np.int32
            formed[households] = counts
        # the same counts as counted afresh: each household's neighbours formed by month t
        afresh = (population.adjacency() @ (population.formed_month <= t)).astype(np.int32)
        assert np.array_equal(formed, afresh), t
    assert not np.array_equal(formed, population.degree)  # the last to form never counted


def test_stocks_add_up_with_households_forming(forming):
    run = simulate(forming, 4, 2, scale=0.02, check_invariants=True)
    stocks = sum(run.metrics[f"{s}_stock"] for s in ("settled", "intending", "registered"))
    stocks = stocks + sum(
        run.metrics[f"{s}_stock"] for s in ("cancelled", "departed", "deported", "unformed")
    )
    assert (stocks == run.people).all()
    assert (
        run.metrics["unformed_stock"][:, 0].min() > 0
        and run.metrics["unformed_stock"][:, -1].max() == 0
    )


def test_both_engines_are_identical_with_households_forming(forming):
    run = engines_agree(forming, replication=1)
    assert run.metrics["unformed_stock"][0, 0] > 0


@pytest.mark.parametrize("years", [0.0, 0.05, 0.1])
def test_households_of_the_young_need_a_window_of_two_months(historical, years):
    with pytest.raises(ScenarioError, match=r"young_households.*generation_years"):
        with_parameters(
            historical, {"population.young_households": 0.3, "population.generation_years": years}
        )
    two_months = with_parameters(
        historical, {"population.young_households": 0.3, "population.generation_years": 1 / 6}
    )
    population = generate_population(two_months.population, 0.01, population_stream(2))
    assert set(population.formed_month[population.formed_month > 0].tolist()) == {1}
