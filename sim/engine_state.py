"""The numpy engine's state: every household of many rows (scenarios x replications) in arrays
(rows, households), and one month of all of them (``Engine.step``; the order of the month is
told in ``engine_numpy.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np

from . import decision
from .decision import Policy
from .held import HeldLogit
from .listing import Listing
from .population import DETAINEE, RESIDENT, Population
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
    UNFORMED,
)
from .rows import ByRow, as_policy, monthly_levers
from .sailing import run_starts, sail
from .schema import Scenario
from .telling import Telling


class Engine(Telling, Listing):
    """Monthly state of N rows (K scenarios x R replications); ``step(t)`` advances all of them.

    The hot loop touches every household of every row a few times a month: the logit, the intend
    probability and the draw. Everything else works on index lists of the few households that
    are intending, registered, or moving this month. Arrays are (N, households); ``_by_scenario``
    views them (K, R, households) where per-scenario values broadcast over them.
    """

    def __init__(
        self,
        scenarios: Sequence[Scenario],
        pop: Population,
        streams: list[np.random.Generator],
        scale: float,
        recorded: dict[str, np.ndarray],
    ):
        """``recorded``: the metrics to fill in, (rows, months) each (RunResult.empty)."""
        self.pop, self.streams, self.scale = pop, streams, scale
        self.levers = monthly_levers(scenarios)
        self.processes = [s.process for s in scenarios]  # each row's own, in its loops
        self.process = process = ByRow.of_sections(self.processes)
        self.w = ByRow.of_sections([s.decision for s in scenarios]).per_scenario()
        self.p = process.per_scenario()
        N, H, K = len(streams), pop.households, len(scenarios)
        self.N, self.H, self.K, self.R = N, H, K, N // K
        self.scenario_of = np.repeat(np.arange(K), self.R)  # the scenario of each row

        self.state = np.full((N, H), SETTLED, dtype=np.int8)
        self.state[:, pop.formed_month > 0] = UNFORMED  # households the young form later
        # The flat indices of the intending and registered households, ascending (or of
        # households that were, until the next month drops them): see ``Listing._listed``.
        self.active = np.zeros(0, dtype=np.int64)
        self.registered_month = np.zeros((N, H), dtype=np.int16)
        # Kept only where a mechanism needs them: whether a registered family is ready to sail,
        # and how much it doubted when it registered. A row without the mechanism keeps them too
        # when another row has it, with no effect on its numbers (see decision.cancels and
        # decision.ready_at_registration).
        not_all_ready = bool(np.any(np.asarray(self.p.ready_share) < 1))
        self.ready = np.ones((N, H), dtype=bool) if not_all_ready else None
        anchored = process.any_positive("cancel_anchor")
        self.doubt_when_registered = np.zeros((N, H), dtype=np.float32) if anchored else None
        # Neighbour counts are float32 (exact for whole numbers) to enter the logit (engaged) and
        # the letters without a cast. Letter sources are departed neighbours, each weighted by
        # how much its letters are still remembered (whole numbers while letters never fade).
        self.engaged_neighbours = np.zeros((N, H), dtype=np.float32)
        self.letter_sources = np.zeros((N, H), dtype=np.float32)
        # Kept only where a mechanism needs them (with no effect on the numbers of a row without
        # it): the departed neighbours of one's neighbours (hearsay along ties), the kin who
        # left, and whether a Chosen household has switched to Kankoku.
        self.along_ties = process.any_positive("hearsay_along_ties")
        self.second_hand = np.zeros((N, H), dtype=np.float32) if self.along_ties else None
        # Neighbours formed so far (all of them unless the young form households later): the
        # peer weight is shared among them, and hearsay along ties divides by them.
        self.formed_neighbours = pop.formed_degree()
        self.degree = np.maximum(self.formed_neighbours, 1).astype(np.float32)
        self.kin = bool(np.any(np.asarray(self.w.kin) > 0))
        self.kin_departed = np.zeros((N, H), dtype=np.float32) if self.kin else None
        switching = any(month.any_positive("kankoku_switching") for month in self.levers)
        self.switched = np.zeros((N, H), dtype=bool) if switching else None
        self.any_switched = False
        self.switched_base = np.empty((N, H), dtype=np.float32) if switching else None
        # decision.secure_residence_held of every household, kept from month to month: computed
        # whole when its value changes (``secure_values``, by row), else where households switch
        self.held_secure = np.zeros((N, H), dtype=np.float32) if switching else None
        self.secure_values: np.ndarray | None = None
        self.new_switched: list[np.ndarray] = []
        self.chosen = ~pop.kankoku
        self.turnovers = pop.turnovers(len(scenarios[0].months))
        self.formations = pop.formations(len(scenarios[0].months))
        self.degree_changes = pop.degree_changes(len(scenarios[0].months))
        self.logit = np.empty((N, H), dtype=np.float32)
        self.scratch = np.empty((N, H), dtype=np.float32)  # for a step's intermediate arrays
        self.draws = np.empty((N, H), dtype=np.float32)
        # the households the month's draws may move (``Listing._drawn``)
        self.candidates = np.empty((N, H), dtype=bool)
        # One row per scenario, shared by its replications until letters come.
        self.belief = np.repeat(pop.belief_prior.astype(np.float32)[np.newaxis, np.newaxis], K, 0)

        self.size = pop.size.astype(np.int64)
        self.per_neighbour = decision.peer_weight(self.formed_neighbours, self.w)
        # decision.peer_pressure, kept from month to month: where the engaged neighbours change
        # (``_tell_engaged``) and where the peer weight does (``_form``); 0 while none is engaged
        self.peer = np.zeros((N, H), dtype=np.float32)
        self.deportable = np.flatnonzero(pop.legal_status != RESIDENT)
        self.impoverished = pop.impoverished
        self.features = decision.Features.of(
            pop, scenarios[0].population.destitution_deportation_fear
        )
        self.retention = decision.letter_retention(self.p)
        self.fading = bool(np.any(self.retention < 1))
        self.trust = decision.letter_trust(self.features.soren_tie, self.p)

        self.stocks = np.zeros((N, len(STATE_NAMES)), dtype=np.int64)
        self.stocks[:, SETTLED] = pop.people_at_start
        self.stocks[:, UNFORMED] = pop.people - pop.people_at_start
        self.recorded = recorded
        # What each household adds to the DEPARTING metrics when it sails.
        self.departing = np.column_stack(
            [
                np.ones(H, dtype=np.int64),
                pop.deportees,
                pop.legal_status == DETAINEE,
                pop.japanese_spouse,
                pop.japanese_nationals,
                pop.departure_groups(),
            ]
        ).astype(np.int64)

    @cached_property
    def _held(self) -> HeldLogit:
        """The households' log-odds that belief does not move, kept from month to month."""
        return HeldLogit(self.w, np.asarray(self.pop.young_family_ties, dtype=np.float32))

    def _by_scenario(self, rows: np.ndarray) -> np.ndarray:
        """A view (K, R, ...) of an array (N, ...)."""
        return rows.reshape(self.K, self.R, *rows.shape[1:])

    def _for(self, section: ByRow, rows: np.ndarray):
        """The values of a section for each household of an index list (``rows``: its rows)."""
        return section.per_household(rows // self.R)

    # -- one month --------------------------------------------------------------------------

    def step(self, t: int) -> None:
        month = self.levers[t]
        policy = as_policy(month.per_scenario())
        if month.varying:
            policies = [as_policy(month.of_scenario(k)) for k in range(self.K)]
        else:  # the levers agree this month: one policy for every scenario
            policies = [policy] * self.K
        w, p, state, view = self.w, self.p, self.state, self._by_scenario
        rec = {name: values[:, t] for name, values in self.recorded.items()}

        if t in self.turnovers:  # households passing to their next generation, in every row
            passing = self.turnovers[t]
            self.features.family_ties[passing] = self.pop.young_family_ties[passing]
            self._held.features_changed(passing)
            self.belief[..., passing] = self.pop.young_belief_prior[passing]
        if t in self.formations:
            self._form(self.formations[t], t)
        if self.fading:
            view(self.letter_sources)[:] *= self.retention
            if self.along_ties:
                view(self.second_hand)[:] *= self.retention
        letters = None
        if month.any_positive("bad_news"):
            heard = decision.hearsay_letters(  # (K, R, 1)
                view(self.letter_sources), p.hearsay, p.hearsay_along_ties
            )
            if self.along_ties:
                heard = decision.heard_along_ties(
                    heard, view(self.second_hand), self.degree, p, out=view(self.scratch)
                )
            # The step's intermediate arrays, one after the other, in the scratch array: the
            # letters heard along ties, the letters taken in, what of belief they keep, and the
            # households' logits (fresh temporaries of this size cost more than their sums).
            letters = decision.letters_received(
                view(self.letter_sources),
                policy.bad_news,
                heard,
                self.trust,
                out=view(self.scratch),
            )
            if self.belief.shape[1] == 1:  # one row per scenario until letters come
                self.belief = np.repeat(self.belief, self.R, axis=1)
        self.belief = decision.updated_belief(
            self.belief,
            self.features.soren_tie,
            policy,
            p,
            letters,
            out=self.belief,
            scratch=letters,
        )
        into = view(self.scratch) if self.belief.shape[1] == self.R else None
        held = self._held.of(self.features, month, policy)
        base = decision.belief_logit(held, self.belief, w, out=into)
        if self.any_switched:  # (before any has, every logit less 0 is itself)
            held_secure = self._secure_residence_held(policy)
            base = np.subtract(base, view(held_secure), out=view(self.switched_base))
        # decision.network_logit, with the peer pressure kept from month to month
        logit = np.add(view(self.peer), base, out=view(self.logit))
        if self.kin:  # decision.kin_logit, with the pull kept from month to month
            np.add(logit, view(self._kin_pull), out=logit)
        logit = logit.reshape(self.N, self.H)
        for r, stream in enumerate(self.streams):
            stream.random(dtype=np.float32, out=self.draws[r])
        u = self.draws

        at, reconsider, switching = self._drawn(u, logit, month, policy, p)
        flat_logit, flat_u = logit.reshape(-1), u.reshape(-1)
        new_intending = at // self.H, at % self.H
        if len(switching):
            self.switched.reshape(-1)[switching] = True
            self.any_switched = True
            self.new_switched.append(switching)
        # Intending and registered households: few, decided on their index lists, each with
        # its row's values; read through their flat indices (``at_``), some three times faster
        # than through (rows, cols). The lists come from last month's (``active``), not from a
        # pass over every household: only the new intending join them.
        at_intending, at_registered = self._listed(at)
        intending = at_intending // self.H, at_intending % self.H
        registered = at_registered // self.H, at_registered % self.H
        p_intending = self._for(self.process, intending[0])
        p_registered = self._for(self.process, registered[0])
        doubt_intending = decision.doubt(flat_logit[at_intending], p_intending.doubt_threshold)
        doubt_registered = decision.doubt(flat_logit[at_registered], p_registered.doubt_threshold)
        u_intending, u_registered = flat_u[at_intending], flat_u[at_registered]
        revert = decision.reverts(u_intending, doubt_intending, p_intending)
        register = decision.registers(
            u_intending,
            self._for(month, intending[0]),
            p_intending,
            self.impoverished[intending[1]],
        )
        anchor = self.doubt_when_registered
        cancel = decision.cancels(
            u_registered,
            doubt_registered,
            p_registered,
            None if anchor is None else anchor.reshape(-1)[at_registered],
        )

        self._move(new_intending, SETTLED, INTENDING, rec["new_intending"])
        self._move(_pick(intending, revert), INTENDING, SETTLED)
        joined = self._move(_pick(intending, register), INTENDING, REGISTERED, rec["registrations"])
        self.registered_month[joined] = t
        if anchor is not None:
            anchor[joined] = doubt_intending[register]
        if self.ready is not None:
            self.ready.reshape(-1)[at_registered] |= decision.becomes_ready(
                u_registered, p_registered
            )
            ready = decision.ready_at_registration(u_intending, p_intending)
            self.ready[joined] = ready[register]
        quit_ = self._move(_pick(registered, cancel), REGISTERED, CANCELLED, rec["cancellations"])
        self._move((reconsider // self.H, reconsider % self.H), CANCELLED, SETTLED)

        leaving = [quit_, self._deport(policies, rec)]  # the queue, but not for a ship
        sailing = [k for k, pk in enumerate(policies) if pk.programme_open and pk.ship_capacity > 0]
        if sailing:
            # Those registered before this month who neither cancelled nor were deported.
            still = state.reshape(-1)[at_registered] == REGISTERED
            if len(sailing) < self.K:  # and whose scenario sails this month
                still &= np.isin(self.scenario_of[registered[0]], sailing)
            waiting = _pick(registered, still)
            withdrawn = self._sail(policies, sailing, waiting, doubt_registered[still], month, rec)
            leaving.append(withdrawn)
        self._tell_engaged(joined, leaving)
        for i, name in enumerate(STOCK_METRICS):
            rec[name][:] = self.stocks[:, i]

    def _secure_residence_held(self, policy: Policy) -> np.ndarray:
        """``decision.secure_residence_held`` of every household this month (N, H): the kept
        values, computed whole when the secure residence's value changes, else only for the
        households that switched since."""
        one = np.ones((self.K, self.R, 1), dtype=bool)  # the value of a household that switched
        values = decision.secure_residence_held(one, policy, self.w).reshape(self.N)
        if self.secure_values is None or not np.array_equal(values, self.secure_values):
            view = self._by_scenario
            decision.secure_residence_held(
                view(self.switched), policy, self.w, out=view(self.held_secure)
            )
            self.secure_values = values
        elif self.new_switched:
            switched = np.concatenate(self.new_switched)
            self.held_secure.reshape(-1)[switched] = values[switched // self.H]
        self.new_switched = []
        return self.held_secure

    def _form(self, households: np.ndarray, t: int) -> None:
        """Households the young form this month join the settled in every row, and their
        neighbours count them from now on (each shares its peer weight among more)."""
        self.state[:, households] = SETTLED
        persons = self.size[households].sum()
        self.stocks[:, UNFORMED] -= persons
        self.stocks[:, SETTLED] += persons
        if t not in self.degree_changes:  # none of them has a neighbour
            return
        changed, formed = self.degree_changes[t]
        self.formed_neighbours[changed] = formed
        self.degree[changed] = np.maximum(formed, 1)
        self.per_neighbour[..., changed] = decision.peer_weight(formed, self.w)
        view = self._by_scenario
        view(self.peer)[..., changed] = decision.peer_pressure(
            view(self.engaged_neighbours)[..., changed], self.per_neighbour[..., changed]
        )

    def _move(self, moving, source: int, target: int, flow: np.ndarray | None = None):
        """Move households (rows, cols) from ``source`` to ``target`` and count the persons."""
        rows, cols = moving
        if len(rows) == 0:
            return rows, cols
        self.state[rows, cols] = target
        persons = np.bincount(rows, weights=self.size[cols], minlength=self.N).astype(np.int64)
        self.stocks[:, source] -= persons
        self.stocks[:, target] += persons
        if flow is not None:
            flow += persons
        return rows, cols

    def _deport(self, policies: list[Policy], rec: dict):
        """Deport households where the scenario deports; return those who were registered
        (rows, cols) (their neighbours stop counting them among the engaged)."""
        h, R = self.deportable, self.R
        chances = [
            decision.deportation_probability(policies[k], self.processes[k]) for k in range(self.K)
        ]
        rows, cols = [], []
        if len(h) and max(chances) > 0:
            for r, stream in enumerate(self.streams):  # each row draws from its own stream
                if chances[r // R] > 0:
                    drawn = stream.random(len(h)) < chances[r // R]
                    cols.append(h[(self.state[r, h] <= REGISTERED) & drawn])
                    rows.append(np.full(len(cols[-1]), r))
        if not rows:
            return _NONE
        hit = np.concatenate(rows), np.concatenate(cols)
        source = self.state[hit]
        for s in (SETTLED, INTENDING, REGISTERED):
            self._move(_pick(hit, source == s), s, DEPORTED, rec["deported"])
        return _pick(hit, source == REGISTERED)

    def _sail(self, policies: list[Policy], sailing: list[int], waiting, doubts, month, rec):
        """The month's sailings (``sailing.py``), for the rows of the ``sailing`` scenarios."""
        capacity = np.zeros(self.N, dtype=np.int64)
        for k in sailing:
            capacity[k * self.R : (k + 1) * self.R] = round(policies[k].ship_capacity * self.scale)
            rec["capacity"][k * self.R : (k + 1) * self.R] = capacity[k * self.R]
        ships = sail(
            self.streams,
            waiting,
            doubts,
            self.registered_month,
            self.ready,
            self.size,
            capacity,
            self.process,
            month,
            self.scenario_of,
        )
        rows, cols = ships.deferred
        rec["deferrals"] += self._count(rows, self.size[cols])
        withdrawn = self._move(ships.withdrawn, REGISTERED, CANCELLED, rec["cancellations"])
        rec["confirmation_withdrawals"] += self._count(withdrawn[0], self.size[withdrawn[1]])

        rows, gone = self._move(ships.gone, REGISTERED, DEPARTED, rec["departures"])
        if len(rows):
            # rows ascending: the sums of each row's run of households, all columns at once
            starts = run_starts(rows)
            sums = np.add.reduceat(self.departing[gone], starts, axis=0)
            for i, name in enumerate(DEPARTING):
                rec[name][rows[starts]] += sums[:, i]
        self._tell_departed((rows, gone))
        return withdrawn

    def _count(self, rows: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Entries (or their weights, whole numbers) per row: exact in float64 below 2**53."""
        return np.bincount(rows, weights=weights, minlength=self.N).astype(np.int64)

    def check_stocks(self) -> None:
        """Recount persons in every state from scratch; they must equal the running stocks."""
        for s in range(len(STATE_NAMES)):
            recount = ((self.state == s) * self.size).sum(axis=1)
            if not np.array_equal(recount, self.stocks[:, s]):
                raise AssertionError(
                    f"stock of {STATE_NAMES[s]} drifted: {recount} vs {self.stocks[:, s]}"
                )


DEPARTING = (
    "departing_households",
    "deportee_departures",
    "detainee_departures",
    "japanese_spouse_departures",
    "japanese_national_departures",
    *GROUP_METRICS,
)


_NONE = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))  # no households


def _pick(
    indices: tuple[np.ndarray, np.ndarray], mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    return indices[0][mask], indices[1][mask]
