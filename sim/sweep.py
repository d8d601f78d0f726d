"""Parameter sweeps: a TOML definition, its design, and a resumable run on Dask.

A sweep file names a base scenario, the scalar parameters that vary (with their ranges and
distributions), a design (grid, Latin hypercube from ``scipy.stats.qmc``, Sobol/Saltelli or
Morris from SALib), the replications per point, the scale, the seed and the outputs to keep.
``load_sweep`` validates all of it, and every design point against the scenario schema, before
anything runs; errors name the file and the key.

``run_sweep`` runs the points on a Dask distributed cluster: a ``LocalCluster`` of worker
processes by default (one per core), or an existing scheduler given by address. Every point runs
the base scenario with its parameter values and the sweep seed (common random numbers across
points), so its results depend only on its inputs. The driver streams results to a store on disk
(``SweepStore``): Parquet chunks written atomically and an append-only index keyed by a hash of
each point's inputs, with each chunk's checksum. Run the same sweep again and it computes only
the points that have no valid chunk.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import __version__
from .engine_numpy import RunResult, population_stream, simulate
from .population import generate_population
from .record import FIGURES, total
from .scenario import (
    DecisionWeights,
    PopulationParameters,
    Process,
    Scenario,
    ScenarioError,
    _key_text,
    load_scenario,
    read_toml,
    with_parameters,
)

# ----------------------------------------------------------------------------------------------
# Outputs a point can keep: one value per replication
# ----------------------------------------------------------------------------------------------


def _ratio(numerator: str, denominator: str, first: str, last: str) -> Callable:
    top, bottom = total(numerator, first, last), total(denominator, first, last)

    def measure(result: RunResult) -> np.ndarray:
        a, b = top(result).astype(float), bottom(result).astype(float)
        return np.divide(a, b, out=np.full(len(a), np.nan), where=b > 0)

    return measure


def _outputs() -> dict[str, tuple[str, Callable[[RunResult], np.ndarray]]]:
    table = {f.key: (f.label, f.measure) for f in FIGURES}
    table["deportee_share"] = ("share of deportees among the persons who left, 1959-12..1984-07",
                               _ratio("deportee_departures", "departures", "1959-12", "1984-07"))
    table["japanese_national_share"] = (
        "share of Japanese nationals among the persons who left, 1959-12..1984-07",
        _ratio("japanese_national_departures", "departures", "1959-12", "1984-07"))
    for year in range(1959, 1985):
        table.setdefault(f"departures_{year}", (f"departures in {year}",
                                                total("departures", f"{year}-01", f"{year}-12")))
    return table


# Name -> (meaning, measure). Counts are persons of the simulated population (divide by the
# scale for full-population equivalents); shares are not scaled.
OUTPUTS = _outputs()

# Sections whose scalar keys a sweep may vary. Levers are dated schedules, not scalars.
SECTIONS: dict[str, type[BaseModel]] = {
    "population": PopulationParameters,
    "decision": DecisionWeights,
    "process": Process,
}

# Branch of the sweep seed the design sampler draws from; the engine uses branches 0 and 1.
_DESIGN_BRANCH = 2


# ----------------------------------------------------------------------------------------------
# The sweep file
# ----------------------------------------------------------------------------------------------


class SweepError(ValueError):
    """A sweep file is invalid; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterSpec(_Strict):
    min: float | None = Field(default=None, description="lowest value")
    max: float | None = Field(default=None, description="highest value")
    distribution: Literal["uniform", "loguniform"] = Field(
        default="uniform", description="how values spread between min and max")
    points: int | None = Field(default=None, ge=2, description="grid only: evenly spaced values")
    values: list[float] | None = Field(default=None, min_length=1,
                                       description="grid only: explicit values")


class DesignSpec(_Strict):
    method: Literal["grid", "latin", "sobol", "morris"]
    samples: int | None = Field(
        default=None, ge=1,
        description="latin: points; sobol: base samples N (a power of 2), giving N*(D+2) points "
                    "(N*(2D+2) with second_order); morris: trajectories, giving N*(D+1) points")
    second_order: bool = Field(default=False, description="sobol: also second-order indices")
    levels: int = Field(default=4, ge=2, description="morris: grid levels")


