"""One catalogue of outcomes: every quantity a run is summarised by, with its period and unit.

An outcome reads one value per replication off a run: persons of the simulated population
(divide by the run's scale for full-population equivalents) or a share. The catalogue holds
the documented figures of ``record.py`` (each with the period its document gives), the whole
project's flows, two shares of those who left, and departures year by year; comparisons, sweeps
and summaries pick outcomes from it by name. ``AFTERMATH_OUTCOMES`` does the same for the
after-arrival stage: a series read at the end of a year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from .aftermath import AftermathResult, value_at
from .record import figures
from .result import RunResult

# The repatriation project, from the first ship (14 December 1959) to the last (July 1984): 002.
PROJECT = ("1959-12", "1984-07")
# Registration windows opened in 1959; the model records flows to December 1984.
REGISTRATION_YEARS = ("1959-01", "1984-12")


@dataclass(frozen=True)
class Outcome:
    """A quantity read off a run: ``measure(result)`` gives one value per replication."""

    key: str
    label: str
    unit: str  # "persons" (of the simulated population) or "share"
    measure: Callable[[RunResult], np.ndarray]


def total(metric: str, first: str, last: str) -> Callable[[RunResult], np.ndarray]:
    """A monthly flow summed from month ``first`` to month ``last`` (both included)."""

    return lambda result: result.total(metric, first, last)


def ratio(numerator: str, denominator: str, first: str, last: str) -> Callable:
    """Two flows summed over the same months, divided (NaN where the denominator is 0)."""
    top, bottom = total(numerator, first, last), total(denominator, first, last)

    def measure(result: RunResult) -> np.ndarray:
        a, b = top(result).astype(float), bottom(result).astype(float)
        return np.divide(a, b, out=np.full(len(a), np.nan), where=b > 0)

    return measure


@cache
def outcomes() -> dict[str, Outcome]:
    """Every outcome of a run by name, the documented figures first (in the file's order)."""
    table = {
        f.key: Outcome(f.key, f.label, "share" if f.is_share else "persons", f.values)
        for f in figures()
    }

    def add(key: str, label: str, unit: str, measure: Callable) -> None:
        table.setdefault(key, Outcome(key, label, unit, measure))

    add(
        "deportee_share",
        "share of deportees among the persons who left, 1959-12..1984-07",
        "share",
        ratio("deportee_departures", "departures", *PROJECT),
    )
    add(
        "japanese_national_share",
        "share of Japanese nationals among the persons who left, 1959-12..1984-07",
        "share",
        ratio("japanese_national_departures", "departures", *PROJECT),
    )
    for year in range(1959, 1985):
        add(
            f"departures_{year}",
            f"departures in {year}",
            "persons",
            total("departures", f"{year}-01", f"{year}-12"),
        )
    add("departures", "departures, Dec 1959 - Jul 1984", "persons", total("departures", *PROJECT))
    add("registrations", "registrations", "persons", total("registrations", *REGISTRATION_YEARS))
    add("cancellations", "cancellations", "persons", total("cancellations", *REGISTRATION_YEARS))
    add(
        "deportee_departures",
        "deportees among those who left",
        "persons",
        total("deportee_departures", *PROJECT),
    )
    add(
        "japanese_national_departures",
        "Japanese nationals among those who left",
        "persons",
        total("japanese_national_departures", *PROJECT),
    )
    return table


def measure(result: RunResult, key: str) -> np.ndarray:
    """Outcome ``key`` of a run, one float per replication (simulated persons, or a share)."""
    return np.asarray(outcomes()[key].measure(result), dtype=float)


@dataclass(frozen=True)
class AftermathOutcome:
    """A series of the after-arrival stage read at the end of a year."""

    key: str
    label: str
    series: str  # a name of ``aftermath.SERIES``
    year: int

    def measure(self, result: AftermathResult) -> np.ndarray:
        """One value per replication (simulated persons; NaN if the stage stops before)."""
        return value_at(result, self.series, self.year)


AFTERMATH_OUTCOMES: dict[str, AftermathOutcome] = {
    o.key: o
    for o in (
        AftermathOutcome(
            "resettled_japan_2025", "resettled in Japan by 2025", "resettled_japan", 2025
        ),
        AftermathOutcome(
            "japanese_nationals_resettled_japan_2025",
            "Japanese nationals resettled in Japan by 2025",
            "japanese_nationals_resettled_japan",
            2025,
        ),
        AftermathOutcome(
            "resettled_south_korea_2025",
            "resettled in South Korea by 2025",
            "resettled_south_korea",
            2025,
        ),
        AftermathOutcome("in_north_2025", "in the North in 2025", "in_north", 2025),
        AftermathOutcome(
            "in_japanese_missions_2010",
            "held in Japanese missions, end of 2010",
            "in_japanese_missions",
            2010,
        ),
    )
}
