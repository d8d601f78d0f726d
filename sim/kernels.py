"""Compiled loops (numba) for the numpy engine's index work: the month's listing, telling, places.

The numpy engine keeps counts in arrays (rows, households) and adds to them along the network's
ties of the households that moved; each month it lists the few households whose draws may move
them; a month's sailing hands out the places of each row's queue in order. Written with numpy
these are chains of whole-array passes, repeat, cumsum and add.at over temporaries, many times a
month; written as loops they are one pass each (docs/benchmarks.md gives what it saved). They
hold none of the decision rule (its arithmetic stays in ``decision.py``, which both engines
use): they move indices, compare, and add a float32 value in the order numpy's ``add.at`` would,
entry after entry, so the results are the same, bit for bit (``tests/test_kernels.py``).

Flat indices: row x households + household, of arrays (rows, households) read as one line.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from . import screen

# compiled into ``drawn`` (numba reads no file for a function without its own cache)
_may_intend = njit(screen.may_intend)


def compiled(function):
    """``numba.njit(cache=True)`` of ``function``, applied at its first call rather than at
    import: numba looks at its cache's folder when it decorates a function, and the modules here
    touch no file when imported. The compiled code is kept in ``__pycache__`` for the next
    process (compiling all of them takes about a second)."""
    dispatcher = None

    @functools.wraps(function)
    def call(*args):
        nonlocal dispatcher
        if dispatcher is None:
            dispatcher = njit(cache=True)(function)
        return dispatcher(*args)

    return call


@compiled
def tie_indices(rows, cols, start, ties, households):
    """The flat indices (row x ``households`` + neighbour) of every tie of the households
    (``rows``, ``cols``), household after household, each one's ties in CSR order
    (``start``, ``ties``); and the position of each tie in ``ties`` (to read what the tie is)."""
    total = 0
    for i in range(len(cols)):
        total += start[cols[i] + 1] - start[cols[i]]
    flat = np.empty(total, dtype=np.int64)
    at = np.empty(total, dtype=np.int64)
    n = 0
    for i in range(len(cols)):
        base = np.int64(rows[i]) * households
        for j in range(start[cols[i]], start[cols[i] + 1]):
            flat[n] = base + ties[j]
            at[n] = j
            n += 1
    return flat, at


@compiled
def add_at(counts, flat, delta):
    """``np.add.at(counts, flat, delta)`` for a flat float32 ``counts`` and one float32
    ``delta``: each entry's addition in turn."""
    for f in flat:
        counts[f] += delta


@compiled
def add_along_ties(counts, flat, start, ties, households, delta):
    """counts[row, neighbour] += ``delta`` for every tie of each household at the ``flat``
    indices (row x households + household), in turn: as ``add_at`` of ``tie_indices``'s flat
    indices, without listing them."""
    for f in flat:
        base = f - f % households
        c = f % households
        for j in range(start[c], start[c + 1]):
            counts[base + ties[j]] += delta


@compiled
def places(rows, sizes, taking, deferring, capacity):
    """Hand out each row's places in queue order: (boarding, deferred), two masks.

    ``rows``: each family's row, by its place in the queues (a row's families together);
    ``sizes``: its persons; ``taking``: whether it takes a place when its turn comes;
    ``deferring``: whether it lets its place go; ``capacity``: places of each row (persons).
    A family taking a place boards if the places taken up to it, itself included, fit; once one
    does not fit, the rest of its row's queue does not board (the places taken count it). A
    deferring family has deferred if places were left when its turn came.
    """
    n = len(rows)
    boarding = np.zeros(n, dtype=np.bool_)
    deferred = np.zeros(n, dtype=np.bool_)
    taken = 0
    for i in range(n):
        if i == 0 or rows[i] != rows[i - 1]:
            taken = 0
        cap = capacity[rows[i]]
        if deferring[i] and taken < cap:
            deferred[i] = True
        if taking[i]:
            taken += sizes[i]
            boarding[i] = taken <= cap
    return boarding, deferred


@compiled
def split_pairs(both, starts, ends):
    """Each row's two runs of draws (``both``: a run [start, end) of the rows' entries holds
    ``end - start`` first draws at [2 start, start + end), then as many second draws), as two
    arrays of the entries' first and second draws."""
    first = np.empty(len(both) // 2)
    second = np.empty(len(both) // 2)
    for k in range(len(starts)):
        s, e = starts[k], ends[k]
        for i in range(e - s):
            first[s + i] = both[2 * s + i]
            second[s + i] = both[s + e + i]
    return first, second


@compiled
def drawn(bits, u, logit, state, settled, below, above, replications, out):
    """Which households' draws may move them this month, in one pass (``listing.Listing``): the
    settled (``state`` equal to ``settled``) that the screen lets through (``screen.may_intend``
    of the draws' ``bits`` and the ``logit``), and every household whose draw ``u`` is below its
    scenario's ``below`` or at or above its scenario's ``above`` (``replications`` rows a
    scenario). Arrays (rows, households); ``out``: a bool array of their shape, written."""
    for r in range(u.shape[0]):
        low, high = below[r // replications], above[r // replications]
        for h in range(u.shape[1]):
            screened = (state[r, h] == settled) & _may_intend(bits[r, h], logit[r, h])
            out[r, h] = screened | (u[r, h] < low) | (u[r, h] >= high)