class SweepFile(_Strict):
    name: str
    description: str = ""
    scenario: str = Field(description="base scenario, relative to the sweep file")
    seed: int = Field(ge=0)
    replications: int = Field(ge=1)
    scale: float = Field(gt=0, le=1)
    outputs: list[str] = Field(min_length=1)
    chunk_size: int | None = Field(default=None, ge=1, description="points per task and chunk")
    design: DesignSpec
    parameters: dict[str, ParameterSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Parameter:
    key: str  # dotted scenario key, e.g. "decision.peers"
    low: float
    high: float
    distribution: str
    is_int: bool
    grid: tuple[float, ...] | None = None  # grid values, when the design is a grid

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map unit-hypercube coordinates to values (the quantile function of the distribution)."""
        if self.distribution == "loguniform":
            values = np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        else:
            values = self.low + u * (self.high - self.low)
        return np.round(values) if self.is_int else values


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: its base scenario, parameters, settings, and the design points."""

    path: Path
    spec: SweepFile
    base: Scenario
    parameters: tuple[Parameter, ...]
    design: pd.DataFrame = field(repr=False)  # point, point_hash, unit_<key>..., <key>...

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.parameters]

    def unique_points(self) -> pd.DataFrame:
        """One row per distinct point hash, in design order (a design may repeat a point)."""
        return self.design.drop_duplicates("point_hash")

    def problem(self) -> dict:
        """The SALib problem, on the unit hypercube: analyses read the unit coordinates."""
        return {"num_vars": len(self.parameters), "names": self.keys,
                "bounds": [[0.0, 1.0]] * len(self.parameters)}


def _parse_error(path: Path, exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "missing key"
        else:
            message = error["msg"]
        lines.append(f"{path}: key '{_key_text(loc)}': {message}")
    return lines


def _flatten_parameters(raw: Any, prefix: str = "") -> dict[str, Any]:
    """Accept ``"decision.peers" = {...}`` as well as ``[parameters.decision] peers = {...}``."""
    if not isinstance(raw, dict):
        return {prefix: raw}
    if prefix and set(raw) & set(ParameterSpec.model_fields):
        return {prefix: raw}
    flat = {}
    for key, value in raw.items():
        flat.update(_flatten_parameters(value, f"{prefix}.{key}" if prefix else key))
    return flat


def _schema_field(key: str) -> tuple[Any, str | None]:
    """The pydantic field a dotted key names, or (None, reason)."""
    section, _, name = key.partition(".")
    if section == "levers":
        return None, ("levers are dated schedules and cannot be swept as one number; sweep a "
                      "scalar key of [population], [decision] or [process]")
    if section not in SECTIONS or not name or "." in name:
        return None, (f"unknown parameter; write it as section.key with section one of "
                      f"{', '.join(SECTIONS)}")
    model = SECTIONS[section]
    if name not in model.model_fields:
        return None, f"unknown parameter (allowed in [{section}]: {', '.join(model.model_fields)})"
    return model.model_fields[name], None


def _check_parameter(path: Path, key: str, spec: ParameterSpec, method: str) -> tuple[list[str], Parameter | None]:
    where = f"{path}: key 'parameters.{key}"
    schema, reason = _schema_field(key)
    if schema is None:
        return [f"{where}': {reason}"], None
    extra = schema.json_schema_extra or {}
    allowed_low, allowed_high = extra["min"], extra["max"]
    allowed = f"the allowed range of {key} is {allowed_low}..{allowed_high} {extra.get('unit', '')}".rstrip()
    errors = []
    is_int = schema.annotation is int
    grid = None
    if method == "grid":
        if spec.values is not None and spec.points is not None:
            errors.append(f"{where}': give either points (with min and max) or values, not both")
        if spec.values is not None:
            grid = tuple(sorted(set(spec.values)))
            for value in grid:
                if not allowed_low <= value <= allowed_high:
                    errors.append(f"{where}.values': {value} is outside the allowed range; {allowed}")
            low, high = grid[0], grid[-1]
            return errors, (Parameter(key, low, high, spec.distribution, is_int, grid)
                            if not errors else None)
        if spec.points is None:
            errors.append(f"{where}': a grid needs points (with min and max) or values")
    else:
        for name in ("points", "values"):
            if getattr(spec, name) is not None:
                errors.append(f"{where}.{name}': only a grid design takes {name}; "
                              f"the {method} design samples between min and max")
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
    if spec.distribution == "loguniform" and low <= 0:
        errors.append(f"{where}.min': a loguniform range must start above 0, got {low:g}")
    if errors:
        return errors, None
    if method == "grid":
        parameter = Parameter(key, low, high, spec.distribution, is_int)
        # Rounded to 12 digits so that a grid from 0.1 to 0.5 holds 0.3, not 0.30000000000000004.
        grid = tuple(sorted({float(f"{v:.12g}") for v in
                             parameter.from_unit(np.linspace(0, 1, spec.points)).tolist()}))
    return [], Parameter(key, low, high, spec.distribution, is_int, grid)


def _unit_design(spec: SweepFile, parameters: tuple[Parameter, ...]) -> np.ndarray:
    """Design points on the unit hypercube, one row per point, in the sampler's order."""
    d = len(parameters)
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(_DESIGN_BRANCH,)))
    design = spec.design
    problem = {"num_vars": d, "names": [p.key for p in parameters], "bounds": [[0.0, 1.0]] * d}
    if design.method == "grid":
        raise AssertionError("grids are built from their values, not on the unit cube")
    if design.method == "latin":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d, rng=rng).random(design.samples)
    if design.method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, design.samples, calc_second_order=design.second_order,
                            scramble=True, seed=rng)
    from SALib.sample import morris

    return morris.sample(problem, design.samples, num_levels=design.levels, seed=rng)


