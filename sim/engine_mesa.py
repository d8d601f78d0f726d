"""The Mesa engine: one agent per household, the readable reference of the model.

``RepatriationModel`` is a Mesa 3.5 ``Model`` holding one ``Household`` agent per household of
the same synthetic population the numpy engine uses, placed on a Mesa ``Network`` built from the
population's social network. Each month:

* every household decides (``shuffle_do("decide")``) from the state at the start of the month:
  it updates its belief with propaganda and letters and computes its propensity with the very
  functions of ``sim/decision.py`` the numpy engine calls, then draws its move;
* every household then acts on its decision (``do("advance")``), telling its network
  neighbours when it registers or cancels;
* the state deports where the scenario deports, and the month's sailing offers places to registered
  households first come, first served: each family defers to a later ship, withdraws at the
  confirmation of free will, or sails;
* a ``DataCollector`` records every metric of ``annual.csv``/``monthly`` and each household's state.

The random numbers come from replication k's stream (``streams.py``), drawn in the same order as
the numpy engine draws them (one uniform per household each month, then the deportation and
sailing draws), so for the same seed both engines give the same households the same draws.
Mesa's own generator (used only to shuffle the order in which agents decide, which cannot change
the outcome because decisions are taken on the start-of-month state) comes from a separate
branch of the seed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import networkx as nx
import numpy as np
from mesa import DataCollector, Model
from mesa.discrete_space import FixedAgent, Network
from tqdm import tqdm

from . import decision
from .decision import Features, Policy
from .population import DETAINEE, RESIDENT, Population, generate_population
from .result import (
    CANCELLED,
    DEPARTED,
    DEPORTED,
    FLOW_METRICS,
    GROUP_METRICS,
    INTENDING,
    METRICS,
    REGISTERED,
    SETTLED,
    STATE_NAMES,
    STOCK_METRICS,
    UNFORMED,
    RunResult,
)
from .scenario import load_scenario, with_parameters
from .schema import Scenario
from .streams import mesa_seed, population_stream, replication_streams


class Household(FixedAgent):
    """A household: who it is (size, status, ties), what it believes, and where it stands."""

    def __init__(self, model: RepatriationModel, index: int, features: Features, cell):
        super().__init__(model)
        pop = model.population
        self.index = index
        self.cell = cell  # placing a FixedAgent on its network node
        self.size = int(pop.size[index])
        self.japanese_nationals = int(pop.japanese_nationals[index])
        self.deportees = int(pop.deportees[index])
        self.deportable = bool(pop.legal_status[index] != RESIDENT)
        self.detained = bool(pop.legal_status[index] == DETAINEE)
        self.japanese_spouse = bool(pop.japanese_spouse[index])
        self.impoverished = bool(pop.impoverished[index])
        self.features = features  # float32 scalars, as the rule reads them
        self.count_formed_neighbours(int(model.formed_degree[index]))

        # A household the young form later is not there to move until then (formation.py).
        self.state = UNFORMED if pop.formed_month[index] > 0 else SETTLED
        self.registered_month = 0
        self.ready = True  # to take a place on a ship (process.ready_share)
        self.doubt_when_registered = np.float32(0)  # read with process.cancel_anchor
        self.belief = np.float32(pop.belief_prior[index])
        self.engaged_neighbours = np.float32(0)  # neighbours registered or gone
        # Neighbours who left, each weighted by how much its letters are still remembered.
        self.letter_sources = np.float32(0)
        self.second_hand = np.float32(0)  # departed neighbours of one's neighbours, likewise
        self.kin_departed = np.float32(0)  # kin who left
        self.chosen = not bool(pop.kankoku[index])
        self.switched = False  # registered as Kankoku since the start (kankoku_switching)
        self.kin = [int(j) for j in pop.kin_of(index)]
        self.trust = decision.letter_trust(features.soren_tie, model.p)
        self.logit = np.float32(0)
        self.next_state = self.state

    def pass_to_next_generation(self) -> None:
        """The young head, born in Japan, brings the next generation's belief and ties."""
        pop, i = self.model.population, self.index
        self.features = dataclasses.replace(self.features, family_ties=pop.young_family_ties[i])
        self.belief = pop.young_belief_prior[i]

    def count_formed_neighbours(self, formed: int) -> None:
        """Its neighbours formed so far: the peer weight is shared among them, and hearsay along
        ties divides by them (``degree``)."""
        self.formed_neighbours = formed
        count = np.array([formed], dtype=np.int32)
        self.per_neighbour = decision.peer_weight(count, self.model.w)[0]
        self.degree = np.float32(max(formed, 1))

    def form(self) -> None:
        """The young form their household: it joins the settled, and its neighbours count it."""
        self.state = self.next_state = SETTLED
        for neighbour in self.cell.neighborhood.agents:
            neighbour.count_formed_neighbours(neighbour.formed_neighbours + 1)

    @property
    def state_name(self) -> str:
        return STATE_NAMES[self.state]

    # -- the monthly decision -----------------------------------------------------------------

    def decide(self) -> None:
        model, policy, w, p = self.model, self.model.policy, self.model.w, self.model.p
        self.belief = decision.updated_belief(
            self.belief, self.features.soren_tie, policy, p, self.letters_received()
        )
        base = decision.population_logit(self.features, self.belief, policy, w)
        if model.switching:
            base = decision.switched_logit(base, np.float32(self.switched), policy, w)
        self.logit = self.propensity(base)
        u = model.draws[self.index]
        self.next_state = self.state
        if self.state == SETTLED:
            if u < decision.intend_probability(self.logit):
                self.next_state = INTENDING
            elif self.chosen and decision.switches_registration(u, policy):
                self.switched = True
        elif self.state == INTENDING:
            doubt = decision.doubt(self.logit, p.doubt_threshold)
            if decision.registers(u, policy, p, self.impoverished):
                self.next_state = REGISTERED
                self.doubt_when_registered = doubt
                self.ready = bool(decision.ready_at_registration(u, p))
            elif decision.reverts(u, doubt, p):
                self.next_state = SETTLED
        elif self.state == REGISTERED:
            doubt = decision.doubt(self.logit, p.doubt_threshold)
            if decision.cancels(u, doubt, p, self.doubt_when_registered):
                self.next_state = CANCELLED
            elif not self.ready and decision.becomes_ready(u, p):
                self.ready = True
        elif self.state == CANCELLED and decision.reconsiders(u, p):
            self.next_state = SETTLED

    def letters_received(self) -> np.float32 | None:
        """Letters of hardship this month, from neighbours who left and heard of second-hand
        (None before any letter tells of hardship)."""
        bad_news = self.model.policy.bad_news
        if bad_news <= 0:
            return None
        heard = self.model.heard
        if self.model.p.hearsay_along_ties > 0:
            heard = decision.heard_along_ties(heard, self.second_hand, self.degree, self.model.p)
        return decision.letters_received(self.letter_sources, bad_news, heard, self.trust)

    def propensity(self, base: np.float32) -> np.float32:
        """Log-odds of leaving: own situation and belief, plus peers and kin who left."""
        logit = decision.network_logit(base, self.engaged_neighbours, self.per_neighbour)
        if self.model.w.kin > 0:
            logit = decision.kin_logit(logit, self.kin_departed, self.model.w)
        return logit

    def advance(self) -> None:
        if self.next_state == self.state:
            return
        old, self.state = self.state, self.next_state
        if self.state == INTENDING:
            self.model.count("new_intending", self.size)
        elif self.state == REGISTERED:
            self.registered_month = self.model.month
            self.model.count("registrations", self.size)
            self.tell_neighbours("engaged_neighbours", +1)
        elif self.state == CANCELLED and old == REGISTERED:
            self.model.count("cancellations", self.size)
            self.tell_neighbours("engaged_neighbours", -1)

    # -- what the state and the ships do to a household ----------------------------------------

    def deport(self) -> None:
        if self.state == REGISTERED:
            self.tell_neighbours("engaged_neighbours", -1)
        self.state = DEPORTED
        self.model.count("deported", self.size)

    def withdraw_at_confirmation(self) -> None:
        self.state = CANCELLED
        self.model.count("cancellations", self.size)
        self.model.count("confirmation_withdrawals", self.size)
        self.tell_neighbours("engaged_neighbours", -1)

    def sail(self) -> None:
        self.state = DEPARTED
        self.model.count("departures", self.size)
        self.model.count("departing_households", 1)
        self.model.count("deportee_departures", self.deportees)
        self.model.count("detainee_departures", int(self.detained))
        self.model.count("japanese_spouse_departures", int(self.japanese_spouse))
        self.model.count("japanese_national_departures", self.japanese_nationals)
        for name, persons in zip(GROUP_METRICS, self.model.groups[self.index]):
            self.model.count(name, int(persons))
        self.tell_neighbours("letter_sources", +1)
        if self.model.p.hearsay_along_ties > 0:  # word reaches the neighbours' neighbours
            for neighbour in self.cell.neighborhood.agents:
                neighbour.tell_neighbours("second_hand", +1)
        for relative in self.kin:
            self.model.households[relative].kin_departed += np.float32(1)

    def tell_neighbours(self, counter: str, delta: int) -> None:
        for neighbour in self.cell.neighborhood.agents:
            setattr(neighbour, counter, getattr(neighbour, counter) + np.float32(delta))


