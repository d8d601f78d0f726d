"""Compiled loops (numba) for the numpy engine's index work: telling along ties, the ships' places.

The numpy engine keeps counts in arrays (rows, households) and adds to them along the network's
ties of the households that moved, and a month's sailing hands out the places of each row's
queue in order (the month's listing pass is in ``screen.py``, beside the screen it computes).
Written with numpy these are chains of repeat, cumsum and add.at over temporaries, many times a
month; written as loops they are one pass each (docs/benchmarks.md gives what it saved). They
hold none of the decision rule (its arithmetic stays in ``decision.py``, which both engines
use): they move indices, count, and add a float32 value as numpy's ``add.at`` would, entry after
entry, so the results are the same, bit for bit (``tests/test_kernels.py``).

Flat indices: row x households + household, of arrays (rows, households) read as one line.
"""

from __future__ import annotations

import functools
import threading

import numpy as np
from numba import njit


def compiled(function):
    """``numba.njit`` of ``function`` with its code cached for the next process, applied at the
    first call rather than at import: numba looks at its cache's folder when it decorates a
    function, and the modules here touch no file when imported. Numba compiles again when the
    file that holds the function changes (and after a new numba or on another processor): about
    a second for all of them, then about 0.2 s a process to load. Where no folder can hold the
    cache (``__pycache__`` beside the file, or numba's folder in the user's cache, or
    ``NUMBA_CACHE_DIR``), every process compiles. ``nogil``: threads of a worker run at once."""
    dispatcher = None
    lock = threading.Lock()  # two threads' first calls compile it once

    @functools.wraps(function)
    def call(*args):
        nonlocal dispatcher
        if dispatcher is None:
            with lock:
                if dispatcher is None:
                    try:
                        dispatcher = njit(cache=True, nogil=True)(function)
                    except RuntimeError:  # "cannot cache function ...: no locator available"
                        dispatcher = njit(nogil=True)(function)
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
        c = f % households
        base = f - c
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