def _design(spec: SweepFile, base: Scenario, parameters: tuple[Parameter, ...]) -> pd.DataFrame:
    if spec.design.method == "grid":
        mesh = np.meshgrid(*[np.array(p.grid) for p in parameters], indexing="ij")
        values = np.column_stack([m.reshape(-1) for m in mesh])
        unit = np.column_stack([
            (values[:, i] - p.low) / (p.high - p.low) if p.high > p.low else np.zeros(len(values))
            for i, p in enumerate(parameters)])
    else:
        unit = _unit_design(spec, parameters)
        values = np.column_stack([p.from_unit(unit[:, i]) for i, p in enumerate(parameters)])
    table = pd.DataFrame({"point": np.arange(len(values), dtype=np.int64)})
    for i, p in enumerate(parameters):
        table[f"unit:{p.key}"] = unit[:, i]
    for i, p in enumerate(parameters):
        table[p.key] = values[:, i]
    identity = {"package_version": __version__, "code_sha256": code_digest(),
                "scenario_sha256": base.digest(), "seed": spec.seed,
                "scale": spec.scale, "replications": spec.replications,
                "outputs": sorted(OUTPUTS)}
    table.insert(1, "point_hash", [
        point_hash(identity, dict(zip([p.key for p in parameters], row))) for row in values.tolist()])
    return table


# The modules whose code decides a point's numbers. Their source is part of every point hash, so
# a change to the model makes a resumed sweep recompute rather than mix old and new results.
MODEL_MODULES = ("scenario", "population", "decision", "engine_numpy", "record", "sweep")


def code_digest() -> str:
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in MODEL_MODULES:
        digest.update((here / f"{name}.py").read_bytes())
    return digest.hexdigest()


