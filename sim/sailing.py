"""The month's sailings of many rows at once: who boards, who defers, who withdraws.

Each row's registered households queue first come, first served, in a random order among those
who registered the same month. Places go in queue order to the families that are ready and take
them, while they fit; a family not ready is passed over without being offered one; a family
that defers while places are left (its turn came) lets its place go to the next. Each boarding
family may withdraw at the confirmation of free will.

Rows are decided together on concatenated arrays, but each row draws from its own stream, in the
order and the amounts that row alone would draw: one draw per waiting family for the queue's
order, then (if its families may defer) one per family in the queue, then one per boarding
family. So a row's numbers do not depend on the other rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import decision, kernels
from .rows import ByRow


@dataclass(frozen=True)
class Sailing:
    """The outcome of a month's sailings: (rows, cols) of households, rows ascending."""

    deferred: tuple[np.ndarray, np.ndarray]  # offered a place, chose a later ship
    withdrawn: tuple[np.ndarray, np.ndarray]  # withdrew at the confirmation (they cancel)
    gone: tuple[np.ndarray, np.ndarray]  # sailed


def sail(
    streams: list[np.random.Generator],
    waiting: tuple[np.ndarray, np.ndarray],
    doubts: np.ndarray,
    registered_month: np.ndarray,
    ready: np.ndarray | None,
    size: np.ndarray,
    capacity: np.ndarray,
    process: ByRow,
    levers: ByRow,
    scenario_of: np.ndarray,
) -> Sailing:
    """Sail the ``waiting`` households (rows, cols; rows ascending) with their ``doubts``.

    ``capacity``: the places of each row (persons); ``ready``: whether each registered family is
    ready to take one (None: all are); ``process`` and ``levers`` hold the values of the
    scenarios, ``scenario_of`` the scenario of each row.
    """
    rows, cols = waiting
    segments = _segments(rows)  # the queue of each row: the same rows, reordered within each
    may_defer = None
    if process.any_positive("defer_rate"):
        if "defer_rate" in process.varying:  # by row
            may_defer = process.varying["defer_rate"][scenario_of] > 0
        else:
            may_defer = np.ones(len(streams), dtype=bool)
    if may_defer is not None and np.all(may_defer[segments[2]]):  # two draws a family, at once
        queue_draws, u = _two_row_draws(streams, segments)
    else:
        queue_draws = _row_draws(streams, segments)
        if may_defer is not None:
            u = _row_draws(streams, segments, may_defer)
    # arrays (rows, households) read through flat indices: some three times faster
    at = rows * registered_month.shape[1] + cols
    order = _queue_order(rows, registered_month.reshape(-1)[at], queue_draws)
    rows, cols, doubts, at = rows[order], cols[order], doubts[order], at[order]
    sizes = size[cols]
    taking = np.ones(len(rows), dtype=bool) if ready is None else ready.reshape(-1)[at]
    defer = np.zeros(len(rows), dtype=bool)
    if may_defer is not None:  # u: the draws of the families by their place in the queue
        p = process.only("defer_rate", scenario_of[rows])
        defer = decision.defers(u, doubts, p) & may_defer[rows] & taking
        taking = taking & ~defer
    boarding, deferred = kernels.places(rows, sizes, taking, defer, capacity)
    boarding = np.flatnonzero(boarding)

    of_boarding = scenario_of[rows[boarding]]
    privacy = levers.only("confirmation_privacy", of_boarding).confirmation_privacy
    u = _row_draws(streams, _segments(rows[boarding]))
    p = process.only("confirmation_withdrawal", of_boarding)
    withdraw = u < decision.withdrawal_probability(doubts[boarding], privacy, p)
    withdrawn, gone = boarding[withdraw], boarding[~withdraw]
    return Sailing(
        (rows[deferred], cols[deferred]),
        (rows[withdrawn], cols[withdrawn]),
        (rows[gone], cols[gone]),
    )


