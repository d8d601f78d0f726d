"""The part of the households' log-odds that belief does not move, kept from month to month.

``decision.population_held`` (intercept, attitude, Soren's norm) depends on the month's levers,
the decision weights and the households' features. The levers change in a few months of a run;
the features, of a few households a month (a household passing to its next generation brings its
own family ties: the engine says which, ``features_changed``). So the numpy engine computes it
whole only when the levers change, and otherwise again only for the households whose features
changed since: every term is computed household by household, so they get bit for bit the
numbers a whole computation gives. With parameter sets by row it is an array (scenarios, 1,
households), several passes of which cost more than the few households that changed.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from . import decision
from .decision import Features, Policy
from .rows import ByRow


class HeldLogit:
    """``decision.population_held`` of the month, for one run's weights."""

    def __init__(self, w):
        self.w = w
        self.levers: ByRow | None = None
        self.values = np.empty(0, dtype=np.float32)
        self.stale: list[np.ndarray] = []  # households whose features changed since

    def features_changed(self, households: np.ndarray) -> None:
        """The features of these households changed: their values are computed again."""
        self.stale.append(households)

    def of(self, features: Features, levers: ByRow, policy: Policy) -> np.ndarray:
        """The values for the month of ``levers`` (``policy``: the same values, as the rule reads
        them). Do not write into them: they are kept for the next month."""
        if self.levers is None or not levers.same_as(self.levers):
            self.levers, self.stale = levers, []
            self.values = decision.population_held(features, policy, self.w)
        elif self.stale:
            changed = np.unique(np.concatenate(self.stale))
            self.stale = []
            now = Features(**{f.name: getattr(features, f.name)[changed] for f in fields(features)})
            self.values[..., changed] = decision.population_held(now, policy, self.w)
        return self.values
