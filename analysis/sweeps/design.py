"""A sweep's design: the points of a grid, Latin hypercube, Sobol/Saltelli or Morris design,
and the identity of each point.

A design varies dimensions: scalar parameters (``Parameter``) and policy levers (``levers.py``).
Each maps a coordinate of the unit hypercube to a code (a number), shows it in the design table
as a label, and turns it into a scenario override. ``design_table`` gives every point a hash of
everything its results depend on (code, base scenario, seed, scale, replications, the overrides),
so that a resumed sweep reuses exactly the points already computed. A design is refused before
it is built if it would be too large to run.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

import sim
from sim.outcomes import outcomes
from sim.schema import Scenario
from sim.version import __version__

if TYPE_CHECKING:
    from .spec import SweepFile

# The design sampler draws from SeedSequence(seed, spawn_key=(2,)): no stream of the model has
# this spawn key (sim/streams.py), so the design does not share numbers with the runs.
DESIGN_BRANCH = 2


class Dimension(Protocol):
    """One axis of a design: a scalar parameter or a lever."""

    key: str  # the column of the design and results tables
    low: float  # codes: the numbers the unit hypercube maps to
    high: float
    grid: tuple[float, ...] | None  # codes of a grid design

    def from_unit(self, u: np.ndarray) -> np.ndarray: ...
    def label(self, code: float) -> Any: ...  # the value shown in the tables
    def override(self, label: Any) -> tuple[str, Any]: ...  # (scenario key, value)
    def identity(self, label: Any) -> Any: ...  # what the point hash holds
    def describe(self) -> str: ...  # the range in words, for sweep.json and --check


@dataclass(frozen=True)
class Parameter:
    key: str  # dotted scenario key, e.g. "decision.peers"
    low: float
    high: float
    distribution: str
    is_int: bool
    grid: tuple[float, ...] | None = None  # grid values, when the design is a grid
    source: str = ""  # where the range comes from, when not typed (the posterior)

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map unit-hypercube coordinates to values (the quantile function of the distribution)."""
        if self.distribution == "loguniform":
            values = np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        else:
            values = self.low + u * (self.high - self.low)
        return np.round(values) if self.is_int else values

    def label(self, code: float) -> float:
        return code

    def override(self, label: Any) -> tuple[str, Any]:
        value = float(label)
        return self.key, int(round(value)) if self.is_int else value

    def identity(self, label: Any) -> float:
        return float(label)

    def describe(self) -> str:
        spread = f"{self.distribution} {self.low:.6g}..{self.high:.6g}"
        if self.grid is not None:
            spread = "values " + ", ".join(f"{v:.6g}" for v in self.grid)
        return spread + (f" ({self.source})" if self.source else "")


def unit_design(spec: SweepFile, parameters: tuple[Dimension, ...]) -> np.ndarray:
    """Design points on the unit hypercube, one row per point, in the sampler's order."""
    d = len(parameters)
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(DESIGN_BRANCH,)))
    design = spec.design
    problem = {"num_vars": d, "names": [p.key for p in parameters], "bounds": [[0.0, 1.0]] * d}
    if design.method == "grid":
        raise AssertionError("grids are built from their values, not on the unit cube")
    if design.method == "latin":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d, rng=rng).random(design.samples)
    if design.method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(
            problem, design.samples, calc_second_order=design.second_order, scramble=True, seed=rng
        )
    from SALib.sample import morris

    return morris.sample(problem, design.samples, num_levels=design.levels, seed=rng)


# More points than this would not fit a design table in memory on a laptop, nor finish.
MAX_POINTS = 1_000_000


def point_count(spec: SweepFile, parameters: list[Dimension]) -> int:
    """How many points a valid sweep's design has, counted before it is built."""
    d, n = len(parameters), spec.design.samples or 0
    if spec.design.method == "grid":
        return math.prod(len(p.grid) for p in parameters)
    if spec.design.method == "sobol":
        return n * (2 * d + 2 if spec.design.second_order else d + 2)
    if spec.design.method == "morris":
        return n * (d + 1)
    return n


def design_table(
    spec: SweepFile, base: Scenario, parameters: tuple[Dimension, ...]
) -> pd.DataFrame:
    if spec.design.method == "grid":
        mesh = np.meshgrid(*[np.array(p.grid, dtype=float) for p in parameters], indexing="ij")
        codes = np.column_stack([m.reshape(-1) for m in mesh])
        unit = np.column_stack(
            [
                (codes[:, i] - p.low) / (p.high - p.low) if p.high > p.low else np.zeros(len(codes))
                for i, p in enumerate(parameters)
            ]
        )
    else:
        unit = unit_design(spec, parameters)
        codes = np.column_stack([p.from_unit(unit[:, i]) for i, p in enumerate(parameters)])
    table = pd.DataFrame({"point": np.arange(len(codes), dtype=np.int64)})
    for i, p in enumerate(parameters):
        table[f"unit:{p.key}"] = unit[:, i]
    for i, p in enumerate(parameters):
        # Numbers stay a numeric column; a lever's date or named schedule is a text column.
        labels = [p.label(c) for c in codes[:, i].tolist()]
        table[p.key] = codes[:, i] if isinstance(p, Parameter) else labels
    identity = {
        "package_version": __version__,
        "code_sha256": code_digest(),
        "scenario_sha256": base.digest(),
        "seed": spec.seed,
        "scale": spec.scale,
        "replications": spec.replications,
        "outputs": sorted(outcomes()),
    }
    table.insert(
        1,
        "point_hash",
        [
            point_hash(identity, {p.key: p.identity(row[p.key]) for p in parameters})
            for row in table.to_dict("records")
        ],
    )
    return table


def code_digest() -> str:
    """sha256 of the model's source (every module and data file of the ``sim`` package): part of
    every point hash, so a change to the model makes a resumed sweep recompute rather than mix
    old and new results."""
    root = Path(sim.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".toml") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def point_hash(identity: dict, values: dict[str, Any]) -> str:
    """sha256 of everything a point's results depend on: code version and model source, base
    scenario, seed, scale, replications, the outputs computed, and the parameter values (floats
    written exactly; a lever's as the whole schedule it runs)."""
    text = json.dumps(
        {
            **identity,
            "values": {
                k: float(v) if isinstance(v, int | float) else v for k, v in sorted(values.items())
            },
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()
