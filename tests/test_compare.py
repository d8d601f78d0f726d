"""Counterfactual scenarios: paired comparison with the baseline, attribution, scenario files."""

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from conftest import HISTORICAL

from analysis.cli import main
from analysis.comparison.attribution import CHANNELS, attribute, shapley, switched_off
from analysis.comparison.paired import compare
from sim.outcomes import AFTERMATH_OUTCOMES, measure
from sim.scenario import load_scenario, with_parameters
from sim.schedules import month_index

SCENARIOS = HISTORICAL.parent
SCALE, REPS = 0.01, 3

# What each counterfactual's header says it changes: {lever: [(from, value), ...]}.
CHANGES = {
    "special_status_1955": {
        "special_status": [("1955-01", 1)],
        "welfare_cut_share": [("1955-01", 0)],
        "welfare_exclusion": [("1955-01", 0)],
    },
    "no_welfare_cuts": {
        "welfare_cut_share": [("1955-01", 0)],
        "welfare_exclusion": [("1955-01", 0)],
    },
    "impoverished_only": {"impoverished_only": [("1955-01", 1)]},
    "private_confirmation": {"confirmation_privacy": [("1955-01", 0.02), ("1959-12", 1)]},
    "letters_published": {"letters_published": [("1955-01", 0), ("1960-10", 1)]},
    "right_of_return": {"right_of_return": [("1955-01", 0), ("1959-12", 1)]},
    "third_country": {"third_country_for_deportees": [("1955-01", 0), ("1957-01", 1)]},
    "no_propaganda": {"propaganda": [("1955-01", 0.1)]},
    "early_normalisation": {"secure_residence_kankoku": [("1955-01", 0), ("1959-01", 1)]},
    "convicts_expelled_north": {"convict_expulsion": [("1955-01", 0), ("1978-06", 1)]},
    # After arrival (the stage's own levers, under [aftermath.levers]).
    "ngo_request_2014": {
        "aftermath.japanese_family_resettlement": [("1960-01", 0), ("2015-01", 1)]
    },
    "china_lets_sheltered_leave": {"aftermath.china_mission_exit": [("1960-01", 1)]},
    "japan_custody_outside_missions": {
        "aftermath.japan_outside_custody": [("1960-01", 0), ("2002-01", 0.05)],
        "aftermath.japan_mission_entry": [("1960-01", 0), ("1999-01", 0.1)],
    },
}
# Scenarios that switch the after-arrival stage on (enabled = true), beside what they change.
FOLLOWED = {
    "ngo_request_2014",
    "china_lets_sheltered_leave",
    "japan_custody_outside_missions",
    "right_of_return",
}


def test_every_scenario_file_is_listed_here_with_what_it_changes():
    files = {p.stem for p in SCENARIOS.glob("*.toml")} - {"historical"}
    assert files == set(CHANGES)


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_each_scenario_changes_exactly_what_its_header_says(name, historical):
    path = SCENARIOS / f"{name}.toml"
    scenario = load_scenario(path)
    header = "".join(
        line for line in path.read_text().splitlines(keepends=True) if line.startswith("#")
    )
    assert "Question:" in header and "Changes:" in header and "Document" in header
    expected = CHANGES[name]
    for key in expected:
        section, lever = (
            (scenario.aftermath.levers, key.split(".")[1]) if "." in key else (scenario.levers, key)
        )
        assert lever in header
        steps = [(s.start, s.value) for s in getattr(section, lever)]
        assert steps == [(month_index(m), v) for m, v in expected[key]]
    untouched = {k: v for k, v in scenario.levers.model_dump().items() if k not in expected}
    assert untouched == {
        k: v for k, v in historical.levers.model_dump().items() if k not in expected
    }
    for table in ("simulation", "population", "decision", "process"):
        assert getattr(scenario, table) == getattr(historical, table)
    assert scenario.aftermath.enabled == (name in FOLLOWED)
    if name in FOLLOWED:
        assert "enabled = true" in header
    stage, base = (s.aftermath.model_dump(exclude={"enabled"}) for s in (scenario, historical))
    changed = {key.split(".")[1] for key in expected if "." in key}
    assert {k: v for k, v in stage.pop("levers").items() if k not in changed} == {
        k: v for k, v in base.pop("levers").items() if k not in changed
    }
    assert stage == base


@pytest.fixture(scope="module")
def comparison(historical):
    scenarios = [
        load_scenario(SCENARIOS / "no_welfare_cuts.toml"),
        load_scenario(SCENARIOS / "letters_published.toml"),
        historical,
    ]
    return compare(historical, scenarios, seed=4, reps=REPS, scale=SCALE)


