"""The run directory: what a run writes, written so that nothing half-done is ever left.

A run directory holds ``annual.csv`` (one row per year: mean and 90% band across replications),
``aftermath.csv`` when the after-arrival stage ran (one row per year, 1960 to its end year),
``monthly.parquet`` (every metric per month and replication, long format), ``summary.json``
(totals per replication, their mean and quantiles, the documented figures beside them) and
``manifest.json`` (what was run: resolved scenario and its hash, seed, replications, scale,
package version, git commit, engine, wall time). Counts are persons of the simulated population:
at ``--scale`` below 1 divide them by the scale for full-population equivalents.

Everything is written into a hidden sibling folder first and moved into place at the end
(``staged_directory``), so an interrupted run never leaves a folder that looks complete, a swap
cut short is finished by the next run, and a run replaces only the files it wrote; single files
are replaced whole (``atomic_write_bytes``). Every tool of the project writes this way.
"""

from __future__ import annotations

import fcntl
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
    """Yield a hidden sibling folder to write into; put its files in ``out`` only if all went well.

    The folder's ``manifest.json`` (written last by the caller) gets the list of what was
    written (``files``). An earlier output folder at ``out`` (one holding a manifest.json) is
    updated: its files that the tool wrote are replaced or removed, anything else in it (a
    user's notes, a report another command wrote there) is kept. Any other non-empty folder is
    refused, so a mistyped --out never deletes someone's files. A swap interrupted by a kill is
    finished by the next call for the same ``out``, and leftovers of runs killed while writing
    are removed.
    """
    out = Path(out)
    if out.exists() and (out / JOURNAL).is_file():
        with _locked(out.parent):
            _finish_swap(out)
    check_output_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_dead_partials(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=out.parent))
    os.chmod(staging, 0o777 & ~_umask())  # as any folder the user makes (mkdtemp gives 0700)
    try:
        yield staging
        _list_files(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    with _locked(out.parent):
        _replace_directory(staging, out)


def check_output_folder(out: Path) -> None:
    """Refuse (FileExistsError) an ``out`` that is not a folder this tool may write: a file, or a
    non-empty folder with no manifest.json. Commands call it before any work."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} is a file, not a folder; choose another --out")
    if out.exists() and not (out / "manifest.json").is_file() and any(out.iterdir()):
        if (out / JOURNAL).is_file():
            return  # a run's folder whose update was cut short: the next write finishes it
        raise FileExistsError(
            f"{out} exists and is not an output directory of this tool (no manifest.json); "
            "choose another --out"
        )
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise FileExistsError(f"{parent} is a file: --out {out} cannot be made under it")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise PermissionError(f"cannot write under {parent}: --out {out} is not writable")
            break


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (two runs finishing at once swap one at a time)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


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


# In an output folder being updated: which staging folder's files are moving in, and which of the
# old run's files go. Written before the first change; removed after the last.
JOURNAL = ".replacing.json"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _list_files(staging: Path) -> None:
    manifest_path = staging / "manifest.json"
    listing = json.loads(manifest_path.read_text())
    listing["files"] = sorted(p.name for p in staging.iterdir())
    manifest_path.write_text(json.dumps(listing, indent=2))


def _replace_directory(new: Path, out: Path) -> None:
    if not out.exists():
        os.rename(new, out)
        _fsync_dir(out.parent)
        return
    old_files = json.loads((out / "manifest.json").read_text()).get("files", [])
    written = json.loads((new / "manifest.json").read_text())["files"]
    stale = [name for name in old_files if name not in written and name != JOURNAL]
    atomic_write_text(out / JOURNAL, json.dumps({"staging": new.name, "remove": stale}))
    _finish_swap(out)


def _finish_swap(out: Path) -> None:
    """Carry out (or finish, after a kill) the update of ``out`` that its journal describes.
    Every step can be done again: the old manifest goes first (the folder no longer looks like a
    complete run), the new one comes last."""
    if not (out / JOURNAL).is_file():  # another run finished it while we waited for the lock
        return
    journal = json.loads((out / JOURNAL).read_text())
    staging = out.parent / journal["staging"]
    if (staging / "manifest.json").is_file():
        (out / "manifest.json").unlink(missing_ok=True)
        for name in journal["remove"]:
            _remove(out / name)
        for entry in sorted(staging.iterdir()):
            if entry.name != "manifest.json":
                _remove(out / entry.name)
                os.rename(entry, out / entry.name)
        os.rename(staging / "manifest.json", out / "manifest.json")
    shutil.rmtree(staging, ignore_errors=True)
    (out / JOURNAL).unlink()
    _fsync_dir(out)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _remove_dead_partials(out: Path) -> None:
    """Remove the staging folders of runs for ``out`` whose process is gone (killed while
    writing); those of a run still going are left alone."""
    for leftover in out.parent.glob(f".{out.name}.partial-*-*"):
        pid = leftover.name[len(f".{out.name}.partial-") :].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
