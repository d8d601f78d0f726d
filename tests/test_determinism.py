"""Same seed, same numbers; replication k does not depend on how many replications run."""

import numpy as np
import pytest

from sim.engine_numpy import simulate

SCALE = 0.01


def same(a, b):
    return all(np.array_equal(a.metrics[k], b.metrics[k]) for k in a.metrics)


def test_same_seed_gives_identical_monthly_results(historical):
    first = simulate(historical, seed=11, replications=2, scale=SCALE)
    second = simulate(historical, seed=11, replications=2, scale=SCALE)
    assert same(first, second)


def test_another_seed_gives_other_results(historical):
    first = simulate(historical, seed=11, replications=1, scale=SCALE)
    other = simulate(historical, seed=12, replications=1, scale=SCALE)
    assert not same(first, other)


@pytest.fixture(scope="module")
def twenty(historical):
    return simulate(historical, seed=3, replications=20, scale=SCALE)


@pytest.mark.parametrize("k", [0, 3, 19])
def test_replication_k_is_the_same_whether_run_with_1_4_or_20(historical, twenty, k):
    alone = simulate(historical, seed=3, replications=[k], scale=SCALE)
    in_four = simulate(
        historical, seed=3, replications=sorted({k, 0, 1, 19} - {k})[:3] + [k], scale=SCALE
    )
    row = list(in_four.replications).index(k)
    for name, values in twenty.metrics.items():
        assert np.array_equal(alone.metrics[name][0], values[k]), name
        assert np.array_equal(in_four.metrics[name][row], values[k]), name


def test_replications_differ_from_each_other(twenty):
    totals = twenty.metrics["departures"].sum(axis=1)
    assert len(set(totals.tolist())) > 1
