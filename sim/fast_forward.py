"""Fast-forward: the Mesa model brought to a month by the numpy engine, in the very state that
stepping it month by month would reach.

For one replication both engines draw the same numbers in the same order and do the same float32
arithmetic (``tests/test_engine_mesa.py``), so the numpy engine's arrays after ``t`` months hold,
household by household, what the Mesa households hold after ``t`` months. Three functions:

* ``run_replication`` runs one replication of the numpy engine for its first months and hands
  out its ``ReplicationState`` (``watch`` sees it at the start and after every month);
* ``load`` writes such a state into a ``RepatriationModel`` of the same run (scenario, seed,
  replication, scale, population): every household's attributes; the model's month, policy,
  letters heard, flows and draws; the positions of its random streams (the replication's
  stream, and Mesa's own generator, moved on by the shuffles its months would have made); Mesa's
  clock and step count; and its data collector's records of the months skipped;
* ``fast_forward(model, t)`` runs and loads, so that the model has run its first ``t`` months.

A model is a deterministic function of its run (its scenario, seed, replication, scale and
population): the numpy engine runs from the first month whatever month the model stands at, and
the model must not have been changed by hand since it was made (it then has no state the numpy
engine could not give back). Some of what a Mesa household keeps, the numpy engine keeps only
where a mechanism reads it or not at all (the month, not the month's index, of a registration;
the doubt when registering; whether ready; kin and second-hand letters; the community's letters
heard; the move each household decided before the state and the ships acted): ``_Follower``
follows them month by month from the engine's moves, as ``Household`` sets them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from . import decision
from .decision import Policy
from .engine_mesa import Household, RepatriationModel
from .engine_state import Engine
from .population import Population
from .result import (
    DEPARTED,
    FLOW_METRICS,
    GROUP_METRICS,
    INTENDING,
    METRICS,
    STATE_NAMES,
    RunResult,
)
from .schema import Scenario
from .streams import replication_streams


@dataclass(frozen=True)
class ReplicationState:
    """One replication after its first ``t`` months, as the Mesa model holds it: arrays of one
    entry per household (network order), named as ``Household``'s attributes."""

    t: int  # months run
    state: np.ndarray  # int8
    next_state: np.ndarray  # int8: the last month's decided move (before deportations, ships)
    registered_month: np.ndarray  # int64: 12 x year + month - 1 of its last registration, or 0
    ready: np.ndarray  # bool
    doubt_when_registered: np.ndarray  # float32
    belief: np.ndarray  # float32
    logit: np.ndarray  # float32: the last month's log-odds
    engaged_neighbours: np.ndarray  # float32
    letter_sources: np.ndarray  # float32
    second_hand: np.ndarray  # float32
    kin_departed: np.ndarray  # float32
    switched: np.ndarray  # bool
    family_ties: np.ndarray  # float32 (a household's next generation brings its own)
    formed_neighbours: np.ndarray  # int32 (the households the young form join them)
    heard: np.float32  # the letters heard of from the whole community, when last computed
    draws: np.ndarray  # float32: the last month's draws (none before the first month)
    stream: dict  # the replication stream's ``bit_generator.state``
    metrics: dict[str, np.ndarray]  # METRICS and GROUP_METRICS of months 0 .. t - 1


class _Deciding(Engine):
    """The numpy engine, keeping each household's move of the month as decided, before the
    state deports and the ships sail (the Mesa household's ``next_state``)."""

    def _deport(self, policies, rec):
        self.decided = self.state[0].copy()
        return super()._deport(policies, rec)


