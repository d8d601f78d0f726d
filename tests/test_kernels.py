"""The numpy engine's compiled loops (sim/kernels.py, and the listing pass in sim/screen.py)
against what they replace, written with numpy (or as a plain walk of the queue): the same
results, bit for bit."""

from types import SimpleNamespace

import numpy as np

from sim import decision, kernels, screen
from sim.screen import may_intend


def network(rng, households=300, ties=1500):
    """A CSR listing of random ties (some households have none)."""
    pairs = rng.integers(0, households, size=(ties, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs = pairs[np.argsort(pairs[:, 0], kind="stable")]
    start = np.searchsorted(pairs[:, 0], np.arange(households + 1)).astype(np.int64)
    return start, pairs[:, 1].astype(np.int32)


def csr_ties(rows, cols, start, ties, households):
    """Each household's ties, in CSR order, as numpy lists them."""
    degree = start[cols + 1] - start[cols]
    at = np.concatenate([np.arange(start[c], start[c + 1]) for c in cols] or [np.zeros(0, int)])
    return np.repeat(rows, degree) * households + ties[at], at


def test_tie_indices_lists_every_tie_of_each_household_in_csr_order():
    rng = np.random.default_rng(1)
    start, ties = network(rng)
    rows = np.sort(rng.integers(0, 5, 200))
    cols = rng.integers(0, 300, 200)
    flat, at = kernels.tie_indices(rows, cols, start, ties, 300)
    expected_flat, expected_at = csr_ties(rows, cols, start, ties, 300)
    assert np.array_equal(flat, expected_flat) and np.array_equal(at, expected_at)
    assert len(kernels.tie_indices(rows[:0], cols[:0], start, ties, 300)[0]) == 0


def test_add_at_adds_in_turn_as_numpy_add_at_does():
    # fractional counts (letters that faded): each addition of 1 rounds on its own, and adding 1
    # three times is not always adding 3 once
    rng = np.random.default_rng(2)
    counts = rng.random(1000).astype(np.float32) * 3
    flat = rng.integers(0, 1000, 5000)  # many repeated
    expected = counts.copy()
    np.add.at(expected, flat, np.float32(1.0))
    kernels.add_at(counts, flat, np.float32(1.0))
    assert np.array_equal(counts, expected)


def test_add_along_ties_tells_the_neighbours_of_each_listed_household():
    rng = np.random.default_rng(3)
    start, ties = network(rng)
    rows, cols = np.sort(rng.integers(0, 4, 400)), rng.integers(0, 300, 400)
    listed = rows * 300 + cols  # e.g. the neighbours of households that sailed
    counts = rng.random(4 * 300).astype(np.float32)
    expected = counts.copy()
    np.add.at(expected, csr_ties(rows, cols, start, ties, 300)[0], np.float32(1.0))
    kernels.add_along_ties(counts, listed, start, ties, 300, np.float32(1.0))
    assert np.array_equal(counts, expected)


def walk_the_queues(rows, sizes, taking, deferring, capacity):
    """Each row's queue in turn: places go to the families taking one while they fit; the first
    that does not fit ends the row's boarding."""
    boarding, deferred = np.zeros(len(rows), bool), np.zeros(len(rows), bool)
    for row in np.unique(rows):
        left, full = capacity[row], False
        for i in np.flatnonzero(rows == row):
            if deferring[i]:
                deferred[i] = left > 0 and not full
            elif taking[i]:
                full = full or sizes[i] > left
                boarding[i] = not full
                left -= sizes[i]
    return boarding, deferred


def test_places_go_in_queue_order_while_they_fit():
    # a row of 5 places: 2 and 2 board, the family of 3 does not fit, nor then the 1 after it
    rows = np.zeros(4, dtype=np.int64)
    sizes = np.array([2, 2, 3, 1], dtype=np.int64)
    everyone = np.ones(4, dtype=bool)
    boarding, deferred = kernels.places(rows, sizes, everyone, ~everyone, np.array([5]))
    assert boarding.tolist() == [True, True, False, False]
    assert not deferred.any()
    # the second family defers (its turn came: places were left); the 3 now fits
    deferring = np.array([False, True, False, False])
    boarding, deferred = kernels.places(rows, sizes, ~deferring, deferring, np.array([5]))
    assert boarding.tolist() == [True, False, True, False]
    assert deferred.tolist() == [False, True, False, False]


def test_places_agree_with_a_walk_of_random_queues():
    rng = np.random.default_rng(4)
    for _ in range(200):
        n = int(rng.integers(0, 40))
        rows = np.sort(rng.integers(0, 4, n))
        sizes = rng.integers(1, 6, n)
        deferring = rng.random(n) < 0.2
        taking = (rng.random(n) < 0.8) & ~deferring  # some are not ready
        capacity = rng.integers(0, 30, 4)
        got = kernels.places(rows, sizes, taking, deferring, capacity)
        expected = walk_the_queues(rows, sizes, taking, deferring, capacity)
        assert np.array_equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])