class RepatriationModel(Model):
    """Households of one replication deciding month by month under a scenario's policies."""

    def __init__(
        self,
        scenario: Scenario | str | Path = "historical",
        seed: int | None = 1959,
        replication: int = 0,
        scale: float = 0.01,
        population: Population | None = None,
        layout=None,
        household_type: type[Household] = Household,
        **parameters: float,
    ):
        """``scenario``: a Scenario, or a scenario's name or file. ``parameters``: scenario keys
        as plain keyword arguments, a double underscore for each dot (``decision__peers=2.0``),
        so that ``mesa.batch_run`` and SolaraViz can set them. ``seed`` None (what
        ``batch_run`` passes without ``rng``) is the default seed, 1959."""
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        if parameters:
            values = {key.replace("__", "."): value for key, value in parameters.items()}
            scenario = with_parameters(scenario, values, source="model keyword arguments")
        seed = 1959 if seed is None else int(seed)
        super().__init__(rng=mesa_seed(seed, replication))
        # (Mesa's Model reserves the name `scenario` for its own Scenario objects.)
        self.spec, self.scale, self.replication = scenario, scale, replication
        self.seed = seed  # the run's (Mesa's own generator's seed is derived from it)
        self.w, self.p = scenario.decision, scenario.process
        self.timeline = scenario.timeline()
        self.months = scenario.months
        self.population = population or generate_population(
            scenario.population, scale, population_stream(seed)
        )
        self.draw_stream = replication_streams(seed, [replication])[0]

        pop = self.population
        self.formed_degree = pop.formed_degree()
        graph = nx.from_scipy_sparse_array(pop.adjacency())
        self.grid = Network(graph, capacity=1, random=self.random, layout=layout)
        features = Features.of(pop, scenario.population.destitution_deportation_fear)
        columns = vars(features)
        self.households: list[Household] = [
            household_type(self, i, Features(**{k: v[i] for k, v in columns.items()}), self.grid[i])
            for i in range(pop.households)
        ]

        self.t = 0  # index of the next month to simulate
        self.month = int(self.months[0])
        self.policy = Policy.at(self.timeline, 0)
        self.heard = np.float32(0)
        self.retention = decision.letter_retention(self.p)
        self.turnovers = pop.turnovers(len(self.months))
        self.formations = pop.formations(len(self.months))
        self.switching = bool(np.any(self.timeline["kankoku_switching"] > 0))
        self.draws = np.empty(0, dtype=np.float32)
        self.flows = dict.fromkeys(FLOW_METRICS + GROUP_METRICS, 0)
        self.groups = pop.departure_groups()
        self.datacollector = DataCollector(
            model_reporters={name: _reporter(name) for name in METRICS + GROUP_METRICS},
            agent_reporters={"state": "state_name"},
        )
        self.running = True

    @property
    def month_label(self) -> str:
        return f"{self.month // 12}-{self.month % 12 + 1:02d}"

    def count(self, flow: str, amount: int) -> None:
        self.flows[flow] += amount

    def persons_in(self, state: int) -> int:
        return int(self.agents.select(lambda a: a.state == state).agg("size", sum) or 0)

    def step(self) -> None:
        if self.t >= len(self.months):
            self.running = False
            return
        self.month = int(self.months[self.t])
        self.policy = policy = Policy.at(self.timeline, self.t)
        self.flows = dict.fromkeys(FLOW_METRICS + GROUP_METRICS, 0)
        for index in self.turnovers.get(self.t, ()):
            self.households[index].pass_to_next_generation()
        for index in self.formations.get(self.t, ()):
            self.households[index].form()
        if self.retention < 1:  # the letters of those who left weigh less every month
            for household in self.households:
                household.letter_sources = household.letter_sources * self.retention
                household.second_hand = household.second_hand * self.retention
        if policy.bad_news > 0:  # letters heard of from the whole community: the same for all
            self.heard = decision.hearsay_letters(
                np.array([h.letter_sources for h in self.households], dtype=np.float32),
                self.p.hearsay,
                self.p.hearsay_along_ties,
            )[0]
        self.draws = self.draw_stream.random(len(self.households), dtype=np.float32)

        registered_at_start = [h for h in self.households if h.state == REGISTERED]
        self.agents.shuffle_do("decide")
        self.agents.do("advance")
        self._deport(policy)
        if policy.programme_open and policy.ship_capacity > 0:
            self._sail(policy, [h for h in registered_at_start if h.state == REGISTERED])
        self.datacollector.collect(self)
        self.t += 1
        if self.t >= len(self.months):
            self.running = False

    def _deport(self, policy: Policy) -> None:
        chance = decision.deportation_probability(policy, self.p)
        if chance <= 0:
            return
        deportable = [h for h in self.households if h.deportable]
        if not deportable:
            return
        draws = self.draw_stream.random(len(deportable))
        for household, u in zip(deportable, draws):
            if household.state <= REGISTERED and u < chance:
                household.deport()

    def _sail(self, policy: Policy, waiting: list[Household]) -> None:
        """Board the waiting list first come, first served, up to the month's capacity."""
        capacity = int(round(policy.ship_capacity * self.scale))
        self.flows["capacity"] = capacity
        if not waiting:
            return
        tie_break = self.draw_stream.random(len(waiting))
        order = np.lexsort((tie_break, [h.registered_month for h in waiting]))
        queue = [waiting[i] for i in order]
        deferring = [False] * len(queue)
        if self.p.defer_rate > 0:  # some offered a place choose a later ship
            draws = self.draw_stream.random(len(queue))
            threshold = self.p.doubt_threshold
            deferring = [
                h.ready and bool(decision.defers(u, decision.doubt(h.logit, threshold), self.p))
                for h, u in zip(queue, draws)
            ]
        # Places go in turn to the families ready to take them, while they fit; a family not ready
        # is passed over; one that defers while places are left lets its place go to the next.
        boarding, taken = [], 0
        for household, defers in zip(queue, deferring):
            if not household.ready:
                continue
            if defers:
                if taken < capacity:
                    self.count("deferrals", household.size)
                continue
            taken += household.size
            if taken <= capacity:
                boarding.append(household)
        draws = self.draw_stream.random(len(boarding))
        for household, u in zip(boarding, draws):
            doubt = decision.doubt(household.logit, self.p.doubt_threshold)
            if u < decision.withdrawal_probability(doubt, policy.confirmation_privacy, self.p):
                household.withdraw_at_confirmation()
            else:
                household.sail()


