"""The decision rule: pushes and pulls move propensity the way the model description says.

Each property is checked over random households, random policies and random positive weights.
"""

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import decision
from sim.decision import Policy
from sim.population import generate_population
from sim.schema import DecisionWeights
from sim.streams import population_stream

unit = st.floats(0.0, 1.0)
weight = st.floats(0.05, 10.0)


@st.composite
def policies(draw):
    return Policy(**{name: draw(unit) for name in Policy.__dataclass_fields__})


@st.composite
def weights(draw):
    values = {name: draw(weight) for name in DecisionWeights.model_fields}
    values["intercept"] = draw(st.floats(-15, 0))
    return DecisionWeights(**values)


def raised(policy, lever, amount):
    return replace(policy, **{lever: min(getattr(policy, lever) + amount, 1.0)})


def logit_of(pop, policy, w, historical, belief=None):
    belief = pop.belief_prior if belief is None else belief
    features = decision.Features.of(pop, historical.population.destitution_deportation_fear)
    return decision.population_logit(features, belief, policy, w)


@settings(max_examples=40, deadline=None)
@given(
    policy=policies(),
    w=weights(),
    seed=st.integers(0, 2**32 - 1),
    amount=st.floats(0.05, 1.0),
    lever=st.sampled_from(["welfare_cut_share", "enforcement"]),
)
def test_welfare_cuts_and_enforcement_never_lower_propensity(
    historical, policy, w, seed, amount, lever
):
    pop = generate_population(historical.population, 0.003, population_stream(seed))
    before = logit_of(pop, policy, w, historical)
    after = logit_of(pop, raised(policy, lever, amount), w, historical)
    assert (after >= before - 1e-5).all()


def test_welfare_cuts_and_enforcement_raise_propensity_of_those_exposed(historical):
    pop = generate_population(historical.population, 0.01, population_stream(5))
    w = historical.decision
    calm = Policy.at(historical.timeline(), 0)
    calm = replace(calm, welfare_cut_share=0.0, enforcement=0.0)
    cut = logit_of(pop, replace(calm, welfare_cut_share=1.0), w, historical) - logit_of(
        pop, calm, w, historical
    )
    assert (cut[pop.on_welfare] > 0).all() and (cut[~pop.on_welfare] == 0).all()
    enforced = logit_of(pop, replace(calm, enforcement=1.0), w, historical) - logit_of(
        pop, calm, w, historical
    )
    assert (enforced[pop.legal_status > 0] > 0).all()


@settings(max_examples=40, deadline=None)
@given(policy=policies(), w=weights(), seed=st.integers(0, 2**32 - 1), amount=st.floats(0.05, 1.0))
def test_propaganda_raises_belief_and_so_propensity(historical, policy, w, seed, amount):
    pop = generate_population(historical.population, 0.003, population_stream(seed))
    p = historical.process
    low = decision.updated_belief(pop.belief_prior, pop.soren_tie, policy, p)
    high = decision.updated_belief(
        pop.belief_prior, pop.soren_tie, raised(policy, "propaganda", amount), p
    )
    assert (high >= low).all()
    assert (
        logit_of(pop, policy, w, historical, high)
        >= logit_of(pop, policy, w, historical, low) - 1e-5
    ).all()


@settings(max_examples=60, deadline=None)
@given(w=weights(), policy=policies(), ties=unit, more=st.floats(0.01, 1.0))
def test_family_ties_and_a_japanese_spouse_lower_propensity(w, policy, ties, more):
    common = dict(
        welfare_cut=np.array([0.0]),
        jobless=np.array([1.0]),
        deportation_exposure=np.array([0.5]),
        convict=np.array([0.0]),
        kankoku=np.array([0.0]),
        policy=policy,
        w=w,
    )
    loose = decision.attitude(
        family_ties=np.array([ties]), japanese_spouse=np.array([0.0]), **common
    )
    tight = decision.attitude(
        family_ties=np.array([ties + more]), japanese_spouse=np.array([0.0]), **common
    )
    married = decision.attitude(
        family_ties=np.array([ties]), japanese_spouse=np.array([1.0]), **common
    )
    assert tight[0] < loose[0] and married[0] < loose[0]


