"""Levers in sweeps: a level over a period, the date of a step and a choice of named schedules
make the schedules they say, run what a scenario file with those schedules runs, and are refused
naming the file and the key when they are wrong; Sobol and Morris work over them."""

import numpy as np
import pandas as pd
import pytest
from conftest import HISTORICAL

from analysis.sensitivity import morris_table, sobol_table
from analysis.sweeps.runner import run_sweep
from analysis.sweeps.spec import SweepError, load_sweep
from sim.engine_numpy import simulate
from sim.outcomes import outcomes
from sim.scenario import load_scenario
from sim.schedules import month_index, monthly_values
from sim.schema import Step

HEAD = f"""
name = "levers"
scenario = "{HISTORICAL.as_posix()}"
seed = 3
replications = 2
scale = 0.01
outputs = ["departures_total", "departures_1960", "departures_1962_1984"]
"""


def write(folder, text):
    path = folder / "sweep.toml"
    path.write_text(text)
    return path


def schedule(steps) -> list[Step]:
    return [Step.model_validate(s) for s in steps]


def test_a_level_holds_from_one_month_to_the_other_and_the_base_schedule_elsewhere(tmp_path):
    text = (
        HEAD
        + """
[design]
method = "latin"
samples = 8

[parameters]
"levers.propaganda" = { min = 0.2, max = 0.9, from = "1959-03", to = "1963-06" }
"""
    )
    sweep = load_sweep(write(tmp_path, text))
    base, months = sweep.base, sweep.base.months
    window = (months >= month_index("1959-03")) & (months <= month_index("1963-06"))
    before = monthly_values(base.levers.propaganda, months)
    for _, row in sweep.design.iterrows():
        level = row["levers.propaganda"]
        assert 0.2 <= level <= 0.9
        values = monthly_values(schedule(sweep.point_values(row)["levers.propaganda"]), months)
        assert np.all(values[window] == level)
        assert np.array_equal(values[~window], before[~window])


def test_a_step_moves_to_its_date_and_the_others_stay(tmp_path):
    text = (
        HEAD
        + """
[design]
method = "grid"

[parameters]
"levers.programme_open" = { step = "1967-12", min = "1961-01", max = "1971-04", points = 4 }
"""
    )
    sweep = load_sweep(write(tmp_path, text))
    assert list(sweep.design["levers.programme_open"]) == [
        "1961-01",
        "1964-06",  # 41 months apart
        "1967-11",
        "1971-04",
    ]
    base = [(s.start, s.value) for s in sweep.base.levers.programme_open]
    for _, row in sweep.design.iterrows():
        steps = schedule(sweep.point_values(row)["levers.programme_open"])
        moved = [(s.start, s.value) for s in steps]
        assert moved[2] == (month_index(row["levers.programme_open"]), base[2][1])
        assert moved[:2] + moved[3:] == base[:2] + base[3:]


@pytest.fixture(scope="module")
def choice_sweep(tmp_path_factory, cluster):
    folder = tmp_path_factory.mktemp("choice")
    (folder / "published.toml").write_text(
        f'extends = "{HISTORICAL.as_posix()}"\nname = "published"\n'
        '[levers]\nletters_published = [ { from = "1955-01", value = 0 }, '
        '{ from = "1960-10", value = 1 } ]\n'
    )
    text = (
        HEAD
        + """
[design]
method = "grid"

[parameters."levers.letters_published".schedules]
kept_secret = "historical"                                # a bundled scenario, by name
published = "published.toml"                              # a file beside the sweep file
late = [ { from = "1955-01", value = 0 }, { from = "1970-01", value = 1 } ]   # written out
"""
    )
    sweep = load_sweep(write(folder, text))
    report = run_sweep(sweep, folder / "out", scheduler=cluster.scheduler_address, chunk_size=1)
    return folder, sweep, report.results


