"""A sweep file: the parameters and levers that vary, their ranges, the design, every point checked.

A sweep file names a base scenario, what varies under ``[parameters]``: scalar parameters (with
their ranges and distributions; ``range = "posterior"`` reads a calibrated key's range from the
posterior, ``ranges.py``) and policy levers (a level over a period, the date of a step, or a
choice of named schedules, ``levers.py``), a design (grid, Latin hypercube from
``scipy.stats.qmc``, Sobol/Saltelli or Morris from SALib), the replications per point, the
scale, the seed and the outputs to keep (names of the model's outcome catalogue,
``sim.outcomes``). ``load_sweep`` validates all of it, builds the design (``design.py``) and
checks every design point against the scenario schema, before anything runs; errors name the
file and the key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.fields import FolderName
from sim.outcomes import outcomes
from sim.scenario import ScenarioError, load_scenario, read_toml, with_parameters
from sim.schema import DecisionWeights, PopulationParameters, Process, Scenario, key_text

from .design import (
    MAX_POINTS,
    Dimension,
    Parameter,
    design_table,
    point_count,
)
from .levers import LeverSpec, check_lever
from .ranges import PosteriorRanges, posterior_ranges

# Sections whose scalar keys a sweep may vary; levers ("levers.<name>") are in levers.py.
SECTIONS: dict[str, type[BaseModel]] = {
    "population": PopulationParameters,
    "decision": DecisionWeights,
    "process": Process,
}


class SweepError(ValueError):
    """A sweep file is invalid; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterSpec(_Strict):
    min: float | None = Field(default=None, description="lowest value")
    max: float | None = Field(default=None, description="highest value")
    range: Literal["posterior"] | None = Field(
        default=None,
        description='"posterior": min and max from the calibration\'s posterior (ranges.py)',
    )
    distribution: Literal["uniform", "loguniform"] = Field(
        default="uniform", description="how values spread between min and max"
    )
    points: int | None = Field(default=None, ge=2, description="grid only: evenly spaced values")
    values: list[float] | None = Field(
        default=None, min_length=1, description="grid only: explicit values"
    )


class DesignSpec(_Strict):
    method: Literal["grid", "latin", "sobol", "morris"]
    samples: int | None = Field(
        default=None,
        ge=1,
        description="latin: points; sobol: base samples N (a power of 2), giving N*(D+2) points "
        "(N*(2D+2) with second_order); morris: trajectories, giving N*(D+1) points",
    )
    second_order: bool = Field(default=False, description="sobol: also second-order indices")
    levels: int = Field(default=4, ge=2, description="morris: grid levels")


class SweepFile(_Strict):
    name: FolderName
    description: str = ""
    scenario: str = Field(description="base scenario, relative to the sweep file")
    seed: int = Field(ge=0)
    replications: int = Field(ge=1)
    scale: float = Field(gt=0, le=1)
    outputs: list[str] = Field(min_length=1)
    chunk_size: int | None = Field(default=None, ge=1, description="points per task and chunk")
    design: DesignSpec
    # Each entry is checked against ParameterSpec or, for "levers.<name>", LeverSpec.
    parameters: dict[str, dict[str, Any]] = Field(min_length=1)


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: its base scenario, parameters, settings, and the design points."""

    path: Path
    spec: SweepFile
    base: Scenario
    parameters: tuple[Dimension, ...]
    design: pd.DataFrame = field(repr=False)  # point, point_hash, unit:<key>..., <key>...
    posterior: PosteriorRanges | None = None  # where ranges = "posterior" came from

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.parameters]

    def point_values(self, row: pd.Series | dict) -> dict[str, Any]:
        """The scenario overrides of a design row: numbers, or a lever's whole schedule."""
        return dict(p.override(row[p.key]) for p in self.parameters)

    def ranges(self) -> dict[str, str]:
        """What each dimension spans, in words (for sweep.json and ``--check``)."""
        return {p.key: p.describe() for p in self.parameters}

    def unique_points(self) -> pd.DataFrame:
        """One row per distinct point hash, in design order (a design may repeat a point)."""
        return self.design.drop_duplicates("point_hash")

    def problem(self) -> dict:
        """The SALib problem, on the unit hypercube: analyses read the unit coordinates."""
        return {
            "num_vars": len(self.parameters),
            "names": self.keys,
            "bounds": [[0.0, 1.0]] * len(self.parameters),
        }


