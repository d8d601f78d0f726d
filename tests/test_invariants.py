"""Invariants every run must keep, checked month by month on a small baseline run."""

import numpy as np

from sim.result import STOCK_METRICS
from sim.schedules import month_index


def test_people_are_conserved_across_states(small_run):
    total = sum(small_run.metrics[name] for name in STOCK_METRICS)
    assert (total == small_run.people).all()


def test_the_run_has_departures_at_all(small_run):
    assert small_run.metrics["departures"].sum() > 0


def test_cumulative_departures_never_fall(small_run):
    departed = small_run.metrics["departed_stock"]
    assert (np.diff(departed, axis=1) >= 0).all()
    assert (np.cumsum(small_run.metrics["departures"], axis=1) == departed).all()


def test_departures_never_exceed_the_sailings_capacity(small_run):
    m = small_run.metrics
    assert (m["departures"] <= m["capacity"]).all()


def test_no_departures_or_registrations_while_the_programme_is_closed(small_run, historical):
    open_ = historical.timeline()["programme_open"] > 0
    m = small_run.metrics
    assert m["departures"][:, ~open_].sum() == 0
    assert m["registrations"][:, ~open_].sum() == 0
    lapse = (small_run.months >= month_index("1967-12")) & (
        small_run.months < month_index("1971-05")
    )
    assert m["departures"][:, lapse].sum() == 0


def test_japanese_nationals_and_deportees_are_subsets_of_departures(small_run):
    m = small_run.metrics
    assert (m["japanese_national_departures"] <= m["departures"]).all()
    assert (m["deportee_departures"] <= m["departing_households"]).all()
    assert (m["detainee_departures"] <= m["deportee_departures"]).all()
    assert (m["japanese_spouse_departures"] <= m["departing_households"]).all()
    assert (m["japanese_spouse_departures"] <= m["japanese_national_departures"]).all()
    assert (m["departing_households"] <= m["departures"]).all()
    assert (m["confirmation_withdrawals"] <= m["cancellations"]).all()


def test_flows_are_never_negative(small_run):
    for name, values in small_run.metrics.items():
        assert (values >= 0).all(), name


def test_no_one_is_deported_in_the_historical_course(small_run):
    assert small_run.metrics["deported"].sum() == 0


def test_where_south_korea_takes_deportees_only_deportable_households_are_deported(tmp_path):
    from conftest import write_scenario

    from sim.engine_numpy import simulate
    from sim.population import generate_population
    from sim.scenario import load_scenario
    from sim.streams import population_stream

    scenario = load_scenario(
        write_scenario(
            tmp_path,
            "deport.toml",
            'name = "deport"\n[levers]\n'
            'south_korea_accepts_deportees = [ { from = "1955-01", value = 1 } ]\n',
        )
    )
    pop = generate_population(scenario.population, 0.02, population_stream(9))
    run = simulate(scenario, seed=9, replications=2, population=pop, check_invariants=True)
    deported = run.metrics["deported"].sum(axis=1)
    assert (deported > 0).all()
    assert (deported <= pop.size[pop.legal_status > 0].sum()).all()
    assert (run.metrics["deported_stock"][:, -1] == deported).all()
