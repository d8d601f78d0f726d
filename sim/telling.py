"""How the numpy engine tells households what their network neighbours and kin did.

A household's engaged neighbours (registered or gone), the letters of its departed neighbours
and of its neighbours' departed neighbours, and its kin who left are counts kept in arrays
(rows, households), updated from the households that moved: every tie of each of them
(``_ties``, CSR order) gets one more or one less, in compiled loops (``kernels.py``).
``Telling`` holds these updates for ``engine_state.Engine``, which has the arrays, the network
(``pop``), the households per row (``H``) and the rows per scenario (``R``).
"""

from __future__ import annotations

from functools import cached_property
from types import SimpleNamespace

import numpy as np

from . import decision, kernels


class Telling:
    """The updates of the neighbours' and kin's counts, for ``engine_state.Engine``."""

    def _ties(self, households) -> tuple[np.ndarray, np.ndarray]:
        """The flat indices (row x households + neighbour) of every tie of the ``households``
        (rows, cols), each one's ties in CSR order; and where each tie is in the network's
        listing (``kernels.tie_indices``)."""
        rows, cols = households
        start, ties = self.pop.neighbour_start, self.pop.neighbours
        return kernels.tie_indices(rows, cols, start, ties, self.H)

    def _tell_departed(self, households) -> None:
        """The households that sailed (rows, cols): each of their neighbours has a departed
        neighbour more to write letters, each neighbour of those neighbours one more heard of
        along ties (with ``along_ties``), and each of their kin a kin more who left."""
        flat, at = self._ties(households)
        kernels.add_at(self.letter_sources.reshape(-1), flat, _ONE)
        if self.along_ties:  # tell the neighbours of every neighbour
            start, ties = self.pop.neighbour_start, self.pop.neighbours
            kernels.add_along_ties(self.second_hand.reshape(-1), flat, start, ties, self.H, _ONE)
        if self.kin:  # their kin ties, in the network's order
            self._tell_kin(flat[self.pop.kin[at]])

    def _tell_engaged(self, joined, leaving: list) -> None:
        """Count the month's registered (``joined``) among their neighbours' engaged ones, and
        no longer those who left the queue but not for a ship (``leaving``: lists of households
        that cancelled, were deported, withdrew at the confirmation). Done once, at the end of
        the month, for all of them (the counts are read only by the next month's logits), as
        a call costs more than its households; the counts stay whole numbers, the same in any
        order."""
        rows = np.concatenate([joined[0], *(moved[0] for moved in leaving)])
        cols = np.concatenate([joined[1], *(moved[1] for moved in leaving)])
        flat, _ = self._ties((rows, cols))
        start = self.pop.neighbour_start
        first = int((start[joined[1] + 1] - start[joined[1]]).sum())  # the joined's ties
        engaged = self.engaged_neighbours.reshape(-1)
        kernels.add_at(engaged, flat[:first], _ONE)
        kernels.add_at(engaged, flat[first:], -_ONE)
        # and the peer pressure they feel (kept from month to month), where it changed
        neighbour = flat % self.H
        if self.per_neighbour.ndim > 1:  # by scenario: (K, 1, H), read at scenario x H + col
            at = flat // self.H // self.R * self.H + neighbour
            per_neighbour = self.per_neighbour.reshape(-1)[at]
        else:
            per_neighbour = self.per_neighbour[neighbour]
        self.peer.reshape(-1)[flat] = decision.peer_pressure(engaged[flat], per_neighbour)

    @cached_property
    def _kin_pull(self) -> np.ndarray:
        """What kin who left add to the logits (``decision.kin_pull``), (rows, households): it
        changes only where kin leave (``_tell_kin``), a pass a month less than computing it."""
        pull = np.empty_like(self.kin_departed)
        decision.kin_pull(self._by_scenario(self.kin_departed), self.w, out=self._by_scenario(pull))
        return pull

    def _tell_kin(self, flat: np.ndarray) -> None:
        """Count the households that sailed among the kin who left of their kin (``flat``: the
        flat indices of each of their kin ties, as ``_ties`` lists them), and update the pull of
        those kin: the same numbers as computed whole."""
        kernels.add_at(self.kin_departed.reshape(-1), flat, _ONE)
        w_kin = self.w.kin
        if np.ndim(w_kin):  # by scenario
            w_kin = w_kin.reshape(-1)[flat // self.H // self.R]
        left = self.kin_departed.reshape(-1)[flat]
        self._kin_pull.reshape(-1)[flat] = decision.kin_pull(left, SimpleNamespace(kin=w_kin))


_ONE = np.float32(1.0)