def _reporter(name: str):
    if name in STOCK_METRICS:
        state = STOCK_METRICS.index(name)
        return lambda model: model.persons_in(state)
    return lambda model: model.flows[name]


def simulate_mesa(
    scenario: Scenario,
    seed: int,
    replications: int | list[int],
    scale: float = 0.01,
    population: Population | None = None,
    progress: bool = False,
    household_type: type[Household] = Household,
) -> RunResult:
    """Run replications with the Mesa engine; same result as ``engine_numpy.simulate``."""
    reps = list(range(replications)) if isinstance(replications, int) else list(replications)
    population = population or generate_population(
        scenario.population, scale, population_stream(seed)
    )
    result = RunResult.empty(scenario.months, reps, population.households, population.people)
    bar = tqdm(
        total=len(reps) * len(scenario.months),
        desc=f"{scenario.name} (mesa)",
        unit="month",
        disable=not progress,
        leave=False,
    )
    for row, k in enumerate(reps):
        model = RepatriationModel(
            scenario, seed, k, scale, population, household_type=household_type
        )
        while model.running:
            model.step()
            bar.update()
        table = model.datacollector.get_model_vars_dataframe()
        for name in METRICS + GROUP_METRICS:
            result.metrics[name][row] = table[name].to_numpy()
    bar.close()
    return result
