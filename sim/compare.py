"""Counterfactual scenarios against the baseline, as paired differences, and the attribution of
the baseline's departures to its channels.

Pairing: every scenario runs with the baseline's seed, the same population draw and the same
replication numbers, so replication k of a scenario and of the baseline share their random
numbers (common random numbers). The difference taken replication by replication is then the
effect of the policy, with most of the chance variation cancelled out. Its median and 90% band
across replications are reported.

Attribution: the baseline's departures are split between four channels (welfare, deportation
risk, propaganda, social pressure) by switching channels off alone and in every combination
(2^4 runs) and taking each channel's Shapley value: its marginal effect averaged over the orders
in which channels can be switched on. The four values add up to the difference between the
baseline and the run with all four off.

After arrival: when a compared scenario switches the after-arrival stage on (``[aftermath]
enabled = true``), or when asked to, the stage (sim/aftermath.py) follows the departures of the
baseline and of every scenario to 2025 with the same seed. Replication k of the stage draws from
its own stream, child k of the seed's after-arrival branch, for every run, so it stays paired
with replication k of the baseline's stage; the paired differences of ``AFTERMATH_OUTCOMES``
are reported like the others.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

from .engine_numpy import RunResult, population_stream, simulate
from .population import Population, generate_population
from .scenario import Scenario, month_index, with_parameters

if TYPE_CHECKING:
    from .aftermath import AftermathResult

# What each reported outcome is, read off a run: one value per replication.
OUTCOMES: dict[str, tuple[str, str, str]] = {
    # key: (metric, first month, last month)
    "departures": ("departures", "1959-12", "1984-07"),
    "departures_1960": ("departures", "1960-01", "1960-12"),
    "registrations": ("registrations", "1959-01", "1984-12"),
    "cancellations": ("cancellations", "1959-01", "1984-12"),
    "deportee_departures": ("deportee_departures", "1959-12", "1984-07"),
    "japanese_national_departures": ("japanese_national_departures", "1959-12", "1984-07"),
}
BAND = (0.05, 0.5, 0.95)

# After-arrival outcomes: (series of sim/aftermath.py, year at whose end it is read).
AFTERMATH_OUTCOMES: dict[str, tuple[str, int]] = {
    "resettled_japan_2025": ("resettled_japan", 2025),
    "japanese_nationals_resettled_japan_2025": ("japanese_nationals_resettled_japan", 2025),
    "resettled_south_korea_2025": ("resettled_south_korea", 2025),
    "in_north_2025": ("in_north", 2025),
    "in_japanese_missions_2010": ("in_japanese_missions", 2010),
}
# Series whose paired difference is also given year by year (aftermath_annual_differences.csv).
AFTERMATH_ANNUAL = ("resettled_japan", "japanese_nationals_resettled_japan",
                    "resettled_south_korea", "in_north")

Runner = Callable[[Scenario, int, list[int], float, Population], RunResult]


def numpy_runner(scenario: Scenario, seed: int, reps: list[int], scale: float,
                 population: Population) -> RunResult:
    return simulate(scenario, seed, reps, scale=scale, population=population)


def posterior_runner(posterior: dict) -> Runner:
    """Runs in which replication k uses posterior draw k, so bands include parameter uncertainty.

    The baseline and every scenario get the same draw for the same replication (the draws depend
    only on the seed), so differences stay paired. Each draw's own population is drawn from the
    seed, the same for the baseline and the scenarios.
    """
    from .calibration import simulate_posterior

    def run(scenario: Scenario, seed: int, reps: list[int], scale: float,
            population: Population) -> RunResult:
        if reps != list(range(len(reps))):
            raise ValueError("posterior runs take replications 0..n-1")
        return simulate_posterior(scenario, posterior, seed, draws=len(reps), scale=scale)[0]

    return run


def outcome(result: RunResult, key: str) -> np.ndarray:
    metric, first, last = OUTCOMES[key]
    months = (result.months >= month_index(first)) & (result.months <= month_index(last))
    return result.metrics[metric][:, months].sum(axis=1) / 1.0


def aftermath_outcome(result: AftermathResult, key: str) -> np.ndarray:
    """One value per replication (simulated persons; NaN if the stage stops before the year)."""
    from .aftermath import value_at

    series, year = AFTERMATH_OUTCOMES[key]
    return value_at(result, series, year)


def aftermath_annual(result: AftermathResult, series: str) -> pd.DataFrame:
    """Per replication and year of the stage: rows are replications, columns years."""
    return pd.DataFrame(result.series[series], columns=[int(y) for y in result.years])


def annual(result: RunResult, metric: str = "departures") -> pd.DataFrame:
    """Per replication and year: rows are replications, columns years."""
    years = result.months // 12
    return pd.DataFrame({int(y): result.metrics[metric][:, years == y].sum(axis=1)
                         for y in np.unique(years)})


@dataclass
class Comparison:
    """Runs of the baseline and of each scenario, paired replication by replication."""

    baseline: RunResult
    scenarios: dict[str, RunResult]
    scale: float
    # The after-arrival stage of the baseline and of each scenario (None: it did not run).
    aftermath_baseline: AftermathResult | None = None
    aftermath: dict[str, AftermathResult] | None = None

    def differences(self) -> pd.DataFrame:
        """Median and 90% band of each outcome's paired difference (scenario minus baseline),
        in full-population persons."""
        rows = []
        for name, run in self.scenarios.items():
            for key in OUTCOMES:
                diff = (outcome(run, key) - outcome(self.baseline, key)) / self.scale
                base = outcome(self.baseline, key) / self.scale
                rows.append({"scenario": name, "outcome": key,
                             "baseline_median": float(np.median(base)),
                             **_band("difference", diff)})
        return pd.DataFrame(rows)

    def annual_differences(self) -> pd.DataFrame:
        """Median and 90% band of the paired difference in departures, per scenario and year."""
        base = annual(self.baseline)
        rows = []
        for name, run in self.scenarios.items():
            diff = (annual(run) - base) / self.scale
            for year in diff.columns:
                rows.append({"scenario": name, "year": year, **_band("difference", diff[year])})
        return pd.DataFrame(rows)

    def aftermath_differences(self) -> pd.DataFrame:
        """Like ``differences`` for the after-arrival outcomes (empty if the stage did not run)."""
        if self.aftermath is None:
            return pd.DataFrame()
        rows = []
        base_run = self.aftermath_baseline
        for name, run in self.aftermath.items():
            for key, (series, year) in AFTERMATH_OUTCOMES.items():
                base = aftermath_outcome(base_run, key) / self.scale
                diff = aftermath_outcome(run, key) / self.scale - base
                rows.append({"scenario": name, "outcome": key, "series": series, "year": year,
                             "baseline_median": float(np.median(base)),
                             **_band("difference", diff)})
        return pd.DataFrame(rows)

    def aftermath_annual_differences(self, series: tuple[str, ...] = AFTERMATH_ANNUAL
                                     ) -> pd.DataFrame:
        """Median and 90% band of the paired difference of after-arrival series, per scenario and
        year (years both runs cover); empty if the stage did not run."""
        if self.aftermath is None:
            return pd.DataFrame()
        rows = []
        for name, run in self.aftermath.items():
            for what in series:
                base = aftermath_annual(self.aftermath_baseline, what)
                other = aftermath_annual(run, what)
                years = [y for y in other.columns if y in base.columns]
                diff = (other[years] - base[years]) / self.scale
                for year in years:
                    rows.append({"scenario": name, "series": what, "year": year,
                                 **_band("difference", diff[year])})
        return pd.DataFrame(rows)


def _band(prefix: str, values) -> dict[str, float]:
    low, mid, high = np.quantile(np.asarray(values, dtype=float), BAND)
    return {f"{prefix}_p05": float(low), f"{prefix}_median": float(mid), f"{prefix}_p95": float(high)}


def shared_population(baseline: Scenario, scale: float, seed: int) -> Population:
    return generate_population(baseline.population, scale, population_stream(seed))


def follows_aftermath(scenarios: list[Scenario]) -> bool:
    """Whether any of the scenarios switches the after-arrival stage on."""
    return any(s.aftermath_enabled for s in scenarios)


def compare(baseline: Scenario, scenarios: list[Scenario], seed: int, reps: int, scale: float,
            runner: Runner = numpy_runner, progress: Callable[[str], None] | None = None,
            aftermath: bool | None = None) -> Comparison:
    """Run the baseline and every scenario with common random numbers.

    ``aftermath``: follow every run (the baseline's too) through the after-arrival stage; by
    default (None) when any scenario switches the stage on."""
    for scenario in scenarios:
        if scenario.population != baseline.population:
            raise ValueError(
                f"scenario '{scenario.name}' changes [population]; its households would differ "
                "from the baseline's and the comparison would not be paired")
    if aftermath is None:
        aftermath = follows_aftermath(scenarios)
    if aftermath:
        for scenario in [baseline, *scenarios]:
            if scenario.aftermath is None:
                raise ValueError(
                    f"scenario '{scenario.name}' has no [aftermath] section, so the after-arrival "
                    "stage cannot follow it (extend scenarios/historical.toml, which has one)")
    population = shared_population(baseline, scale, seed)
    replications = list(range(reps))

    def run(scenario: Scenario) -> RunResult:
        if progress:
            progress(scenario.name)
        return runner(scenario, seed, replications, scale, population)

    base = run(baseline)
    runs: dict[str, RunResult] = {}
    named: dict[str, Scenario] = {}
    for scenario in scenarios:
        name = scenario.name if scenario.name not in runs else f"{scenario.name} ({len(runs) + 1})"
        runs[name] = run(scenario)
        named[name] = scenario
    comparison = Comparison(baseline=base, scenarios=runs, scale=scale)
    if aftermath:
        from .aftermath import simulate_aftermath

        if progress:
            progress("the after-arrival stage of every run")
        comparison.aftermath_baseline = simulate_aftermath(baseline, base, seed)
        comparison.aftermath = {name: simulate_aftermath(named[name], runs[name], seed)
                                for name in runs}
    return comparison


# -- attribution -------------------------------------------------------------------------------


def _off(*levers: str) -> Callable[[Scenario], dict]:
    def overrides(scenario: Scenario) -> dict:
        start = scenario.simulation.start
        return {f"levers.{lever}": [{"from": start, "value": 0}] for lever in levers}

    return overrides


def _social_off(scenario: Scenario) -> dict:
    return {**_off("soren_pressure")(scenario), "decision.peers": 0.0}


CHANNELS: dict[str, tuple[str, Callable[[Scenario], dict]]] = {
    "welfare": ("1956 cuts and exclusion from the 1959 welfare system", _off("welfare_cut_share", "welfare_exclusion")),
    "deportation risk": ("enforcement of deportation (parolees, detainees, destitution)", _off("enforcement")),
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
    return scenario.model_copy(update={"name": f"{baseline.name} without {', '.join(channels)}"})


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


def attribute(baseline: Scenario, seed: int, reps: int, scale: float,
              runner: Runner = numpy_runner, key: str = "departures",
              progress: Callable[[str], None] | None = None) -> Attribution:
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
            values[frozenset(on)] = outcome(run, key) / scale
    phi = shapley(values, players)
    all_on, all_off = values[frozenset(players)], values[frozenset()]
    explained = all_on - all_off
    rows = []
    for player in players:
        share = np.divide(phi[player], explained, out=np.zeros_like(explained), where=explained != 0)
        rows.append({"channel": player, "meaning": CHANNELS[player][0],
                     **_band("departures", phi[player]), **_band("share", share)})
    return Attribution(shares=pd.DataFrame(rows), all_on=all_on, all_off=all_off)
