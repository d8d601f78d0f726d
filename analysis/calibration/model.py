"""The model as the calibration sees it: parameters in, documented figures out, and a distance.

What is fitted: the free parameters of ``priors.toml``; every other value of the scenario
(documented shares, the dated policy levers) stays as the scenario file says. To what: the
documented figures of the model's record with ``fit = true``, each compared as a full-population
equivalent. Each particle is one replication of the numpy engine at a reduced ``scale``; counts
are divided by the scale. The distance is Euclidean, each target's error divided by
``sqrt(half_width^2 + noise^2)``: the half-width of the target's tolerance band, widened by the
sampling noise of that figure at the calibration scale (measured before calibrating, from
replications at the priors' ``start`` point). A target thus weighs by how precisely the document
states it, unless the reduced-scale model cannot resolve it that finely.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.engine_numpy import simulate
from sim.record import Figure
from sim.result import RunResult
from sim.scenario import load_scenario, with_parameters
from sim.schema import Scenario

from .priors import Prior


def fitted_figures(targets: Sequence[Figure]) -> tuple[Figure, ...]:
    """The figures the calibration fits: ``fit`` targets of the repatriation stage (1955-1984).

    After-arrival targets (``stage = "aftermath"``) describe what happened in the North; the
    baseline's free parameters do not act on them, so they are never fitted here.
    """
    return tuple(f for f in targets if f.fit and f.stage != "aftermath")


def base_scenario(path: str | Path, priors: Sequence[Prior]) -> Scenario:
    """The scenario with its calibration ignored and the free keys at their ``start`` values.

    The calibration must not depend on an earlier posterior; every simulation sets every free key.
    """
    return load_scenario(path, calibration=False, fill={p.key: p.value(p.start) for p in priors})


def particle_seed(seed: int, values: dict[str, float]) -> int:
    """A simulation seed that is a function of the base seed and the parameter values."""
    text = json.dumps({"seed": seed, **{k: repr(float(v)) for k, v in sorted(values.items())}})
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def figures_of(result: RunResult, scale: float, figures: Sequence[Figure]) -> dict[str, np.ndarray]:
    """Full-population equivalents of each figure, one value per replication."""
    return {f.key: f.full_scale(f.values(result), scale) for f in figures}


@dataclass
class Simulator:
    """Picklable model for pyABC: one replication at ``scale`` per parameter set."""

    scenario: Scenario
    priors: tuple[Prior, ...]
    figures: tuple[Figure, ...]
    scale: float
    seed: int

    def values(self, parameters: dict[str, float]) -> dict[str, float]:
        by_name = {p.name: p for p in self.priors}
        return {by_name[name].key: by_name[name].from_abc(v) for name, v in parameters.items()}

    def __call__(self, parameters: dict[str, float]) -> dict[str, float]:
        values = self.values(dict(parameters))
        scenario = with_parameters(self.scenario, values, source="calibration particle")
        result = simulate(scenario, particle_seed(self.seed, values), 1, scale=self.scale)
        stats = figures_of(result, self.scale, self.figures)
        return {key: float(np.nan_to_num(v[0])) for key, v in stats.items()}


@dataclass
class ToleranceDistance:
    """sqrt(sum_i ((x_i - centre_i) / width_i)^2), width_i = sqrt(half_width_i^2 + noise_i^2)."""

    widths: dict[str, float]

    def __call__(self, x: dict, x0: dict, *args: Any, **kwargs: Any) -> float:
        return math.sqrt(sum(((x[k] - x0[k]) / w) ** 2 for k, w in self.widths.items()))

    def terms(self, x: dict, x0: dict) -> dict[str, float]:
        return {k: (x[k] - x0[k]) / w for k, w in self.widths.items()}


def measure_noise(
    scenario: Scenario, scale: float, seed: int, reps: int, figures: Sequence[Figure]
) -> dict[str, dict[str, float]]:
    """Mean and standard deviation across replications of each figure at ``scale``."""
    result = simulate(scenario, seed, reps, scale=scale)
    return {
        k: {"mean": float(np.nanmean(v)), "sd": float(np.nanstd(v, ddof=1))}
        for k, v in figures_of(result, scale, figures).items()
    }


def widths_of(figures: Sequence[Figure], noise: dict[str, dict[str, float]]) -> dict[str, float]:
    return {f.key: math.sqrt(f.half_width**2 + noise[f.key]["sd"] ** 2) for f in figures}