class _Follower:
    """One replication of the numpy engine, and what a Mesa household keeps that it does not."""

    def __init__(self, scenario: Scenario, population: Population, engine: _Deciding):
        self.scenario, self.engine, self.pop = scenario, engine, population
        self.timeline = scenario.timeline()
        H = population.households
        self.registered_month = np.zeros(H, dtype=np.int64)
        self.doubt_when_registered = np.zeros(H, dtype=np.float32)
        # Mesa counts kin who left whenever there are kin ties; the engine, only if kin pull.
        self.kin = np.zeros(H, dtype=np.float32) if engine.kin_departed is None else None
        self.kin_start, self.kin_ties = (
            population.kin_network() if self.kin is not None else (None, None)
        )
        self.heard = np.float32(0)
        self.retention = decision.letter_retention(scenario.process)
        self.was = engine.state[0].copy()

    def before(self, t: int) -> None:
        """At the start of month ``t``: the letters heard of, as ``RepatriationModel.step``
        computes them (from the letter sources faded for the month)."""
        self.was = self.engine.state[0].copy()
        if Policy.at(self.timeline, t).bad_news > 0:
            sources = self.engine.letter_sources[0]
            if self.retention < 1:
                sources = sources * self.retention
            p = self.scenario.process
            self.heard = decision.hearsay_letters(sources, p.hearsay, p.hearsay_along_ties)[0]

    def after(self, t: int) -> None:
        """After month ``t``: the month and the doubt of those who registered, and the kin of
        those who sailed (as ``Household.advance`` and ``Household.sail`` set them)."""
        engine, now = self.engine, self.engine.state[0]
        joined = np.flatnonzero((self.was == INTENDING) & (engine.registered_month[0] == t))
        self.registered_month[joined] = self.scenario.months[t]
        threshold = self.scenario.process.doubt_threshold
        for i in joined.tolist():  # one float32 scalar each, as the household computes it
            self.doubt_when_registered[i] = decision.doubt(engine.logit[0, i], threshold)
        if self.kin is not None:
            for i in np.flatnonzero((now == DEPARTED) & (self.was != DEPARTED)).tolist():
                ties = self.kin_ties[self.kin_start[i] : self.kin_start[i + 1]]
                np.add.at(self.kin, ties, np.float32(1))  # one for each tie, as Household.sail

    def state(self, t: int) -> ReplicationState:
        e, H = self.engine, self.pop.households
        zeros = np.zeros(H, dtype=np.float32)
        return ReplicationState(
            t=t,
            state=e.state[0].copy(),
            next_state=e.decided.copy() if t > 0 else e.state[0].copy(),
            registered_month=self.registered_month.copy(),
            ready=np.ones(H, dtype=bool) if e.ready is None else e.ready[0].copy(),
            doubt_when_registered=self.doubt_when_registered.copy(),
            belief=e.belief.reshape(-1, H)[0].copy(),
            logit=e.logit[0].copy() if t > 0 else zeros,
            engaged_neighbours=e.engaged_neighbours[0].copy(),
            letter_sources=e.letter_sources[0].copy(),
            second_hand=zeros if e.second_hand is None else e.second_hand[0].copy(),
            kin_departed=(self.kin if e.kin_departed is None else e.kin_departed[0]).copy(),
            switched=np.zeros(H, dtype=bool) if e.switched is None else e.switched[0].copy(),
            family_ties=e.features.family_ties.copy(),
            formed_neighbours=e.formed_neighbours.copy(),
            heard=self.heard,
            draws=e.draws[0].copy() if t > 0 else np.empty(0, dtype=np.float32),
            stream=e.streams[0].bit_generator.state,
            metrics={name: values[0, :t] for name, values in e.recorded.items()},
        )


def run_replication(
    scenario: Scenario,
    seed: int,
    replication: int,
    scale: float,
    population: Population,
    months: int,
    watch: Callable[[ReplicationState], None] | None = None,
) -> ReplicationState:
    """Run replication ``replication`` of the numpy engine for its first ``months`` months and
    return its state; ``watch(state)`` is called with the state at the start and after every
    month."""
    recorded = RunResult.empty(scenario.months, [replication], population.households, 0).metrics
    streams = replication_streams(seed, [replication])
    engine = _Deciding([scenario], population, streams, scale, recorded)
    follower = _Follower(scenario, population, engine)
    if watch:
        watch(follower.state(0))
    for t in range(months):
        follower.before(t)
        engine.step(t)
        follower.after(t)
        if watch:
            watch(follower.state(t + 1))
    return follower.state(months)


def fast_forward(
    model: RepatriationModel,
    months: int,
    watch: Callable[[ReplicationState], None] | None = None,
) -> None:
    """Bring ``model`` to the end of its first ``months`` months (from wherever it stands,
    before them), in the state stepping would reach; ``watch`` as for ``run_replication``."""
    _check(model, months)
    records_agents = bool(model.datacollector.agent_reporters)
    skipped: list[np.ndarray] = []

    def seen(state: ReplicationState) -> None:
        if records_agents and state.t > model.t:
            skipped.append(state.state)
        if watch:
            watch(state)

    state = run_replication(
        model.spec, model.seed, model.replication, model.scale, model.population, months, seen
    )
    load(model, state, skipped if records_agents else None)


