"""Kin in the North, hearsay along ties, registrations switching to Kankoku, work getting easier
to find, larger mixed families and households passing to their next generation: each does what
it says, is off by default, and keeps the two engines identical. The tests start from the
baseline with all of them off (``plain``)."""

import dataclasses

import numpy as np
import pytest
from conftest import engines_agree

from sim import decision
from sim.engine_numpy import simulate, simulate_batch
from sim.outcomes import total
from sim.population import generate_population
from sim.scenario import ScenarioError, with_parameters
from sim.schema import DecisionWeights, PopulationParameters, Process
from sim.streams import population_stream

SCALE, SEED = 0.01, 4
FROM_1966 = [{"from": "1955-01", "value": 0}, {"from": "1966-01", "value": 0.02}]
ALL_ON = {
    "population.generation_years": 30.0,
    "population.young_belief_prior_mean": 0.05,
    "population.young_family_ties_mean": 0.8,
    "population.kin_share": 0.3,
    "population.mixed_household_size": 5.0,
    "decision.kin": 2.0,
    "process.hearsay": 0.5,
    "process.hearsay_along_ties": 0.6,
    "levers.kankoku_switching": FROM_1966,
    "levers.job_scarcity": [{"from": "1955-01", "value": 1}, {"from": "1965-01", "value": 0.5}],
}
OFF = {
    "population.generation_years": 0.0,
    "population.young_households": 0.0,  # they need the generations' window
    "population.kin_share": 0.0,
    "population.mixed_household_size": 0.0,
    "decision.kin": 0.0,
    "process.hearsay_along_ties": 0.0,
    "levers.kankoku_switching": [{"from": "1955-01", "value": 0}],
    "levers.job_scarcity": [{"from": "1955-01", "value": 1}],
}


@pytest.fixture(scope="module")
def plain(historical):
    return with_parameters(historical, OFF)


def run(scenario, changes=None, reps=2, seed=SEED, scale=SCALE):
    changed = with_parameters(scenario, changes) if changes else scenario
    return simulate(changed, seed, reps, scale=scale)


def test_the_new_keys_default_to_the_model_without_them():
    assert PopulationParameters.model_fields["kin_share"].default == 0
    assert PopulationParameters.model_fields["mixed_household_size"].default == 0
    assert DecisionWeights.model_fields["kin"].default == 0
    assert Process.model_fields["hearsay_along_ties"].default == 0
    assert PopulationParameters.model_fields["generation_years"].default == 0


def test_kin_ties_are_a_share_of_the_network_and_the_same_both_ways(plain):
    params = with_parameters(plain, {"population.kin_share": 0.25}).population
    pop = generate_population(params, 0.02, np.random.default_rng(1))
    assert 0.2 < pop.kin.mean() < 0.3
    adjacency = pop.adjacency().toarray().astype(bool)
    kin = np.zeros_like(adjacency)
    for h in range(pop.households):
        kin[h, pop.kin_of(h)] = True
    assert (kin == kin.T).all() and not (kin & ~adjacency).any()


def test_a_mixed_household_smaller_than_the_couple_is_refused(plain):
    with pytest.raises(ScenarioError, match=r"mixed_household_size.*below 2, the couple alone"):
        with_parameters(plain, {"population.mixed_household_size": 1.5})


def test_drawing_kin_and_mixed_families_leaves_every_other_attribute_as_it_was(plain):
    def draw(changes):
        params = with_parameters(plain, changes).population
        return generate_population(params, 0.02, np.random.default_rng(1))

    before = draw({})
    after = draw({"population.kin_share": 0.3, "population.mixed_household_size": 6.0})
    assert np.array_equal(before.soren_tie, after.soren_tie)
    assert np.array_equal(before.legal_status, after.legal_status)
    mixed = before.japanese_spouse
    assert np.array_equal(before.size[~mixed], after.size[~mixed])
    assert after.size[mixed].mean() > before.size[mixed].mean() + 1
    # Japanese nationals: the spouse and some of the children, never more than the family
    assert (after.japanese_nationals[mixed] >= 1).all()
    assert (after.japanese_nationals <= after.size).all()


def test_each_household_passes_to_its_next_generation_once_within_the_generation(plain):
    young = {
        "population.generation_years": 25.0,
        "population.young_belief_prior_mean": 0.05,
        "population.young_family_ties_mean": 0.8,
    }
    pop = generate_population(
        with_parameters(plain, young).population, 0.02, np.random.default_rng(3)
    )
    assert pop.turnover_month.min() >= 0 and pop.turnover_month.max() < 25 * 12
    by_month = pop.turnovers(360)
    passing = np.concatenate(list(by_month.values()))
    assert np.array_equal(np.sort(passing), np.arange(pop.households))  # each once
    assert all((pop.turnover_month[h] == t).all() for t, h in by_month.items())
    assert pop.young_belief_prior.mean() < pop.belief_prior.mean()
    assert pop.young_family_ties.mean() > pop.family_ties.mean() + 0.2
    assert (
        generate_population(plain.population, 0.02, np.random.default_rng(3)).turnovers(360) == {}
    )


def test_a_young_generation_rooted_in_japan_leaves_less(plain):
    # Every household passes by 1965 to a generation bound to Japan that never believed
    young = {
        "population.generation_years": 10.0,
        "population.young_family_ties_mean": 1.0,
        "population.young_belief_prior_mean": 0.0,
    }
    rooted = run(plain, young)
    departures = total("departures", "1955-01", "1984-12")
    assert (departures(rooted) < 0.9 * departures(run(plain))).all()


