"""The few households a month's rules look at, found without deciding every household.

Most households are settled, and in most months a few in a thousand of them can move. The numpy
engine finds the few (``Listing``, for ``engine_state.Engine``) and decides them on index lists,
with their rows' values:

* the settled whose draw may be below their intend chance (``screen.py``), and those whose draw
  may switch them to Kankoku, and the cancelled whose draw may have them reconsider, in one pass
  over every household (``_drawn``);
* the intending and registered, from last month's list of them, which only the new intending
  join (``_listed``).

Flat indices (row x households + household), ascending: the order of a pass over the arrays.
"""

from __future__ import annotations

import numpy as np

from . import decision, screen
from .decision import Policy
from .result import CANCELLED, INTENDING, REGISTERED, SETTLED
from .rows import ByRow

_NO_HOUSEHOLDS = np.zeros(0, dtype=np.int64)


class Listing:
    """The lists of ``engine_state.Engine``, which has the arrays and ``active``: the intending
    and registered households' flat indices, ascending (with those that left these states
    since last month, until ``_listed`` drops them)."""

    def _drawn(self, u: np.ndarray, logit: np.ndarray, month: ByRow, policy: Policy, p):
        """The households whose draw ``u`` moves them this month, among the settled and the
        cancelled (flat indices, ascending): the settled that come to intend leaving, the
        cancelled that reconsider, and the settled Chosen that switch to Kankoku (not those
        that come to intend). Few: the settled that the screen lets through (their exact chance
        is computed for them alone), the bottom ``reconsider_rate`` of the draws and their top
        ``kankoku_switching``, listed in one pass over every household, then decided with
        their rows' values."""
        reconsidering = self.process.any_positive("reconsider_rate")
        switching = self.switched is not None and month.any_positive("kankoku_switching")
        # each scenario's bounds (none: a draw below 0, or at 2 or above)
        below = self._per_scenario(decision.reconsider_bound(p) if reconsidering else 0.0)
        above = self._per_scenario(decision.switch_bound(policy) if switching else 2.0)
        bits = u.view(np.int32)
        screen.drawn(bits, u, logit, self.state, SETTLED, below, above, self.R, self.candidates)
        drawn = np.flatnonzero(self.candidates)
        scenario = drawn // self.H // self.R
        u, state = u.reshape(-1)[drawn], self.state.reshape(-1)[drawn]
        intends = state == SETTLED
        intends &= u < decision.intend_probability(logit.reshape(-1)[drawn])
        reconsider = switch = _NO_HOUSEHOLDS
        if reconsidering:
            rate = self.process.only("reconsider_rate", scenario)
            reconsider = drawn[(state == CANCELLED) & decision.reconsiders(u, rate)]
        if switching:
            levers = month.only("kankoku_switching", scenario)
            switch = decision.switches_registration(u, levers) & (state == SETTLED) & ~intends
            switch = drawn[switch & self.chosen[drawn % self.H]]
        return drawn[intends], reconsider, switch

    def _per_scenario(self, value) -> np.ndarray:
        """A value (one, or one per scenario, shaped (K, 1, 1)) for each scenario, float32: as
        numpy converts a float where it meets the float32 draws (``decision.reconsiders``)."""
        return np.array(np.broadcast_to(np.reshape(value, -1), self.K), dtype=np.float32)

    def _listed(self, new_intending: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The intending and the registered households at the start of the month (flat
        indices, ascending), from last month's list; the list then takes this month's new
        intending (``new_intending``, ascending)."""
        now = self.state.reshape(-1)[self.active]
        is_intending, is_registered = now == INTENDING, now == REGISTERED
        intending, registered = self.active[is_intending], self.active[is_registered]
        self.active = _merged(self.active[is_intending | is_registered], new_intending)
        return intending, registered


def _merged(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The values of two ascending arrays with no value in common, ascending (``np.insert`` at
    their places, without its checks, which cost more than the merge at these sizes)."""
    merged = np.empty(len(first) + len(second), dtype=first.dtype)
    at = np.searchsorted(first, second) + np.arange(len(second))
    rest = np.ones(len(merged), dtype=bool)
    rest[at] = False
    merged[at], merged[rest] = second, first
    return merged
