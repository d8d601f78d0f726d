"""The run directory: what a run writes, written so that nothing half-done is ever left.

A run directory holds the tables ``annual`` (one row per year: mean and 90% band across
replications), ``monthly`` (every metric per month and replication, long format) and, when the
after-arrival stage ran, ``aftermath`` (one row per year, 1960 to its end year), as Parquet, CSV
or NetCDF files (``table_files.py``), in full-population persons with the simulated counts
beside them (``tables.py``); ``summary.json`` (the documented figures beside the run's, per
replication, simulated and at full scale) and ``manifest.json`` (what was run: resolved scenario
and its hash, seed, replications, scale, package version, git commit, the versions of the
libraries, engine, wall time, and the files written).

Everything is written into a hidden sibling folder first and moved into place at the end
(``sim.staging``), so an interrupted run never leaves a folder that looks complete, an update
cut short is finished by the next run, and a run replaces only the files it wrote. Every tool of
the project writes this way.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from .aftermath import AftermathResult
from .result import RunResult
from .schema import Scenario
from .staging import staged_directory
from .table_files import write_table
from .tables import aftermath_table, annual_table, monthly_table
from .version import __version__

PROJECT = Path(__file__).resolve().parents[1]  # the folder that holds sim/ and scenarios/


def recorded_path(path: str | Path) -> str:
    """A file as a manifest records it: relative to the project for the project's own files
    (the bundled scenarios, the calibration's posterior), so that a manifest reads the same on
    every machine; any other file by its full path."""
    try:
        return Path(path).resolve().relative_to(PROJECT).as_posix()
    except ValueError:
        return str(Path(path).resolve())


def git_commit() -> str:
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# The libraries a run's numbers go through: numpy turns the seed into draws and does the
# arithmetic, scipy and networkx build the population and the Mesa engine's network, numba
# compiles the numpy engine's loops, Mesa runs the other engine.
LIBRARIES = ("numpy", "scipy", "networkx", "numba", "mesa")


def library_versions() -> dict[str, str]:
    """The installed version of each of the ``LIBRARIES`` ("unknown" where it cannot be read)."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


def manifest(
    scenario: Scenario,
    scenario_path: Path,
    seed: int,
    result: RunResult,
    scale: float,
    engine: str,
    wall_seconds: float,
) -> dict:
    return {
        "scenario_name": scenario.name,
        "scenario_file": recorded_path(scenario_path),
        "scenario_sha256": scenario.digest(),
        "scenario": json.loads(scenario.canonical_json()),
        "seed": seed,
        "replications": [int(r) for r in result.replications],
        "scale": scale,
        "households": result.households,
        "people": result.people,
        "engine": engine,
        "package_version": __version__,
        "git_commit": git_commit(),
        "libraries": library_versions(),
        "wall_seconds": round(wall_seconds, 3),
    }


def write_run(
    out: Path,
    result: RunResult,
    run_manifest: dict,
    run_summary: dict,
    scale: float,
    fmt: str = "parquet",
    aftermath: AftermathResult | None = None,
    extra_files: Callable[[Path], None] | None = None,
) -> Path:
    """Write a run directory atomically, its tables in full-population units and in ``fmt``;
    replace an earlier run directory at the same place.

    With an ``aftermath`` result the directory also holds the ``aftermath`` table.
    ``extra_files(folder)`` writes more files into it (the command's figure, say); the manifest,
    written last, lists every file."""
    attrs = {"scenario": run_manifest.get("scenario_name"), "scale": scale}
    with staged_directory(out) as staging:
        if extra_files is not None:
            extra_files(staging)
        write_table(annual_table(result, scale), staging, "annual", fmt, ["year"], attrs)
        monthly = monthly_table(result, scale)
        write_table(monthly, staging, "monthly", fmt, ["replication", "month"], attrs)
        if aftermath is not None:
            table = aftermath_table(aftermath, scale)
            write_table(table, staging, "aftermath", fmt, ["year"], attrs)
        (staging / "summary.json").write_text(json.dumps(run_summary, indent=2))
        files = sorted(p.name for p in staging.iterdir()) + ["manifest.json"]
        # The manifest is written last: a directory with a manifest is a complete run.
        (staging / "manifest.json").write_text(
            json.dumps({**run_manifest, "files": files}, indent=2)
        )
    return Path(out)
