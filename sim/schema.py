"""The scenario schema: what a scenario file may say, with units, ranges and meaning.

A scenario holds the simulated period, the synthetic-population shares, the weights of the
decision rule, the institutional rates, the policy levers (dated schedules: ``schema_levers.py``)
and, optionally, the after-arrival stage (``schema_aftermath.py``). Every field carries its
unit, its allowed range and its meaning (``fields.py``); the scenario-file reference in the docs
is generated from them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, model_validator

from .fields import (
    FolderName,
    KeyPathError,
    Step,
    Strict,
    YearMonth,
    field_range,
    param,
)
from .schedules import month_label, monthly_values
from .schema_aftermath import Aftermath
from .schema_levers import Levers


class Simulation(Strict):
    start: YearMonth = Field(description="first simulated month, YYYY-MM")
    end: YearMonth = Field(description="last simulated month, YYYY-MM")

    @model_validator(mode="after")
    def _ordered(self) -> Simulation:
        if self.end < self.start:
            raise KeyPathError(("end",), "the end month comes before the start month")
        return self


class PopulationParameters(Strict):
    people: int = param(1000, 2_000_000, "persons", "Korean residents of Japan at the start")
    mean_household_size: float = param(1, 10, "persons", "mean persons per household")
    kankoku_share: float = param(0, 1, "share", "households registered as Kankoku, not Chosen")
    welfare_share: float = param(0, 1, "share", "households receiving livelihood protection")
    employed_share: float = param(0, 1, "share", "households whose head has steady work")
    japanese_spouse_share: float = param(0, 1, "share", "households with a Japanese spouse")
    japanese_child_share: float = param(
        0, 1, "share", "children of a mixed household holding Japanese nationality"
    )
    detainees: int = param(0, 100_000, "persons", "held in Omura Detention Centre at the start")
    parolees: int = param(
        0, 100_000, "persons", "released from Omura on parole with a short-term alien card"
    )
    long_sentence_convicts: int = param(
        0, 100_000, "persons", "Kankoku permanent residents serving 7 years or more"
    )
    destitution_deportation_fear: float = param(
        0, 1, "0..1", "deportation risk felt by a welfare household (destitution is a ground)"
    )
    soren_tie_chosen: float = param(0, 1, "0..1", "mean Soren tie strength, Chosen households")
    soren_tie_kankoku: float = param(0, 1, "0..1", "mean Soren tie strength, Kankoku households")
    soren_tie_concentration: float = param(
        0.1, 1000, "Beta a+b", "how tightly tie strengths gather around their mean"
    )
    community_size: int = param(2, 10_000, "households", "households per local community")
    family_ties_mean: float = param(0, 1, "0..1", "mean strength of family ties in Japan")
    network_degree: int = param(0, 100, "neighbours", "network neighbours per household (even)")
    network_rewiring: float = param(0, 1, "probability", "chance a tie leaves the community")
    belief_prior_mean: float = param(
        0, 1, "0..1", "mean initial belief that life in the North is good"
    )
    # The defaults of the keys below are the population without them: no tie is kin, a
    # household with a Japanese spouse is drawn like any other, no household passes to the
    # next generation, the young form no household of their own.
    kin_share: float = param(
        0, 1, "share", "share of a household's network ties that are kin", default=0.0
    )
    mixed_household_size: float = param(
        0,
        12,
        "persons",
        "mean persons in a household with a Japanese spouse, at least 2 (0: drawn like any "
        "other household)",
        default=0.0,
    )
    generation_years: float = param(
        0,
        100,
        "years",
        "a household passes to its next generation (born in Japan) once, at a month drawn "
        "uniformly within this many years of the start (0: none does)",
        default=0.0,
    )
    young_belief_prior_mean: float = param(
        0, 1, "0..1", "mean belief in the North of a household's next generation", default=0.15
    )
    young_family_ties_mean: float = param(
        0, 1, "0..1", "mean strength of family ties in Japan of the next generation", default=0.5
    )
    young_households: float = param(
        0,
        1,
        "share",
        "share of the households of the start from which the young form a household of their "
        "own, at a month drawn uniformly within generation_years (0: none is formed)",
        default=0.0,
    )

    @model_validator(mode="after")
    def _even_degree(self) -> PopulationParameters:
        # Each household has degree/2 ties on each side in the small-world ring.
        if self.network_degree % 2:
            raise KeyPathError(
                ("network_degree",), f"{self.network_degree} is odd: the degree must be even"
            )
        # The young form their households within the generations' window, from its second
        # month (the first is the start's).
        if self.young_households > 0 and self.generation_years * 12 < 2:
            raise KeyPathError(
                ("young_households",),
                f"{self.young_households} households formed by the young need a window of two "
                f"months or more: give generation_years of 1/6 or more (it is "
                f"{self.generation_years:g}), or young_households = 0",
            )
        # A mixed household is at least the couple (0 alone means: drawn like any other).
        if 0 < self.mixed_household_size < 2:
            raise KeyPathError(
                ("mixed_household_size",),
                f"{self.mixed_household_size} is below 2, the couple alone: give 2 or more, "
                "or 0 to draw mixed households like any other",
            )
        return self


class DecisionWeights(Strict):
    """Weights of the monthly propensity logit (see sim/decision.py)."""

    intercept: float = param(-30, 10, "logit", "baseline log-odds of intending to leave per month")
    welfare_cut: float = param(0, 20, "logit", "push of losing livelihood payments")
    welfare_exclusion: float = param(
        0, 20, "logit", "push of exclusion from national welfare, jobless"
    )
    unemployment: float = param(0, 20, "logit", "push of having no steady work")
    deportation: float = param(0, 20, "logit", "push of a felt deportation risk (x enforcement)")
    family_ties: float = param(0, 20, "logit", "pull of family ties in Japan")
    japanese_spouse: float = param(0, 20, "logit", "pull of a Japanese spouse")
    secure_residence: float = param(0, 20, "logit", "pull of a secure residence status")
    one_way: float = param(0, 20, "logit", "deterrent of a journey with no return")
    soren: float = param(0, 20, "logit", "Soren pressure x tie strength")
    peers: float = param(0, 20, "logit", "share of network neighbours registered or gone")
    belief: float = param(0, 20, "logit", "belief that life in the North is good")
    kin: float = param(
        0, 20, "logit", "pull of having relatives among those who left (kin ties)", default=0.0
    )


class Process(Strict):
    """Institutional and learning rates of the monthly process."""

    propaganda_learning: float = param(
        0, 1, "per month", "pull of propaganda on belief, x exposure"
    )
    publication_learning: float = param(0, 1, "per month", "pull of published bad news on belief")
    media_exposure: float = param(
        0, 1, "0..1", "propaganda exposure of a household with no Soren tie"
    )
    letter_learning: float = param(
        0,
        10,
        "per letter",
        "pull of a letter of hardship on belief: each keeps a share exp(-letter_learning) of it",
    )
    hearsay: float = param(
        0,
        10,
        "share",
        "letters heard of second-hand, as a share of those an average household gets directly",
    )
    # The defaults of the nine keys below are the rule without these mechanisms: letters weigh
    # for ever, everyone believes them alike, they pull belief toward 0, hearsay reaches everyone
    # alike, nobody defers a place, every registered family is ready to sail, cancelling follows
    # doubt, a cancellation is final.
    letter_fading: float = param(
        0,
        1,
        "per month",
        "share of their weight the letters of a neighbour who left lose each month (0: they never "
        "fade; 0.056: they weigh half as much after a year)",
        default=0.0,
    )
    letter_discount: float = param(
        0,
        1,
        "0..1",
        "how far a household discounts letters of hardship, x its Soren tie (1: a fully tied "
        "household ignores them)",
        default=0.0,
    )
    letter_anchoring: float = param(
        0,
        1,
        "0..1",
        "where the letters pull belief: toward letter_anchoring x (1 - bad_news), the share of "
        "letters that do not tell of hardship (0: toward 0, each letter keeping a share "
        "exp(-letter_learning) of belief; 1: toward what the letters say)",
        default=0.0,
    )
    hearsay_along_ties: float = param(
        0,
        1,
        "share",
        "share of the letters heard second-hand that come along ties (the letters of one's "
        "neighbours' neighbours who left) rather than evenly from the whole community",
        default=0.0,
    )
    defer_rate: float = param(
        0,
        1,
        "probability",
        "chance a doubting family offered a place on a ship defers to a later ship, x doubt",
        default=0.0,
    )
    ready_share: float = param(
        0,
        1,
        "share",
        "share of registering families ready to take a place at once; the others must first "
        "settle their affairs (1: all are ready)",
        default=1.0,
    )
    ready_rate: float = param(
        0,
        1,
        "per month",
        "chance a registered family not yet ready has settled its affairs this month",
        default=0.0,
    )
    cancel_anchor: float = param(
        0,
        1,
        "0..1",
        "how far a registered family's cancelling answers a change of mind since it registered "
        "rather than its doubt: chance cancel_rate x max(0, doubt - cancel_anchor x doubt when "
        "it registered) (0: its doubt; 1: only a change of mind)",
        default=0.0,
    )
    reconsider_rate: float = param(
        0,
        1,
        "per month",
        "chance a household that cancelled is settled again, free to register another time",
        default=0.0,
    )
    register_rate: float = param(0, 1, "per month", "chance an intending household registers")
    doubt_threshold: float = param(-30, 10, "logit", "propensity below which households doubt")
    revert_rate: float = param(0, 1, "per month", "chance a doubting intending household gives up")
    cancel_rate: float = param(0, 1, "per month", "chance a doubting registered household cancels")
    confirmation_withdrawal: float = param(
        0, 1, "probability", "chance a doubting family withdraws at a fully private confirmation"
    )
    deportation_rate: float = param(0, 1, "per month", "chance a deportable household is deported")

    @model_validator(mode="after")
    def _disjoint_intending_moves(self) -> Process:
        if self.register_rate + self.revert_rate > 1:
            raise KeyPathError(
                ("revert_rate",),
                "register_rate + revert_rate must not exceed 1 (one draw decides both)",
            )
        if self.cancel_rate + self.ready_rate > 1:
            raise KeyPathError(
                ("ready_rate",),
                "cancel_rate + ready_rate must not exceed 1 (one draw decides both)",
            )
        return self


class Calibration(Strict):
    """Where a scenario's calibrated parameters come from: ``[calibration] posterior = "file"``.

    In a scenario file only ``posterior`` is written (a path relative to that file). Loading
    reads the posterior and fills in the rest: the file's sha256, the rule that chose its point
    estimate, and the values it set. ``overridden`` lists calibrated keys whose value in the
    resolved scenario differs from the posterior's point (set by a derived scenario or by
    ``with_parameters``), so a manifest says whether a run used the calibrated values.
    """

    posterior: str = Field(
        description="posterior file written by `repatriation calibrate`, "
        "relative to the scenario file that names it"
    )
    sha256: str = Field(default="", description="sha256 of the posterior file (set on load)")
    point_rule: str = Field(default="", description="how the posterior's point was chosen")
    values: dict[str, float] = Field(
        default_factory=dict, description="dotted keys set from the posterior's point"
    )
    overridden: list[str] = Field(
        default_factory=list, description="calibrated keys given another value afterwards"
    )


class Scenario(Strict):
    name: FolderName = Field(
        description="short name used in output folders (letters, digits, '.', '_', '-')"
    )
    description: str = Field(default="", description="one paragraph: what this scenario is")
    calibration: Calibration | None = Field(
        default=None, description="the posterior the calibrated parameters come from"
    )
    simulation: Simulation
    population: PopulationParameters
    decision: DecisionWeights
    process: Process
    levers: Levers
    aftermath: Aftermath | None = Field(
        default=None, description="the after-arrival stage (returnees' fate, escapes, resettlement)"
    )

    @model_validator(mode="before")
    @classmethod
    def _note_overridden_calibration(cls, data: Any) -> Any:
        calibration = data.get("calibration") if isinstance(data, dict) else None
        if isinstance(calibration, dict) and isinstance(calibration.get("values"), dict):
            overridden = sorted(
                k for k, v in calibration["values"].items() if dotted_get(data, k) != v
            )
            data = {**data, "calibration": {**calibration, "overridden": overridden}}
        return data

    @model_validator(mode="after")
    def _levers_cover_the_period(self) -> Scenario:
        for name in Levers.model_fields:
            first = getattr(self.levers, name)[0].start
            if first > self.simulation.start:
                # Named at the lever's step, with the other key in the message: either may be
                # the one just changed.
                raise KeyPathError(
                    ("levers", name, 0, "from"),
                    f"the first step ({month_label(first)}) must be on or before the simulated "
                    f"start (simulation.start = {month_label(self.simulation.start)}): begin "
                    "the lever earlier or the simulation later",
                )
        return self

    @property
    def aftermath_enabled(self) -> bool:
        """Whether the scenario switches the after-arrival stage on by itself."""
        return self.aftermath is not None and self.aftermath.enabled

    @property
    def months(self) -> np.ndarray:
        """Absolute month numbers of the simulated period."""
        return np.arange(self.simulation.start, self.simulation.end + 1)

    def timeline(self) -> dict[str, np.ndarray]:
        """Every lever's value in every simulated month: {lever: float64 array of months}."""
        return {
            name: monthly_values(getattr(self.levers, name), self.months)
            for name in Levers.model_fields
        }

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)

    def digest(self) -> str:
        """sha256 of the resolved scenario: two runs with the same digest ran the same inputs."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


def dotted_get(data: dict, dotted: str) -> Any:
    """``data["a"]["b"]`` for ``"a.b"``; None where a part is missing."""
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def key_text(loc: tuple) -> str:
    """A key path as written in messages: ``levers.propaganda[0].from``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def model_at(loc: tuple) -> Any:
    """The schema model that holds the last key of ``loc``."""
    model: Any = Scenario
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        # An optional section (``Aftermath | None``) is its model.
        candidates = [
            a
            for a in (annotation, *getattr(annotation, "__args__", ()))
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        model = candidates[0] if candidates else Step
    return model


def parameter_range(dotted: str) -> tuple[float, float]:
    """The allowed (min, max) of a scalar parameter, "section.key" (``decision.peers``); a
    ``KeyError`` if no such parameter is in the schema."""
    section, _, name = dotted.partition(".")
    try:
        return field_range(model_at((section, name)), name)
    except (KeyError, AttributeError, TypeError, IndexError):
        raise KeyError(dotted) from None