def test_the_baseline_compared_with_itself_differs_by_exactly_zero(comparison):
    table = comparison.differences()
    itself = table[table["scenario"] == "historical"]
    assert len(itself) > 0
    assert (itself[["difference_p05", "difference_median", "difference_p95"]] == 0).all().all()
    assert (
        comparison.annual_differences().query("scenario == 'historical'")["difference_median"] == 0
    ).all()


def test_no_welfare_cuts_means_fewer_departures_in_every_replication(comparison):
    fewer = measure(comparison.scenarios["no_welfare_cuts"], "departures")
    assert (fewer < measure(comparison.baseline, "departures")).all()


def test_a_closed_programme_gives_zero_departures(historical):
    closed = with_parameters(
        historical, {"levers.programme_open": [{"from": "1955-01", "value": 0}]}
    )
    result = compare(historical, [closed.model_copy(update={"name": "closed"})], 5, REPS, SCALE)
    assert measure(result.scenarios["closed"], "departures").sum() == 0
    assert measure(result.scenarios["closed"], "registrations").sum() == 0


def test_no_pushes_and_no_pulls_give_next_to_no_departures(historical):
    zero = {
        f"decision.{w}": 0.0
        for w in (
            "welfare_cut",
            "welfare_exclusion",
            "unemployment",
            "deportation",
            "soren",
            "peers",
            "belief",
        )
    }
    calm = with_parameters(historical, zero).model_copy(update={"name": "calm"})
    result = compare(historical, [calm], 5, REPS, SCALE)
    left = measure(result.scenarios["calm"], "departures")
    # What remains is the base rate (the intercept: reasons the model does not name), a few
    # percent of the baseline with the calibrated parameters.
    assert (left < 0.1 * measure(result.baseline, "departures")).all()


def test_shapley_values_add_up_and_follow_their_definition():
    players = ["a", "b", "c"]
    worth = {"a": 1.0, "b": 2.0, "c": 4.0}

    def value(coalition):  # additive plus an interaction between a and b
        return sum(worth[p] for p in coalition) + (3.0 if {"a", "b"} <= set(coalition) else 0.0)

    values = {
        frozenset(c): np.array([value(c)])
        for n in range(4)
        for c in itertools.combinations(players, n)
    }
    phi = shapley(values, players)
    assert phi["a"][0] == pytest.approx(2.5) and phi["b"][0] == pytest.approx(3.5)
    assert phi["c"][0] == pytest.approx(4.0)
    assert sum(v[0] for v in phi.values()) == pytest.approx(value(players) - value([]))


def test_the_channels_attribution_adds_up_to_the_difference(historical):
    result = attribute(historical, seed=6, reps=2, scale=SCALE)
    assert list(result.shares["channel"]) == list(CHANNELS)
    assert (result.all_on > result.all_off).all()
    assert result.shares["share_median"].sum() == pytest.approx(1.0, abs=0.1)


def test_compare_writes_a_report_a_reader_can_follow(tmp_path):
    out = tmp_path / "comparison"
    assert (
        main(
            [
                "compare",
                str(SCENARIOS / "no_propaganda.toml"),
                "--baseline",
                str(HISTORICAL),
                "--reps",
                "2",
                "--scale",
                "0.005",
                "--out",
                str(out),
                "--no-attribution",
            ]
        )
        == 0
    )
    names = {p.name for p in out.iterdir()}
    assert {
        "report.md",
        "differences.parquet",
        "annual_differences.parquet",
        "fan_charts.png",
        "differences.png",
        "manifest.json",
    } <= names
    report = (out / "report.md").read_text()
    assert "no_propaganda" in report and "90% band" in report and "fan_charts.png" in report
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 1959 and manifest["scenarios"][0]["name"] == "no_propaganda"
    # the project's own files by their place in it, the same on every machine
    assert manifest["baseline"]["file"] == "scenarios/historical.toml"
    assert manifest["scenarios"][0]["file"] == "scenarios/no_propaganda.toml"
    assert "`annual_differences.parquet`" in report
    table = pd.read_parquet(out / "differences.parquet")
    assert set(table["outcome"]) >= {
        "departures",
        "deportee_departures",
        "japanese_national_departures",
        "registrations",
        "cancellations",
    }
    assert {"baseline_persons_median", "difference_persons_median"} <= set(table.columns)
    annual = pd.read_parquet(out / "annual_differences.parquet")
    assert {"difference_persons_p05", "difference_persons_median"} <= set(annual.columns)


