"""The synthetic population follows the scenario's shares and scale."""

import numpy as np

from sim.population import DETAINEE, PAROLEE, generate_population
from sim.streams import population_stream


def test_population_size_follows_the_scale(historical):
    """The households of the start are drawn for ``people`` at the scale, of mean size
    ``mean_household_size``; a family with a Japanese spouse, drawn at its own size
    (``mixed_household_size``), adds the members it has beyond that mean, and the households
    the young form later (``young_households``) add theirs."""
    params = historical.population
    alike = params.model_copy(update={"mixed_household_size": 0.0, "young_households": 0.0})
    pop = generate_population(alike, 0.05, population_stream(1))
    assert pop.people == pop.people_at_start
    assert abs(pop.people - 0.05 * params.people) < 0.02 * 0.05 * params.people
    pop = generate_population(params, 0.05, population_stream(1))
    start = pop.formed_month == 0
    mixed = pop.japanese_spouse[start].sum()
    beyond = mixed * (params.mixed_household_size - params.mean_household_size)
    assert abs(pop.people_at_start - (0.05 * params.people + beyond)) < 0.02 * 0.05 * params.people
    assert pop.people - pop.people_at_start == pop.size[~start].sum()


def test_shares_and_legal_status_follow_the_parameters(historical):
    params = historical.population
    pop = generate_population(params, 0.2, population_stream(2))
    assert abs(pop.kankoku.mean() - params.kankoku_share) < 0.01
    assert abs(pop.on_welfare.mean() - params.welfare_share) < 0.01
    assert (pop.legal_status == DETAINEE).sum() == round(params.detainees * 0.2)
    assert (pop.legal_status == PAROLEE).sum() == round(params.parolees * 0.2)
    assert (pop.japanese_nationals[~pop.japanese_spouse] == 0).all()
    assert (pop.japanese_nationals <= pop.size).all()


def test_the_network_is_undirected_without_self_ties(historical):
    pop = generate_population(historical.population, 0.01, population_stream(3))
    adjacency = pop.adjacency()
    assert (adjacency != adjacency.T).nnz == 0
    assert adjacency.diagonal().sum() == 0
    at_start = pop.formed_degree()[pop.formed_month == 0]  # ties among the households of 1955
    assert abs(at_start.mean() - historical.population.network_degree) < 1


def test_chosen_households_have_stronger_soren_ties(historical):
    pop = generate_population(historical.population, 0.05, population_stream(4))
    assert pop.soren_tie[~pop.kankoku].mean() > pop.soren_tie[pop.kankoku].mean()
    assert np.all((pop.soren_tie >= 0) & (pop.soren_tie <= 1))
