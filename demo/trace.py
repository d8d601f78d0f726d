"""What every household was, month by month: the record behind "why did this family leave?".

The Mesa engine keeps only each household's present. ``Trace`` keeps, for every month run so
far, each household's state, its belief in the North, the belief it would hold had no letter of
hardship reached it (the same rule, ``decision.updated_belief``, without letters), the neighbours
who had registered or left and the kin who had left when it decided, whether it had switched to
Kankoku, its family ties (which change when it passes to its next generation), and its log-odds
of leaving. It is filled by
``DemoModel.step`` and, for the months a jump runs past, from the numpy engine's state after each
of them (``watcher``), which is the households' own (``sim/fast_forward.py``): the same record.
``demo/why.py`` splits the log-odds from it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim import decision
from sim.decision import Features, Policy
from sim.fast_forward import ReplicationState


class Trace:
    """Arrays of months x households, filled up to ``count`` months."""

    def __init__(self, model):
        months, households = len(model.months), len(model.households)
        self.features = Features.of(
            model.population, model.spec.population.destitution_deportation_fear
        )
        self.state = np.zeros((months, households), dtype=np.int8)
        self.belief = np.zeros((months, households), dtype=np.float32)
        self.unwarned_belief = np.zeros((months, households), dtype=np.float32)
        self.engaged = np.zeros((months, households), dtype=np.float32)
        self.kin = np.zeros((months, households), dtype=np.float32)
        self.switched = np.zeros((months, households), dtype=bool)
        self.family_ties = np.zeros((months, households), dtype=np.float32)
        self.logit = np.zeros((months, households), dtype=np.float32)
        # The log-odds each engaged neighbour adds: it falls as households of the young form
        # beside one (sim/formation.py).
        self.per_neighbour = np.zeros((months, households), dtype=np.float32)
        self._unwarned = np.asarray(model.population.belief_prior, dtype=np.float32)
        self._engaged, self._kin, self._switched = self.engaged[0], self.kin[0], self.switched[0]
        self.count = 0

    def before(self, model) -> None:
        """What each household sees as it decides: its neighbours and kin at the start of the
        month, and whether it had switched to Kankoku by then."""
        households = model.households
        self._engaged = np.array([h.engaged_neighbours for h in households], np.float32)
        self._kin = np.array([h.kin_departed for h in households], np.float32)
        self._switched = np.array([h.switched for h in households], bool)

    def after(self, model) -> None:
        """Keep the month just run (``model.t - 1``)."""
        households = model.households
        self._keep(
            model,
            model.t - 1,
            model.states(),
            [h.belief for h in households],
            [h.logit for h in households],
            [h.features.family_ties for h in households],
            [h.per_neighbour for h in households],
        )

    def watcher(self, model) -> Callable[[ReplicationState], None]:
        """What a jump (``sim.fast_forward``) calls with the state at the start and after each
        month: the months it runs past the model's, kept as stepping them keeps them."""
        first = model.t

        def watch(state: ReplicationState) -> None:
            if state.t > first:
                t = state.t - 1
                per_neighbour = decision.peer_weight(state.formed_neighbours, model.w)
                self._keep(
                    model,
                    t,
                    state.state,
                    state.belief,
                    state.logit,
                    state.family_ties,
                    per_neighbour,
                )
            # what the households see as they decide the next month
            self._engaged, self._kin = state.engaged_neighbours, state.kin_departed
            self._switched = state.switched

        return watch

    def _keep(self, model, t: int, state, belief, logit, family_ties, per_neighbour) -> None:
        """Keep month ``t``: the households' states, beliefs and log-odds at its end, and what
        they saw as they decided (``_engaged``, ``_kin``, ``_switched``; the households the young
        formed that month had formed before they decided)."""
        self.state[t], self.belief[t], self.logit[t] = state, belief, logit
        self.per_neighbour[t] = per_neighbour
        self.engaged[t], self.kin[t], self.switched[t] = self._engaged, self._kin, self._switched
        self.family_ties[t] = family_ties
        if t in model.turnovers:  # a new generation brings its own belief
            passing = model.turnovers[t]
            self._unwarned[passing] = model.population.young_belief_prior[passing]
        self._unwarned = decision.updated_belief(
            self._unwarned, self.features.soren_tie, Policy.at(model.timeline, t), model.p
        )
        self.unwarned_belief[t] = self._unwarned
        self.count = t + 1