def test_a_named_schedule_runs_exactly_what_its_scenario_runs(choice_sweep):
    folder, sweep, results = choice_sweep
    assert list(sweep.design["levers.letters_published"]) == ["kept_secret", "published", "late"]
    for name, scenario in (
        ("kept_secret", load_scenario(HISTORICAL)),
        ("published", load_scenario(folder / "published.toml")),
    ):
        direct = simulate(scenario, seed=3, replications=2, scale=0.01)
        mine = results[results["levers.letters_published"] == name]
        for output in ("departures_total", "departures_1962_1984"):
            measured = np.asarray(outcomes()[output].measure(direct), dtype=float)
            simulated = mine[f"{output}_simulated_persons"].to_numpy()
            assert np.array_equal(measured, simulated), (name, output)
    # Not vacuous: publishing the letters changes the departures after 1961 (which way, at 1%
    # scale and 2 replications, is noise: the comparison's report measures the effect).
    by_name = results.groupby("levers.letters_published")["departures_1962_1984_persons"].mean()
    assert by_name["published"] != by_name["kept_secret"]


def test_a_choice_is_recorded_by_its_name_and_its_schedule_in_the_hash(choice_sweep, tmp_path):
    folder, sweep, _ = choice_sweep
    (tmp_path / "published.toml").write_bytes((folder / "published.toml").read_bytes())
    text = (folder / "sweep.toml").read_text().replace("value = 1 } ]   #", "value = 0.5 } ]   #")
    changed = load_sweep(write(tmp_path, text)).design.set_index("levers.letters_published")
    same = sweep.design.set_index("levers.letters_published")["point_hash"]
    # Editing the schedule named "late" gives a new point; the others keep theirs.
    assert changed.loc["late", "point_hash"] != same["late"]
    assert changed.loc["published", "point_hash"] == same["published"]


LEVERS = """
[parameters]
"levers.welfare_cut_share" = { min = 0, max = 0.57, from = "1956-02" }
# The programme is closed from 1968 to April 1971: the ships' places cannot matter then.
"levers.ship_capacity" = { min = 100, max = 20000, from = "1968-01", to = "1971-04" }

[parameters."levers.letters_published".schedules]
kept_secret = "historical"
published = "letters_published"
"""


@pytest.mark.parametrize(
    "design",
    ['method = "sobol"\nsamples = 8', 'method = "morris"\nsamples = 4\nlevels = 4'],
)
def test_sobol_and_morris_work_over_levers_and_a_lever_without_effect_gets_zero(
    tmp_path, cluster, design
):
    text = (
        HEAD
        + f"\n[design]\n{design}\n"
        + LEVERS
        + '\n[parameters.decision]\npeers = { range = "posterior" }\n'
    )
    sweep = load_sweep(write(tmp_path, text))
    out = run_sweep(sweep, tmp_path / "out", scheduler=cluster.scheduler_address).out
    if "sobol" in design:
        table = sobol_table(out, ["departures_total"], resamples=50).set_index("parameter")
        assert table.loc["levers.ship_capacity", "ST"] == 0
        assert table.loc["levers.ship_capacity", "S1"] == 0
        assert table.loc["levers.welfare_cut_share", "ST"] > 0.01
    else:
        table = morris_table(out, ["departures_total"], resamples=50).set_index("parameter")
        assert table.loc["levers.ship_capacity", "mu_star"] == 0
        assert table.loc["levers.welfare_cut_share", "mu_star"] > 0
    assert set(table.index) == {
        "levers.welfare_cut_share",
        "levers.ship_capacity",
        "levers.letters_published",
        "decision.peers",
    }