def test_a_scenario_that_changes_the_population_is_refused(historical):
    other = with_parameters(historical, {"population.kankoku_share": 0.5}).model_copy(
        update={"name": "x"}
    )
    with pytest.raises(ValueError, match="not be paired"):
        compare(historical, [other], 1, 2, SCALE)


def test_with_parameter_uncertainty_the_baseline_still_differs_from_itself_by_zero(tmp_path):
    out = tmp_path / "uncertain"
    assert (
        main(
            [
                "compare",
                str(HISTORICAL),
                "--baseline",
                str(HISTORICAL),
                "--reps",
                "3",
                "--scale",
                "0.005",
                "--out",
                str(out),
                "--no-attribution",
                "--parameter-uncertainty",
            ]
        )
        == 0
    )
    table = pd.read_parquet(out / "differences.parquet")
    differences = ["difference_persons_p05", "difference_persons_median", "difference_persons_p95"]
    assert (table[differences] == 0).all().all()
    assert json.loads((out / "manifest.json").read_text())["parameter_uncertainty"]
    assert "posterior draw k" in (out / "report.md").read_text()


def test_posterior_draws_vary_the_baseline_across_replications(historical):
    from analysis.calibration.posterior import read_posterior
    from analysis.comparison.paired import posterior_runner
    from sim.scenario import posterior_file

    runner = posterior_runner(read_posterior(posterior_file(HISTORICAL)))
    result = compare(historical, [], seed=2, reps=3, scale=SCALE, runner=runner)
    plain = compare(historical, [], seed=2, reps=3, scale=SCALE)
    assert not np.array_equal(
        measure(result.baseline, "departures"), measure(plain.baseline, "departures")
    )


# -- after arrival -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def followed(historical):
    """The baseline, itself, the NGOs' request and a right of return, followed to 2025 (the
    scenarios switch the after-arrival stage on by themselves)."""
    scenarios = [
        load_scenario(SCENARIOS / "ngo_request_2014.toml"),
        load_scenario(SCENARIOS / "right_of_return.toml"),
        historical,
    ]
    return compare(historical, scenarios, seed=4, reps=REPS, scale=SCALE)


def test_without_a_scenario_that_enables_it_the_after_arrival_stage_does_not_run(comparison):
    assert comparison.aftermath is None and comparison.aftermath_baseline is None
    assert comparison.aftermath_differences().empty


def test_with_the_after_arrival_stage_the_baseline_differs_from_itself_by_exactly_zero(followed):
    assert followed.aftermath is not None and set(followed.aftermath) == set(followed.scenarios)
    table = followed.aftermath_differences()
    itself = table[table["scenario"] == "historical"]
    assert set(itself["outcome"]) == set(AFTERMATH_OUTCOMES)
    assert (itself[["difference_p05", "difference_median", "difference_p95"]] == 0).all().all()
    annual = followed.aftermath_annual_differences().query("scenario == 'historical'")
    assert len(annual) > 0
    assert (annual[["difference_p05", "difference_median", "difference_p95"]] == 0).all().all()


def test_the_ngo_request_resettles_more_in_japan_in_every_replication(followed):
    ngo, base = followed.aftermath["ngo_request_2014"], followed.aftermath_baseline
    for key in ("resettled_japan_2025", "japanese_nationals_resettled_japan_2025"):
        assert (AFTERMATH_OUTCOMES[key].measure(ngo) > AFTERMATH_OUTCOMES[key].measure(base)).all()
    # It changes nothing before arrival, nor before the programme starts in 2015.
    before = followed.differences().query("scenario == 'ngo_request_2014'")
    assert (before[["difference_p05", "difference_median", "difference_p95"]] == 0).all().all()
    annual = followed.aftermath_annual_differences(("resettled_japan",))
    before_2015 = annual.query("scenario == 'ngo_request_2014' and year < 2015")
    assert (before_2015[["difference_p05", "difference_p95"]] == 0).all().all()


def test_a_right_of_return_shows_in_both_leaving_and_coming_back(followed):
    run, base = followed.scenarios["right_of_return"], followed.baseline
    assert (measure(run, "departures") > measure(base, "departures")).all()
    stage = followed.aftermath["right_of_return"]
    assert (stage.series["returned_by_right_of_return"][:, -1] > 0).all()
    assert (
        AFTERMATH_OUTCOMES["resettled_japan_2025"].measure(stage)
        > AFTERMATH_OUTCOMES["resettled_japan_2025"].measure(followed.aftermath_baseline)
    ).all()


