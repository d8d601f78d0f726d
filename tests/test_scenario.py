"""Scenario files: a bad file gets a clear message naming the file and the key; nothing is
written."""

import pytest
from conftest import HISTORICAL, write_scenario

from analysis.cli import main
from sim.scenario import ScenarioError, load_scenario
from sim.schedules import month_index


def error_of(path):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return str(caught.value)


def test_the_historical_scenario_loads_and_covers_1955_to_1984(historical):
    assert historical.simulation.start == month_index("1955-01")
    assert historical.simulation.end == month_index("1984-12")
    assert len(historical.months) == 360


def test_a_lever_is_piecewise_constant_from_each_step(historical):
    timeline = historical.timeline()["programme_open"]
    months = list(historical.months)
    assert timeline[months.index(month_index("1959-09"))] == 0
    assert timeline[months.index(month_index("1959-12"))] == 1
    assert timeline[months.index(month_index("1968-06"))] == 0


def test_extends_overrides_only_what_it_names(tmp_path, historical):
    path = write_scenario(tmp_path, "child.toml", 'name = "child"\n[decision]\npeers = 0.5\n')
    child = load_scenario(path)
    assert child.decision.peers == 0.5
    assert child.decision.soren == historical.decision.soren
    assert child.levers == historical.levers
    assert child.digest() != historical.digest()


def test_a_typo_in_a_key_names_the_file_the_key_and_the_allowed_keys(tmp_path):
    path = write_scenario(tmp_path, "typo.toml", "[decision]\nintercpt = -8\n")
    message = error_of(path)
    assert str(path) in message
    assert "decision.intercpt" in message and "unknown key" in message
    assert "intercept" in message.split("allowed here:")[1]


def test_an_unknown_lever_is_an_error(tmp_path):
    path = write_scenario(
        tmp_path, "lever.toml", '[levers]\nwelfare_cuts = [ { from = "1955-01", value = 0 } ]\n'
    )
    assert "levers.welfare_cuts" in error_of(path)


def test_a_negative_rate_is_refused(tmp_path):
    path = write_scenario(tmp_path, "negative.toml", "[process]\ncancel_rate = -0.1\n")
    message = error_of(path)
    assert str(path) in message and "process.cancel_rate" in message
    assert "greater than or equal to 0" in message


def test_a_lever_value_out_of_range_is_refused(tmp_path):
    path = write_scenario(
        tmp_path, "range.toml", '[levers]\npropaganda = [ { from = "1955-01", value = 1.5 } ]\n'
    )
    message = error_of(path)
    assert "levers.propaganda[0].value" in message and "0..1" in message


def test_dates_out_of_order_are_refused(tmp_path):
    path = write_scenario(
        tmp_path,
        "order.toml",
        "[levers]\npropaganda = [\n"
        '  { from = "1955-01", value = 0.1 },\n'
        '  { from = "1960-01", value = 0.5 },\n'
        '  { from = "1958-08", value = 1.0 },\n]\n',
    )
    message = error_of(path)
    assert "levers.propaganda[2].from" in message and "date order" in message


def test_a_schedule_must_start_by_the_simulated_start(tmp_path):
    path = write_scenario(
        tmp_path, "late.toml", '[levers]\npropaganda = [ { from = "1958-08", value = 1.0 } ]\n'
    )
    assert "levers.propaganda[0].from" in error_of(path)


def test_a_malformed_month_is_refused(tmp_path):
    path = write_scenario(
        tmp_path, "month.toml", '[levers]\npropaganda = [ { from = "1955-13", value = 1.0 } ]\n'
    )
    assert "YYYY-MM" in error_of(path)


def test_a_missing_base_file_is_named(tmp_path):
    path = tmp_path / "orphan.toml"
    path.write_text('extends = "no_such_base.toml"\nname = "orphan"\n')
    message = error_of(path)
    assert str(path) in message and "extends" in message and "no_such_base.toml" in message


def test_an_extends_cycle_is_refused(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    assert "cycle" in error_of(tmp_path / "a.toml")


def test_the_error_names_the_base_file_when_the_bad_key_is_there(tmp_path):
    base = tmp_path / "base.toml"
    text = HISTORICAL.read_text().replace("deportation_rate = ", "deportation_rate = -")
    # The copy lives elsewhere: point its posterior at the project's file.
    text = text.replace(
        'posterior = "calibration/', f'posterior = "{HISTORICAL.parent.as_posix()}/calibration/'
    )
    base.write_text(text)
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\nname = "child"\n')
    message = error_of(child)
    assert str(base) in message and "process.deportation_rate" in message


def test_invalid_toml_syntax_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("name = \n")
    assert str(path) in error_of(path) and "TOML" in error_of(path)


def test_an_invalid_scenario_writes_nothing(tmp_path, capsys):
    path = write_scenario(tmp_path, "typo.toml", "[decision]\nintercpt = -8\n")
    out = tmp_path / "run"
    assert main(["run", str(path), "--reps", "1", "--scale", "0.01", "--out", str(out)]) == 2
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["typo.toml"]
    assert "decision.intercpt" in capsys.readouterr().err


def test_parameters_can_be_overridden_by_dotted_key(historical):
    from sim.scenario import with_parameters

    changed = with_parameters(historical, {"decision.peers": 0.25, "population.network_degree": 4})
    assert changed.decision.peers == 0.25 and changed.population.network_degree == 4
    assert historical.decision.peers != 0.25
    assert changed.digest() != historical.digest()


def test_an_override_out_of_range_or_unknown_names_the_source_and_key(historical):
    from sim.scenario import with_parameters

    with pytest.raises(ScenarioError, match=r"sweep.toml: key 'process.cancel_rate'"):
        with_parameters(historical, {"process.cancel_rate": 2.0}, source="sweep.toml")
    with pytest.raises(ScenarioError, match=r"sweep.toml: key 'decision.peer'.*unknown key"):
        with_parameters(historical, {"decision.peer": 1.0}, source="sweep.toml")
