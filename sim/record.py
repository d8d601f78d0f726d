"""The documented record: figures the documents give, and how to read each one off a run.

Each ``Figure`` names its document (a file in ../shared/seeds/), what it counts, and a function
that computes the same quantity from a run's monthly metrics (one value per replication), so the
summary can put the simulated value beside the documented one. Calibration will build on this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .engine_numpy import RunResult
from .scenario import month_index


def _months_between(result: RunResult, first: str, last: str) -> np.ndarray:
    return (result.months >= month_index(first)) & (result.months <= month_index(last))


def total(metric: str, first: str, last: str) -> Callable[[RunResult], np.ndarray]:
    def measure(result: RunResult) -> np.ndarray:
        return result.metrics[metric][:, _months_between(result, first, last)].sum(axis=1)

    return measure


def stock_at(metric: str, month: str) -> Callable[[RunResult], np.ndarray]:
    def measure(result: RunResult) -> np.ndarray:
        column = np.flatnonzero(result.months == month_index(month))
        if len(column) == 0:
            return np.full(len(result.replications), np.nan)
        return result.metrics[metric][:, column[0]].astype(float)

    return measure


def cancelled_share(first: str, last: str) -> Callable[[RunResult], np.ndarray]:
    def measure(result: RunResult) -> np.ndarray:
        registered = total("registrations", first, last)(result)
        cancelled = total("cancellations", first, last)(result)
        return np.divide(cancelled, registered, out=np.full(len(registered), np.nan),
                         where=registered > 0)

    return measure


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    documented: float
    qualifier: str  # "about", "over", "exactly"
    source: str  # document file name(s)
    measure: Callable[[RunResult], np.ndarray]
    is_share: bool = False


FIGURES: tuple[Figure, ...] = (
    Figure("departures_total", "departures, Dec 1959 - Jul 1984", 93_340, "exactly",
           "002, 001, 003", total("departures", "1959-12", "1984-07")),
    Figure("departures_1960", "departures in 1960", 49_000, "over",
           "002", total("departures", "1960-01", "1960-12")),
    Figure("departures_to_may_1960", "departures by end of May 1960", 23_712, "exactly",
           "002", total("departures", "1959-12", "1960-05")),
    Figure("registrations_1959_1967", "registrations 1959-1967", 141_892, "exactly",
           "002", total("registrations", "1959-01", "1967-12")),
    Figure("cancelled_share_1959_1967", "share of them who cancelled", 0.25, "about",
           "002", cancelled_share("1959-01", "1967-12"), is_share=True),
    Figure("cancellations_to_may_1960", "registered who stayed, by end of May 1960", 277,
           "exactly", "002", total("cancellations", "1959-12", "1960-05")),
    Figure("withdrawals_to_may_1960", "of them, changed minds at the confirmation", 6,
           "exactly", "002", total("confirmation_withdrawals", "1959-12", "1960-05")),
    Figure("deportee_departures", "deportees among the returnees", 2_300, "over",
           "002", total("deportee_departures", "1959-12", "1984-07")),
    Figure("japanese_national_departures", "Japanese nationals among them", 6_700, "about",
           "004", total("japanese_national_departures", "1959-12", "1984-07")),
    Figure("intending_1955_07", "would-be returnees, July 1955", 410, "about",
           "002", stock_at("intending_stock", "1955-07")),
    Figure("intending_1956_02", "would-be returnees, February 1956", 1_424, "about",
           "002", stock_at("intending_stock", "1956-02")),
    Figure("intending_1956_04", "would-be returnees, April 1956", 2_050, "about",
           "002", stock_at("intending_stock", "1956-04")),
)
