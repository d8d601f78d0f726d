"""Counterfactual scenarios against the baseline, run with common random numbers.

Every scenario runs with the baseline's seed, the same population draw and the same replication
numbers, so replication k of a scenario and of the baseline share their random numbers
(``sim/paired.py``); the difference taken replication by replication is the effect of the
policy. ``compare`` runs the baseline and many scenarios; ``Comparison`` gives the median and
90% band of each outcome's paired difference, overall and year by year.

After arrival: when a compared scenario switches the after-arrival stage on (``[aftermath]
enabled = true``), or when asked to, the stage follows the departures of the baseline and of
every scenario to 2025 with the same seed. Replication k of the stage draws from its own stream
(child k of the seed's after-arrival branch) for every run, so it stays paired with replication
k of the baseline's stage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.aftermath import AftermathResult, simulate_aftermath
from sim.engine_numpy import simulate
from sim.outcomes import AFTERMATH_OUTCOMES
from sim.paired import (
    COMPARED,
    check_paired,
    difference_band,
    paired_differences,
    shared_population,
)
from sim.population import Population
from sim.result import RunResult
from sim.schema import Scenario

from ..calibration.posterior import simulate_posterior

# Series of the after-arrival stage whose paired difference is also given year by year
# (aftermath_annual_differences.csv).
AFTERMATH_ANNUAL = (
    "resettled_japan",
    "japanese_nationals_resettled_japan",
    "resettled_south_korea",
    "in_north",
)

Runner = Callable[[Scenario, int, list[int], float, Population], RunResult]


def numpy_runner(
    scenario: Scenario, seed: int, reps: list[int], scale: float, population: Population
) -> RunResult:
    return simulate(scenario, seed, reps, scale=scale, population=population)


def posterior_runner(posterior: dict) -> Runner:
    """Runs in which replication k uses posterior draw k, so bands include parameter uncertainty.

    The baseline and every scenario get the same draw for the same replication (the draws depend
    only on the seed), so differences stay paired. Each draw's own population is drawn from the
    seed, the same for the baseline and the scenarios.
    """

    def run(
        scenario: Scenario, seed: int, reps: list[int], scale: float, population: Population
    ) -> RunResult:
        if reps != list(range(len(reps))):
            raise ValueError("posterior runs take replications 0..n-1")
        return simulate_posterior(scenario, posterior, seed, draws=len(reps), scale=scale)[0]

    return run


def aftermath_annual(result: AftermathResult, series: str) -> pd.DataFrame:
    """Per replication and year of the stage: rows are replications, columns years."""
    return pd.DataFrame(result.series[series], columns=[int(y) for y in result.years])


def annual(result: RunResult, metric: str = "departures") -> pd.DataFrame:
    """Per replication and year: rows are replications, columns years."""
    years = result.months // 12
    return pd.DataFrame(
        {int(y): result.metrics[metric][:, years == y].sum(axis=1) for y in np.unique(years)}
    )


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
        tables = [
            # (named here as every other table of the comparison until it is written, when
            # each takes its unit: ``report.in_persons``)
            paired_differences(self.baseline, run, self.scale, COMPARED).rename(
                columns=lambda c: c.replace("_persons", "")
            )
            for run in self.scenarios.values()
        ]
        if not tables:
            return pd.DataFrame()
        return pd.concat(
            [table.assign(scenario=name) for name, table in zip(self.scenarios, tables)],
            ignore_index=True,
        )[
            [
                "scenario",
                "outcome",
                "baseline_median",
                "difference_p05",
                "difference_median",
                "difference_p95",
            ]
        ]

    def annual_differences(self) -> pd.DataFrame:
        """Median and 90% band of the paired difference in departures, per scenario and year."""
        base = annual(self.baseline)
        rows = []
        for name, run in self.scenarios.items():
            diff = (annual(run) - base) / self.scale
            for year in diff.columns:
                rows.append({"scenario": name, "year": year, **difference_band(diff[year])})
        return pd.DataFrame(rows)

    def aftermath_differences(self) -> pd.DataFrame:
        """Like ``differences`` for the after-arrival outcomes (empty if the stage did not run)."""
        if self.aftermath is None:
            return pd.DataFrame()
        rows = []
        base_run = self.aftermath_baseline
        for name, run in self.aftermath.items():
            for key, outcome in AFTERMATH_OUTCOMES.items():
                base = outcome.measure(base_run) / self.scale
                diff = outcome.measure(run) / self.scale - base
                rows.append(
                    {
                        "scenario": name,
                        "outcome": key,
                        "series": outcome.series,
                        "year": outcome.year,
                        "baseline_median": float(np.median(base)),
                        **difference_band(diff),
                    }
                )
        return pd.DataFrame(rows)

    def aftermath_annual_differences(
        self, series: tuple[str, ...] = AFTERMATH_ANNUAL
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
                    rows.append(
                        {
                            "scenario": name,
                            "series": what,
                            "year": year,
                            **difference_band(diff[year]),
                        }
                    )
        return pd.DataFrame(rows)


def follows_aftermath(scenarios: list[Scenario]) -> bool:
    """Whether any of the scenarios switches the after-arrival stage on."""
    return any(s.aftermath_enabled for s in scenarios)


def compare(
    baseline: Scenario,
    scenarios: list[Scenario],
    seed: int,
    reps: int,
    scale: float,
    runner: Runner = numpy_runner,
    progress: Callable[[str], None] | None = None,
    aftermath: bool | None = None,
) -> Comparison:
    """Run the baseline and every scenario with common random numbers.

    ``aftermath``: follow every run (the baseline's too) through the after-arrival stage; by
    default (None) when any scenario switches the stage on."""
    check_paired(baseline, scenarios)
    if aftermath is None:
        aftermath = follows_aftermath(scenarios)
    if aftermath:
        for scenario in [baseline, *scenarios]:
            if scenario.aftermath is None:
                raise ValueError(
                    f"scenario '{scenario.name}' has no [aftermath] section, so the after-arrival "
                    "stage cannot follow it (extend scenarios/historical.toml, which has one)"
                )
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
        if progress:
            progress("the after-arrival stage of every run")
        comparison.aftermath_baseline = simulate_aftermath(baseline, base, seed)
        comparison.aftermath = {
            name: simulate_aftermath(named[name], runs[name], seed) for name in runs
        }
    return comparison