def run_starts(rows: np.ndarray) -> np.ndarray:
    """Where each run of equal values in ``rows`` (ascending) starts. (Written out: np.diff with
    ``prepend`` costs tens of microseconds a call, several times a month.)"""
    change = np.empty(len(rows), dtype=bool)
    change[:1] = True
    np.not_equal(rows[1:], rows[:-1], out=change[1:])
    return np.flatnonzero(change)


def _segments(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, row) of the runs of equal values in ``rows`` (ascending)."""
    if len(rows) and rows[0] == rows[-1]:  # one row (always so in a run of one replication)
        return np.zeros(1, dtype=np.int64), np.array([len(rows)]), rows[:1]
    starts = run_starts(rows)
    return starts, np.append(starts[1:], len(rows)), rows[starts]


def _queue_order(rows: np.ndarray, months: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """``np.lexsort((draws, months, rows))``: by row, then month of registration, then draw.

    Written as one sort of a single key, some ten times faster than lexsort, whose stable sort
    of floats is slow. Long queues (most of a batch's) sort the values of 64-bit integers that
    hold, from the top, the row and month (``group``), the draw's leading bits and the entry's
    place, which comes back from the sorted keys: numpy sorts values about twice as fast as it
    finds the order that sorts them. Short ones take the order that sorts a float64 key,
    row x span + month + draw (the draw, in [0, 1), as the fraction). Either key keeps the
    order (a < b gives key(a) <= key(b): the draw rounded in the sum, or cut to its leading
    bits), and only where two keys, less the place, come out equal could the order differ from
    lexsort's: then lexsort is taken. (The draws alone may well be equal across rows: the
    replications of different scenarios draw from the same seeds.)"""
    span = int(months.max(initial=0)) + 1
    group = rows.astype(np.int64) * span + months  # whole numbers
    n = len(rows)
    group_bits, place_bits = int(group.max(initial=0)).bit_length(), max(1, (n - 1).bit_length())
    draw_bits = min(53, 64 - group_bits - place_bits)
    if n >= 2048 and draw_bits >= 30:
        # a float64 draw in [0, 1) times 2**53, as uint64, keeps its order; then its top bits
        top = (draws * 2.0**53).astype(np.uint64) >> np.uint64(53 - draw_bits)
        key = group.astype(np.uint64) << np.uint64(draw_bits + place_bits)
        key |= top << np.uint64(place_bits)
        key |= np.arange(n, dtype=np.uint64)
        key.sort()
        unique = key >> np.uint64(place_bits)
        if np.any(unique[1:] == unique[:-1]):
            return np.lexsort((draws, months, rows))
        return (key & np.uint64((1 << place_bits) - 1)).astype(np.int64)
    key = group.astype(np.float64)  # exact
    key += draws
    order = np.argsort(key)
    sorted_key = key[order]
    if np.any(sorted_key[1:] == sorted_key[:-1]):
        return np.lexsort((draws, months, rows))
    return order


def _row_draws(
    streams: list[np.random.Generator],
    segments: tuple[np.ndarray, np.ndarray, np.ndarray],
    drawing: np.ndarray | None = None,
) -> np.ndarray:
    """One uniform draw per entry of the ``segments`` of rows (``_segments``), each from its
    row's stream, row after row; rows where ``drawing`` is False draw nothing (entries 1)."""
    starts, ends, rows = segments
    out = np.ones(ends[-1] if len(ends) else 0)
    for start, end, r in zip(starts.tolist(), ends.tolist(), rows.tolist()):
        if drawing is None or drawing[r]:
            streams[r].random(out=out[start:end])
    return out


def _two_row_draws(
    streams: list[np.random.Generator], segments: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """``_row_draws`` twice (every row draws), with one call of each row's stream: a row's
    first draws are those of the first call, its next of the second, as two calls would draw
    them (uniform float64 draws take one output of the generator each)."""
    starts, ends, rows = segments
    if len(starts) == 0:  # no queue (its segments may still have an end)
        return np.empty(0), np.empty(0)
    both = np.empty(2 * ends[-1])
    for start, end, r in zip(starts.tolist(), ends.tolist(), rows.tolist()):
        streams[r].random(out=both[2 * start : 2 * end])
    return kernels.split_pairs(both, starts, ends)