@settings(max_examples=60, deadline=None)
@given(
    belief=unit,
    tie=unit,
    policy=policies(),
    departed=st.integers(1, 10),
    heard=st.floats(0.0, 5.0),
    bad_news=st.floats(0.05, 1.0),
    learning=st.floats(0.001, 10.0),
    anchoring=st.floats(0.0, 1.0),
)
def test_letters_from_neighbours_who_left_lower_belief_within_zero_to_one(
    historical, belief, tie, policy, departed, heard, bad_news, learning, anchoring
):
    toward_zero = {"letter_learning": learning, "letter_anchoring": 0.0}
    p = historical.process.model_copy(update=toward_zero)
    policy = replace(policy, bad_news=bad_news)
    b, t = np.array([belief], np.float32), np.array([tie], np.float32)
    letters = decision.letters_received(np.array([departed], np.float32), bad_news, heard)
    assert letters[0] >= bad_news * departed * (1 - 1e-6)
    without = decision.updated_belief(b, t, policy, p)
    with_letters = decision.updated_belief(b, t, policy, p, letters)
    assert 0.0 <= with_letters[0] <= without[0] <= 1.0
    assert with_letters[0] == np.float32(without[0] * np.exp(np.float32(-learning) * letters[0]))
    # Anchored, the letters move belief toward what they say, from above or from below.
    anchored = p.model_copy(update={"letter_anchoring": anchoring})
    said = np.float32(anchoring * (1.0 - bad_news))
    toward = decision.updated_belief(b, t, policy, anchored, letters)[0]
    assert min(said, without[0]) - 1e-6 <= toward <= max(said, without[0]) + 1e-6


def test_letters_take_away_at_most_what_belief_adds(historical):
    # However many letters come, the log-odds fall by no more than the belief weight: the pushes
    # out of Japan still act on a household that no longer believes in the North.
    pop = generate_population(historical.population, 0.01, population_stream(7))
    w, p = historical.decision, historical.process
    policy = replace(Policy.at(historical.timeline(), 80), bad_news=1.0)
    flood = decision.letters_received(np.full(pop.households, 50.0, np.float32), 1.0)
    believing = np.ones(pop.households, np.float32)
    after = decision.updated_belief(believing, pop.soren_tie, policy, p, flood)
    drop = logit_of(pop, policy, w, historical, believing) - logit_of(
        pop, policy, w, historical, after
    )
    assert (after >= 0).all() and (drop > 0).all()
    assert (drop <= w.belief * (1 + 1e-5)).all()


@settings(max_examples=60, deadline=None)
@given(w=weights(), base=st.floats(-15, 5), engaged=st.integers(0, 9), more=st.integers(1, 5))
def test_neighbours_who_registered_raise_propensity(w, base, engaged, more):
    def logit(count):
        per_neighbour = decision.peer_weight(np.array([8]), w)
        return decision.network_logit(np.array([base]), np.array([count]), per_neighbour)

    few, many = logit(engaged), logit(engaged + more)
    assert many[0] > few[0]


@settings(max_examples=60, deadline=None)
@given(belief=unit, tie=unit, policy=policies())
def test_published_bad_news_lowers_belief(historical, belief, tie, policy):
    quiet = replace(policy, letters_published=0.0, bad_news=0.8)
    published = replace(quiet, letters_published=1.0)
    p = historical.process
    b, t = np.array([belief]), np.array([tie])
    assert (
        decision.updated_belief(b, t, published, p)[0] <= decision.updated_belief(b, t, quiet, p)[0]
    )


def test_doubt_falls_as_propensity_rises():
    logits = np.linspace(-20, 5, 50)
    assert (np.diff(decision.doubt(logits, -5.0)) < 0).all()
    assert (np.diff(decision.intend_probability(logits)) > 0).all()


def test_convict_expulsion_pushes_only_long_sentence_convicts(historical):
    from sim.population import CONVICT

    pop = generate_population(historical.population, 0.5, population_stream(6))
    convicts = pop.legal_status == CONVICT
    assert convicts.sum() == round(historical.population.long_sentence_convicts * 0.5)
    calm = Policy.at(historical.timeline(), 0)
    push = logit_of(
        pop, replace(calm, convict_expulsion=1.0), historical.decision, historical
    ) - logit_of(pop, calm, historical.decision, historical)
    assert (push[convicts] > 0).all() and (push[~convicts] == 0).all()