def test_relatives_in_the_north_pull_a_family_once_one_of_them_has_left():
    w = DecisionWeights.model_construct(kin=1.5)
    logit = np.zeros(3, dtype=np.float32)
    pulled = decision.kin_logit(logit, np.array([0, 1, 4], dtype=np.float32), w)
    assert pulled.tolist() == [0.0, 1.5, 1.5]


def test_kin_who_left_draw_more_families_after_them(plain):
    kin = {"population.kin_share": 0.5}
    pulled = run(plain, {**kin, "decision.kin": 3.0})
    unpulled = run(plain, kin)
    after = total("departures", "1962-01", "1984-12")
    assert (after(pulled) > after(unpulled)).all()


def test_hearsay_along_ties_reaches_the_neighbours_of_those_who_left_first():
    p = Process.model_construct(hearsay=0.5, hearsay_along_ties=1.0)
    community = decision.hearsay_letters(np.array([2.0, 0.0, 0.0, 0.0]), 0.5, along_ties=1.0)
    assert community[0] == 0  # all of it travels along ties
    second_hand = np.array([3.0, 0.0, 1.0, 0.0], dtype=np.float32)
    heard = decision.heard_along_ties(community, second_hand, np.float32(2.0), p)
    assert heard.tolist() == [0.75, 0.0, 0.25, 0.0]


def test_hearsay_along_ties_changes_who_hears_not_only_how_much(plain):
    even = run(plain, {"process.hearsay": 0.5})
    along = run(plain, {"process.hearsay": 0.5, "process.hearsay_along_ties": 1.0})
    assert not np.array_equal(even.metrics["new_intending"], along.metrics["new_intending"])


def test_a_family_that_switched_to_kankoku_holds_its_secure_residence():
    w = DecisionWeights.model_construct(secure_residence=1.5)
    policy = type("P", (), {"secure_residence_kankoku": 1.0})()
    switched = np.array([False, True])
    logit = decision.switched_logit(np.zeros(2, dtype=np.float32), switched, policy, w)
    assert logit.tolist() == [0.0, -1.5]
    assert logit.dtype == np.float32  # as the Mesa engine's, though a bool array x float is not
    policy.kankoku_switching = 0.1
    u = np.array([0.05, 0.5, 0.89, 0.91], dtype=np.float32)
    assert decision.switches_registration(u, policy).tolist() == [False, False, False, True]


def test_switching_to_kankoku_after_1965_lowers_later_departures(plain):
    # At 5%: at 1% the few hundred later departures a year are a handful of households a row.
    switching = run(plain, {"levers.kankoku_switching": FROM_1966}, reps=3, scale=0.05)
    after = total("departures", "1971-01", "1984-12")
    assert (after(switching) < after(run(plain, reps=3, scale=0.05))).all()


def test_work_easier_to_find_weakens_the_push_of_having_none(plain):
    w = plain.decision
    policy = decision.Policy(**dict.fromkeys(decision.Policy.__dataclass_fields__, 0.0))

    def push(scarcity, jobless):
        """The attitude of a household whose only push is having no work (or having it)."""
        at = dataclasses.replace(policy, welfare_exclusion=1.0, job_scarcity=scarcity)
        zero = np.float32(0)
        return decision.attitude(
            welfare_cut=zero,
            jobless=np.float32(jobless),
            deportation_exposure=zero,
            convict=zero,
            family_ties=zero,
            japanese_spouse=zero,
            kankoku=zero,
            policy=at,
            w=w,
        )

    assert push(1.0, 1) - push(1.0, 0) == np.float32(w.unemployment + w.welfare_exclusion)
    assert push(0.5, 1) - push(0.5, 0) == np.float32((w.unemployment + w.welfare_exclusion) / 2)
    assert push(0.5, 0) == push(1.0, 0)  # nothing changes for a household with work
    scarce_until_1957 = [{"from": "1955-01", "value": 1}, {"from": "1957-01", "value": 0.0}]
    grown = run(plain, {"levers.job_scarcity": scarce_until_1957})
    intending = total("new_intending", "1957-01", "1984-12")
    assert (intending(grown) < intending(run(plain))).all()
    before = total("new_intending", "1955-01", "1956-12")
    assert np.array_equal(before(grown), before(run(plain)))


@pytest.mark.parametrize("replication", [0, 3])
def test_both_engines_stay_identical_with_kin_hearsay_along_ties_and_switching(plain, replication):
    numpy_run = engines_agree(with_parameters(plain, ALL_ON), replication)
    assert numpy_run.metrics["departures"].sum() > 0


def test_rows_with_and_without_the_mechanisms_share_a_batch_bit_for_bit(plain):
    on = with_parameters(plain, {key: v for key, v in ALL_ON.items() if "population" not in key})
    population = generate_population(on.population, 0.005, population_stream(9))
    batch = simulate_batch([on, plain], 9, 2, scale=0.005, population=population)
    for scenario, result in zip([on, plain], batch):
        alone = simulate(scenario, 9, 2, scale=0.005, population=population)
        for name in alone.metrics:
            assert np.array_equal(alone.metrics[name], result.metrics[name]), name
