"""The random draws a population is made of: attributes around a mean, the small-world network,
which ties are kin, the households with a Japanese spouse, and each household's next generation.

Pure functions of their arguments and a ``numpy.random.Generator``, shared by the households of
the start (``population.py``) and those the young form later (``formation.py``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .schema import PopulationParameters

NEVER = np.iinfo(np.int32).max  # the turnover month of a household that keeps its generation
MAX_HOUSEHOLD_SIZE = 12
# How tightly family ties and beliefs gather around their means (Beta a + b; ASSUMPTION).
FAMILY_TIES_CONCENTRATION, BELIEF_CONCENTRATION = 2.0, 4.0


def household_sizes(n: int, params: PopulationParameters, rng: np.random.Generator):
    """``n`` household sizes: one person and Poisson others, ``mean_household_size`` on
    average, at most ``MAX_HOUSEHOLD_SIZE``."""
    return np.minimum(1 + rng.poisson(params.mean_household_size - 1, n), MAX_HOUSEHOLD_SIZE)


def circumstances(size: np.ndarray, params: PopulationParameters, rng: np.random.Generator):
    """What households of these sizes live on and with, drawn from the documented shares:
    (on welfare, rank in the welfare cuts, employed, with a Japanese spouse, Japanese
    nationals). A household with a spouse and no children is of size 2; a lone person has no
    spouse; each child of a mixed household is Japanese with chance ``japanese_child_share``."""
    n = len(size)
    on_welfare = rng.random(n) < params.welfare_share
    welfare_cut_rank = rng.random(n).astype(np.float32)
    employed = rng.random(n) < params.employed_share
    japanese_spouse = (rng.random(n) < params.japanese_spouse_share) & (size >= 2)
    children = np.maximum(size - 2, 0)
    japanese_children = rng.binomial(children, params.japanese_child_share)
    japanese_nationals = np.where(japanese_spouse, 1 + japanese_children, 0)
    return on_welfare, welfare_cut_rank, employed, japanese_spouse, japanese_nationals


def soren_ties(mean: np.ndarray, params: PopulationParameters, rng: np.random.Generator):
    """Soren tie strengths, Beta around ``mean`` (kept within 0.01-0.99) with a + b =
    ``soren_tie_concentration``: float32."""
    mean = np.clip(mean, 0.01, 0.99)
    k = params.soren_tie_concentration
    return rng.beta(mean * k, (1 - mean) * k).astype(np.float32)


def owners(start: np.ndarray) -> np.ndarray:
    """The household each entry of a CSR network belongs to (``start``: its row pointer)."""
    return np.repeat(np.arange(len(start) - 1, dtype=np.int64), np.diff(start))


def tie_key(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """One number per undirected tie between households ``a`` and ``b`` of ``n`` (the same both
    ways)."""
    return np.minimum(a, b) * n + np.maximum(a, b)


def undirected_csr(source: np.ndarray, target: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The network of ``n`` households with a tie between each ``source`` and ``target``, both
    ways, as CSR arrays (row pointer int64, neighbours int32, sorted, no duplicate ties)."""
    both = np.concatenate([source, target]), np.concatenate([target, source])
    graph = sp.coo_array((np.ones(len(both[0]), dtype=np.int8), both), shape=(n, n)).tocsr()
    graph.sum_duplicates()
    graph.sort_indices()
    return graph.indptr.astype(np.int64), graph.indices.astype(np.int32)


def kin_ties(
    start: np.ndarray, neighbours: np.ndarray, share: float, rng: np.random.Generator
) -> np.ndarray:
    """Which ties are kin: each tie, with chance ``share``, the same both ways; one bool per
    entry of the CSR ``neighbours``."""
    n = len(start) - 1
    ties, entry_tie = np.unique(
        tie_key(owners(start), neighbours.astype(np.int64), n), return_inverse=True
    )
    return (rng.random(len(ties)) < share)[entry_tie]


def mixed_households(
    size: np.ndarray,
    japanese_spouse: np.ndarray,
    japanese_nationals: np.ndarray,
    params: PopulationParameters,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Households with a Japanese spouse drawn again with their own mean size
    (``mixed_household_size``): the couple and Poisson children, each child Japanese with
    chance ``japanese_child_share``. Returns the new sizes and numbers of Japanese nationals."""
    mixed = np.flatnonzero(japanese_spouse)
    children = rng.poisson(max(params.mixed_household_size - 2, 0.0), len(mixed))
    children = np.minimum(children, MAX_HOUSEHOLD_SIZE - 2)
    size, japanese_nationals = size.copy(), japanese_nationals.copy()
    size[mixed] = 2 + children
    japanese_nationals[mixed] = 1 + rng.binomial(children, params.japanese_child_share)
    return size, japanese_nationals


def small_world(
    n: int, degree: int, rewiring: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A Watts-Strogatz graph as CSR arrays (undirected, no self-loops, no duplicate ties).

    Households sit on a ring in community order, each tied to its ``degree // 2`` next
    neighbours; each tie is rewired to a random household with probability ``rewiring``.
    """
    half = min(degree // 2, (n - 1) // 2)
    source = np.repeat(np.arange(n), half)
    target = (source + np.tile(np.arange(1, half + 1), n)) % n
    rewire = rng.random(len(target)) < rewiring
    target[rewire] = rng.integers(0, n, int(rewire.sum()))
    keep = source != target
    return undirected_csr(source[keep], target[keep], n)


def next_generation(
    n: int,
    family_ties: np.ndarray,
    belief_prior: np.ndarray,
    params: PopulationParameters,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """When each household passes to its next generation, and what that generation believes
    and how tied it is in Japan (``generation_years``; 0: never, and the same attributes).

    The heads of 1955 are taken to be of evenly spread ages, so each household passes once at
    a month drawn uniformly within ``generation_years``: the young head, born in Japan, brings
    beliefs and family ties drawn like the first generation's, with the young generation's
    means (ASSUMPTION: the rates and means are not in the documents). A household passes only
    once in a run (the households the young set up beside their parents' are drawn apart, in
    ``formation.py``).
    """
    if params.generation_years <= 0:
        same = belief_prior.astype(np.float32), family_ties.astype(np.float32)
        return np.full(n, NEVER, dtype=np.int32), *same
    months = params.generation_years * 12
    turnover = np.floor(rng.random(n) * months).astype(np.int32)
    belief = beta_around(params.young_belief_prior_mean, BELIEF_CONCENTRATION, n, rng)
    family = beta_around(params.young_family_ties_mean, FAMILY_TIES_CONCENTRATION, n, rng)
    return turnover, belief.astype(np.float32), family.astype(np.float32)


def beta_around(mean: float, concentration: float, n: int, rng: np.random.Generator):
    """``n`` Beta draws with the given mean and a + b = ``concentration`` (a mean of 0 or 1 is
    nudged inside, where the Beta is defined)."""
    return rng.beta(concentration * mean + 1e-9, concentration * (1 - mean) + 1e-9, n)
