"""The demo's "why did this family leave?": the trace of every household, and its log-odds split
into causes with the model's own functions, adding up to the number the model used."""

import numpy as np
import pytest

from demo import model as demo_model
from demo import why
from demo.model import DemoModel
from sim.decision import Policy
from sim.result import DEPARTED, SETTLED, UNFORMED
from sim.scenario import with_parameters


@pytest.fixture(scope="module")
def model():
    """600 families to the end of 1962: the campaign, the ships and the first letters."""
    run = DemoModel(households=600, rng="11")
    run.run_until("1962-12")
    return run


def test_a_jump_runs_the_model_to_the_end_of_the_month_asked(model):
    assert model.month_label == "1962-12" and model.trace.count == model.t
    stepped = DemoModel(households=600, rng="11")
    while stepped.month_label < "1962-12":
        stepped.step()
    assert stepped.datacollector.model_vars == model.datacollector.model_vars


def test_the_trace_holds_what_each_household_was(model):
    last = model.trace.count - 1
    assert list(model.trace.state[last]) == [h.state for h in model.households]
    assert np.array_equal(model.trace.logit[last], [h.logit for h in model.households])
    # Before any letter of hardship (July 1960), belief without letters is belief itself.
    before = list(model.months).index(12 * 1960 + 5)
    assert np.array_equal(model.trace.belief[:before], model.trace.unwarned_belief[:before])
    assert (model.trace.belief[last] < model.trace.unwarned_belief[last]).any()


def assert_parts_add_up(model) -> None:
    """Every 7th household, every 5th month: the log-odds split from the trace is the number
    ``Household.decide`` used, and its parts add up to it."""
    trace, worst = model.trace, 0.0
    for index in range(0, len(model.households), 7):
        f = why.household_features(trace.features, index)
        for t in range(0, trace.count, 5):
            policy, seen = Policy.at(model.timeline, t), why.Seen.at(trace, t, index)
            total = why.total(f, policy, model.w, seen, model.switching)
            assert total == trace.logit[t, index], "the very number of Household.decide"
            parts = why.parts(f, policy, model.w, seen)
            assert set(parts) == set(why.PARTS)
            worst = max(worst, abs(sum(parts.values()) - float(total)))
    assert worst < 1e-4  # float32 rounding of the sums, nothing more


def test_the_parts_add_up_to_the_log_odds_the_model_used(model):
    assert_parts_add_up(model)
    # ... with kin who left and households of a new generation among them
    trace = model.trace
    assert trace.kin[: trace.count].max() > 0
    assert (trace.family_ties[trace.count - 1] != trace.family_ties[0]).any()


def test_the_parts_add_up_with_households_the_young_form(monkeypatch):
    """Households the young form share their neighbours' peer weight among more: the trace
    keeps each month's, through steps and jumps alike."""
    page_scenario = demo_model.demo_scenario

    def forming(name, **settings):
        base = page_scenario(name, **settings)
        return with_parameters(base, {"population.young_households": 0.4})

    monkeypatch.setattr(demo_model, "demo_scenario", forming)
    model = DemoModel(households=600, rng="11")
    for _ in range(3):
        model.step()
    model.run_until("1962-12")
    assert_parts_add_up(model)
    trace, last = model.trace, model.trace.count - 1
    assert ((trace.state[0] == UNFORMED) & (trace.state[last] != UNFORMED)).any()
    assert (trace.per_neighbour[last] < trace.per_neighbour[0]).any()


def test_a_family_that_sailed_has_a_story_in_plain_words(model):
    index = why.pick(model, DEPARTED)
    told = why.story(model, index)
    moves = told.changes()
    assert moves[-1][1] == "sailed for North Korea" and told.states[moves[-1][0]] == DEPARTED
    assert told.months[0] == "1955-01" and len(told.parts) == model.trace.count
    assert told.parts[0]["letters"] == 0 and told.parts[-1]["propaganda"] > 0
    words = why.month_in_words(told.parts[moves[-1][0]], told.logits[moves[-1][0]])
    assert "strongest push" in words and "a month" in words
    assert any("people" in line for line in why.describe_household(model, index))
    assert why.pick(model, SETTLED, 0) != why.pick(model, SETTLED, 1)
