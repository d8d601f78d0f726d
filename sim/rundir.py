"""The run directory: what a run writes, written so that nothing half-done is ever left.

A run directory holds ``annual.csv`` (one row per year: mean and 90% band across replications),
``aftermath.csv`` when the after-arrival stage ran (one row per year, 1960 to its end year),
``monthly.parquet`` (every metric per month and replication, long format), ``summary.json``
(totals per replication, their mean and quantiles, the documented figures beside them) and
``manifest.json`` (what was run: resolved scenario and its hash, seed, replications, scale,
package version, git commit, engine, wall time). Counts are persons of the simulated population:
at ``--scale`` below 1 divide them by the scale for full-population equivalents.

Everything is written into a hidden sibling folder first and renamed into place at the end
(``staged_directory``), so an interrupted run never leaves a folder that looks complete; single
files are replaced whole (``atomic_write_bytes``). Every tool of the project writes this way.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .aftermath import AftermathResult
from .result import RunResult
from .schema import Scenario
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


@contextmanager
def staged_directory(out: Path) -> Iterator[Path]:
    """Yield a hidden sibling folder to write into; rename it to ``out`` only if all went well.

    An earlier output folder at ``out`` (one holding a manifest.json) is replaced; any other
    non-empty folder is refused, so a mistyped --out never deletes someone's files.
    """
    out = Path(out)
    if (
        out.exists()
        and not (out / "manifest.json").is_file()
        and (not out.is_dir() or any(out.iterdir()))
    ):
        raise FileExistsError(
            f"{out} exists and is not an output directory of this tool (no manifest.json); "
            "choose another --out"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield staging
        _replace_directory(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_run(
    out: Path,
    result: RunResult,
    run_manifest: dict,
    run_summary: dict,
    aftermath: AftermathResult | None = None,
) -> Path:
    """Write a run directory atomically; replace an earlier run directory at the same place.

    With an ``aftermath`` result the directory also holds
    ``aftermath.csv``, one row per year from 1960, and the summary and manifest say so."""
    with staged_directory(out) as staging:
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


def _replace_directory(new: Path, out: Path) -> None:
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rename(out, old / "run")
        os.rename(new, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(new, out)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary sibling, fsync it, rename it into place, fsync the folder: a reader
    sees either the old file or the whole new one, even after a crash."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """``atomic_write_bytes`` of UTF-8 text."""
    atomic_write_bytes(path, text.encode())