def point_hash(identity: dict, values: dict[str, float]) -> str:
    """sha256 of everything a point's results depend on: code version and model source, base
    scenario, seed, scale, replications, the outputs computed, and the parameter values (floats
    written exactly)."""
    text = json.dumps({**identity, "values": {k: float(v) for k, v in sorted(values.items())}},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def point_values(row: pd.Series | dict, keys: list[str]) -> dict[str, float | int]:
    """The scenario overrides of a design row (integers for integer keys)."""
    out = {}
    for key in keys:
        schema, _ = _schema_field(key)
        value = float(row[key])
        out[key] = int(round(value)) if schema.annotation is int else value
    return out


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
        if name not in OUTPUTS:
            errors.append(f"{path}: key 'outputs': unknown output '{name}' (allowed: "
                          f"{', '.join(OUTPUTS)})")
    method = spec.design.method
    if method != "grid" and spec.design.samples is None:
        errors.append(f"{path}: key 'design.samples': missing key (the {method} design needs it)")
    if method == "sobol" and spec.design.samples and spec.design.samples & (spec.design.samples - 1):
        errors.append(f"{path}: key 'design.samples': {spec.design.samples} is not a power of 2, "
                      "which Sobol sequences need to keep their balance (try "
                      f"{2 ** round(math.log2(spec.design.samples))})")
    if method in ("sobol", "morris") and len(spec.parameters) < 2:
        errors.append(f"{path}: key 'parameters': a {method} analysis needs at least 2 parameters")
    parameters = []
    for key, parameter_spec in spec.parameters.items():
        problems, parameter = _check_parameter(path, key, parameter_spec, method)
        errors += problems
        if parameter is not None:
            parameters.append(parameter)
    scenario_path = path.parent / spec.scenario
    try:
        base = load_scenario(scenario_path)
    except ScenarioError as exc:
        errors.append(f"{path}: key 'scenario': {scenario_path} is not a valid scenario:\n    "
                      + str(exc).replace("\n", "\n    "))
    if errors:
        raise SweepError("invalid sweep\n  " + "\n  ".join(errors))

    parameters = tuple(parameters)
    design = _design(spec, base, parameters)
    # Every point must make a valid scenario (cross-key rules such as register_rate +
    # revert_rate <= 1 hold only jointly), checked now rather than on a worker an hour in.
    keys = [p.key for p in parameters]
    for row in design.drop_duplicates("point_hash").itertuples(index=False):
        values = point_values(dict(zip(design.columns, row)), keys)
        try:
            with_parameters(base, values, source=f"{path} (point {row.point})")
        except ScenarioError as exc:
            raise SweepError(f"invalid sweep: design point {row.point} {values} is not a valid "
                             f"scenario; narrow the ranges\n  {exc}") from None
    return Sweep(path, spec, base, parameters, design)


# ----------------------------------------------------------------------------------------------
# The work of a point, on a worker
# ----------------------------------------------------------------------------------------------

_POPULATIONS: dict[tuple, Any] = {}


def _population_for(scenario: Scenario, seed: int, scale: float):
    """The population of (seed, scale, population parameters), cached on the worker: points that
    vary only decision or process keys share it, exactly as ``simulate`` would draw it."""
    key = (seed, scale, scenario.population.model_dump_json())
    if key not in _POPULATIONS:
        if len(_POPULATIONS) >= 4:
            _POPULATIONS.pop(next(iter(_POPULATIONS)))
        _POPULATIONS[key] = generate_population(scenario.population, scale, population_stream(seed))
    return _POPULATIONS[key]


def run_points(base: Scenario, points: list[tuple[str, dict]], seed: int, replications: int,
               scale: float) -> dict[str, list]:
    """Run each (point_hash, values) and measure every output per replication.

    Returns columns: point_hash, replication, one column per output, and the seconds each point
    took (for the benchmark of the sweep's own overhead).
    """
    columns: dict[str, list] = {"point_hash": [], "replication": [], **{k: [] for k in OUTPUTS}}
    seconds = []
    for digest, values in points:
        started = time.perf_counter()
        scenario = with_parameters(base, values, source=f"point {digest[:12]}")
        result = simulate(scenario, seed, replications, scale=scale,
                          population=_population_for(scenario, seed, scale))
        columns["point_hash"] += [digest] * replications
        columns["replication"] += result.replications.tolist()
        for name, (_, measure) in OUTPUTS.items():
            columns[name] += np.asarray(measure(result), dtype=float).tolist()
        seconds.append(time.perf_counter() - started)
    columns["__seconds__"] = seconds
    return columns


def _worker_version() -> str:
    return __version__


# ----------------------------------------------------------------------------------------------
# The store: chunks, an index, and the final results
# ----------------------------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary sibling, fsync it, rename it into place, fsync the folder: a reader
    sees either the old file or the whole new one, even after a crash."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _parquet_bytes(table: pd.DataFrame, metadata: dict | None = None) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    if metadata:
        arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}),
                                               b"sweep": json.dumps(metadata).encode()})
    sink = pa.BufferOutputStream()
    pq.write_table(arrow, sink)
    return sink.getvalue().to_pybytes()


