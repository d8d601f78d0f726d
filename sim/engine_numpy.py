"""The vectorised engine: every household of many replications in arrays of shape (reps, households).

Each month, for every replication at once:

1. the policy of the month is read from the scenario's timeline;
2. beliefs move with propaganda and published news (shared by all replications, since they
   depend on the household and the month only), and remembered letters fade and accumulate from
   neighbours who left (per replication);
3. the propensity logit is computed with ``decision.py``; one uniform draw per household decides
   its move: settled -> intending, intending -> registered (when the programme is open) or back
   to settled, registered -> cancelled;
4. deportable households are deported where the scenario deports;
5. the month's sailing takes registered households first-come first-served until the ship
   capacity is full; each family passes the confirmation of free will or withdraws (cancelled);
6. neighbours' counts of engaged (registered or gone) and departed households are updated.

Replication k draws from its own stream, ``SeedSequence(seed).spawn`` child k of the replication
branch, so its results do not depend on how many replications run or how they are grouped. The
population is drawn once per run from the population branch of the same seed, so every
replication (and every scenario compared with the same seed) sees the same households.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from tqdm import tqdm

from . import decision
from .decision import Policy
from .population import RESIDENT, Population, generate_population
from .scenario import Scenario

SETTLED, INTENDING, REGISTERED, CANCELLED, DEPARTED, DEPORTED = range(6)
STATE_NAMES = ("settled", "intending", "registered", "cancelled", "departed", "deported")

FLOW_METRICS = (
    "departures",  # persons who sailed this month
    "departing_households",
    "registrations",  # persons who registered at a Red Cross window
    "cancellations",  # persons who cancelled while waiting or withdrew at the confirmation
    "confirmation_withdrawals",  # persons who withdrew at the confirmation of free will
    "deportee_departures",  # persons under deportation orders among those who sailed
    "japanese_national_departures",  # Japanese nationals among those who sailed
    "new_intending",  # persons who came to want to leave this month
    "deported",  # persons deported to South Korea or a third country
    "capacity",  # places on this month's sailings
)
STOCK_METRICS = tuple(f"{name}_stock" for name in STATE_NAMES)  # persons in each state
METRICS = FLOW_METRICS + STOCK_METRICS

_POPULATION_BRANCH, _REPLICATION_BRANCH = 0, 1


def population_stream(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_POPULATION_BRANCH,)))


def replication_streams(seed: int, replications: Sequence[int]) -> list[np.random.Generator]:
    """Generators for the given replication numbers: ``spawn`` children of the replication branch.

    ``SeedSequence(seed, spawn_key=(1,)).spawn(n)[k]`` is the same stream for every n > k, so
    replication k is the same whichever set of replications a worker is asked for.
    """
    replications = list(replications)
    branch = np.random.SeedSequence(seed, spawn_key=(_REPLICATION_BRANCH,))
    children = branch.spawn(max(replications) + 1) if replications else []
    return [np.random.default_rng(children[k]) for k in replications]


@dataclass(frozen=True)
class RunResult:
    """Monthly metrics of a run: ``metrics[name]`` has shape (replications, months)."""

    months: np.ndarray  # absolute month numbers (year * 12 + month - 1)
    replications: np.ndarray  # replication numbers, one per row
    metrics: dict[str, np.ndarray]
    households: int
    people: int


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
    engine = _Engine(scenario, population, replication_streams(seed, reps), scale)
    months = scenario.months
    for t in tqdm(range(len(months)), desc=scenario.name, unit="month", disable=not progress,
                  leave=False):
        engine.step(t)
        if check_invariants:
            engine.check_stocks()
    return RunResult(
        months=months,
        replications=np.array(reps),
        metrics=engine.recorded,
        households=population.households,
        people=population.people,
    )


class _Engine:
    """Monthly state of R replications; ``step(t)`` advances all of them by one month."""

    def __init__(self, scenario: Scenario, pop: Population, streams: list[np.random.Generator],
                 scale: float):
        self.scenario, self.pop, self.streams, self.scale = scenario, pop, streams, scale
        self.w, self.p = scenario.decision, scenario.process
        self.timeline = scenario.timeline()
        R, H, M = len(streams), pop.households, len(scenario.months)
        self.R, self.H = R, H

        self.state = np.full((R, H), SETTLED, dtype=np.int8)
        self.registered_month = np.zeros((R, H), dtype=np.int16)
        self.engaged_neighbours = np.zeros((R, H), dtype=np.int16)
        self.departed_neighbours = np.zeros((R, H), dtype=np.int16)
        self.letters = np.zeros((R, H), dtype=np.float32)
        self.letters_active = False
        self.draws = np.empty((R, H), dtype=np.float32)
        self.belief = pop.belief_prior.astype(np.float64)

        self.size = pop.size.astype(np.int64)
        degree = pop.degree
        self.inverse_degree = np.where(degree > 0, 1.0 / np.maximum(degree, 1), 0.0).astype(np.float32)
        self.deportable = np.flatnonzero(pop.legal_status != RESIDENT)

        self.stocks = np.zeros((R, len(STATE_NAMES)), dtype=np.int64)
        self.stocks[:, SETTLED] = pop.people
        self.recorded = {name: np.zeros((R, M), dtype=np.int64) for name in METRICS}

    # -- one month --------------------------------------------------------------------------

    def step(self, t: int) -> None:
        policy = Policy.at(self.timeline, t)
        w, p, pop = self.w, self.p, self.pop
        rec = {name: values[:, t] for name, values in self.recorded.items()}

        self.belief = decision.updated_belief(self.belief, pop.soren_tie, policy, p)
        base = decision.population_logit(pop, self.belief, policy, w, pop_fear(self.scenario))
        if policy.bad_news > 0 or self.letters_active:
            self.letters = decision.remembered_letters(
                self.letters, self.departed_neighbours, np.float32(policy.bad_news),
                np.float32(p.letter_memory),
            ).astype(np.float32, copy=False)
            self.letters_active = True
        logit = decision.network_logit(
            base, self.engaged_neighbours, w.peers * self.inverse_degree, self.letters, w
        ).astype(np.float32, copy=False)
        p_intend = decision.intend_probability(logit)
        doubt = decision.doubt(logit, np.float32(p.doubt_threshold))

        for r, stream in enumerate(self.streams):
            stream.random(dtype=np.float32, out=self.draws[r])
        u = self.draws
        state = self.state

        to_intend = (state == SETTLED) & (u < p_intend)
        intending = state == INTENDING
        to_revert = intending & (u > 1.0 - p.revert_rate * doubt)
        if policy.programme_open:
            eligible = pop.impoverished if policy.impoverished_only else True
            to_register = intending & (u < p.register_rate) & eligible
        else:
            to_register = np.zeros_like(intending)
        to_cancel = (state == REGISTERED) & (u < p.cancel_rate * doubt)

        self._move(to_intend, SETTLED, INTENDING, rec["new_intending"])
        self._move(to_revert, INTENDING, SETTLED)
        registered = self._move(to_register, INTENDING, REGISTERED, rec["registrations"])
        self.registered_month[registered] = t
        self._spread(self.engaged_neighbours, registered, +1)
        cancelled = self._move(to_cancel, REGISTERED, CANCELLED, rec["cancellations"])
        self._spread(self.engaged_neighbours, cancelled, -1)

        self._deport(policy, rec)
        if policy.programme_open and policy.ship_capacity > 0:
            self._sail(t, policy, doubt, rec)
        for i, name in enumerate(STOCK_METRICS):
            rec[name][:] = self.stocks[:, i]

    def _move(self, mask: np.ndarray, source: int, target: int, flow: np.ndarray | None = None):
        """Move the households in ``mask`` from ``source`` to ``target``; return their indices."""
        rows, cols = np.nonzero(mask)
        self.state[rows, cols] = target
        return self._account(rows, cols, source, target, flow)

    def _account(self, rows, cols, source, target, flow=None):
        persons = np.bincount(rows, weights=self.size[cols], minlength=self.R).astype(np.int64)
        self.stocks[:, source] -= persons
        self.stocks[:, target] += persons
        if flow is not None:
            flow += persons
        return rows, cols

    def _spread(self, counts: np.ndarray, moved: tuple[np.ndarray, np.ndarray], delta: int) -> None:
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
            at_risk = self.state[r, h] <= REGISTERED
            hit = h[at_risk & (stream.random(len(h)) < chance)]
            if len(hit) == 0:
                continue
            rows = np.full(len(hit), r)
            for source in (SETTLED, INTENDING, REGISTERED):
                of_source = hit[self.state[r, hit] == source]
                if source == REGISTERED:
                    self._spread(self.engaged_neighbours, (rows[: len(of_source)], of_source), -1)
                self.state[r, of_source] = DEPORTED
                self._account(rows[: len(of_source)], of_source, source, DEPORTED, rec["deported"])

    def _sail(self, t: int, policy: Policy, doubt: np.ndarray, rec: dict) -> None:
        capacity = int(round(policy.ship_capacity * self.scale))
        rec["capacity"][:] = capacity
        for r, stream in enumerate(self.streams):
            waiting = np.flatnonzero((self.state[r] == REGISTERED) & (self.registered_month[r] < t))
            if len(waiting) == 0:
                continue
            # First come, first served; a random order among those who registered the same month.
            order = np.lexsort((stream.random(len(waiting)), self.registered_month[r, waiting]))
            queue = waiting[order]
            boarding = queue[np.cumsum(self.size[queue]) <= capacity]
            withdraw = stream.random(len(boarding)) < decision.withdrawal_probability(
                doubt[r, boarding], policy.confirmation_privacy, self.p
            )
            rows = np.full(len(boarding), r)
            withdrawn, gone = boarding[withdraw], boarding[~withdraw]

            self.state[r, withdrawn] = CANCELLED
            self._account(rows[: len(withdrawn)], withdrawn, REGISTERED, CANCELLED, rec["cancellations"])
            rec["confirmation_withdrawals"][r] += self.size[withdrawn].sum()
            self._spread(self.engaged_neighbours, (rows[: len(withdrawn)], withdrawn), -1)

            self.state[r, gone] = DEPARTED
            self._account(rows[: len(gone)], gone, REGISTERED, DEPARTED, rec["departures"])
            rec["departing_households"][r] += len(gone)
            rec["deportee_departures"][r] += self.pop.deportees[gone].sum()
            rec["japanese_national_departures"][r] += self.pop.japanese_nationals[gone].sum()
            self._spread(self.departed_neighbours, (rows[: len(gone)], gone), +1)

    def check_stocks(self) -> None:
        """Recount persons in every state from scratch; they must equal the running stocks."""
        for s in range(len(STATE_NAMES)):
            recount = ((self.state == s) * self.size).sum(axis=1)
            if not np.array_equal(recount, self.stocks[:, s]):
                raise AssertionError(f"stock of {STATE_NAMES[s]} drifted: {recount} vs {self.stocks[:, s]}")


def pop_fear(scenario: Scenario) -> float:
    return scenario.population.destitution_deportation_fear
