"""The part of the households' log-odds that belief does not move, kept from month to month.

``decision.population_held`` (intercept, attitude, Soren's norm) depends on the month's levers,
the decision weights and the households' features. The levers change in a few months of a run;
the features, of a few households a month, and in one way only: a household passing to its next
generation takes the young generation's family ties (the engine says which,
``features_changed``). So the numpy engine computes the values whole only when the levers
change, and, the first month a household passes under these levers, also the values every
household would have with the young's family ties; a household that passes then takes its own
from those. Every term is computed household by household, so each gets bit for bit the number
a whole computation with its features of the month gives. With parameter sets by row they are
arrays (scenarios, 1, households).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from . import decision
from .decision import Features, Policy
from .rows import ByRow


class HeldLogit:
    """``decision.population_held`` of the month, for one run's weights and the family ties the
    households take when they pass to their next generation (``young_family_ties``)."""

    def __init__(self, w, young_family_ties: np.ndarray):
        self.w, self.young_family_ties = w, young_family_ties
        self.levers: ByRow | None = None
        self.values = np.empty(0, dtype=np.float32)
        self.young: np.ndarray | None = None  # the values with the young's family ties
        self.stale: list[np.ndarray] = []  # households that passed since

    def features_changed(self, households: np.ndarray) -> None:
        """These households passed to their next generation: they take the young's family ties."""
        self.stale.append(households)

    def of(self, features: Features, levers: ByRow, policy: Policy) -> np.ndarray:
        """The values for the month of ``levers`` (``policy``: the same values, as the rule reads
        them). Do not write into them: they are kept for the next month."""
        if self.levers is None or not levers.same_as(self.levers):
            self.levers, self.stale, self.young = levers, [], None
            self.values = decision.population_held(features, policy, self.w)
        elif self.stale:
            if self.young is None:
                young = replace(features, family_ties=self.young_family_ties)
                self.young = decision.population_held(young, policy, self.w)
            for households in self.stale:
                self.values[..., households] = self.young[..., households]
            self.stale = []
        return self.values