class SweepStore:
    """A sweep's folder on disk.

    ``sweep.json``   what is swept (the definition, base scenario hash, seed, version, commit)
    ``design.parquet`` the design points with their hashes
    ``chunks/``      Parquet chunks of results, each written atomically
    ``index.jsonl``  one line per chunk: file name, sha256, rows and point hashes; appended and
                     fsynced after its chunk is in place, so a listed chunk was complete
    ``results.parquet`` one row per (point, replication), written when every point is done

    A chunk counts only if it is listed and its bytes, row count and point hashes match the
    index; anything else is reported and its points are computed again.
    """

    def __init__(self, out: Path):
        self.out = Path(out)
        self.chunks = self.out / "chunks"
        self.index = self.out / "index.jsonl"
        self._lock_handle = None
        self.warnings: list[str] = []

    def open(self, sweep: Sweep) -> SweepStore:
        out = self.out
        if out.exists() and not (out / "sweep.json").is_file() and (
                not out.is_dir() or any(out.iterdir())):
            raise FileExistsError(f"{out} exists and is not a sweep folder (no sweep.json); "
                                  "choose another --out")
        self.chunks.mkdir(parents=True, exist_ok=True)
        # One writer at a time; the kernel drops the lock if the process dies, even by kill -9.
        self._lock_handle = open(out / ".lock", "w")
        try:
            fcntl.flock(self._lock_handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FileExistsError(f"{out} is in use by another sweep process") from None
        from .outputs import git_commit

        manifest = {
            "name": sweep.name,
            "sweep_file": str(sweep.path),
            "definition": sweep.spec.model_dump(mode="json"),
            "scenario_sha256": sweep.base.digest(),
            "scenario": json.loads(sweep.base.canonical_json()),
            "parameters": [p.key for p in sweep.parameters],
            "points": len(sweep.design),
            "distinct_points": int(sweep.design["point_hash"].nunique()),
            "package_version": __version__,
            "code_sha256": code_digest(),
            "git_commit": git_commit(),
        }
        # A results.parquet is only ever that of the sweep.json beside it: drop an older one.
        (out / "results.parquet").unlink(missing_ok=True)
        atomic_write_bytes(out / "sweep.json", json.dumps(manifest, indent=2).encode())
        atomic_write_bytes(out / "design.parquet", _parquet_bytes(sweep.design))
        atomic_write_bytes(out / "sweep.toml", sweep.path.read_bytes())
        return self

    def close(self) -> None:
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None

    def __enter__(self) -> SweepStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reading back -----------------------------------------------------------------------

    def _entries(self) -> Iterator[dict]:
        if not self.index.is_file():
            return
        for number, line in enumerate(self.index.read_text().splitlines(), 1):
            try:
                entry = json.loads(line)
                if not {"chunk", "sha256", "rows", "points"} <= set(entry):
                    raise ValueError
            except ValueError:
                # A line cut short by a crash: its chunk is not trusted, its points rerun.
                self.warnings.append(f"{self.index}: line {number} is incomplete; ignored")
                continue
            yield entry

    def completed(self, replications: int) -> dict[str, pd.DataFrame]:
        """Results of every point held by a valid chunk: {point_hash: rows}."""
        self.warnings = []
        done: dict[str, pd.DataFrame] = {}
        valid_files, valid_lines, dropped = set(), [], False
        for entry in self._entries():
            table = self._read_chunk(entry, replications)
            if table is None:
                dropped = True
                continue
            valid_files.add(entry["chunk"])
            valid_lines.append(json.dumps(entry))
            for digest, rows in table.groupby("point_hash", sort=False):
                done.setdefault(digest, rows)
        # Files no valid index line vouches for: half-written temporaries, or chunks whose index
        # line never made it to disk. They are never read; remove them so they cannot confuse.
        for stray in self.chunks.iterdir():
            if stray.name not in valid_files:
                stray.unlink()
        if dropped or self.warnings:
            # Rewrite the index with the trusted lines only, so a bad line is reported once.
            atomic_write_bytes(self.index, "".join(line + "\n" for line in valid_lines).encode())
        return done

    def _read_chunk(self, entry: dict, replications: int) -> pd.DataFrame | None:
        path = self.chunks / entry["chunk"]
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            self.warnings.append(f"{path}: listed in the index but missing; its points rerun")
            return None
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            self.warnings.append(f"{path}: checksum does not match the index (corrupt or partly "
                                 "written); its points rerun")
            return None
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(pa.BufferReader(data)).to_pandas()
        except (pa.ArrowException, OSError) as exc:
            self.warnings.append(f"{path}: unreadable Parquet ({exc}); its points rerun")
            return None
        counts = table["point_hash"].value_counts()
        if (len(table) != entry["rows"] or set(counts.index) != set(entry["points"])
                or (counts != replications).any() or not set(OUTPUTS) <= set(table.columns)):
            self.warnings.append(f"{path}: rows or points do not match the index; its points rerun")
            return None
        return table

    # -- writing ----------------------------------------------------------------------------

    def write_chunk(self, columns: dict[str, list]) -> pd.DataFrame:
        """Write a chunk atomically, then its index line; return the rows as they will read back."""
        table = pd.DataFrame({k: v for k, v in columns.items() if not k.startswith("__")})
        table["replication"] = table["replication"].astype(np.int32)
        points = list(dict.fromkeys(table["point_hash"]))
        name = "chunk-" + hashlib.sha256("".join(points).encode()).hexdigest()[:20] + ".parquet"
        data = _parquet_bytes(table)
        atomic_write_bytes(self.chunks / name, data)
        line = json.dumps({"chunk": name, "sha256": hashlib.sha256(data).hexdigest(),
                           "rows": len(table), "points": points})
        # The index line goes last: if the process dies before it is on disk, the chunk is an
        # orphan and is recomputed, never trusted.
        with open(self.index, "a") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return table

    def assemble(self, sweep: Sweep, done: dict[str, pd.DataFrame]) -> pd.DataFrame:
        """results.parquet: one row per (design point, replication), in design order."""
        keep = ["point_hash", "replication", *sweep.spec.outputs]
        outputs = pd.concat([done[h][keep] for h in sweep.unique_points()["point_hash"]],
                            ignore_index=True)
        design = sweep.design[["point", "point_hash", *sweep.keys]]
        results = design.merge(outputs, on="point_hash", how="left", validate="many_to_many")
        results = results.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)
        if len(results) != len(design) * sweep.spec.replications:
            raise AssertionError("assembled results do not cover every point and replication")
        atomic_write_bytes(self.out / "results.parquet", _parquet_bytes(
            results, {"name": sweep.name, "seed": sweep.spec.seed, "scale": sweep.spec.scale,
                      "replications": sweep.spec.replications}))
        return results