BAD = [
    (
        '"levers.propaganda_x" = { min = 0, max = 1 }',
        "parameters.levers.propaganda_x'",
        "unknown lever (allowed: programme_open, ship_capacity",
    ),
    (
        '"levers.propaganda" = { min = 0, max = 1.5 }',
        "parameters.levers.propaganda'",
        "1.5 is outside the allowed range; the allowed range of propaganda is 0..1",
    ),
    (
        '"levers.propaganda" = { min = 0, max = 1, from = "1963-01", to = "1962-01" }',
        "parameters.levers.propaganda'",
        "must be months of the simulated period, 1955-01 to 1984-12, in order",
    ),
    (
        '"levers.propaganda" = { min = 0, max = 1, from = "1956-13" }',
        "parameters.levers.propaganda.from'",
        "'1956-13' is not a month written as YYYY-MM",
    ),
    (
        '"levers.propaganda" = { min = 0, max = 1, form = "1956-01" }',
        "parameters.levers.propaganda.form'",
        "unknown key (allowed here: min, max, from, to, step, schedules",
    ),
    (
        '"levers.welfare_cut_share" = { step = "1957-01", min = "1956-01", max = "1957-06" }',
        "parameters.levers.welfare_cut_share.step'",
        "has no step at 1957-01 to move; its steps after the first start at 1956-02",
    ),
    (
        '"levers.programme_open" = { step = "1967-12", min = "1961-01", max = "1972-01" }',
        "parameters.levers.programme_open'",
        "can move only between the steps around it: after 1959-10 and before 1971-05",
    ),
    (
        '"levers.programme_open" = { step = "1967-12", min = "1969-01", max = "1961-01" }',
        "parameters.levers.programme_open'",
        "empty range: min (1969-01) must be before max (1961-01)",
    ),
    (
        '"levers.programme_open" = { step = "1967-12", min = 1961, max = "1969-01" }',
        "parameters.levers.programme_open.min'",
        "is not a month written as YYYY-MM",
    ),
    (
        '"levers.propaganda" = { step = "1958-08", from = "1958-01", min = "1958-01", '
        'max = "1959-01" }',
        "parameters.levers.propaganda'",
        "from cannot go with the date of a step",
    ),
    (
        '"levers.propaganda" = { schedules = { none = [ { from = "1955-01", value = 2 } ], '
        'some = "historical" } }',
        "parameters.levers.propaganda.schedules.none[0].value'",
        "2.0 is outside the allowed range 0..1",
    ),
    (
        '"levers.propaganda" = { schedules = { late = [ { from = "1956-01", value = 1 } ], '
        'some = "historical" } }',
        "parameters.levers.propaganda.schedules.late[0].from'",
        "must be on or before the simulated start",
    ),
    (
        '"levers.propaganda" = { schedules = { none = "nowhere", some = "historical" } }',
        "parameters.levers.propaganda.schedules.none'",
        "'nowhere' is not a valid scenario",
    ),
    (
        '"levers.propaganda" = { schedules = { some = "historical" } }',
        "parameters.levers.propaganda.schedules'",
        "a choice needs at least 2 named schedules",
    ),
    (
        '"levers.propaganda" = { min = 0, max = 1, points = 3 }',
        "parameters.levers.propaganda'",
        "only a grid design takes points or values",
    ),
]


@pytest.mark.parametrize("line, key, message", BAD)
def test_a_bad_lever_is_refused_naming_the_file_and_key(tmp_path, line, key, message):
    text = HEAD + '\n[design]\nmethod = "latin"\nsamples = 4\n\n[parameters]\n' + line + "\n"
    path = write(tmp_path, text)
    with pytest.raises(SweepError) as error:
        load_sweep(path)
    assert f"{path}: key '{key}" in str(error.value), str(error.value)
    assert message in str(error.value), str(error.value)


def test_a_lever_grid_takes_points_or_values_not_both(tmp_path):
    text = HEAD + '[design]\nmethod = "grid"\n[parameters]\n'
    text += '"levers.propaganda" = { min = 0, max = 1, points = 3, values = [0.5] }\n'
    path = write(tmp_path, text)
    with pytest.raises(SweepError, match=r"give either points .* or values, not both") as error:
        load_sweep(path)
    assert f"{path}: key 'parameters.levers.propaganda'" in str(error.value)


def test_a_lever_grid_crosses_levels_dates_and_names(tmp_path):
    text = (
        HEAD
        + """
[design]
method = "grid"

[parameters]
"levers.welfare_cut_share" = { values = [0, 0.57], from = "1956-02" }
"levers.programme_open" = { step = "1967-12", values = ["1963-12", "1967-12"] }

[parameters."levers.right_of_return".schedules]
one_way = "historical"
allowed = "right_of_return"
"""
    )
    design = load_sweep(write(tmp_path, text)).design
    keys = ["levers.welfare_cut_share", "levers.programme_open", "levers.right_of_return"]
    assert len(design) == 8 and not design.duplicated(keys).any()
    assert set(design["levers.right_of_return"]) == {"one_way", "allowed"}
    assert design[[f"unit:{k}" for k in keys]].isin([0.0, 1.0]).all().all()
    assert pd.api.types.is_float_dtype(design["levers.welfare_cut_share"])
