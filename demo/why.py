"""Why did this family leave? A household's log-odds of leaving, split into its causes.

Each month the Mesa engine sums a household's log-odds of leaving from the rule's pure
functions (``sim/decision.py``): ``attitude`` (pushes out of Japan minus what holds it there),
``soren_norm``, belief in the North (``household_logit``), its neighbours (``network_logit``),
the secure residence of a family that switched to Kankoku (``switched_logit``) and its kin in
the North (``kin_logit``).
``parts`` calls the same functions with all but one cause set to zero, so each part is the
model's own arithmetic, and the parts add up to the log-odds the model used (``total``, the very
number, is checked against the trace). Belief is split in two with the trace's belief without
letters: what propaganda built, and what the letters of hardship took away.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from demo.trace import Trace
from sim import decision
from sim.decision import Features, Policy
from sim.population import CONVICT, DETAINEE, PAROLEE
from sim.result import CANCELLED, DEPARTED, DEPORTED, INTENDING, REGISTERED, SETTLED, UNFORMED
from sim.schema import DecisionWeights

# The causes in the order the page lists them, each in plain words.
PARTS = {
    "welfare": "welfare cuts and no work",
    "deportation": "fear of deportation",
    "propaganda": "belief in a 'paradise' (propaganda)",
    "letters": "letters of hardship from the North",
    "soren": "pressure from Sōren",
    "neighbours": "neighbours who registered or left",
    "kin": "relatives who went to the North",
    "ties": "what holds it in Japan (family, spouse, status, no way back)",
    "baseline": "the starting point (most families never think of leaving)",
}

STATE_WORDS = {
    SETTLED: "staying in Japan",
    INTENDING: "began to think of leaving",
    REGISTERED: "registered with the Red Cross to leave",
    CANCELLED: "changed its mind and cancelled",
    DEPARTED: "sailed for North Korea",
    DEPORTED: "was deported",
    UNFORMED: "not yet formed",
}


def household_features(features: Features, index: int) -> Features:
    """One household's features as float32 scalars, as the Mesa engine gives them to a household."""
    return Features(**{name: values[index] for name, values in vars(features).items()})


@dataclass(frozen=True)
class Seen:
    """What a household saw as it decided one month (from the trace)."""

    belief: np.float32
    unwarned_belief: np.float32
    engaged: np.float32
    per_neighbour: np.float32
    kin: np.float32
    switched: bool
    family_ties: np.float32

    @classmethod
    def at(cls, trace: Trace, t: int, index: int) -> Seen:
        return cls(
            trace.belief[t, index],
            trace.unwarned_belief[t, index],
            trace.engaged[t, index],
            trace.per_neighbour[t, index],
            trace.kin[t, index],
            bool(trace.switched[t, index]),
            trace.family_ties[t, index],
        )


def parts(f: Features, policy: Policy, w: DecisionWeights, seen: Seen) -> dict[str, float]:
    """The household's log-odds this month, cause by cause (``PARTS``); they add up to
    ``total`` with the same arguments (to float32 rounding)."""
    zero = np.float32(0)
    inputs = {
        "welfare_cut": f.on_welfare
        * (f.welfare_cut_rank < decision.as_float32(policy.welfare_cut_share)),
        "jobless": f.jobless,
        "deportation_exposure": f.deportation_exposure,
        "convict": f.convict,
        "family_ties": seen.family_ties,
        "japanese_spouse": f.japanese_spouse,
        "kankoku": f.kankoku,
    }

    def attitude(*kept: str) -> float:
        chosen = {name: value if name in kept else zero for name, value in inputs.items()}
        return float(decision.attitude(**chosen, policy=policy, w=w))

    def believing(value) -> float:
        return float(
            decision.household_logit(attitude_term=zero, norm_term=zero, belief=value, w=w)
        )

    no_push = attitude()  # the one-way journey: the same for every household
    baseline = believing(zero)
    switched = float(decision.switched_logit(zero, np.float32(seen.switched), policy, w))
    return {
        "welfare": attitude("welfare_cut", "jobless") - no_push,
        "deportation": attitude("deportation_exposure", "convict") - no_push,
        "propaganda": believing(seen.unwarned_belief) - baseline,
        "letters": believing(seen.belief) - believing(seen.unwarned_belief),
        "soren": float(decision.soren_norm(f.soren_tie, policy, w)),
        "neighbours": float(decision.network_logit(zero, seen.engaged, seen.per_neighbour)),
        "kin": float(decision.kin_logit(zero, seen.kin, w)),
        "ties": attitude("family_ties", "japanese_spouse", "kankoku") + switched,
        "baseline": baseline,
    }