def _parse_error(path: Path, exc: ValidationError, prefix: tuple = ()) -> list[str]:
    lines = []
    for error in exc.errors():
        loc = prefix + tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            section = SweepFile
            if loc[0] == "design":
                section = DesignSpec
            elif loc[0] == "parameters":
                section = LeverSpec if str(loc[1]).startswith("levers.") else ParameterSpec
            names = [f.alias or n for n, f in section.model_fields.items()]
            message = f"unknown key (allowed here: {', '.join(names)})"
        elif error["type"] == "missing":
            message = "missing key"
        elif isinstance(cause := error.get("ctx", {}).get("error"), ValueError):
            message = str(cause)
        else:
            message = error["msg"]
        lines.append(f"{path}: key '{key_text(loc)}': {message}")
    return lines


_LEVER_KEYS = {f.alias or n for n, f in LeverSpec.model_fields.items()}


def _flatten_parameters(raw: Any, prefix: str = "") -> dict[str, Any]:
    """Accept ``"decision.peers" = {...}`` as well as ``[parameters.decision] peers = {...}``."""
    if not isinstance(raw, dict):
        return {prefix: raw}
    if prefix and set(raw) & (set(ParameterSpec.model_fields) | _LEVER_KEYS):
        return {prefix: raw}
    flat = {}
    for key, value in raw.items():
        flat.update(_flatten_parameters(value, f"{prefix}.{key}" if prefix else key))
    return flat


def _schema_field(key: str) -> tuple[Any, str | None]:
    """The pydantic field a dotted key names, or (None, reason)."""
    section, _, name = key.partition(".")
    if section not in SECTIONS or not name or "." in name:
        return None, (
            "unknown parameter; write it as section.key with section one of "
            f"{', '.join(SECTIONS)}, or levers.<name> for a policy lever"
        )
    model = SECTIONS[section]
    if name not in model.model_fields:
        return None, f"unknown parameter (allowed in [{section}]: {', '.join(model.model_fields)})"
    return model.model_fields[name], None


