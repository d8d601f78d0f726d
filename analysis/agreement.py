"""Do two sets of runs agree in distribution? Used to check the Mesa engine against the numpy one.

The two sets come from different seeds, so they agree only if the engines are the same model.
Checked: each year's departures (difference of means within ``max_z`` standard errors), the final
share of people in each state (same), and the total departures (two-sample Kolmogorov-Smirnov).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from sim.result import STOCK_METRICS, RunResult


@dataclass
class Agreement:
    checks: list[tuple[str, float, bool]] = field(default_factory=list)  # (what, statistic, ok)

    @property
    def ok(self) -> bool:
        return all(ok for _, _, ok in self.checks)

    def failures(self) -> list[str]:
        return [f"{what}: {value:.3g}" for what, value, ok in self.checks if not ok]


def _z(a: np.ndarray, b: np.ndarray) -> float:
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    diff = a.mean() - b.mean()
    if se == 0:
        return 0.0 if diff == 0 else np.inf
    return float(abs(diff) / se)


def compare_runs(a: RunResult, b: RunResult, max_z: float = 4.0, min_p: float = 0.01) -> Agreement:
    report = Agreement()
    years = a.months // 12
    for year in np.unique(years):
        in_year = years == year
        da = a.metrics["departures"][:, in_year].sum(axis=1)
        db = b.metrics["departures"][:, in_year].sum(axis=1)
        z = _z(da, db)
        report.checks.append((f"departures {year} (z)", z, z <= max_z))
    for name in STOCK_METRICS:
        z = _z(a.metrics[name][:, -1] / a.people, b.metrics[name][:, -1] / b.people)
        report.checks.append((f"final share {name} (z)", z, z <= max_z))
    ta, tb = a.metrics["departures"].sum(axis=1), b.metrics["departures"].sum(axis=1)
    p = float(stats.ks_2samp(ta, tb).pvalue)
    report.checks.append(("total departures (KS p-value)", p, p >= min_p))
    return report


def main() -> None:
    """Check the two engines against each other on the historical baseline and write the result
    to docs/generated/agreement.md: ``python -m analysis.agreement``."""
    from sim.engine_mesa import simulate_mesa
    from sim.engine_numpy import simulate
    from sim.population import generate_population
    from sim.scenario import load_scenario
    from sim.streams import population_stream

    from .benchmarks.publish import GENERATED, published

    scenario = load_scenario("historical")
    scale, numpy_reps, mesa_reps = 0.002, 40, 12
    population = generate_population(scenario.population, scale, population_stream(8))
    numpy_runs = simulate(scenario, 100, numpy_reps, population=population, scale=scale)
    mesa_runs = simulate_mesa(scenario, 201, mesa_reps, population=population, scale=scale)
    report = compare_runs(numpy_runs, mesa_runs)
    verdict = "All checks pass" if report.ok else "Checks fail: " + "; ".join(report.failures())
    with published("agreement", "python -m analysis.agreement", folder=GENERATED.parent):
        print(
            f"The historical baseline at {population.households:,} households (population seed "
            f"8): {numpy_reps} numpy replications (seed 100) against {mesa_reps} Mesa "
            f"replications (seed 201). Each year's departures and each final state share must "
            f"lie within 4 standard errors (z), total departures must pass a two-sample "
            f"Kolmogorov-Smirnov test (p >= 0.01). **{verdict}.**\n"
        )
        print("| check | statistic | passes |\n|---|---|---|")
        for what, value, ok in report.checks:
            print(f"| {what} | {value:.3g} | {'yes' if ok else '**no**'} |")


if __name__ == "__main__":
    main()