# ----------------------------------------------------------------------------------------------
# Running a sweep
# ----------------------------------------------------------------------------------------------


@dataclass
class SweepReport:
    out: Path
    points: int  # distinct points in the design
    reused: int  # found complete on disk
    computed: int
    workers: int
    wall_seconds: float
    compute_seconds: float  # summed over points, as timed on the workers
    results: pd.DataFrame = field(repr=False)
    warnings: list[str] = field(default_factory=list)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _client(scheduler: str | None, workers: int | None):
    """(client, cluster): a client of the given scheduler (cluster None), or of a new local cluster
    (``local_cluster``). Local and remote sweeps then share every line of code after this one."""
    from distributed import Client

    if scheduler:
        return Client(scheduler, timeout="30s"), None
    cluster = local_cluster(workers or default_workers())
    return Client(cluster), cluster


# Dask's housekeeping, slowed down or turned off for a local cluster of compute-bound workers.
# With the defaults, a worker samples its own stack every 10 ms (for the dashboard's profile),
# every server checks its event loop every 20 ms, each nanny polls its worker's memory every
# 100 ms and the scheduler and workers poll the system every 500 ms. Measured on this 2-core
# machine: an idle 2-worker LocalCluster burnt 15% of a core with the defaults (8% in the
# workers, 6-7% in the driver) and 1.7% with these settings. On 2 cores busy with 2 workers,
# that CPU is taken from the workers and capped the speed-up of the second worker near 1.85x.
# None of it changes a result: the dashboard is off, and a sweep's memory is small and steady.
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
    # One task per worker at a time: a worker asks for the next chunk when it finishes one,
    # so no chunk waits queued behind another worker's at the end of the sweep.
    "distributed.scheduler.worker-saturation": 1.0,
}


