"""A jump on the demo page (``DemoModel.run_until``: the numpy engine's months loaded into the
households) shows the same numbers as stepping the months one by one: the month and its
policies, the persons who left, the charts' series, the families' grid, the after-arrival view,
and every family's story on the "why" tab; and the months after are the same too."""

import numpy as np

from demo import why
from demo.model import DemoModel, aftermath_view, describe_policy, household_grid

TRACED = (
    "state",
    "belief",
    "unwarned_belief",
    "engaged",
    "kin",
    "switched",
    "family_ties",
    "logit",
    "count",
)


def page(model: DemoModel) -> dict:
    """What the page shows of a model (``demo/views.py``, ``demo/why_view.py``,
    ``demo/aftermath_chart.py``)."""
    shown = {
        "month": model.month_label,
        "policies": describe_policy(model.policy),
        "left": model.datacollector.model_vars["departed_stock"][-1] * model.people_per_person,
        "series": model.datacollector.model_vars,
        "grid": household_grid(model).tolist(),
        "aftermath": aftermath_view(model).table.to_dict(),
    }
    for index in range(0, len(model.households), 37):
        story = why.story(model, index)
        shown[index] = (story.months, story.parts, story.logits, story.states)
    return shown


def assert_same_page(stepped: DemoModel, jumped: DemoModel) -> None:
    assert page(stepped) == page(jumped)
    for name in TRACED:
        assert np.array_equal(getattr(stepped.trace, name), getattr(jumped.trace, name)), name


def test_a_jump_shows_what_stepping_the_months_shows():
    settings = {"households": 600, "rng": 5, "publish_letters": True, "welfare_cuts": 0.7}
    stepped, jumped = DemoModel(**settings), DemoModel(**settings)
    for _ in range(3):  # a few months by hand, then a jump past the ships, the letters, the
        jumped.step()  # kin who left, the next generations, and families switching to Kankoku
    while stepped.month_label < "1968-06" or stepped.t == 0:
        stepped.step()
    jumped.run_until("1968-06")
    assert jumped.month_label == "1968-06" and jumped.trace.count == jumped.t
    assert_same_page(stepped, jumped)
    trace = jumped.trace
    assert page(jumped)["left"] > 0 and trace.switched.any() and trace.kin.any()
    assert (trace.belief != trace.unwarned_belief).any()
    for _ in range(4):  # and the months after are the same
        stepped.step()
        jumped.step()
    assert_same_page(stepped, jumped)


def test_a_jump_to_the_end_ends_the_run():
    model = DemoModel(households=300, rng=2)
    model.run_until("1984-12")
    assert model.month_label == "1984-12" and not model.running
    assert model.trace.count == len(model.months)
    model.run_until("1984-12")  # nothing left to run
    assert model.t == len(model.months)