def total(f: Features, policy: Policy, w: DecisionWeights, seen: Seen, switching: bool):
    """The log-odds as the Mesa engine computes them (``Household.decide``, ``propensity``);
    ``switching``: whether the scenario switches registrations at all (the model's flag)."""
    f = replace(f, family_ties=seen.family_ties)
    base = decision.population_logit(f, seen.belief, policy, w)
    if switching:
        base = decision.switched_logit(base, np.float32(seen.switched), policy, w)
    logit = decision.network_logit(base, seen.engaged, seen.per_neighbour)
    return decision.kin_logit(logit, seen.kin, w) if w.kin > 0 else logit


@dataclass(frozen=True)
class Story:
    """One household's months so far: its log-odds by cause, and what it did."""

    index: int
    months: list[str]  # YYYY-MM
    parts: list[dict[str, float]]
    logits: list[float]
    states: list[int]

    def changes(self) -> list[tuple[int, str]]:
        """(month number, words) for each month its state changed."""
        before, moves = SETTLED, []
        for t, state in enumerate(self.states):
            if state != before:
                moves.append((t, STATE_WORDS[state]))
            before = state
        return moves


def story(model, index: int) -> Story:
    """The story of household ``index`` of a ``DemoModel`` over the months it has run."""
    trace: Trace = model.trace
    f = household_features(trace.features, index)
    labels, split, logits = [], [], []
    for t in range(trace.count):
        policy = Policy.at(model.timeline, t)
        month = int(model.months[t])
        labels.append(f"{month // 12}-{month % 12 + 1:02d}")
        split.append(parts(f, policy, model.w, Seen.at(trace, t, index)))
        logits.append(float(trace.logit[t, index]))
    return Story(index, labels, split, logits, [int(s) for s in trace.state[: trace.count, index]])


def describe_household(model, index: int) -> list[str]:
    """Who the family is, in plain words."""
    pop = model.population
    status = {
        PAROLEE: "on parole under a deportation order",
        DETAINEE: "held in Ōmura detention centre",
        CONVICT: "in prison on a long sentence",
    }.get(int(pop.legal_status[index]), "a legal resident")
    lines = [
        f"{int(pop.size[index])} people; {status}.",
        "Lives on welfare." if pop.on_welfare[index] else "Does not live on welfare.",
        "Has work." if pop.employed[index] else "Has no work.",
        f"Family ties in Japan: {float(pop.family_ties[index]):.0%}; "
        f"tie to Sōren: {float(pop.soren_tie[index]):.0%}.",
        f"{int(pop.degree[index])} neighbours in its network.",
    ]
    if pop.japanese_spouse[index]:
        lines.append("One of them is a Japanese wife or husband.")
    if pop.kankoku[index]:
        lines.append("Registered as 'Kankoku' (South Korea).")
    return lines


def month_in_words(split: dict[str, float], logit: float) -> str:
    """One month: the strongest push and pull, and the resulting chance of deciding to leave."""
    pushes = sorted((v, k) for k, v in split.items() if k != "baseline" and v > 0.005)
    holds = sorted((v, k) for k, v in split.items() if k != "baseline" and v < -0.005)
    words = []
    if pushes:
        words.append(f"the strongest push was {PARTS[pushes[-1][1]]} ({pushes[-1][0]:+.2f})")
    if holds:
        words.append(f"the strongest hold was {PARTS[holds[0][1]]} ({holds[0][0]:+.2f})")
    chance = float(decision.sigmoid(np.float64(logit)))
    sentence = "; ".join(words)
    return (
        sentence[:1].upper()
        + sentence[1:]
        + f". In all {logit:+.2f} log-odds: a family staying in Japan would decide to leave with "
        f"a chance of {chance:.1%} a month (the lower, the more a registered family doubts)."
    )


def pick(model, state: int, turn: int = 0) -> int | None:
    """A household in ``state`` now (the ``turn``-th, cycling), or None if there is none."""
    if model.trace.count == 0:
        now = np.array([h.state for h in model.households])
    else:
        now = model.trace.state[model.trace.count - 1]
    found = np.flatnonzero(now == state)
    return int(found[turn % len(found)]) if len(found) else None