def _check_parameter(
    path: Path, key: str, spec: ParameterSpec, method: str, posterior: Any
) -> tuple[list[str], Parameter | None]:
    """``posterior()`` gives the PosteriorRanges of the base scenario, or raises ValueError."""
    where = f"{path}: key 'parameters.{key}"
    schema, reason = _schema_field(key)
    if schema is None:
        return [f"{where}': {reason}"], None
    source = ""
    if spec.range == "posterior":
        if spec.min is not None or spec.max is not None or spec.values is not None:
            return [f'{where}\': give either range = "posterior" or the range itself'], None
        try:
            ranges = posterior()
        except ValueError as exc:
            return [f"{where}.range': {exc}"], None
        if key not in ranges.ranges:
            return [
                f"{where}.range': {key} is not calibrated by {ranges.file.name} "
                f"(its parameters: {', '.join(ranges.ranges)}); give min and max"
            ], None
        low, high = ranges.ranges[key]
        spec = spec.model_copy(update={"min": low, "max": high})
        source = ranges.source(key)
    extra = schema.json_schema_extra or {}
    allowed_low, allowed_high = extra["min"], extra["max"]
    unit = extra.get("unit", "")
    allowed = f"the allowed range of {key} is {allowed_low}..{allowed_high} {unit}".rstrip()
    errors = []
    is_int = schema.annotation is int
    grid = None
    if method == "grid":
        if spec.values is not None and spec.points is not None:
            errors.append(f"{where}': give either points (with min and max) or values, not both")
        if spec.values is not None:
            grid = tuple(float(v) for v in sorted(set(spec.values)))
            for value in grid:
                if is_int and not float(value).is_integer():
                    errors.append(f"{where}.values': {key} is a whole number, got {value}")
                if not allowed_low <= value <= allowed_high:
                    errors.append(
                        f"{where}.values': {value} is outside the allowed range; {allowed}"
                    )
            low, high = grid[0], grid[-1]
            return errors, (
                Parameter(key, low, high, spec.distribution, is_int, grid) if not errors else None
            )
        if spec.points is None:
            errors.append(f"{where}': a grid needs points (with min and max) or values")
    else:
        for name in ("points", "values"):
            if getattr(spec, name) is not None:
                errors.append(
                    f"{where}.{name}': only a grid design takes {name}; "
                    f"the {method} design samples between min and max"
                )
    for name in ("min", "max"):
        if getattr(spec, name) is None:
            errors.append(f"{where}.{name}': missing key")
    if errors:
        return errors, None
    low, high = spec.min, spec.max
    if not low < high:
        errors.append(f"{where}': empty range: min ({low:g}) must be below max ({high:g})")
    for name, value in (("min", low), ("max", high)):
        if not allowed_low <= value <= allowed_high:
            errors.append(f"{where}.{name}': {value:g} is outside the allowed range; {allowed}")
    if is_int and not (float(low).is_integer() and float(high).is_integer()):
        # Else points rounded to the same whole number would count as distinct points.
        errors.append(
            f"{where}': {key} is a whole number: min and max must be whole numbers, "
            f"got {low:g} and {high:g}"
        )
    if spec.distribution == "loguniform" and low <= 0:
        errors.append(f"{where}.min': a loguniform range must start above 0, got {low:g}")
    if errors:
        return errors, None
    if method == "grid":
        parameter = Parameter(key, low, high, spec.distribution, is_int, source=source)
        # Rounded to 12 digits so that a grid from 0.1 to 0.5 holds 0.3, not 0.30000000000000004.
        grid = tuple(
            sorted(
                {
                    float(f"{v:.12g}")
                    for v in parameter.from_unit(np.linspace(0, 1, spec.points)).tolist()
                }
            )
        )
    return [], Parameter(key, low, high, spec.distribution, is_int, grid, source)


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file, build its design and check every point; raise SweepError."""
    path = Path(path).resolve()
    raw = read_toml(path, SweepError, "sweep")
    if isinstance(raw.get("parameters"), dict):
        raw["parameters"] = _flatten_parameters(raw["parameters"])
    try:
        spec = SweepFile.model_validate(raw)
    except ValidationError as exc:
        raise SweepError("invalid sweep\n  " + "\n  ".join(_parse_error(path, exc))) from None

    errors = []
    for name in spec.outputs:
        if name not in outcomes():
            errors.append(
                f"{path}: key 'outputs': unknown output '{name}' (allowed: {', '.join(outcomes())})"
            )
    method = spec.design.method
    if method != "grid" and spec.design.samples is None:
        errors.append(f"{path}: key 'design.samples': missing key (the {method} design needs it)")
    if (
        method == "sobol"
        and spec.design.samples
        and spec.design.samples & (spec.design.samples - 1)
    ):
        errors.append(
            f"{path}: key 'design.samples': {spec.design.samples} is not a power of 2, "
            "which Sobol sequences need to keep their balance (try "
            f"{2 ** round(math.log2(spec.design.samples))})"
        )
    if method in ("sobol", "morris") and len(spec.parameters) < 2:
        errors.append(f"{path}: key 'parameters': a {method} analysis needs at least 2 parameters")
    scenario_path = path.parent / spec.scenario
    base = None
    try:
        base = load_scenario(scenario_path)
    except ScenarioError as exc:
        errors.append(
            f"{path}: key 'scenario': {scenario_path} is not a valid scenario:\n    "
            + str(exc).replace("\n", "\n    ")
        )
    posterior: list[PosteriorRanges] = []

    def read_ranges() -> PosteriorRanges:  # read once, and only if a key asks for it
        if base is None:
            raise ValueError("the base scenario is not valid (see its error)")
        if not posterior:
            integer_keys = {
                f"{section}.{name}"
                for section, model in SECTIONS.items()
                for name, f in model.model_fields.items()
                if f.annotation is int
            }
            posterior.append(posterior_ranges(scenario_path, integer_keys))
        return posterior[0]

    parameters = []
    for key, entry in spec.parameters.items():
        lever = key.startswith("levers.")
        try:
            checked = (LeverSpec if lever else ParameterSpec).model_validate(entry)
        except ValidationError as exc:
            errors += _parse_error(path, exc, ("parameters", key))
            continue
        if lever:
            problems, parameter = check_lever(path, key, checked, method, base)
        else:
            problems, parameter = _check_parameter(path, key, checked, method, read_ranges)
        errors += problems
        if parameter is not None:
            parameters.append(parameter)
    if not errors:
        count = point_count(spec, parameters)
        if count > MAX_POINTS:
            errors.append(
                f"{path}: key 'design': the design would have {count:,} points; at most "
                f"{MAX_POINTS:,} (fewer samples, grid values or parameters; or several sweeps)"
            )
    if errors:
        raise SweepError("invalid sweep\n  " + "\n  ".join(errors))

    parameters = tuple(parameters)
    design = design_table(spec, base, parameters)
    sweep = Sweep(path, spec, base, parameters, design, posterior[0] if posterior else None)
    # Every point must make a valid scenario (cross-key rules such as register_rate +
    # revert_rate <= 1 hold only jointly), checked now rather than on a worker an hour in.
    for row in design.drop_duplicates("point_hash").to_dict("records"):
        try:
            with_parameters(base, sweep.point_values(row), source=f"{path} (point {row['point']})")
        except ScenarioError as exc:
            shown = {p.key: row[p.key] for p in parameters}
            raise SweepError(
                f"invalid sweep: design point {row['point']} {shown} is not a valid "
                f"scenario; narrow the ranges\n  {exc}"
            ) from None
    return sweep
