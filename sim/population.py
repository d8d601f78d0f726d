"""The synthetic population: households of Korean residents of Japan in 1955.

Each household gets its attributes from the documented shares and the scenario's parameters
(see ``PopulationParameters`` in ``schema.py``): size, Chosen/Kankoku registration, welfare
receipt, work, legal status (settled, parolee, Omura detainee, long-sentence convict), Japanese
spouse and the number of Japanese nationals, Soren tie strength, family ties, initial belief
about the North, and its neighbours in a small-world social network (communities on a ring, a few
ties rewired at random), some of them kin. The households the young form later in the run
(``formation.py``) are drawn with them, each with the month it forms (``formed_month``).
All attributes are fixed for the run; what changes month by month lives in the engines.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import scipy.sparse as sp

from .draws import (
    BELIEF_CONCENTRATION,
    FAMILY_TIES_CONCENTRATION,
    NEVER,
    beta_around,
    circumstances,
    household_sizes,
    kin_ties,
    mixed_households,
    next_generation,
    owners,
    small_world,
    soren_ties,
)
from .formation import young_households
from .schema import PopulationParameters

RESIDENT, PAROLEE, DETAINEE, CONVICT = 0, 1, 2, 3

# Who the persons of a household are, for the after-arrival stage: every person is in exactly
# one group. Deportees are only drawn in households without a Japanese spouse.
DEPARTURE_GROUPS = (
    "korean",  # Korean members of a household with no Japanese spouse, deportees apart
    "deportee",  # persons under a deportation order (parolees, detainees, convicts)
    "japanese_spouse",  # the Japanese spouse of a mixed household
    "japanese_child",  # children of a mixed household holding Japanese nationality
    "japanese_family_korean",  # the Korean members of a mixed household
)


@dataclass(frozen=True)
class Population:
    """Households as parallel arrays (one entry per household) plus a CSR neighbour list."""

    size: np.ndarray  # int16, persons
    japanese_nationals: np.ndarray  # int16, persons holding Japanese nationality
    deportees: np.ndarray  # int16, persons under a deportation order (0 or 1)
    legal_status: np.ndarray  # int8, RESIDENT / PAROLEE / DETAINEE / CONVICT
    kankoku: np.ndarray  # bool
    on_welfare: np.ndarray  # bool
    welfare_cut_rank: np.ndarray  # float32 in [0, 1): payments cut while rank < cut share
    employed: np.ndarray  # bool
    japanese_spouse: np.ndarray  # bool
    soren_tie: np.ndarray  # float32 in [0, 1]
    family_ties: np.ndarray  # float32 in [0, 1]
    belief_prior: np.ndarray  # float32 in [0, 1]
    neighbour_start: np.ndarray  # int64, CSR row pointer (households + 1)
    neighbours: np.ndarray  # int32, CSR column indices
    kin: np.ndarray  # bool, one per entry of ``neighbours``: the tie is kin (both ways alike)
    # The next generation (``generation``): the month after the start at which the household
    # passes to it (NEVER: not in any run), and its belief and family ties.
    turnover_month: np.ndarray  # int32
    young_belief_prior: np.ndarray  # float32
    young_family_ties: np.ndarray  # float32
    # The month after the start at which the household forms: 0 for the households of the
    # start, later for those the young form (``formation.py``), which come after them.
    formed_month: np.ndarray  # int32

    @property
    def households(self) -> int:
        return len(self.size)

    @property
    def people(self) -> int:
        """Persons of every household, those the young form later included."""
        return int(self.size.sum(dtype=np.int64))

    @property
    def people_at_start(self) -> int:
        return int(self.size[self.formed_month == 0].sum(dtype=np.int64))

    @property
    def degree(self) -> np.ndarray:
        return np.diff(self.neighbour_start).astype(np.int32)

    @property
    def impoverished(self) -> np.ndarray:
        return self.on_welfare | ~self.employed

    def neighbours_of(self, household: int) -> np.ndarray:
        return self.neighbours[
            self.neighbour_start[household] : self.neighbour_start[household + 1]
        ]

    def turnovers(self, months: int) -> dict[int, np.ndarray]:
        """The households passing to their next generation in each month of a run of
        ``months`` months, {month index: households}: at that month the engines give them the
        young generation's belief and family ties."""
        return _by_month(self.turnover_month, months)

    def formations(self, months: int) -> dict[int, np.ndarray]:
        """The households the young form in each month of a run of ``months`` months, {month
        index: households}: at that month they join the settled."""
        return _by_month(np.where(self.formed_month > 0, self.formed_month, NEVER), months)

    def formed_degree(self) -> np.ndarray:
        """Each household's neighbours formed at the start (its degree while no household of
        the young has formed): int32."""
        formed = (self.formed_month == 0)[self.neighbours]
        owner = owners(self.neighbour_start)
        return np.bincount(owner[formed], minlength=self.households).astype(np.int32)

    def degree_changes(self, months: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """For each month of a run of ``months`` months in which households of the young form:
        the households with a neighbour formed that month (ascending) and how many of their
        neighbours are formed by the end of it, int32 ({month index: (households, counts)};
        ``formed_degree`` before any)."""
        month = self.formed_month[self.neighbours]  # when each tie's neighbour forms (0: start)
        later = np.flatnonzero((month > 0) & (month < months))
        if len(later) == 0:
            return {}
        owner, month = owners(self.neighbour_start)[later], month[later]
        order = np.lexsort((month, owner))  # each household's ties, by the month they form
        owner, month = owner[order], month[order]
        # the formed neighbours of each household after each of its ties forms: those at the
        # start and its ties formed so far (its place among its ties, owners ascending); the
        # last of a month is its count after that month
        so_far = np.arange(len(owner)) - np.searchsorted(owner, owner) + 1
        counts = self.formed_degree()[owner] + so_far
        last = np.r_[(owner[1:] != owner[:-1]) | (month[1:] != month[:-1]), True]
        owner, month, counts = owner[last], month[last], counts[last].astype(np.int32)
        by_month = np.argsort(month, kind="stable")  # households ascending within each month
        owner, month, counts = owner[by_month], month[by_month], counts[by_month]
        starts = np.flatnonzero(np.r_[True, month[1:] != month[:-1]])
        return {
            int(month[i]): (h, c)
            for i, h, c in zip(starts, np.split(owner, starts[1:]), np.split(counts, starts[1:]))
        }

    def kin_network(self) -> tuple[np.ndarray, np.ndarray]:
        """The kin ties alone as CSR arrays (row pointer, neighbours), in the network's order."""
        start = np.zeros(self.households + 1, dtype=np.int64)
        owner = owners(self.neighbour_start)
        np.cumsum(np.bincount(owner[self.kin], minlength=self.households), out=start[1:])
        return start, self.neighbours[self.kin]

    def kin_of(self, household: int) -> np.ndarray:
        start, end = self.neighbour_start[household], self.neighbour_start[household + 1]
        return self.neighbours[start:end][self.kin[start:end]]

    def adjacency(self) -> sp.csr_array:
        n = self.households
        data = np.ones(len(self.neighbours), dtype=np.int8)
        return sp.csr_array((data, self.neighbours, self.neighbour_start), shape=(n, n))

    def departure_groups(self) -> np.ndarray:
        """Persons of each household by ``DEPARTURE_GROUPS``: int64 (households, 5); each row sums
        to the household's size."""
        size = self.size.astype(np.int64)
        nationals = self.japanese_nationals.astype(np.int64)
        deportees = self.deportees.astype(np.int64)
        mixed = self.japanese_spouse
        return np.stack(
            [
                np.where(mixed, 0, size - deportees),
                np.where(mixed, 0, deportees),
                mixed.astype(np.int64),
                np.where(mixed, nationals - 1, 0),
                np.where(mixed, size - nationals, 0),
            ],
            axis=1,
        )

    def nbytes(self) -> int:
        return sum(getattr(self, f.name).nbytes for f in fields(self))


def generate_population(
    params: PopulationParameters, scale: float, rng: np.random.Generator
) -> Population:
    """Draw a population of about ``params.people * scale`` persons at the start, and the
    households the young form later (``population.young_households``)."""
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    n = max(int(round(params.people * scale / params.mean_household_size)), 2)

    size = household_sizes(n, params, rng)
    kankoku = rng.random(n) < params.kankoku_share
    on_welfare, welfare_cut_rank, employed, japanese_spouse, japanese_nationals = circumstances(
        size, params, rng
    )

    # Persons under deportation orders: one per household, drawn among Korean-only households.
    legal_status = np.full(n, RESIDENT, dtype=np.int8)
    candidates = np.flatnonzero(~japanese_spouse)
    n_detainees = int(round(params.detainees * scale))
    n_parolees = int(round(params.parolees * scale))
    chosen = rng.choice(
        candidates, size=min(n_detainees + n_parolees, len(candidates)), replace=False
    )
    legal_status[chosen[:n_detainees]] = DETAINEE
    legal_status[chosen[n_detainees:]] = PAROLEE

    # Soren ties cluster by community: a community mean, then households around it.
    community = np.arange(n) // params.community_size
    tie_mean = np.where(kankoku, params.soren_tie_kankoku, params.soren_tie_chosen)
    community_shift = rng.normal(0.0, 0.1, community[-1] + 1)[community]
    soren_tie = soren_ties(tie_mean + community_shift, params, rng)

    family_ties = beta_around(params.family_ties_mean, FAMILY_TIES_CONCENTRATION, n, rng)
    belief_prior = beta_around(params.belief_prior_mean, BELIEF_CONCENTRATION, n, rng)

    start, nbrs = small_world(n, params.network_degree, params.network_rewiring, rng)

    # Long-sentence convicts among Kankoku permanent residents (document 000), drawn last so
    # that adding them left every other attribute of a seeded population as it was.
    residents = np.flatnonzero(kankoku & ~japanese_spouse & (legal_status == RESIDENT))
    n_convicts = min(int(round(params.long_sentence_convicts * scale)), len(residents))
    legal_status[rng.choice(residents, size=n_convicts, replace=False)] = CONVICT
    deportees = (legal_status != RESIDENT).astype(np.int16)
    # Drawn after every other attribute (as the convicts are), so that a population drawn with
    # the defaults (no kin, mixed households like any other, no next generation, no household
    # formed by the young) is the one drawn before they existed.
    kin = kin_ties(start, nbrs, params.kin_share, rng)
    if params.mixed_household_size > 0:
        size, japanese_nationals = mixed_households(
            size, japanese_spouse, japanese_nationals, params, rng
        )
    turnover, young_belief, young_ties = next_generation(n, family_ties, belief_prior, params, rng)
    population = Population(
        size=size.astype(np.int16),
        japanese_nationals=japanese_nationals.astype(np.int16),
        deportees=deportees,
        legal_status=legal_status,
        kankoku=kankoku,
        on_welfare=on_welfare,
        welfare_cut_rank=welfare_cut_rank,
        employed=employed,
        japanese_spouse=japanese_spouse,
        soren_tie=soren_tie,
        family_ties=family_ties.astype(np.float32),
        belief_prior=belief_prior.astype(np.float32),
        neighbour_start=start,
        neighbours=nbrs,
        kin=kin,
        turnover_month=turnover,
        young_belief_prior=young_belief,
        young_family_ties=young_ties,
        formed_month=np.zeros(n, dtype=np.int32),
    )
    if params.young_households > 0:
        population = with_young_households(population, params, rng)
    return population


def with_young_households(
    base: Population, params: PopulationParameters, rng: np.random.Generator
) -> Population:
    """``base`` (the households of the start) and, after them, the households the young form
    from them (``formation.young_households``), tied into the network."""
    young = young_households(
        base.kankoku,
        base.soren_tie,
        base.neighbour_start,
        base.neighbours,
        base.kin,
        params,
        rng,
    )
    m = len(young.size)
    own_generation = NEVER  # formed by the young: they are the next generation already
    joined = {
        "size": young.size.astype(np.int16),
        "japanese_nationals": young.japanese_nationals.astype(np.int16),
        "deportees": np.zeros(m, dtype=np.int16),  # the orders were of persons of the start
        "legal_status": np.full(m, RESIDENT, dtype=np.int8),
        "kankoku": young.kankoku,
        "on_welfare": young.on_welfare,
        "welfare_cut_rank": young.welfare_cut_rank,
        "employed": young.employed,
        "japanese_spouse": young.japanese_spouse,
        "soren_tie": young.soren_tie,
        "family_ties": young.family_ties,
        "belief_prior": young.belief_prior,
        "turnover_month": np.full(m, own_generation, dtype=np.int32),
        "young_belief_prior": young.belief_prior,
        "young_family_ties": young.family_ties,
        "formed_month": young.formed_month,
    }
    columns = {
        name: np.concatenate([getattr(base, name), values]) for name, values in joined.items()
    }
    return Population(
        **columns,
        neighbour_start=young.neighbour_start,
        neighbours=young.neighbours,
        kin=young.kin,
    )


def _by_month(month_of: np.ndarray, months: int) -> dict[int, np.ndarray]:
    """{month index: the households whose month it is}, for the months before ``months``."""
    due = np.flatnonzero(month_of < months)
    if len(due) == 0:
        return {}
    order = due[np.argsort(month_of[due], kind="stable")]
    months_of = month_of[order]
    starts = np.flatnonzero(np.r_[True, months_of[1:] != months_of[:-1]])
    return {int(months_of[i]): group for i, group in zip(starts, np.split(order, starts[1:]))}
