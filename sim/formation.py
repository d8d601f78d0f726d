"""Households the young form: new households that come into being during a run.

The Korean population of Japan was not frozen in 1955: as the young came of age they set up
households of their own beside their parents'. From a share of the households of the start
(``population.young_households``), drawn at random, the young form one household each, at a month
drawn uniformly within ``generation_years`` of the start (the window in which the households of
the start pass to their next generation). ASSUMPTION: neither the share nor the window is in the
documents.

A household of the young is drawn as the households of the start are (size, welfare, work, a
Japanese spouse), with its generation's belief and family ties (``young_belief_prior_mean``,
``young_family_ties_mean``); it keeps its parents' registration (Chosen or Kankoku) and its Soren
tie gathers around theirs. It lives in its parents' community: tied to its parents' household
(a kin tie) and to some of their neighbours (as many as the network's degree allows, each kin with
chance ``kin_share``). Until it forms it cannot move; its belief starts at its generation's and
hears the propaganda and the letters as the community does.

Persons: a household of the young adds its persons to the population (its parents' household
keeps its size; the children born over the run are not otherwise drawn).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .draws import (
    BELIEF_CONCENTRATION,
    FAMILY_TIES_CONCENTRATION,
    beta_around,
    circumstances,
    household_sizes,
    mixed_households,
    owners,
    soren_ties,
    tie_key,
    undirected_csr,
)
from .schema import PopulationParameters


@dataclass(frozen=True)
class YoungHouseholds:
    """The households of the young (one entry each, after the households of the start) and the
    network of all households, theirs and the start's."""

    parent: np.ndarray  # int64: the household of the start it is formed from
    formed_month: np.ndarray  # int32: the month after the start at which it forms (1 or later)
    size: np.ndarray  # int64
    japanese_nationals: np.ndarray  # int64
    kankoku: np.ndarray  # bool
    on_welfare: np.ndarray  # bool
    welfare_cut_rank: np.ndarray  # float32
    employed: np.ndarray  # bool
    japanese_spouse: np.ndarray  # bool
    soren_tie: np.ndarray  # float32
    family_ties: np.ndarray  # float32
    belief_prior: np.ndarray  # float32
    neighbour_start: np.ndarray  # int64, CSR row pointer of every household
    neighbours: np.ndarray  # int32
    kin: np.ndarray  # bool, one per entry of ``neighbours``


def young_households(
    kankoku: np.ndarray,
    soren_tie: np.ndarray,
    start: np.ndarray,
    neighbours: np.ndarray,
    kin: np.ndarray,
    params: PopulationParameters,
    rng: np.random.Generator,
) -> YoungHouseholds:
    """Draw the households the young form from the ``len(kankoku)`` households of the start
    (their registration, Soren ties and network, CSR with one kin flag per entry)."""
    n = len(kankoku)
    parent = np.flatnonzero(rng.random(n) < params.young_households)
    m = len(parent)
    window = params.generation_years * 12
    formed_month = (1 + np.floor(rng.random(m) * (window - 1))).astype(np.int32)

    size = household_sizes(m, params, rng)
    on_welfare, welfare_cut_rank, employed, japanese_spouse, japanese_nationals = circumstances(
        size, params, rng
    )
    if params.mixed_household_size > 0:
        size, japanese_nationals = mixed_households(
            size, japanese_spouse, japanese_nationals, params, rng
        )
    young_tie = soren_ties(soren_tie[parent], params, rng)
    family_ties = beta_around(params.young_family_ties_mean, FAMILY_TIES_CONCENTRATION, m, rng)
    belief = beta_around(params.young_belief_prior_mean, BELIEF_CONCENTRATION, m, rng)
    network = _tied_in(parent, n, start, neighbours, kin, params, rng)
    return YoungHouseholds(
        parent=parent,
        formed_month=formed_month,
        size=size,
        japanese_nationals=japanese_nationals,
        kankoku=kankoku[parent].copy(),
        on_welfare=on_welfare,
        welfare_cut_rank=welfare_cut_rank,
        employed=employed,
        japanese_spouse=japanese_spouse,
        soren_tie=young_tie,
        family_ties=family_ties.astype(np.float32),
        belief_prior=belief.astype(np.float32),
        neighbour_start=network[0],
        neighbours=network[1],
        kin=network[2],
    )


def _tied_in(parent, n, start, neighbours, kin, params, rng):
    """The network of all households: the start's ties, and each young household's tie to its
    parents (kin) and to at most ``network_degree - 1`` of their neighbours, drawn at random
    (each kin with chance ``kin_share``). CSR (row pointer, neighbours, kin flags)."""
    m, total = len(parent), n + len(parent)
    young = n + np.arange(m)
    # The parents' neighbours, in a random order for each young household: keep the first few.
    degree = start[parent + 1] - start[parent]
    owner = np.repeat(np.arange(m), degree)
    entry = np.repeat(start[parent] - np.cumsum(degree) + degree, degree) + np.arange(degree.sum())
    order = np.lexsort((rng.random(len(owner)), owner))
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(degree) - degree, degree)
    kept = order[rank < max(params.network_degree - 1, 0)]
    friend_of, friend = owner[kept], neighbours[entry[kept]].astype(np.int64)
    friend_is_kin = rng.random(len(kept)) < params.kin_share

    source = np.concatenate([owners(start), young, young[friend_of]])
    target = np.concatenate([neighbours.astype(np.int64), parent, friend])
    is_kin = np.concatenate([kin, np.ones(m, dtype=bool), friend_is_kin])
    kin_keys = tie_key(source[is_kin], target[is_kin], total)

    new_start, new_neighbours = undirected_csr(source, target, total)
    entries = tie_key(owners(new_start), new_neighbours.astype(np.int64), total)
    return new_start, new_neighbours, np.isin(entries, kin_keys)
