"""The monthly decision rule: every chance a household's move depends on, as array functions.

A household's propensity to leave is a log-odds sum of three parts:

* attitude -- pushes out of Japan (welfare cut x dependency, exclusion from the welfare system,
  no work x how scarce work is, deportation risk x legal status x enforcement) minus what holds
  it there (family ties, a Japanese spouse, a secure residence status -- held by Kankoku
  registrants, including those who switched from Chosen (``switched_logit``) -- and the
  irreversibility of a one-way trip);
* social norm -- Soren pressure x tie strength, the share of network neighbours who have
  registered or gone, and the pull of kin who left (``kin_logit``);
* belief about the North (0..1) -- raised by propaganda, lowered by published bad news and by
  the letters of hardship from those who left (``letters.py``, imported here). Letters act on
  belief, not on the log-odds directly, so they can take away at most what belief adds: the
  pushes out of Japan still act on a household that has stopped believing in the North.

From the propensity follow the month's moves, each decided by the household's one uniform draw:
a settled household comes to intend leaving (``intend_probability``); an intending one
registers (``registers``), ready to sail or not (``ready_at_registration``), or gives up
(``reverts``); a registered one cancels (``cancels``), becomes ready (``becomes_ready``) or, at
the ship, defers to a later one (``defers``) or withdraws at the confirmation of free will
(``withdrawal_probability``); one that cancelled may be settled again (``reconsiders``); a
deportable one may be deported (``deportation_probability``). Doubt (``doubt``) is high when the
propensity is low.

``household_logit`` holds the household's own terms and its belief (shared by every
replication until the first letters of hardship, when the neighbours who left make beliefs
differ); ``network_logit`` adds the peers: what the household's neighbours did in this
replication. Both engines call these same functions. All functions are pure: arrays in, arrays
out, any shape that broadcasts (``out=`` only says where to write); they work as well on numpy
float32 scalars (one household), giving bit-for-bit the same numbers as on arrays.

A weight, rate or lever value may also be an array of values by row (``rows.py``: several
parameter sets in one run) in place of a float. Each enters the float32 arithmetic through
``as_float32``, so every row gets bit-for-bit the numbers that its own float would give.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .letters import (  # noqa: F401 (the news part of the rule, read from here with the rest)
    heard_along_ties,
    hearsay_letters,
    letter_retention,
    letter_trust,
    letters_received,
    updated_belief,
)
from .population import CONVICT, DETAINEE, PAROLEE, Population
from .schema import DecisionWeights, Process
from .values import any_positive, as_float32, is_on


@dataclass(frozen=True)
class Policy:
    """The levers' values in one month (see ``Levers`` in schema.py for their meaning)."""

    programme_open: float
    ship_capacity: float
    welfare_cut_share: float
    welfare_exclusion: float
    enforcement: float
    south_korea_accepts_deportees: float
    third_country_for_deportees: float
    special_status: float
    secure_residence_kankoku: float
    propaganda: float
    soren_pressure: float
    bad_news: float
    letters_published: float
    confirmation_privacy: float
    right_of_return: float
    convict_expulsion: float
    impoverished_only: float
    kankoku_switching: float
    job_scarcity: float

    @classmethod
    def at(cls, timeline: dict[str, np.ndarray], month: int) -> Policy:
        """The policy in the ``month``-th simulated month of a scenario timeline."""
        return cls(**{name: float(values[month]) for name, values in timeline.items()})


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The logistic function, 1 / (1 + exp(-x)); writes into ``out`` if given (no other effect).

    Written with numpy's own ufuncs rather than scipy's ``expit``, which is several times slower
    on float32 arrays here; exp overflowing to inf for very negative x still gives exactly 0.
    """
    with np.errstate(over="ignore"):
        if out is None:  # also the path for numpy scalars (one household)
            return 1.0 / (1.0 + np.exp(-x))
        np.negative(x, out=out)
        np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


def deportation_exposure(
    legal_status: np.ndarray, on_welfare: np.ndarray, destitution_fear: float
) -> np.ndarray:
    """How exposed a household feels to deportation, before enforcement: 0..1.

    A long-sentence convict is exposed only while the ``convict_expulsion`` lever is on (see
    ``attitude``); until then a convict feels what any resident in his situation feels.
    """
    exposure = np.where(on_welfare, destitution_fear, 0.0)
    exposure = np.where(legal_status == PAROLEE, 1.0, exposure)
    return np.where(legal_status == DETAINEE, 1.0, exposure)


def attitude(
    *,
    welfare_cut: np.ndarray,
    jobless: np.ndarray,
    deportation_exposure: np.ndarray,
    convict: np.ndarray,
    family_ties: np.ndarray,
    japanese_spouse: np.ndarray,
    kankoku: np.ndarray,
    policy: Policy,
    w: DecisionWeights,
) -> np.ndarray:
    """Expected life in Japan versus the North, in log-odds: pushes minus what holds people."""
    f32 = as_float32
    deportation_risk = f32(
        policy.enforcement
        * (1.0 - policy.special_status)
        * (1.0 - policy.third_country_for_deportees)
    ) * (deportation_exposure + convict * f32(policy.convict_expulsion))
    return (
        f32(w.welfare_cut) * welfare_cut
        + f32(
            (w.unemployment + w.welfare_exclusion * policy.welfare_exclusion) * policy.job_scarcity
        )
        * jobless
        + f32(w.deportation) * deportation_risk
        - f32(w.family_ties) * family_ties
        - f32(w.japanese_spouse) * japanese_spouse
        - f32(w.secure_residence * policy.secure_residence_kankoku) * kankoku
        - f32(w.one_way * (1.0 - policy.right_of_return))
    )


def soren_norm(soren_tie: np.ndarray, policy: Policy, w: DecisionWeights) -> np.ndarray:
    """The organised part of the social norm: Soren pressure felt through one's tie."""
    return as_float32(w.soren * policy.soren_pressure) * soren_tie