def load(
    model: RepatriationModel,
    state: ReplicationState,
    agent_states: Sequence[np.ndarray] | None = None,
) -> None:
    """Write ``state`` (of the model's own run, at or after its month) into ``model``.

    Its data collector gets the records of the months from the model's month to the state's;
    with agent reporters (the household's state), ``agent_states`` gives the households' states
    after each of those months."""
    _check(model, state.t)
    first, collector = model.t, model.datacollector
    if len(state.state) != len(model.households) or any(
        collector.model_vars[name][:first] != state.metrics[name][:first].tolist()
        for name in collector.model_reporters
    ):
        raise ValueError("the state is not of the model's run: its months so far differ")
    if collector.agent_reporters and (agent_states is None or len(agent_states) != state.t - first):
        raise ValueError("the data collector records households: give their states each month")
    _replay_mesa(model, state, agent_states)
    for i, household in enumerate(model.households):
        _load_household(household, state, i)
    model.t = state.t
    if state.t > 0:
        model.month = int(model.months[state.t - 1])
        model.policy = Policy.at(model.timeline, state.t - 1)
        model.flows = {name: int(state.metrics[name][-1]) for name in FLOW_METRICS + GROUP_METRICS}
    model.heard = state.heard
    model.draws = state.draws.copy()
    model.draw_stream.bit_generator.state = state.stream
    model.running = state.t < len(model.months)


def _load_household(h: Household, s: ReplicationState, i: int) -> None:
    h.state, h.next_state = int(s.state[i]), int(s.next_state[i])
    h.registered_month = int(s.registered_month[i])
    h.ready, h.switched = bool(s.ready[i]), bool(s.switched[i])
    h.doubt_when_registered = s.doubt_when_registered[i]
    h.belief, h.logit = s.belief[i], s.logit[i]
    h.engaged_neighbours, h.letter_sources = s.engaged_neighbours[i], s.letter_sources[i]
    h.second_hand, h.kin_departed = s.second_hand[i], s.kin_departed[i]
    if h.features.family_ties != s.family_ties[i]:  # passed to its next generation
        h.features = replace(h.features, family_ties=s.family_ties[i])
    if h.formed_neighbours != s.formed_neighbours[i]:  # neighbours formed by the young since
        h.count_formed_neighbours(int(s.formed_neighbours[i]))


def _replay_mesa(model: RepatriationModel, state: ReplicationState, agent_states) -> None:
    """Move Mesa's own bookkeeping on by the months skipped, as stepping would: its clock and
    step count (by stepping Mesa's scheduler, with each month's work replaced by ``month``), its
    own generator, and the data collector's records of the months."""
    collector, agents = model.datacollector, list(model.agents)
    own_step = model._user_step  # what Mesa's scheduler calls each step (mesa.Model.__init__)

    def month(k: int) -> None:
        # A month shuffles the agents (shuffle_do("decide")): the only draw of Mesa's generator,
        # and a shuffle draws the same numbers whatever it shuffles, only their count matters.
        model.random.shuffle(list(range(len(agents))))
        t = model.t + k
        collector._collection_steps.append(model.time)
        for name in collector.model_reporters:
            collector.model_vars[name].append(int(state.metrics[name][t]))
        collector._validated = True  # (the first collection checks the reporters once)
        if agent_states is not None:
            names = [STATE_NAMES[s] for s in agent_states[k].tolist()]
            collector._agent_records[model.time] = [
                (model.time, a.unique_id, names[a.index]) for a in agents
            ]

    try:
        for k in range(state.t - model.t):
            model._user_step = lambda k=k: month(k)
            model.step()
    finally:
        model._user_step = own_step


def _check(model: RepatriationModel, months: int) -> None:
    """Refuse what cannot be loaded exactly."""
    if not model.t <= months <= len(model.months):
        raise ValueError(f"cannot fast-forward from month {model.t} to {months}")
    if any(type(h) is not Household for h in model.households):
        raise ValueError("fast-forward knows the households of engine_mesa.Household only")
    collector = model.datacollector
    if set(collector.model_reporters) - set(METRICS + GROUP_METRICS):
        raise ValueError("fast-forward records the model's own metrics only")
    if set(collector.agent_reporters) - {"state"}:  # the model's own: its state's name
        raise ValueError("fast-forward records the households' state only")
    if collector.agenttype_reporters or collector.tables:
        raise ValueError("fast-forward cannot fill agent-type reporters or tables")
