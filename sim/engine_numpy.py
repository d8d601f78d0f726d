"""The vectorised engine: every household of many replications in arrays (reps, households).

Each month, for every replication at once:

1. the policy of the month is read from the scenario's timeline;
2. beliefs move with propaganda and published news (shared by all replications while they
   depend on the household and the month only) and, once letters of hardship come, with the
   letters from neighbours who left (then per replication);
3. the propensity logit is computed with ``decision.py``; one uniform draw per household decides
   its move: settled -> intending, intending -> registered (when the programme is open) or back
   to settled, registered -> cancelled, cancelled -> settled again;
4. deportable households are deported where the scenario deports;
5. the month's sailing offers places to registered households first-come first-served until the
   ship capacity is full; each family defers to a later ship, withdraws at the confirmation of
   free will (cancelled) or sails;
6. neighbours' counts of engaged (registered or gone) and departed households are updated.

Replication k draws from its own stream, ``SeedSequence(seed).spawn`` child k of the replication
branch, so its results do not depend on how many replications run or how they are grouped. The
population is drawn once per run from the population branch of the same seed, so every
replication (and every scenario compared with the same seed) sees the same households.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tqdm import tqdm

from . import decision
from .decision import Policy
from .population import DETAINEE, RESIDENT, Population, generate_population
from .result import (
    CANCELLED,
    DEPARTED,
    DEPORTED,
    GROUP_METRICS,
    INTENDING,
    REGISTERED,
    SETTLED,
    STATE_NAMES,
    STOCK_METRICS,
    RunResult,
)
from .schema import Scenario
from .streams import population_stream, replication_streams

# Bytes a run holds per household and replication, and per household for the population, rounded
# up from the engine benchmark (docs/generated/benchmarks/engine.md: 47 and 67 at 20 replications).
RUN_BYTES_PER_HOUSEHOLD, POPULATION_BYTES_PER_HOUSEHOLD = 64, 80


def memory_needed(scenario: Scenario, replications: int, scale: float) -> int:
    """About how many bytes ``simulate`` needs for a run (to refuse one that cannot fit before it
    starts)."""
    p = scenario.population
    households = p.people * scale / p.mean_household_size
    return int(
        households * (POPULATION_BYTES_PER_HOUSEHOLD + RUN_BYTES_PER_HOUSEHOLD * replications)
    )


def simulate(
    scenario: Scenario,
    seed: int,
    replications: int | Sequence[int],
    scale: float = 1.0,
    population: Population | None = None,
    progress: bool = False,
    check_invariants: bool = False,
) -> RunResult:
    """Run replications of a scenario. ``replications`` is a count (0..n-1) or a list of numbers.

    ``check_invariants`` recounts every state from scratch each month and compares it with the
    running stocks (slow; for tests).
    """
    reps = list(range(replications)) if isinstance(replications, int) else list(replications)
    if population is None:
        population = generate_population(scenario.population, scale, population_stream(seed))
    result = RunResult.empty(scenario.months, reps, population.households, population.people)
    engine = _Engine(scenario, population, replication_streams(seed, reps), scale, result.metrics)
    for t in tqdm(
        range(len(result.months)),
        desc=scenario.name,
        unit="month",
        disable=not progress,
        leave=False,
    ):
        engine.step(t)
        if check_invariants:
            engine.check_stocks()
    return result


class _Engine:
    """Monthly state of R replications; ``step(t)`` advances all of them by one month.

    The hot loop touches every household of every replication a few times a month: the logit,
    the intend probability and the draw. Everything else works on index lists of the few
    households that are intending, registered, or moving this month.
    """

    def __init__(
        self,
        scenario: Scenario,
        pop: Population,
        streams: list[np.random.Generator],
        scale: float,
        recorded: dict[str, np.ndarray],
    ):
        """``recorded``: the metrics to fill in, (replications, months) each (RunResult.empty)."""
        self.scenario, self.pop, self.streams, self.scale = scenario, pop, streams, scale
        self.w, self.p = scenario.decision, scenario.process
        self.timeline = scenario.timeline()
        R, H = len(streams), pop.households
        self.R, self.H = R, H

        self.state = np.full((R, H), SETTLED, dtype=np.int8)
        self.registered_month = np.zeros((R, H), dtype=np.int16)
        # Kept only where a mechanism needs them: whether a registered family is ready to sail,
        # and how much it doubted when it registered.
        self.ready = np.ones((R, H), dtype=bool) if self.p.ready_share < 1 else None
        anchored = self.p.cancel_anchor > 0
        self.doubt_when_registered = np.zeros((R, H), dtype=np.float32) if anchored else None
        # Neighbour counts are float32 (exact for whole numbers) to enter the logit (engaged) and
        # the letters without a cast. Letter sources are departed neighbours, each weighted by
        # how much its letters are still remembered (whole numbers while letters never fade).
        self.engaged_neighbours = np.zeros((R, H), dtype=np.float32)
        self.letter_sources = np.zeros((R, H), dtype=np.float32)
        self.logit = np.empty((R, H), dtype=np.float32)
        self.chance = np.empty((R, H), dtype=np.float32)
        self.draws = np.empty((R, H), dtype=np.float32)
        self.belief = pop.belief_prior.astype(np.float32)

        self.size = pop.size.astype(np.int64)
        self.per_neighbour = decision.peer_weight(pop.degree, self.w)
        self.deportable = np.flatnonzero(pop.legal_status != RESIDENT)
        self.impoverished = pop.impoverished
        self.features = decision.Features.of(pop, scenario.population.destitution_deportation_fear)
        self.retention = decision.letter_retention(self.p)
        self.trust = decision.letter_trust(self.features.soren_tie, self.p)

        self.stocks = np.zeros((R, len(STATE_NAMES)), dtype=np.int64)
        self.stocks[:, SETTLED] = pop.people
        self.recorded = recorded
        self.groups = pop.departure_groups()

    # -- one month --------------------------------------------------------------------------

    def step(self, t: int) -> None:
        policy = Policy.at(self.timeline, t)
        w, p, state = self.w, self.p, self.state
        rec = {name: values[:, t] for name, values in self.recorded.items()}

        if self.retention < 1:
            self.letter_sources *= self.retention
        letters = None
        if policy.bad_news > 0:
            heard = decision.hearsay_letters(self.letter_sources, p.hearsay)  # (R, 1)
            letters = decision.letters_received(
                self.letter_sources, policy.bad_news, heard, self.trust
            )
            if self.belief.ndim == 1:  # one row shared by the replications until letters come
                self.belief = np.repeat(self.belief[np.newaxis], self.R, axis=0)
        self.belief = decision.updated_belief(
            self.belief, self.features.soren_tie, policy, p, letters, out=self.belief
        )
        base = decision.population_logit(self.features, self.belief, policy, w)
        logit = decision.network_logit(
            base, self.engaged_neighbours, self.per_neighbour, out=self.logit
        )
        for r, stream in enumerate(self.streams):
            stream.random(dtype=np.float32, out=self.draws[r])
        u = self.draws

        # Settled households: the bulk, decided over the whole array.
        chance = decision.intend_probability(logit, out=self.chance)
        new_intending = self._where((u < chance) & (state == SETTLED))
        # Intending and registered households: few, decided on their index lists.
        intending = self._where(state == INTENDING)
        registered = self._where(state == REGISTERED)
        doubt_intending = decision.doubt(logit[intending], p.doubt_threshold)
        doubt_registered = decision.doubt(logit[registered], p.doubt_threshold)
        u_intending = u[intending]
        revert = decision.reverts(u_intending, doubt_intending, p)
        register = decision.registers(u_intending, policy, p, self.impoverished[intending[1]])
        anchor = self.doubt_when_registered
        cancel = decision.cancels(
            u[registered], doubt_registered, p, None if anchor is None else anchor[registered]
        )
        if p.reconsider_rate > 0:
            reconsider = self._where(decision.reconsiders(u, p) & (state == CANCELLED))

        self._move(new_intending, SETTLED, INTENDING, rec["new_intending"])
        self._move(_pick(intending, revert), INTENDING, SETTLED)
        joined = self._move(_pick(intending, register), INTENDING, REGISTERED, rec["registrations"])
        self.registered_month[joined] = t
        if anchor is not None:
            anchor[joined] = doubt_intending[register]
        if self.ready is not None:
            self.ready[registered] |= decision.becomes_ready(u[registered], p)
            self.ready[joined] = decision.ready_at_registration(u_intending[register], p)
        self._spread(self.engaged_neighbours, joined, +1.0)
        quit_ = self._move(_pick(registered, cancel), REGISTERED, CANCELLED, rec["cancellations"])
        self._spread(self.engaged_neighbours, quit_, -1.0)
        if p.reconsider_rate > 0:
            self._move(reconsider, CANCELLED, SETTLED)

        self._deport(policy, rec)
        if policy.programme_open and policy.ship_capacity > 0:
            # Those registered before this month who neither cancelled nor were deported.
            still = state[registered] == REGISTERED
            self._sail(t, policy, _pick(registered, still), doubt_registered[still], rec)
        for i, name in enumerate(STOCK_METRICS):
            rec[name][:] = self.stocks[:, i]

    def _where(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) of the true entries, rows ascending; faster than 2-D np.nonzero."""
        flat = np.flatnonzero(mask)
        return flat // self.H, flat % self.H

    def _move(self, moving, source: int, target: int, flow: np.ndarray | None = None):
        """Move households (rows, cols) from ``source`` to ``target`` and count the persons."""
        rows, cols = moving
        if len(rows) == 0:
            return rows, cols
        self.state[rows, cols] = target
        persons = np.bincount(rows, weights=self.size[cols], minlength=self.R).astype(np.int64)
        self.stocks[:, source] -= persons
        self.stocks[:, target] += persons
        if flow is not None:
            flow += persons
        return rows, cols

    def _spread(self, counts: np.ndarray, moved, delta: float) -> None:
        """Tell every network neighbour of the moved households: counts[r, neighbour] += delta."""
        rows, cols = moved
        if len(rows) == 0:
            return
        start = self.pop.neighbour_start
        degree = start[cols + 1] - start[cols]
        total = int(degree.sum())
        first = np.repeat(start[cols] - np.cumsum(degree) + degree, degree)
        neighbours = self.pop.neighbours[first + np.arange(total)]
        flat = np.repeat(rows, degree).astype(np.int64) * self.H + neighbours
        np.add.at(counts.reshape(-1), flat, delta)

    def _deport(self, policy: Policy, rec: dict) -> None:
        chance = decision.deportation_probability(policy, self.p)
        if chance <= 0 or len(self.deportable) == 0:
            return
        h = self.deportable
        for r, stream in enumerate(self.streams):
            hit = h[(self.state[r, h] <= REGISTERED) & (stream.random(len(h)) < chance)]
            for source in (SETTLED, INTENDING, REGISTERED):
                of_source = hit[self.state[r, hit] == source]
                moved = self._move(
                    (np.full(len(of_source), r), of_source), source, DEPORTED, rec["deported"]
                )
                if source == REGISTERED:
                    self._spread(self.engaged_neighbours, moved, -1.0)

    def _sail(self, t: int, policy: Policy, waiting, doubt_waiting: np.ndarray, rec: dict) -> None:
        capacity = int(round(policy.ship_capacity * self.scale))
        rec["capacity"][:] = capacity
        rows, cols = waiting
        bounds = np.searchsorted(rows, np.arange(self.R + 1))
        for r, stream in enumerate(self.streams):
            mine = slice(bounds[r], bounds[r + 1])
            households, doubts = cols[mine], doubt_waiting[mine]
            if len(households) == 0:
                continue
            # First come, first served; a random order among those who registered the same month.
            order = np.lexsort(
                (stream.random(len(households)), self.registered_month[r, households])
            )
            boarding, deferred = self._board(r, stream, households[order], doubts[order], capacity)
            boarding = order[boarding]
            rec["deferrals"][r] += self.size[households[order[deferred]]].sum()
            withdraw = stream.random(len(boarding)) < decision.withdrawal_probability(
                doubts[boarding], policy.confirmation_privacy, self.p
            )
            withdrawn, gone = households[boarding[withdraw]], households[boarding[~withdraw]]

            moved = self._move(
                (np.full(len(withdrawn), r), withdrawn), REGISTERED, CANCELLED, rec["cancellations"]
            )
            rec["confirmation_withdrawals"][r] += self.size[withdrawn].sum()
            self._spread(self.engaged_neighbours, moved, -1.0)

            moved = self._move(
                (np.full(len(gone), r), gone), REGISTERED, DEPARTED, rec["departures"]
            )
            rec["departing_households"][r] += len(gone)
            rec["deportee_departures"][r] += self.pop.deportees[gone].sum()
            rec["detainee_departures"][r] += (self.pop.legal_status[gone] == DETAINEE).sum()
            rec["japanese_spouse_departures"][r] += self.pop.japanese_spouse[gone].sum()
            rec["japanese_national_departures"][r] += self.pop.japanese_nationals[gone].sum()
            for name, persons in zip(GROUP_METRICS, self.groups[gone].sum(axis=0)):
                rec[name][r] += persons
            self._spread(self.letter_sources, moved, 1.0)

    def _board(
        self,
        r: int,
        stream: np.random.Generator,
        queue: np.ndarray,
        doubts: np.ndarray,
        capacity: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(boarding, deferring): masks over the queue. Places go in queue order to the families
        that are ready and take them, while they fit; a family not ready is passed over without
        being offered one; a family that defers while places are left (its turn came) lets its
        place go to the next."""
        sizes = self.size[queue]
        taking = np.ones(len(queue), dtype=bool) if self.ready is None else self.ready[r, queue]
        defer = np.zeros(len(queue), dtype=bool)
        if self.p.defer_rate > 0:
            defer = decision.defers(stream.random(len(queue)), doubts, self.p) & taking
            taking = taking & ~defer
        taken = np.cumsum(np.where(taking, sizes, 0))
        before = taken - np.where(taking, sizes, 0)  # places taken before the family's turn
        return taking & (taken <= capacity), defer & (before < capacity)

    def check_stocks(self) -> None:
        """Recount persons in every state from scratch; they must equal the running stocks."""
        for s in range(len(STATE_NAMES)):
            recount = ((self.state == s) * self.size).sum(axis=1)
            if not np.array_equal(recount, self.stocks[:, s]):
                raise AssertionError(
                    f"stock of {STATE_NAMES[s]} drifted: {recount} vs {self.stocks[:, s]}"
                )


def _pick(
    indices: tuple[np.ndarray, np.ndarray], mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    return indices[0][mask], indices[1][mask]
