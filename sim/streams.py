"""Random streams: every random number of a run comes from one seed, split into branches.

``SeedSequence(seed, spawn_key=(branch,))`` is a branch of the seed; replication k draws from
child k of its branch, which is the same stream whatever the number of replications asked for
or how they are grouped (``SeedSequence.spawn``). The branches:

* ``POPULATION``: the synthetic population (one draw per run: every replication, and every
  scenario run with the same seed, sees the same households);
* ``REPLICATION``: the monthly draws of each replication (both engines);
* ``MESA``: Mesa's own generator, used only to shuffle the order in which agents decide;
* ``AFTERMATH``: the after-arrival stage of each replication.

Tools above the model take further branches of their own seeds (posterior draws, sweep designs).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

POPULATION, REPLICATION, MESA, AFTERMATH = 0, 1, 2, 3


def population_stream(seed: int) -> np.random.Generator:
    """The generator of a run's synthetic population."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(POPULATION,)))


def replication_streams(seed: int, replications: Sequence[int]) -> list[np.random.Generator]:
    """Generators for the given replication numbers: children of the replication branch."""
    return branch_streams(seed, REPLICATION, replications)


def branch_streams(
    seed: int, branch: int, replications: Sequence[int]
) -> list[np.random.Generator]:
    """Generators for the given replication numbers: ``spawn`` children of one branch of the seed.

    ``SeedSequence(seed, spawn_key=(branch,)).spawn(n)[k]`` is the same stream for every n > k,
    so replication k is the same whichever set of replications a worker is asked for.
    """
    replications = list(replications)
    root = np.random.SeedSequence(seed, spawn_key=(branch,))
    children = root.spawn(max(replications) + 1) if replications else []
    return [np.random.default_rng(children[k]) for k in replications]


def mesa_seed(seed: int, replication: int) -> int:
    """The seed of Mesa's own generator for one replication (it only shuffles agents)."""
    return int(np.random.SeedSequence(seed, spawn_key=(MESA, replication)).generate_state(1)[0])