def test_the_after_arrival_stage_needs_an_aftermath_section_everywhere(historical):
    bare = historical.model_copy(update={"aftermath": None, "name": "bare"})
    with pytest.raises(ValueError, match=r"bare.*no \[aftermath\] section"):
        compare(historical, [bare], 1, 2, SCALE, aftermath=True)


def test_with_parameter_uncertainty_the_stage_still_pairs_the_baseline_with_itself(historical):
    from analysis.calibration.posterior import read_posterior
    from analysis.comparison.paired import posterior_runner
    from sim.scenario import posterior_file

    runner = posterior_runner(read_posterior(posterior_file(HISTORICAL)))
    result = compare(
        historical, [historical], seed=2, reps=2, scale=SCALE, runner=runner, aftermath=True
    )
    table = result.aftermath_differences()
    assert len(table) == len(AFTERMATH_OUTCOMES)
    assert (table[["difference_p05", "difference_median", "difference_p95"]] == 0).all().all()
    assert (result.aftermath_baseline.departed[:, -1] > 0).all()


def test_the_report_gives_the_after_arrival_differences(tmp_path):
    out = tmp_path / "followed"
    assert (
        main(
            [
                "compare",
                str(SCENARIOS / "ngo_request_2014.toml"),
                "--baseline",
                str(HISTORICAL),
                "--reps",
                "2",
                "--scale",
                "0.005",
                "--out",
                str(out),
                "--no-attribution",
            ]
        )
        == 0
    )
    names = {p.name for p in out.iterdir()}
    assert {
        "aftermath_differences.parquet",
        "aftermath_annual_differences.parquet",
        "aftermath_fan_charts.png",
    } <= names
    report = (out / "report.md").read_text()
    assert "## After arrival" in report and "aftermath_fan_charts.png" in report
    for label in (
        "resettled in Japan by 2025",
        "Japanese nationals resettled in Japan by 2025",
        "resettled in South Korea by 2025",
        "in the North in 2025",
        "held in Japanese missions, end of 2010",
    ):
        assert label in report
    assert "`ngo_request_2014` switches it on" in report
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["aftermath"]["enabled_by"] == ["ngo_request_2014"]
    table = pd.read_parquet(out / "aftermath_differences.parquet")
    assert set(table["outcome"]) == set(AFTERMATH_OUTCOMES)
    assert "difference_persons_median" in table.columns


def test_without_the_stage_the_report_and_its_files_are_as_before(tmp_path):
    out = tmp_path / "plain"
    assert (
        main(
            [
                "compare",
                str(SCENARIOS / "no_propaganda.toml"),
                "--baseline",
                str(HISTORICAL),
                "--reps",
                "2",
                "--scale",
                "0.005",
                "--out",
                str(out),
                "--no-attribution",
            ]
        )
        == 0
    )
    assert not any(p.name.startswith("aftermath") for p in out.iterdir())
    assert "After arrival" not in (out / "report.md").read_text()
    assert "aftermath" not in json.loads((out / "manifest.json").read_text())
    flagged = tmp_path / "flagged"
    assert (
        main(
            [
                "compare",
                str(SCENARIOS / "no_propaganda.toml"),
                "--baseline",
                str(HISTORICAL),
                "--reps",
                "2",
                "--scale",
                "0.005",
                "--out",
                str(flagged),
                "--no-attribution",
                "--aftermath",
            ]
        )
        == 0
    )
    assert "`--aftermath` was given" in (flagged / "report.md").read_text()


def test_a_scenario_with_channels_switched_off_is_itself_a_valid_scenario(historical):
    """Its name is a plain folder name, so it can be run over posterior draws (each draw
    validates the scenario it makes)."""
    off = switched_off(historical, tuple(CHANNELS))
    assert off.name.startswith("historical.without.")
    assert with_parameters(off, {"decision.peers": off.decision.peers}).name == off.name


def test_the_python_api_names_the_unit_of_its_paired_differences(historical):
    import sim

    other = sim.load_scenario("no_welfare_cuts")
    table = sim.compare(historical, other, seed=3, replications=2, scale=0.01)
    assert list(table.columns) == [
        "outcome",
        "baseline_persons_median",
        "difference_persons_p05",
        "difference_persons_median",
        "difference_persons_p95",
    ]
    departures = table.set_index("outcome").loc["departures"]
    assert departures["baseline_persons_median"] > 50_000  # full-population persons
    with pytest.raises(ValueError, match="cancelled_share_1959_1967 are shares"):
        sim.paired_differences(None, None, 0.01, ["cancelled_share_1959_1967"])