def test_split_pairs_reads_each_rows_first_then_second_draws():
    starts, ends = np.array([0, 3, 3]), np.array([3, 3, 5])  # a row of none in the middle
    both = np.random.default_rng(6).random(10)  # float64 draws
    first, second = kernels.split_pairs(both, starts, ends)
    assert np.array_equal(first, both[[0, 1, 2, 6, 7]])
    assert np.array_equal(second, both[[3, 4, 5, 8, 9]])


def drawn(u, logit, state, below, above, replications):
    out = np.empty(u.shape, dtype=bool)
    screen.drawn(u.view(np.int32), u, logit, state, 1, below, above, replications, out)
    return out


def test_drawn_lists_the_screened_settled_and_the_draws_beyond_the_bounds():
    rng = np.random.default_rng(5)
    K, R, H = 3, 2, 500
    u = rng.random((K * R, H), dtype=np.float32)
    logit = rng.normal(-6, 2, (K * R, H)).astype(np.float32)
    state = rng.integers(0, 4, (K * R, H)).astype(np.int8)
    below = np.array([0.0, 0.01, 0.2], dtype=np.float32)  # the first scenario: none
    above = np.array([2.0, 0.99, 0.9], dtype=np.float32)
    out = drawn(u, logit, state, below, above, R)
    per_row = np.repeat(np.arange(K), R)[:, None]
    expected = (state == 1) & may_intend(u.view(np.int32), logit)
    expected |= (u < below[per_row]) | (u >= above[per_row])
    assert np.array_equal(out, expected)
    assert not (out & (state != 1))[:R].any()  # the first scenario: only the screened settled


def test_drawn_lists_every_draw_that_reconsiders_or_switches_at_the_bounds():
    # draws at the bounds of decision.reconsiders and decision.switches_registration, and at
    # their float32 neighbours; nobody settled, so only the bounds list a household
    p = SimpleNamespace(reconsider_rate=0.05)
    policy = SimpleNamespace(kankoku_switching=0.02)
    # as the engine hands them to the pass: float32, as numpy converts a float meeting the draws
    low = np.float32(decision.reconsider_bound(p))
    high = np.float32(decision.switch_bound(policy))
    edges = [np.nextafter(b, d) for b in (low, high) for d in (np.float32(0), np.float32(1))]
    u = np.array([[low, high, *edges, 0.0, 0.5]], dtype=np.float32)
    logit = np.zeros_like(u)
    state = np.zeros(u.shape, dtype=np.int8)  # not the settled code (1)
    out = drawn(u, logit, state, np.array([low]), np.array([high]), 1)
    moves = decision.reconsiders(u, p) | decision.switches_registration(u, policy)
    assert np.array_equal(out, moves)
    assert moves.sum() == 4  # below low: its lower neighbour and 0; from high: it and above


def test_drawn_screens_the_extreme_logits_as_numpy_does():
    logit = np.concatenate(
        [
            np.array([np.inf, 1e30, 89.0, -1e30, -np.inf], dtype=np.float32),
            np.linspace(-89.0, -80.0, 1001, dtype=np.float32),
        ]
    )[None, :]
    u = np.random.default_rng(7).random(logit.shape, dtype=np.float32)
    u[0, 5:505] = 0.0  # a draw of zero over the logits whose chance may be 0
    state = np.ones(logit.shape, dtype=np.int8)
    none_low, none_high = np.array([0.0], np.float32), np.array([2.0], np.float32)
    out = drawn(u, logit, state, none_low, none_high, 1)
    assert np.array_equal(out, may_intend(u.view(np.int32), logit))
    assert out[0, :5].tolist() == [True, True, True, False, False]


def test_a_loop_compiles_without_a_cache_where_none_can_be_kept(monkeypatch):
    numba_njit = kernels.njit

    def no_cache(**options):  # numba where no folder can hold its cache
        if options.get("cache"):
            raise RuntimeError("cannot cache function 'add_at': no locator available")
        return numba_njit(**options)

    monkeypatch.setattr(kernels, "njit", no_cache)
    add_at = kernels.compiled(kernels.add_at.__wrapped__)  # compiled at its first call
    counts = np.zeros(3, dtype=np.float32)
    add_at(counts, np.array([0, 2, 2]), np.float32(1.0))
    assert counts.tolist() == [1.0, 0.0, 2.0]