def local_cluster(workers: int, config: dict | None = None):
    """A LocalCluster of single-threaded worker processes (the engine is single-threaded numpy;
    processes side-step the GIL), with ``worker_environ`` and ``LOCAL_CLUSTER_CONFIG`` (or
    ``config`` in its place, for benchmarks against Dask's defaults). It drops
    MALLOC_TRIM_THRESHOLD_ from this process's environment, wherever it came from."""
    import logging

    import dask
    from distributed import LocalCluster

    settings = {"distributed.nanny.pre-spawn-environ": worker_environ(),
                **(LOCAL_CLUSTER_CONFIG if config is None else config)}
    # Worker processes inherit this process's environment, and Dask's nannies copy their
    # pre-spawn variables into it for good: after any earlier cluster with Dask's defaults in this
    # process (a test fixture, a notebook), MALLOC_TRIM_THRESHOLD_ would reach the workers anyway.
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set(settings):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                            dashboard_address=None, silence_logs=logging.ERROR,
                            # No dashboard, and the scheduler's small HTTP server on a free
                            # port: 8787 may be taken by another cluster on the machine.
                            scheduler_kwargs={"dashboard_address": ":0"})


def worker_environ() -> dict:
    """Dask's environment for worker processes, without MALLOC_TRIM_THRESHOLD_.

    Dask sets it so that workers hand memory back to the system, but any value also pins glibc's
    mmap threshold at 128 kB: every month's temporary arrays are then mapped and unmapped afresh,
    which made the engine about 45% slower (measured: 0.46 s against 0.68 s a point at 1/10
    scale). Keep it for workers started by hand only if memory is short.
    """
    import dask

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    return environ


def chunk_sizes(points: int, workers: int, size: int | None = None) -> list[int]:
    """Points per task, in submission order: ``size`` each if given, else guided by what is left.

    Each chunk takes a quarter of the remaining points' share of a worker, at most 32 points:
    large chunks first (few tasks and files), then smaller and smaller ones down to single points,
    so that the workers finish together; with equal chunks a worker could sit idle for up to a
    whole chunk at the end. A killed run loses at most one chunk per worker.
    """
    if size:
        return [min(size, points - start) for start in range(0, points, size)]
    sizes, left = [], points
    while left:
        sizes.append(max(1, min(32, math.ceil(left / (4 * workers)), left)))
        left -= sizes[-1]
    return sizes


def run_sweep(sweep: Sweep, out: Path, workers: int | None = None, scheduler: str | None = None,
              chunk_size: int | None = None, progress: bool = False,
              log: Callable[[str], None] = lambda s: None) -> SweepReport:
    """Run the points of ``sweep`` that ``out`` does not yet hold, then write results.parquet."""
    started = time.perf_counter()
    spec = sweep.spec
    with SweepStore(Path(out)).open(sweep) as store:
        done = store.completed(spec.replications)
        for message in store.warnings:
            log(f"warning: {message}")
        unique = sweep.unique_points()
        missing = unique[~unique["point_hash"].isin(done)]
        reused = len(unique) - len(missing)
        compute_seconds, n_workers = 0.0, 0
        if len(missing):
            compute_seconds, n_workers = _compute(sweep, store, missing, done, workers, scheduler,
                                                  chunk_size, progress, reused, len(unique), log)
        results = store.assemble(sweep, done)
        return SweepReport(Path(out), len(unique), reused, len(missing), n_workers,
                           time.perf_counter() - started, compute_seconds, results, store.warnings)


