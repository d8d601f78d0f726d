"""Parameters by row: several parameter sets evaluated in the same arrays.

A batch runs K scenarios that share their population and their months, R replications each:
row k * R + r of the engine's arrays (K * R, households) is scenario k's replication r. The
decision weights, process rates and levers of the K scenarios are held here, name by name, as
one float where all K agree (exactly the float the scenario alone gives) or as K float64 values
where they differ. ``decision.py`` converts the values to float32 where they meet households'
arrays, so each row computes bit-for-bit what its own scenario would alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from types import SimpleNamespace

import numpy as np

from .decision import Policy
from .schema import Scenario


def check_shared_population(scenarios: Sequence[Scenario]) -> None:
    """Refuse (ValueError) scenarios that cannot share the arrays of one run: a population
    section or simulated months that differ from the first scenario's."""
    if not scenarios:
        raise ValueError("a batch needs at least one scenario")
    first = scenarios[0]
    for k, scenario in enumerate(scenarios[1:], start=1):
        for section in ("population", "simulation"):
            mine, theirs = getattr(scenario, section), getattr(first, section)
            if mine != theirs:
                keys = [
                    n for n in type(mine).model_fields if getattr(mine, n) != getattr(theirs, n)
                ]
                raise ValueError(
                    f"scenario {k} ({scenario.name}) differs from scenario 0 ({first.name}) in "
                    f"its {section} section ({', '.join(keys)}): a batch runs scenarios that "
                    "share the population and the months; run it in a batch of its own"
                )


@dataclass(frozen=True)
class ByRow:
    """Values of one section for K scenarios: ``shared`` floats where all agree, ``varying``
    float64 arrays of K values where they differ."""

    shared: dict[str, float]
    varying: dict[str, np.ndarray]

    @classmethod
    def of(cls, values: dict[str, np.ndarray]) -> ByRow:
        """From K values per name."""
        shared, varying = {}, {}
        for name, column in values.items():
            column = np.asarray(column, dtype=np.float64)
            if np.all(column == column[0]):
                shared[name] = float(column[0])
            else:
                varying[name] = column
        return cls(shared, varying)

    @classmethod
    def of_sections(cls, sections: Sequence) -> ByRow:
        """From K pydantic sections of one kind (``DecisionWeights`` or ``Process``)."""
        names = type(sections[0]).model_fields
        return cls.of({n: [getattr(s, n) for s in sections] for n in names})

    def per_scenario(self) -> SimpleNamespace:
        """The values shaped (K, 1, 1), to broadcast over arrays (K, R, households)."""
        if not self.varying:
            return self._shared
        shaped = {n: v[:, np.newaxis, np.newaxis] for n, v in self.varying.items()}
        return SimpleNamespace(**self.shared, **shaped)

    @cached_property
    def _shared(self) -> SimpleNamespace:
        return SimpleNamespace(**self.shared)

    def per_household(self, scenario: np.ndarray) -> SimpleNamespace:
        """The value of each listed household's scenario (``scenario``: one index per household)."""
        if not self.varying:  # every call of a run without varying values: built once
            return self._shared
        return SimpleNamespace(**self.shared, **{n: v[scenario] for n, v in self.varying.items()})

    def only(self, name: str, scenario: np.ndarray) -> SimpleNamespace:
        """``per_household`` for one value alone (the others are not gathered)."""
        value = self.varying[name][scenario] if name in self.varying else self.shared[name]
        return SimpleNamespace(**{name: value})

    def of_scenario(self, k: int) -> SimpleNamespace:
        """Scenario k's values, all floats."""
        return SimpleNamespace(**self.shared, **{n: float(v[k]) for n, v in self.varying.items()})

    def same_as(self, other: ByRow) -> bool:
        """Whether both hold the same values (a lever that changes month to month makes them
        differ)."""
        return (
            self.shared == other.shared
            and self.varying.keys() == other.varying.keys()
            and all(np.array_equal(v, other.varying[n]) for n, v in self.varying.items())
        )

    def any_positive(self, name: str) -> bool:
        """Whether the value is above 0 for any scenario."""
        return (
            bool(np.any(self.varying[name] > 0)) if name in self.varying else self.shared[name] > 0
        )


def as_policy(values: SimpleNamespace) -> Policy:
    """A month's lever values (floats, or arrays by row) as the ``Policy`` the rule reads."""
    return Policy(**vars(values))


def monthly_levers(scenarios: Sequence[Scenario]) -> list[ByRow]:
    """The K scenarios' lever values in each simulated month, computed once for the run."""
    timelines = [s.timeline() for s in scenarios]
    values = {name: np.stack([t[name] for t in timelines]) for name in timelines[0]}
    agree = {name: np.all(v == v[0], axis=0).tolist() for name, v in values.items()}
    first = {name: v[0].tolist() for name, v in values.items()}  # floats, as Policy.at gives
    months = range(len(scenarios[0].months))
    return [
        ByRow(
            {n: first[n][t] for n in values if agree[n][t]},
            {n: values[n][:, t] for n in values if not agree[n][t]},
        )
        for t in months
    ]
