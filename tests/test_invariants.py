"""Invariants every run must keep, checked month by month on a small baseline run."""

import numpy as np

from sim.engine_numpy import STOCK_METRICS
from sim.scenario import month_index


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
    lapse = (small_run.months >= month_index("1967-12")) & (small_run.months < month_index("1971-05"))
    assert m["departures"][:, lapse].sum() == 0


def test_japanese_nationals_and_deportees_are_subsets_of_departures(small_run):
    m = small_run.metrics
    assert (m["japanese_national_departures"] <= m["departures"]).all()
    assert (m["deportee_departures"] <= m["departing_households"]).all()
    assert (m["departing_households"] <= m["departures"]).all()
    assert (m["confirmation_withdrawals"] <= m["cancellations"]).all()


def test_flows_are_never_negative(small_run):
    for name, values in small_run.metrics.items():
        assert (values >= 0).all(), name
