"""What a run is made of, shared by both engines: household states, the monthly metrics, the result.

Each household is in one state: ``settled -> intending -> registered -> (cancelled | departed)``,
or ``deported`` where a scenario deports; a household the young form later in the run is
``unformed`` until then. Each month an engine records the flows of persons
(``FLOW_METRICS``), the persons in each state (``STOCK_METRICS``) and the persons who sailed by
departure group (``GROUP_METRICS``, what the after-arrival stage follows), one row per
replication. Counts are persons of the simulated population: a run at ``scale`` s counts s times
the full population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .population import DEPARTURE_GROUPS
from .schedules import month_index

# UNFORMED: a household the young have not formed yet (``formation.py``); it becomes settled.
SETTLED, INTENDING, REGISTERED, CANCELLED, DEPARTED, DEPORTED, UNFORMED = range(7)
STATE_NAMES = (
    "settled",
    "intending",
    "registered",
    "cancelled",
    "departed",
    "deported",
    "unformed",
)

FLOW_METRICS = (
    "departures",  # persons who sailed this month
    "departing_households",
    "registrations",  # persons who registered at a Red Cross window
    "cancellations",  # persons who cancelled while waiting or withdrew at the confirmation
    "confirmation_withdrawals",  # persons who withdrew at the confirmation of free will
    "deferrals",  # persons offered a place who chose a later ship (they stay registered)
    "deportee_departures",  # persons under deportation orders among those who sailed
    "detainee_departures",  # of them, taken to the ships straight from Omura detention
    "japanese_spouse_departures",  # Japanese spouses among those who sailed
    "japanese_national_departures",  # Japanese nationals among those who sailed
    "new_intending",  # persons who came to want to leave this month
    "deported",  # persons deported to South Korea or a third country
    "capacity",  # places on this month's sailings
)
STOCK_METRICS = tuple(f"{name}_stock" for name in STATE_NAMES)  # persons in each state
METRICS = FLOW_METRICS + STOCK_METRICS
# Persons who sailed this month by population.DEPARTURE_GROUPS: what the after-arrival stage
# follows. Recorded in ``RunResult.metrics`` beside METRICS but not written to the run tables.
GROUP_METRICS = tuple(f"departed_{group}" for group in DEPARTURE_GROUPS)


@dataclass(frozen=True)
class RunResult:
    """Monthly metrics of a run: ``metrics[name]`` has shape (replications, months)."""

    months: np.ndarray  # absolute month numbers (year * 12 + month - 1)
    replications: np.ndarray  # replication numbers, one per row
    metrics: dict[str, np.ndarray]
    households: int
    people: int  # persons of every household, those the young form later included

    @classmethod
    def empty(
        cls, months: np.ndarray, replications: list[int], households: int, people: int
    ) -> RunResult:
        """A result of zeros, for an engine to fill in month by month."""
        metrics = {
            name: np.zeros((len(replications), len(months)), dtype=np.int64)
            for name in METRICS + GROUP_METRICS
        }
        return cls(np.asarray(months), np.array(replications), metrics, households, people)

    def total(self, metric: str, first: str, last: str) -> np.ndarray:
        """A monthly flow summed from month ``first`` to month ``last`` (YYYY-MM, both
        included): one value per replication."""
        months = (self.months >= month_index(first)) & (self.months <= month_index(last))
        return self.metrics[metric][:, months].sum(axis=1)

    @classmethod
    def concatenate(cls, results: list[RunResult]) -> RunResult:
        """Several results of the same months as one, their replications one after another."""
        first = results[0]
        return cls(
            first.months,
            np.concatenate([r.replications for r in results]),
            {name: np.concatenate([r.metrics[name] for r in results]) for name in first.metrics},
            first.households,
            first.people,
        )
