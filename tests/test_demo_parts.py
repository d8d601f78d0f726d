"""The demo's parts outside the browser: charts updated in place, a saved scenario that the
tool accepts, and the side-by-side runs, which are the page's own run and the historical one."""

import numpy as np
import pytest

from demo.charts import RunCharts, household_picture
from demo.export import file_name, save_scenario
from demo.model import DemoModel, demo_scenario, household_grid
from demo.side_by_side import CLASS, HISTORICAL, both_runs, side_by_side_table
from sim.engine_mesa import RepatriationModel
from sim.engine_numpy import simulate
from sim.result import GROUP_METRICS, METRICS, STOCK_METRICS
from sim.scenario import load_scenario

SETTINGS = {
    "scenario_name": "historical",
    "households": 800,
    "rng": 7,
    "welfare_cuts": 0.5,
    "propaganda": 0.3,
    "publish_letters": True,
    "right_of_return": True,
}


def test_the_charts_are_drawn_once_and_change_with_the_months():
    model = DemoModel(households=500)
    charts = RunCharts(model.people_per_person)
    figures = (charts.departures, charts.registrations)
    model.run_until("1959-11")
    before = charts.update(model.months, model.datacollector.model_vars)
    assert charts.update(model.months, model.datacollector.model_vars) is before  # nothing new
    model.run_until("1960-03")
    after = charts.update(model.months, model.datacollector.model_vars)
    assert all(a.startswith(b"\x89PNG") for a in after)
    assert after[0] != before[0] and after[1] != before[1]
    assert (charts.departures, charts.registrations) == figures, "updated, not rebuilt"
    assert (
        charts.departures_axes.get_ylim()[1]
        >= max(model.datacollector.model_vars["departures"]) * model.people_per_person
    )


def test_the_page_counts_the_families_as_the_model_does():
    """The page gathers the families' states once a month, for its data collector and its trace,
    instead of Mesa selecting the agents of each state: the model's numbers, unchanged."""
    model = DemoModel(households=800, rng=3)
    model.run_until("1962-06")
    for state, name in enumerate(STOCK_METRICS):
        assert model.persons_in(state) == RepatriationModel.persons_in(model, state), name
    assert np.array_equal(model.states(), [h.state for h in model.households])
    # Month by month, every column is the numpy engine's, for the same seed and families.
    table = model.datacollector.get_model_vars_dataframe()
    result = simulate(model.spec, model.run_seed, [model.replication], model.scale)
    for name in METRICS + GROUP_METRICS:
        assert np.array_equal(table[name], result.metrics[name][0][: len(table)]), name


def test_the_household_picture_has_one_square_per_family():
    grid = household_grid(DemoModel(households=500))
    picture = household_picture(grid, pixels=4, chosen=3)
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(picture)).convert("RGB")
    assert image.size == (grid.shape[1] * 4, grid.shape[0] * 4)
    assert image.getpixel((12, 0)) == (0, 0, 0), "the chosen family (3) is ringed in black"
    assert image.getpixel((13, 1)) != (0, 0, 0) and image.getpixel((8, 0)) != (0, 0, 0)


def test_a_click_on_the_grid_picks_the_family_under_it():
    from demo.views import clicked_family

    assert clicked_family(0, 0, pixels=5, side=10, families=95) == 0
    assert clicked_family(12, 7, pixels=5, side=10, families=95) == 12
    assert clicked_family(49, 45, pixels=5, side=10, families=95) is None  # an empty square
    assert clicked_family(55, 0, pixels=5, side=10, families=95) is None  # beyond the grid


def test_saved_settings_are_a_scenario_the_tool_accepts(tmp_path):
    path = save_scenario(SETTINGS, "My lesson 1", tmp_path)
    assert path.name == "my_lesson_1.toml" and file_name("  ") == "my_settings"
    saved = load_scenario(path)  # the loader of `repatriation run` and `compare`
    page = demo_scenario(
        "historical", welfare_cuts=0.5, propaganda=0.3, publish_letters=True, right_of_return=True
    )
    ours, theirs = saved.timeline(), page.timeline()
    assert ours.keys() == theirs.keys()
    assert all(np.array_equal(ours[k], theirs[k]) for k in ours)
    assert saved.decision == page.decision and saved.process == page.process
    assert saved.name == "my_lesson_1" and "--seed 7" in path.read_text()
    assert save_scenario({**SETTINGS, "rng": 8}, "My lesson 1", tmp_path) == path  # again
    (tmp_path / "historical.toml").write_text("name = 'historical'\n")
    with pytest.raises(FileExistsError):
        save_scenario(SETTINGS, "historical", tmp_path)  # never over a scenario of its own
    assert (tmp_path / "historical.toml").read_text() == "name = 'historical'\n"


def test_side_by_side_is_the_pages_own_run_beside_the_historical_one():
    model = DemoModel(**{**SETTINGS, "rng": 5})
    runs = both_runs(model)
    model.run_until("1961-12")
    months = len(model.datacollector.model_vars["departures"])
    page = np.asarray(model.datacollector.model_vars["departures"]) * model.people_per_person
    assert np.array_equal(runs[CLASS]["departures"][:months], page)
    assert not np.array_equal(runs[HISTORICAL]["departures"], runs[CLASS]["departures"])
    table = side_by_side_table(runs)
    assert "documented" in table and "93,340" in table and "this run" in table


@pytest.mark.parametrize("name", ["historical", "no_welfare_cuts"])
def test_every_setting_has_a_meaning_on_the_page(name):
    from demo.controls import SLIDERS, SWITCHES, scenario_meaning

    assert scenario_meaning(name).endswith(".")
    assert all("{" in meaning for _, _, meaning in SLIDERS)
    assert all(off != on for _, _, (off, on) in SWITCHES)


def test_every_scenario_can_be_run_explained_compared_and_saved_from_the_page(tmp_path):
    from demo import why
    from demo.export import scenario_text
    from demo.model import scenario_names

    for name in scenario_names():
        model = DemoModel(scenario_name=name, households=500)
        model.run_until("1956-06")
        RunCharts(model.people_per_person).update(model.months, model.datacollector.model_vars)
        assert len(why.story(model, 0).parts) == model.trace.count
        assert "this run" in side_by_side_table(both_runs(model))
        assert f"scenario {name} with" in scenario_text(model.settings, "x", tmp_path)


OKABE_ITO = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}


def test_the_page_draws_in_colours_readable_with_colour_blindness():
    """Okabe and Ito's palette, and greys (for families staying or not yet formed, and for ties
    to Japan)."""
    from demo import charts, why_view
    from demo.model import STATE_STYLE

    greys = {"#FFFFFF", "#DDDDDD", "#999999"}  # white: a family not yet formed
    used = {colour for _, colour in STATE_STYLE.values()} | set(why_view.COLOURS.values())
    used |= {charts.BLUE, charts.ORANGE, charts.GREEN, charts.VERMILION, charts.BLACK}
    assert used <= OKABE_ITO | greys, used - OKABE_ITO - greys
