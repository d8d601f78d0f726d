"""The after-arrival stage: conservation, gates, seeding, scenarios, bad input, outputs."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import HISTORICAL, write_scenario

from analysis.cli import main
from sim.aftermath import SERIES, STATES, simulate_aftermath, value_at
from sim.engine_numpy import simulate
from sim.record import TargetsError, aftermath_figures, load_targets
from sim.scenario import ScenarioError, load_scenario, with_parameters

SEED, SCALE = 11, 0.05
GATES = (
    "japan_mission_entry",
    "japan_outside_custody",
    "china_mission_exit",
    "south_korea_route",
    "japan_private_route",
    "japanese_family_resettlement",
)


@pytest.fixture(scope="module")
def departures(historical):
    return simulate(historical, SEED, 4, scale=SCALE)


@pytest.fixture(scope="module")
def after(historical, departures):
    return simulate_aftermath(historical, departures, SEED)


def closed(*gates: str, year: str = "1960-01") -> dict:
    return {f"aftermath.levers.{gate}": [{"from": year, "value": 0}] for gate in gates}


def test_everyone_who_left_or_was_born_there_is_in_one_state_or_dead_each_year(after):
    accounted = after.alive.sum(axis=2) + after.series["died"]
    assert np.array_equal(accounted, after.departed + after.series["born"])
    assert after.series["born"][:, -1].min() > 0 and after.series["died"][:, -1].min() > 0


def test_the_north_splits_into_returnees_and_descendants_counted_once(after):
    north = after.alive[:, :, STATES.index("north")] + after.alive[:, :, STATES.index("prison")]
    assert np.array_equal(after.series["in_north"], north)
    assert np.array_equal(
        after.series["returnees_in_north"] + after.series["descendants_in_north"],
        after.series["in_north"],
    )
    # Descendants alive in the North never exceed the children ever born there.
    assert (after.series["descendants_in_north"] <= after.series["born"]).all()


def test_arrivals_in_the_north_are_the_runs_departures(departures, after):
    assert np.array_equal(after.departed[:, -1], departures.metrics["departures"].sum(axis=1))


def test_cumulative_series_never_fall(after):
    for name in (
        "escaped",
        "resettled_japan",
        "resettled_south_korea",
        "born",
        "died",
        "caught_and_returned",
        "japanese_nationals_resettled_japan",
    ):
        assert (np.diff(after.series[name], axis=1) >= 0).all(), name


def test_no_one_leaves_a_mission_for_japan_in_years_the_gate_is_shut(historical, departures):
    # Missions open from 1999 (001), China's exit shut from 2004 on: people wait, none leave.
    scenario = with_parameters(
        historical,
        {
            "aftermath.levers.china_mission_exit": [
                {"from": "1960-01", "value": 1},
                {"from": "2004-01", "value": 0},
            ]
        },
    )
    result = simulate_aftermath(scenario, departures, SEED)
    left = result.series["left_missions_for_japan"]
    shut = result.years >= 2004
    assert (left[:, shut] == left[:, [np.flatnonzero(shut)[0] - 1]]).all()
    assert result.series["in_japanese_missions"][:, result.years == 2010].sum() > 0


def test_with_every_gate_closed_no_one_comes_back(historical, departures):
    scenario = with_parameters(historical, closed(*GATES))
    result = simulate_aftermath(scenario, departures, SEED)
    assert result.series["escaped"][:, -1].sum() > 0
    for name in ("resettled_japan", "resettled_south_korea", "returned_by_right_of_return"):
        assert result.series[name].sum() == 0, name


def test_the_stage_is_seeded(historical, departures, after):
    again = simulate_aftermath(historical, departures, SEED)
    for name in SERIES:
        assert np.array_equal(again.series[name], after.series[name])
    other = simulate_aftermath(historical, departures, SEED + 1)
    assert not np.array_equal(other.series["born"], after.series["born"])


def test_replication_k_does_not_depend_on_how_many_run(historical, after):
    alone = simulate_aftermath(historical, simulate(historical, SEED, [2], scale=SCALE), SEED)
    for name in SERIES:
        assert np.array_equal(alone.series[name][0], after.series[name][2]), name


def test_the_right_of_return_brings_people_back_only_where_it_holds(after):
    assert after.series["returned_by_right_of_return"].sum() == 0
    scenario = load_scenario(HISTORICAL.parent / "right_of_return.toml")
    result = simulate_aftermath(scenario, simulate(scenario, SEED, 2, scale=SCALE), SEED)
    assert result.series["returned_by_right_of_return"][:, -1].min() > 0


def test_the_ngo_request_resettles_japanese_families_from_2015_only(historical, departures, after):
    scenario = load_scenario(HISTORICAL.parent / "ngo_request_2014.toml")
    result = simulate_aftermath(scenario, departures, SEED)
    programme = result.series["resettled_by_programme"]
    assert programme[:, result.years < 2015].sum() == 0
    assert programme[:, result.years == 2015].min() > 0
    assert (
        value_at(result, "resettled_japan", 2025) > value_at(after, "resettled_japan", 2025)
    ).all()
    # Only those who wish it: never more than that share of the Japanese families who left.
    japanese_families = sum(
        departures.metrics[f"departed_{g}"].sum(axis=1)
        for g in ("japanese_spouse", "japanese_child", "japanese_family_korean")
    )
    wish = scenario.aftermath.japanese_family_wish
    assert (
        value_at(result, "japanese_nationals_resettled_japan", 2025)
        <= wish * japanese_families + value_at(after, "japanese_nationals_resettled_japan", 2025)
    ).all()


def test_an_after_arrival_lever_out_of_range_names_the_file_and_key(tmp_path):
    path = write_scenario(
        tmp_path, "bad.toml", '[aftermath.levers]\nescape = [{ from = "1960-01", value = 2 }]\n'
    )
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert "bad.toml" in str(error.value) and "aftermath.levers.escape[0].value" in str(error.value)


def test_an_after_arrival_schedule_must_cover_the_stage(tmp_path):
    path = write_scenario(
        tmp_path,
        "late.toml",
        '[aftermath.levers]\nchina_arrest = [{ from = "1999-01", value = 0.5 }]\n',
    )
    with pytest.raises(
        ScenarioError, match=r"late.toml: key 'aftermath.levers.china_arrest\[0\].from'"
    ):
        load_scenario(path)


def test_an_unknown_after_arrival_key_is_refused_and_nothing_is_written(tmp_path, capsys):
    path = write_scenario(tmp_path, "typo.toml", "[aftermath]\nescape_rate = 0.1\n")
    out = tmp_path / "run"
    assert (
        main(
            [
                "run",
                str(path),
                "--reps",
                "1",
                "--scale",
                "0.01",
                "--aftermath",
                "--quiet",
                "--out",
                str(out),
            ]
        )
        == 2
    )
    message = capsys.readouterr().err
    assert (
        "typo.toml" in message and "aftermath.escape_rate" in message and "allowed here" in message
    )
    assert not out.exists() and not any(p.name.startswith(".run") for p in tmp_path.iterdir())


def test_run_with_aftermath_writes_a_yearly_table_and_keeps_the_annual_contract(tmp_path, capsys):
    plain, followed = tmp_path / "plain", tmp_path / "followed"
    args = ["run", str(HISTORICAL), "--reps", "2", "--scale", "0.02", "--seed", "3"]
    assert main(args + ["--quiet", "--out", str(plain)]) == 0
    assert main(args + ["--aftermath", "--out", str(followed)]) == 0
    printed = capsys.readouterr().out
    assert "After arrival" in printed and "resettled in Japan by 2010" in printed
    table = pd.read_parquet(followed / "aftermath.parquet")
    assert list(table["year"]) == list(range(1960, 2026))
    for name in (
        "in_north",
        "escaped",
        "in_japanese_missions",
        "resettled_japan",
        "resettled_south_korea",
        "japanese_nationals_resettled_japan",
    ):
        persons = {f"{name}_persons_{s}" for s in ("mean", "p05", "p95")}
        assert persons | {f"{name}_simulated_persons_mean"} <= set(table.columns)
        full, simulated = table[f"{name}_persons_mean"], table[f"{name}_simulated_persons_mean"]
        assert full.tolist() == pytest.approx((simulated / 0.02).tolist())
    pd.testing.assert_frame_equal(
        pd.read_parquet(plain / "annual.parquet"), pd.read_parquet(followed / "annual.parquet")
    )
    assert not (plain / "aftermath.parquet").exists()
    manifest = json.loads((followed / "manifest.json").read_text())
    assert "aftermath.parquet" in manifest["files"]
    figures = json.loads((followed / "summary.json").read_text())["aftermath"]
    assert set(figures) == {f.key for f in aftermath_figures()}

    # The report is made from the run directory alone; a run without the stage is refused.
    report = tmp_path / "report"
    assert main(["aftermath-report", str(followed), "--out", str(report)]) == 0
    text = (report / "report.md").read_text()
    assert (report / "aftermath.png").stat().st_size > 10_000
    for figure in aftermath_figures():
        assert figure.label in text
    assert "within tolerance" in text and "aftermath.png" in text
    assert main(["aftermath-report", str(plain), "--out", str(tmp_path / "none")]) == 2
    assert "--aftermath" in capsys.readouterr().err and not (tmp_path / "none").exists()

    # A run written before tables counted full-population persons (aftermath.csv, simulated
    # persons, no unit in the names) gives the same report.
    older = tmp_path / "older"
    shutil.copytree(followed, older)
    (older / "aftermath.parquet").unlink()
    old_names = {
        c: c.replace("_persons_", "_")
        for c in table.columns
        if "_persons_" in c and "simulated" not in c
    }
    old = {"year": table["year"], **{new: table[c] * 0.02 for c, new in old_names.items()}}
    pd.DataFrame(old).to_csv(older / "aftermath.csv", index=False)
    assert main(["aftermath-report", str(older), "--out", str(tmp_path / "older-report")]) == 0
    assert (tmp_path / "older-report" / "report.md").read_text() == text.replace(
        str(followed), str(older)
    )


def test_the_documented_after_arrival_checks_are_consistent():
    figures = aftermath_figures()
    assert len(figures) >= 5
    for figure in figures:
        assert figure.series in SERIES and 1960 <= figure.year <= 2025
        assert figure.low <= figure.documented <= figure.high
        assert set(figure.source.split(", ")) <= {"000", "001", "002", "003", "004"}


def test_a_bad_after_arrival_target_is_refused(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text(
        '[[aftermath_target]]\nkey = "x"\nlabel = "x"\ndocumented = 5\n'
        'qualifier = "about"\nunit = "persons"\nseries = "no_such_series"\nyear = 2010\n'
        'low = 1\nhigh = 9\nsources = ["003"]\n'
    )
    with pytest.raises(TargetsError, match="no_such_series"):
        load_targets(path)