def household_logit(
    *,
    attitude_term: np.ndarray,
    norm_term: np.ndarray,
    belief: np.ndarray,
    w: DecisionWeights,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Per-household log-odds of intending to leave this month, before network effects; written
    into ``out`` if given (of the shape of ``belief`` broadcast)."""
    return belief_logit(held_logit(attitude_term, norm_term, w), belief, w, out=out)


def held_logit(attitude_term: np.ndarray, norm_term: np.ndarray, w: DecisionWeights):
    """The part of ``household_logit`` that belief does not move: intercept, attitude, norm."""
    return as_float32(w.intercept) + attitude_term + norm_term


def belief_logit(held: np.ndarray, belief: np.ndarray, w: DecisionWeights, out=None):
    """``household_logit`` from its ``held_logit`` and the household's belief."""
    f32 = as_float32
    if out is None:
        return held + f32(w.belief) * belief
    # the same sum as above in the same float32 arithmetic (a + b is b + a), without temporaries
    out = np.multiply(belief, f32(w.belief), out=out)
    out += held
    return out


@dataclass(frozen=True)
class Features:
    """A population's attributes as the rule reads them: float32 arrays, one entry per household."""

    on_welfare: np.ndarray
    welfare_cut_rank: np.ndarray
    jobless: np.ndarray
    deportation_exposure: np.ndarray
    convict: np.ndarray
    family_ties: np.ndarray
    japanese_spouse: np.ndarray
    kankoku: np.ndarray
    soren_tie: np.ndarray

    @classmethod
    def of(cls, pop: Population, destitution_fear: float) -> Features:
        f32 = lambda a: np.asarray(a, dtype=np.float32)
        return cls(
            on_welfare=f32(pop.on_welfare),
            welfare_cut_rank=f32(pop.welfare_cut_rank),
            jobless=f32(~pop.employed),
            deportation_exposure=f32(
                deportation_exposure(pop.legal_status, pop.on_welfare, destitution_fear)
            ),
            convict=f32(pop.legal_status == CONVICT),
            family_ties=np.array(pop.family_ties, dtype=np.float32),  # its own: see turnovers
            japanese_spouse=f32(pop.japanese_spouse),
            kankoku=f32(pop.kankoku),
            soren_tie=f32(pop.soren_tie),
        )


def population_logit(
    f: Features, belief: np.ndarray, policy: Policy, w: DecisionWeights, out=None
) -> np.ndarray:
    """``household_logit`` for every household of a population (float32 when belief is),
    written into ``out`` if given."""
    return belief_logit(population_held(f, policy, w), belief, w, out=out)


def population_held(f: Features, policy: Policy, w: DecisionWeights) -> np.ndarray:
    """``held_logit`` for every household of a population (any subset of its households gets
    the same numbers: every term is computed household by household)."""
    welfare_cut = f.on_welfare * (f.welfare_cut_rank < as_float32(policy.welfare_cut_share))
    att = attitude(
        welfare_cut=welfare_cut,
        jobless=f.jobless,
        deportation_exposure=f.deportation_exposure,
        convict=f.convict,
        family_ties=f.family_ties,
        japanese_spouse=f.japanese_spouse,
        kankoku=f.kankoku,
        policy=policy,
        w=w,
    )
    return held_logit(att, soren_norm(f.soren_tie, policy, w), w)


def peer_weight(degree: np.ndarray, w: DecisionWeights) -> np.ndarray:
    """Log-odds added by each engaged neighbour: the peer weight shared among one's neighbours."""
    return (w.peers / np.maximum(degree, 1)).astype(np.float32)


def network_logit(
    base: np.ndarray,
    engaged_neighbours: np.ndarray,
    per_neighbour: np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Full propensity: the household's logit plus peer pressure (``peer_pressure``)."""
    out = peer_pressure(engaged_neighbours, per_neighbour, out=out)
    out += base
    return out


def peer_pressure(engaged_neighbours: np.ndarray, per_neighbour: np.ndarray, out=None):
    """What ``network_logit`` adds: ``per_neighbour`` times the neighbours who registered or
    left (float32; written into ``out`` if given)."""
    return np.multiply(engaged_neighbours, per_neighbour, out=out)


def kin_logit(
    logit: np.ndarray, kin_departed: np.ndarray, w: DecisionWeights, out=None, scratch=None
):
    """The propensity plus the pull of relatives in the North: ``kin`` once any kin tie of the
    household has left (``kin_departed``: kin who left, float32). 002: the project divided
    "hundreds of thousands of their relatives both in North Korea and in Japan"; a family with
    kin there is pulled to join them as well as told by their letters. Written into ``out``
    if given (it may be ``logit`` itself); ``scratch``: a float32 array of the pull's shape to
    work in."""
    return np.add(logit, kin_pull(kin_departed, w, out=scratch), out=out)


def kin_pull(kin_departed: np.ndarray, w: DecisionWeights, out=None) -> np.ndarray:
    """What ``kin_logit`` adds: ``kin`` where any kin tie has left; written into ``out`` if
    given (float32, of the shape of ``kin_departed``)."""
    # min(kin_departed, 1) taken against ones rather than the scalar 1: the same numbers, but
    # numpy's vectorised loop of minimum takes arrays only (some three times faster here)
    ones = np.ones(np.shape(kin_departed)[-1:], dtype=np.float32)
    pull = np.minimum(kin_departed, ones, out=out)
    return np.multiply(pull, as_float32(w.kin), out=out)


def switched_logit(
    logit: np.ndarray, switched: np.ndarray, policy: Policy, w: DecisionWeights, out=None
):
    """The propensity of a household that switched its registration from Chosen to Kankoku
    (``switches_registration``): it holds the secure residence Kankoku registrants hold, as the
    ``kankoku`` term of ``attitude`` says (0 for a household that has not switched). In float32
    whether ``switched`` is bool or float32 (a bool array times a float would be float64);
    written into ``out`` if given (float32, of the shape of ``switched``)."""
    held = secure_residence_held(switched, policy, w, out=out)
    return np.subtract(logit, held, out=held if out is not None else None)


def secure_residence_held(switched: np.ndarray, policy: Policy, w: DecisionWeights, out=None):
    """What ``switched_logit`` takes away: the secure residence a household that switched
    holds, 0 for one that has not (float32; written into ``out`` if given)."""
    secure = as_float32(w.secure_residence * policy.secure_residence_kankoku)
    return np.multiply(switched, secure, out=out, dtype=np.float32)


def switches_registration(u: np.ndarray, policy: Policy) -> np.ndarray:
    """Whether a settled Chosen household registers as Kankoku this month: chance
    ``kankoku_switching``, from the top of the household's draw (a settled household that
    comes to intend leaving in the same month, from its bottom, does not switch)."""
    return u >= switch_bound(policy)


def switch_bound(policy: Policy):
    """The draw at or above which a settled Chosen household switches (``switches_registration``),
    float32; the numpy engine lists the households beyond it in one pass (``screen.drawn``)."""
    return as_float32(1.0 - policy.kankoku_switching)


def intend_probability(logit: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Monthly chance that a settled household decides it wants to leave."""
    return sigmoid(logit, out=out)


def doubt(logit: np.ndarray, threshold: float) -> np.ndarray:
    """How much a household that meant to leave doubts it now (0..1): high when propensity is
    low."""
    return sigmoid(as_float32(threshold) - logit)


def registers(u: np.ndarray, policy: Policy, p: Process, impoverished: np.ndarray) -> np.ndarray:
    """Whether an intending household registers at a Red Cross window this month.

    ``u`` is the household's one uniform draw of the month. It registers with chance
    ``register_rate`` while the programme is open; under the "impoverished only" plan, only if it
    is on welfare or jobless. Never together with ``reverts`` (register_rate + revert_rate <= 1).
    """
    register = (u < as_float32(p.register_rate)) & is_on(policy.programme_open)
    only = is_on(policy.impoverished_only)
    if isinstance(only, np.ndarray):  # by row
        return register & (impoverished | ~only)
    return register & impoverished if only else register


def reverts(u: np.ndarray, doubt_level: np.ndarray, p: Process) -> np.ndarray:
    """Whether an intending household gives up the idea this month: chance revert_rate x doubt,
    taken from the top of the same uniform draw as ``registers`` so the two never overlap."""
    return u > 1.0 - as_float32(p.revert_rate) * doubt_level


def cancels(
    u: np.ndarray,
    doubt_level: np.ndarray,
    p: Process,
    doubt_when_registered: np.ndarray | None = None,
) -> np.ndarray:
    """Whether a registered household waiting for a ship cancels this month: chance
    cancel_rate x doubt, or, with ``cancel_anchor``, cancel_rate x max(0, doubt - cancel_anchor x
    ``doubt_when_registered``): the more anchored, the more cancelling answers a change of mind
    since registering (the letters of hardship, say), and the less a doubt the family already
    had when it registered, pushed out of Japan rather than pulled to the North."""
    f32 = as_float32
    if doubt_when_registered is None or not any_positive(p.cancel_anchor):
        return u < f32(p.cancel_rate) * doubt_level
    # A row whose cancel_anchor is 0 gets max(doubt - 0, 0) = doubt: its numbers as unanchored.
    change = np.maximum(doubt_level - f32(p.cancel_anchor) * doubt_when_registered, 0.0)
    return u < f32(p.cancel_rate) * change


def ready_at_registration(u: np.ndarray, p: Process) -> np.ndarray:
    """Whether a family that registers this month (``registers``: u < register_rate) is ready to
    take a place at once: the bottom ready_share of that same draw, so chance ready_share.

    A family not ready keeps its registration, is not offered a place, and becomes ready later
    (``becomes_ready``): registration is an option held while a family settles its affairs
    (selling a house or a shop, a job, the children's school). A modelling ASSUMPTION: the
    documents give no reason, but their figures imply that about 13,000 registered persons, beyond
    all who sailed from 1971, had not sailed when the project lapsed in 1967 (the derived
    figure ``waiting_at_lapse_1967``)."""
    return u < as_float32(p.register_rate * p.ready_share)


def becomes_ready(u: np.ndarray, p: Process) -> np.ndarray:
    """Whether a registered family not yet ready has settled its affairs this month: chance
    ready_rate, from the top of the household's draw, so never together with ``cancels``
    (cancel_rate + ready_rate <= 1)."""
    return u >= as_float32(1.0 - p.ready_rate)


def reconsiders(u: np.ndarray, p: Process) -> np.ndarray:
    """Whether a household that cancelled is settled again this month, free to come to intend
    leaving and register another time: chance reconsider_rate."""
    return u < reconsider_bound(p)


def reconsider_bound(p: Process):
    """The draw below which a household that cancelled reconsiders (``reconsiders``), float32;
    the numpy engine lists the households below it in one pass (``screen.drawn``)."""
    return as_float32(p.reconsider_rate)


def defers(u: np.ndarray, doubt_level: np.ndarray, p: Process) -> np.ndarray:
    """Whether a registered family offered a place on this month's ship defers to a later one
    (002: "choosing to leave on a later repatriation ship"): chance defer_rate x doubt. It stays
    registered, in its place in the queue, and the place goes to the next ready family."""
    return u < as_float32(p.defer_rate) * doubt_level


def withdrawal_probability(doubt_level: np.ndarray, privacy: float, p: Process) -> np.ndarray:
    """Chance that a family withdraws at the confirmation of free will at Niigata."""
    return as_float32(p.confirmation_withdrawal * privacy) * doubt_level


def deportation_probability(policy: Policy, p: Process) -> float:
    """Monthly chance a deportable household is removed to South Korea or a third country."""
    destination = min(
        policy.south_korea_accepts_deportees + policy.third_country_for_deportees, 1.0
    )
    return p.deportation_rate * policy.enforcement * (1.0 - policy.special_status) * destination
