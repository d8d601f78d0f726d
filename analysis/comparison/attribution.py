"""Which channels produced the baseline's departures: a Shapley split between four channels.

The baseline's departures are split between four channels (welfare, deportation risk,
propaganda, social pressure) by switching channels off alone and in every combination (2^4 paired
runs) and taking each channel's Shapley value: its marginal effect averaged over the orders in
which channels can be switched on. The four values add up to the difference between the
baseline and the run with all four off.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.outcomes import measure
from sim.paired import difference_band, shared_population
from sim.scenario import with_parameters
from sim.schema import Scenario

from .paired import Runner, numpy_runner


def _off(*levers: str) -> Callable[[Scenario], dict]:
    def overrides(scenario: Scenario) -> dict:
        start = scenario.simulation.start
        return {f"levers.{lever}": [{"from": start, "value": 0}] for lever in levers}

    return overrides


def _social_off(scenario: Scenario) -> dict:
    return {**_off("soren_pressure")(scenario), "decision.peers": 0.0}


CHANNELS: dict[str, tuple[str, Callable[[Scenario], dict]]] = {
    "welfare": (
        "1956 cuts and exclusion from the 1959 welfare system",
        _off("welfare_cut_share", "welfare_exclusion"),
    ),
    "deportation risk": (
        "enforcement of deportation (parolees, detainees, destitution)",
        _off("enforcement"),
    ),
    "propaganda": ("the 'paradise on earth' campaign", _off("propaganda")),
    "social pressure": ("Soren pressure and neighbours who registered or left", _social_off),
}


def switched_off(baseline: Scenario, channels: tuple[str, ...]) -> Scenario:
    overrides: dict = {}
    for channel in channels:
        overrides.update(CHANNELS[channel][1](baseline))
    if not overrides:
        return baseline
    scenario = with_parameters(baseline, overrides, source="channel switch-off")
    # A plain folder name, as every scenario's: "historical.without.welfare.social_pressure".
    off = ".".join(channel.replace(" ", "_") for channel in channels)
    return scenario.model_copy(update={"name": f"{baseline.name}.without.{off}"})


def shapley(values: dict[frozenset, np.ndarray], players: list[str]) -> dict[str, np.ndarray]:
    """Exact Shapley values from the value of every coalition (arrays: one per replication)."""
    n = len(players)
    result = {}
    for player in players:
        others = [p for p in players if p != player]
        total = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for coalition in itertools.combinations(others, size):
                with_player = frozenset(coalition) | {player}
                total = total + weight * (values[with_player] - values[frozenset(coalition)])
        result[player] = total
    return result


@dataclass
class Attribution:
    shares: pd.DataFrame  # per channel: median and band of its Shapley value and of its share
    all_on: np.ndarray  # departures per replication, full-population persons
    all_off: np.ndarray


def attribute(
    baseline: Scenario,
    seed: int,
    reps: int,
    scale: float,
    runner: Runner = numpy_runner,
    key: str = "departures",
    progress: Callable[[str], None] | None = None,
) -> Attribution:
    """Shapley split of the baseline's departures between the four channels (2^4 paired runs)."""
    population = shared_population(baseline, scale, seed)
    players = list(CHANNELS)
    values: dict[frozenset, np.ndarray] = {}
    for size in range(len(players) + 1):
        for on in itertools.combinations(players, size):
            off = tuple(p for p in players if p not in on)
            if progress:
                progress("channels on: " + (", ".join(on) or "none"))
            run = runner(switched_off(baseline, off), seed, list(range(reps)), scale, population)
            values[frozenset(on)] = measure(run, key) / scale
    phi = shapley(values, players)
    all_on, all_off = values[frozenset(players)], values[frozenset()]
    explained = all_on - all_off
    rows = []
    for player in players:
        share = np.divide(
            phi[player], explained, out=np.zeros_like(explained), where=explained != 0
        )
        rows.append(
            {
                "channel": player,
                "meaning": CHANNELS[player][0],
                **difference_band(phi[player], "departures"),
                **difference_band(share, "share"),
            }
        )
    return Attribution(shares=pd.DataFrame(rows), all_on=all_on, all_off=all_off)
