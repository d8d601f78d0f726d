"""How the numpy engine tells households what their network neighbours and kin did.

A household's engaged neighbours (registered or gone), the letters of its departed neighbours
and of its neighbours' departed neighbours, and its kin who left are counts kept in arrays
(rows, households), updated from the households that moved: every tie of each of them
(``_neighbours``, CSR order) gets one more or one less. ``Telling`` holds these updates for
``engine_state.Engine``, which has the arrays, the network (``pop``), the households per row
(``H``) and the rows per scenario (``R``).
"""

from __future__ import annotations

from functools import cached_property
from types import SimpleNamespace

import numpy as np

from . import decision


class Telling:
    """The updates of the neighbours' and kin's counts, for ``engine_state.Engine``."""

    def _spread(self, counts: np.ndarray, moved, delta: float) -> None:
        """Tell every network neighbour of the moved households: counts[r, neighbour] += delta."""
        self._add(counts, self._neighbours(moved), delta)

    def _add(self, counts: np.ndarray, told, delta) -> np.ndarray:
        """counts[r, household] += delta for each (r, household) of ``told`` (``delta``: one
        value, or one per entry); returns their flat indices (r x households + household)."""
        rows, households = told
        flat = rows.astype(np.int64) * self.H + households
        if len(flat):
            # delta as float32: with a Python float, numpy's add.at leaves its fast path and is
            # some fifty times slower (measured: 1 M indices, 2 ms against 120 ms)
            np.add.at(counts.reshape(-1), flat, np.asarray(delta, dtype=np.float32))
        return flat

    def _tell_engaged(self, joined, leaving: list) -> None:
        """Count the month's registered (``joined``) among their neighbours' engaged ones, and
        no longer those who left the queue but not for a ship (``leaving``: lists of households
        that cancelled, were deported, withdrew at the confirmation). Done once, at the end of
        the month, for all of them (the counts are read only by the next month's logits), as
        a call costs more than its households; the counts stay whole numbers, the same in any
        order."""
        rows = np.concatenate([joined[0], *(moved[0] for moved in leaving)])
        cols = np.concatenate([joined[1], *(moved[1] for moved in leaving)])
        told = self._neighbours((rows, cols))
        start = self.pop.neighbour_start
        delta = np.full(len(told[0]), -1, dtype=np.float32)
        delta[: int((start[joined[1] + 1] - start[joined[1]]).sum())] = 1  # the joined, first
        flat = self._add(self.engaged_neighbours, told, delta)
        # and the peer pressure they feel (kept from month to month), where it changed
        if self.per_neighbour.ndim > 1:  # by scenario: (K, 1, H), read at scenario x H + col
            at = told[0] // self.R * self.H + told[1]
            per_neighbour = self.per_neighbour.reshape(-1)[at]
        else:
            per_neighbour = self.per_neighbour[told[1]]
        self.peer.reshape(-1)[flat] = decision.peer_pressure(
            self.engaged_neighbours.reshape(-1)[flat], per_neighbour
        )

    @cached_property
    def _kin_pull(self) -> np.ndarray:
        """What kin who left add to the logits (``decision.kin_pull``), (rows, households): it
        changes only where kin leave (``_tell_kin``), a pass a month less than computing it."""
        pull = np.empty_like(self.kin_departed)
        decision.kin_pull(self._by_scenario(self.kin_departed), self.w, out=self._by_scenario(pull))
        return pull

    def _tell_kin(self, told) -> None:
        """Count the households that sailed among the kin who left of their kin (``told``:
        (rows, kin) of each of their kin ties, as ``_neighbours`` lists them), and update the
        pull of those kin: the same numbers as computed whole."""
        rows, kin = told
        flat = self._add(self.kin_departed, (rows, kin), 1.0)
        w_kin = self.w.kin if np.ndim(self.w.kin) == 0 else self.w.kin.reshape(-1)[rows // self.R]
        left = self.kin_departed.reshape(-1)[flat]
        self._kin_pull.reshape(-1)[flat] = decision.kin_pull(left, SimpleNamespace(kin=w_kin))

    def _neighbours(self, households, kin: bool = False):
        """(rows, neighbours) of households (rows, cols): each household's ties in CSR order;
        with ``kin``, also whether each tie is a kin tie."""
        rows, cols = households
        start, ties = self.pop.neighbour_start, self.pop.neighbours
        degree = start[cols + 1] - start[cols]
        first = np.repeat(start[cols] - np.cumsum(degree) + degree, degree)
        at = first + np.arange(int(degree.sum()))
        told = np.repeat(rows, degree), ties[at]
        return (told, self.pop.kin[at]) if kin else told
