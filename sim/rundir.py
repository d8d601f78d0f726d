"""The run directory: what a run writes, written so that nothing half-done is ever left.

A run directory holds ``annual.csv`` (one row per year: mean and 90% band across replications),
``aftermath.csv`` when the after-arrival stage ran (one row per year, 1960 to its end year),
``monthly.parquet`` (every metric per month and replication, long format), ``summary.json``
(totals per replication, their mean and quantiles, the documented figures beside them) and
``manifest.json`` (what was run: resolved scenario and its hash, seed, replications, scale,
package version, git commit, engine, wall time). Counts are persons of the simulated population:
at ``--scale`` below 1 divide them by the scale for full-population equivalents.

Everything is written into a hidden sibling folder first and moved into place at the end
(``sim.staging``), so an interrupted run never leaves a folder that looks complete, an update
cut short is finished by the next run, and a run replaces only the files it wrote. Every tool of
the project writes this way.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from .aftermath import AftermathResult
from .result import RunResult
from .schema import Scenario
from .staging import staged_directory
from .tables import aftermath_table, annual_table, monthly_table
from .version import __version__


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
        "scenario_file": str(scenario_path),
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
        "wall_seconds": round(wall_seconds, 3),
        "files": ["annual.csv", "monthly.parquet", "summary.json", "manifest.json"],
    }


def write_run(
    out: Path,
    result: RunResult,
    run_manifest: dict,
    run_summary: dict,
    aftermath: AftermathResult | None = None,
    extra_files: Callable[[Path], None] | None = None,
) -> Path:
    """Write a run directory atomically; replace an earlier run directory at the same place.

    With an ``aftermath`` result the directory also holds
    ``aftermath.csv``, one row per year from 1960, and the summary and manifest say so.
    ``extra_files(folder)`` writes more files into it before the manifest (the command's
    figure, say); the manifest lists every file written."""
    with staged_directory(out) as staging:
        if extra_files is not None:
            extra_files(staging)
        annual_table(result).to_csv(staging / "annual.csv", index=False, float_format="%.6g")
        monthly_table(result).to_parquet(staging / "monthly.parquet", index=False)
        if aftermath is not None:
            aftermath_table(aftermath).to_csv(
                staging / "aftermath.csv", index=False, float_format="%.6g"
            )
            run_manifest = {**run_manifest, "files": run_manifest["files"] + ["aftermath.csv"]}
        (staging / "summary.json").write_text(json.dumps(run_summary, indent=2))
        # The manifest is written last: a directory with a manifest is a complete run.
        (staging / "manifest.json").write_text(json.dumps(run_manifest, indent=2))
    return Path(out)