def _compute(sweep, store, missing, done, workers, scheduler, chunk_size, progress, reused,
             total_points, log) -> tuple[float, int]:
    from distributed import as_completed
    from tqdm import tqdm

    spec = sweep.spec
    client, cluster = _client(scheduler, workers)
    futures = []
    try:
        n_workers = max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
        versions = set(client.run(_worker_version).values())
        if versions - {__version__}:
            raise RuntimeError(f"the workers run sim {sorted(versions)}, this process "
                               f"{__version__}: install the same version on every worker")
        sizes = chunk_sizes(len(missing), n_workers, chunk_size or spec.chunk_size)
        log(f"{spec.name}: {total_points} points, {reused} already on disk, {len(missing)} to "
            f"run on {n_workers} worker(s) in {len(sizes)} chunks of {sizes[-1]} to {sizes[0]}")
        base = client.scatter(sweep.base, broadcast=True)
        tasks = [(row["point_hash"], point_values(row, sweep.keys))
                 for _, row in missing.iterrows()]
        start = 0
        for size in sizes:
            # Dask runs queued tasks in the order they were submitted (their priority), so the
            # small chunks come last.
            futures.append(client.submit(run_points, base, tasks[start:start + size], spec.seed,
                                         spec.replications, spec.scale, pure=False))
            start += size
        compute_seconds = 0.0
        bar = tqdm(total=total_points, initial=reused, unit="point", desc=spec.name,
                   disable=not progress, smoothing=0.05, dynamic_ncols=True)
        with bar:
            for _, columns in as_completed(futures, with_results=True):
                table = store.write_chunk(columns)
                for digest, rows in table.groupby("point_hash", sort=False):
                    done[digest] = rows
                compute_seconds += sum(columns["__seconds__"])
                n = len(columns["__seconds__"])
                bar.update(n)
                elapsed = bar.format_dict["elapsed"] or 1e-9
                bar.set_postfix_str(f"{(bar.n - reused) * spec.replications / elapsed * 60:,.0f} runs/min",
                                    refresh=False)
        return compute_seconds, n_workers
    finally:
        for future in futures:
            future.cancel()
        client.close()
        if cluster is not None:
            cluster.close()


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------


def add_command(commands) -> None:
    sweep = commands.add_parser(
        "sweep", help="run a parameter sweep (local worker processes or a Dask cluster); resumable",
        description="Run the points of a sweep file, streaming results to OUT. Run it again after "
                    "an interruption and it computes only what is missing.")
    sweep.add_argument("sweep", type=Path, help="sweep TOML file, e.g. sweeps/example_latin.toml")
    sweep.add_argument("--out", type=Path, default=None,
                       help="sweep folder (default results/sweeps/<name>)")
    sweep.add_argument("--workers", type=int, default=None,
                       help="local worker processes (default: one per core)")
    sweep.add_argument("--scheduler", default=None,
                       help="address of a Dask scheduler, e.g. tcp://10.0.0.5:8786; its workers "
                            "need this package installed")
    sweep.add_argument("--chunk-size", type=int, default=None,
                       help="points per task and per chunk file (default: automatic)")
    sweep.add_argument("--check", action="store_true",
                       help="validate the sweep file and print its size, run nothing")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    sweep.set_defaults(handler=_main)


def _main(args) -> int:
    try:
        sweep = load_sweep(args.sweep)
    except SweepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    unique = sweep.design["point_hash"].nunique()
    if args.check:
        print(f"{args.sweep}: valid sweep '{sweep.name}': {sweep.spec.design.method} design, "
              f"{len(sweep.design)} points ({unique} distinct) x {sweep.spec.replications} "
              f"replications = {unique * sweep.spec.replications} runs at scale {sweep.spec.scale:g}")
        return 0
    if args.workers is not None and args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    out = args.out or Path("results") / "sweeps" / sweep.name
    log = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr))
    try:
        report = run_sweep(sweep, out, workers=args.workers, scheduler=args.scheduler,
                           chunk_size=args.chunk_size,
                           progress=not args.quiet and sys.stderr.isatty(), log=log)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: the finished chunks are saved in {out}; run the same command "
              "again to compute only what is missing", file=sys.stderr)
        return 130
    if not args.quiet:
        runs = report.computed * sweep.spec.replications
        rate = f", {runs / report.wall_seconds * 60:,.0f} runs/min" if runs else ""
        print(f"{sweep.name}: {report.points} points ({report.reused} reused, {report.computed} "
              f"computed{rate}) in {report.wall_seconds:.1f} s -> {out}/results.parquet")
    return 0
