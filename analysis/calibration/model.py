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
from dataclasses import dataclass, field
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
        return self.figures_at(self.values(dict(parameters)))

    def figures_at(self, values: dict[str, float]) -> dict[str, float]:
        """The fitted figures (full-population equivalents) of one replication at ``values``."""
        scenario = with_parameters(self.scenario, values, source="calibration particle")
        result = simulate(scenario, particle_seed(self.seed, values), 1, scale=self.scale)
        stats = figures_of(result, self.scale, self.figures)
        return {key: float(np.nan_to_num(v[0])) for key, v in stats.items()}


@dataclass
class ToleranceDistance:
    """sqrt(sum_i term_i^2): each figure's error in units of its width.

    A figure with a count is read through its centre: term = (x - centre) / width, with width =
    sqrt(half_width^2 + noise^2). A figure with no count ("some", e.g. the ships sailed on until
    1984) is a constraint, not a value: term = 0 anywhere in its band [low, high], else the
    distance to the nearer edge / width (``bands`` holds these figures' bands).
    """

    widths: dict[str, float]
    bands: dict[str, tuple[float, float]] = field(default_factory=dict)

    def __call__(self, x: dict, x0: dict, *args: Any, **kwargs: Any) -> float:
        return math.sqrt(sum(term**2 for term in self.terms(x, x0).values()))

    def terms(self, x: dict, x0: dict) -> dict[str, float]:
        out = {}
        for key, width in self.widths.items():
            if key in self.bands:
                low, high = self.bands[key]
                out[key] = (min(x[key] - low, 0.0) + max(x[key] - high, 0.0)) / width
            else:
                out[key] = (x[key] - x0[key]) / width
        return out

    @classmethod
    def of(cls, figures: Sequence[Figure], widths: dict[str, float]) -> ToleranceDistance:
        """The distance over ``figures``: one-sided for those the documents give no count of."""
        return cls(widths, {f.key: (f.low, f.high) for f in figures if f.qualifier == "some"})


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
    """Each figure's width: its tolerance, widened by the noise of the calibration's scale. For a
    figure with no count the tolerance is 30% of the band's floor (an estimate's precision, as
    the targets file reads "about" figures from estimates), not its wide band."""
    return {
        f.key: math.sqrt(
            (0.3 * f.low if f.qualifier == "some" else f.half_width) ** 2 + noise[f.key]["sd"] ** 2
        )
        for f in figures
    }
