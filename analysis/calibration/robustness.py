"""How much the findings hang on the weights nobody calibrated: a Morris screening.

The decision weights that the calibration leaves as the scenario sets them (hand-set
ASSUMPTIONs, no prior in ``priors.toml``) are varied together over ``SPREAD`` of their values
(SALib's Morris design). At each point the baseline and every counterfactual scenario run paired
(same seed, population and replications; ``sim/paired.py``) at a reduced scale, and each
scenario's effect on total departures is read. Morris mu* of a weight on an effect, beside the
effect's own range over the design, says whether a finding depends on a number nobody measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sim.engine_numpy import simulate_batch
from sim.paired import shared_population
from sim.scenario import load_scenario, with_parameters
from sim.schema import DecisionWeights, Scenario

# ASSUMPTION: a hand-set weight is known to within half its value either way.
SPREAD = 0.5
LEVELS = 4  # Morris grid levels (SALib's default)
DELTA = LEVELS / (2 * (LEVELS - 1))  # Morris step, as a share of each weight's range


def hand_set_weights(scenario: Scenario, calibrated: Sequence[str]) -> dict[str, float]:
    """The scenario's decision weights that are not calibrated and not zero, by dotted key."""
    out = {}
    for name in DecisionWeights.model_fields:
        key = f"decision.{name}"
        value = float(getattr(scenario.decision, name))
        if key not in calibrated and value > 0:
            out[key] = value
    return out


def departures_effects(base, run, scale: float) -> np.ndarray:
    """Paired differences in total departures, one per replication, in full-population persons."""
    difference = run.metrics["departures"].sum(axis=1) - base.metrics["departures"].sum(axis=1)
    return difference / scale


def screen(
    baseline: Scenario,
    scenarios: Sequence[Scenario],
    calibrated: Sequence[str],
    seed: int,
    scale: float = 0.05,
    reps: int = 2,
    trajectories: int = 6,
) -> dict:
    """Morris mu* and sigma of each hand-set weight on each scenario's effect on departures.

    A scenario that sets a weight itself keeps its own value at every point.
    """
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    weights = hand_set_weights(baseline, calibrated)
    names = list(weights)
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [[v * (1 - SPREAD), v * (1 + SPREAD)] for v in weights.values()],
    }
    design = sample.sample(problem, trajectories, num_levels=LEVELS, seed=seed)
    population = shared_population(baseline, scale, seed)
    effects = np.empty((len(design), len(scenarios)))
    noise = np.zeros(len(scenarios))  # standard error of one point's effect, at the first point
    for i, row in enumerate(design):
        values = dict(zip(names, (float(v) for v in row)))
        # The baseline and every scenario at this point, in one pass of the engine: they share
        # the households, so each row is what it would be run alone.
        variants = [with_parameters(baseline, values, source="robustness")] + [
            with_parameters(
                scenario,
                {k: v for k, v in values.items() if _same(scenario, baseline, k)},
                source="robustness",
            )
            for scenario in scenarios
        ]
        base, *runs = simulate_batch(variants, seed, reps, scale, population)
        for j, run in enumerate(runs):
            per_rep = departures_effects(base, run, scale)
            effects[i, j] = float(np.mean(per_rep))
            if i == 0 and reps > 1:
                noise[j] = float(np.std(per_rep, ddof=1) / np.sqrt(reps))
    rows = []
    for j, scenario in enumerate(scenarios):
        result = analyze.analyze(
            problem, design, effects[:, j], num_levels=LEVELS, seed=seed, num_resamples=200
        )
        rows.append(
            {
                "scenario": scenario.name,
                "effect_low": float(np.min(effects[:, j])),
                "effect_median": float(np.median(effects[:, j])),
                "effect_high": float(np.max(effects[:, j])),
                # An elementary effect is a difference of two noisy effects over a step of
                # DELTA of the range: what noise alone would give it.
                "noise_floor": float(np.sqrt(2) * noise[j] / DELTA),
                "mu_star": dict(zip(names, map(float, result["mu_star"]))),
                "sigma": dict(zip(names, map(float, result["sigma"]))),
            }
        )
    return {
        "weights": weights,
        "spread": SPREAD,
        "trajectories": trajectories,
        "points": int(len(design)),
        "scale": scale,
        "reps": reps,
        "seed": seed,
        "rows": rows,
    }


def screen_beside(
    calibrated: Scenario, scenario_path: Path, keys: Sequence[str], seed: int, trajectories: int
) -> dict:
    """``screen`` over the counterfactual scenarios in the calibrated scenario's folder that keep
    its households; those with no effect on departures anywhere in the design are listed in
    ``no_effect`` rather than ranked."""
    scenarios = []
    for path in sorted(scenario_path.parent.glob("*.toml")):
        if path.resolve() == scenario_path.resolve():
            continue
        scenario = load_scenario(path)
        if scenario.population == calibrated.population:
            scenarios.append(scenario)
    result = screen(calibrated, scenarios, keys, seed, trajectories=trajectories)
    # Scenarios whose levers act only after arrival, or not at all at these points.
    result["no_effect"] = [
        r["scenario"] for r in result["rows"] if r["effect_low"] == r["effect_high"] == 0
    ]
    result["rows"] = [r for r in result["rows"] if r["scenario"] not in result["no_effect"]]
    for r in result["rows"]:
        r["ranked"] = sorted(r["mu_star"].items(), key=lambda kv: -kv[1])
    return result


def _same(scenario: Scenario, baseline: Scenario, key: str) -> bool:
    name = key.split(".", 1)[1]
    return getattr(scenario.decision, name) == getattr(baseline.decision, name)
