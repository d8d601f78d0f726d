"""Output folders written whole or not at all, updated without losing anyone's files.

``staged_directory(out)`` hands a command a hidden folder beside ``out`` to write into. When the
command is done (its ``manifest.json`` last), the files move into ``out``:

* a new ``out`` is the staging folder renamed;
* an existing ``out`` (an earlier output of this tool, or an empty folder) is updated: a journal
  (``.replacing.json``) first records which staging folder's files move in and which of the old
  output's files go; then the old manifest goes (the folder no longer looks complete), the files
  move, and the new manifest comes last. Killed at any instant, the next call for the same
  ``out`` finishes the update from the journal. Only the files the tool wrote (those the old
  manifest or journal lists) are ever removed; a user's notes or another command's report in the
  folder stay.

Every name read back from a manifest or a journal is checked to be a plain file name of the
folder, and the staging folder to be one of this tool's beside it: a damaged or hand-made
record is refused with a message, never followed outside the folder. Single files are replaced
whole with ``atomic_write_bytes``.
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

JOURNAL = ".replacing.json"
MANIFEST = "manifest.json"


class OutputFolderError(FileExistsError):
    """``out`` is not a folder this tool may write, or its records are damaged; the message
    says which file and why."""


@contextmanager
def staged_directory(out: Path) -> Iterator[Path]:
    """Yield a hidden sibling folder to write into; put its files in ``out`` only if all went well.

    The folder's ``manifest.json`` (written last by the caller) gets the list of what was written
    (``files``). See the module's docstring for how an existing ``out`` is updated.
    """
    out = Path(os.path.abspath(out))  # "." and "..": a folder with a name and a parent
    check_output_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out.parent):
        if (out / JOURNAL).is_file():
            _finish_update(out)
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
        _move_in(staging, out)


def check_output_folder(out: Path) -> None:
    """Refuse (``OutputFolderError``, ``PermissionError``) an ``out`` this tool may not write: a
    file, a dangling link, a non-empty folder that is not one of its outputs, an output whose
    manifest or journal is damaged, or a place that cannot be written. Commands call it before
    any work."""
    out = Path(os.path.abspath(out))
    if out.is_symlink() and not out.exists():
        raise OutputFolderError(f"{out} is a link to nothing; choose another --out")
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"{out} is a file, not a folder; choose another --out")
    if out.is_dir():
        if (out / JOURNAL).exists():
            _read_journal(out)
        elif (out / MANIFEST).exists():
            owned_files(out)
        elif any(out.iterdir()):
            raise OutputFolderError(
                f"{out} exists and is not an output directory of this tool (no manifest.json); "
                "choose another --out"
            )
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputFolderError(f"{parent} is a file: --out {out} cannot be made under it")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise PermissionError(f"cannot write under {parent}: --out {out} is not writable")
            break


def owned_files(out: Path) -> list[str]:
    """The files of ``out`` that this tool wrote: those its manifest lists (none for a folder
    without one, or for an output written before manifests listed their files: an update then
    replaces the files it writes and removes nothing else). Raises ``OutputFolderError`` for a
    manifest that is not one of this tool's."""
    path = out / MANIFEST
    if not path.exists():
        return []
    try:
        manifest = json.loads(path.read_text())
        if not isinstance(manifest, dict):
            raise TypeError
        files = manifest.get("files", [])
    except (OSError, ValueError, TypeError):
        raise OutputFolderError(
            f"{path}: not a manifest written by this tool (no list of files); move the folder "
            "away or choose another --out"
        ) from None
    return _plain_names(path, files)


def _plain_names(path: Path, names) -> list[str]:
    if not isinstance(names, list) or not all(_is_plain(n) for n in names):
        raise OutputFolderError(
            f"{path}: its list of files holds something other than plain file names of the "
            "folder; move the folder away or choose another --out"
        )
    return names


def _is_plain(name) -> bool:
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (two runs finishing at once update one at a time)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _list_files(staging: Path) -> None:
    manifest_path = staging / MANIFEST
    listing = json.loads(manifest_path.read_text())
    listing["files"] = sorted(p.name for p in staging.iterdir())
    manifest_path.write_text(json.dumps(listing, indent=2))


def _move_in(staging: Path, out: Path) -> None:
    if not out.exists():
        os.rename(staging, out)
        _fsync_dir(out.parent)
        return
    if (out / JOURNAL).is_file():  # an update that could not be finished: its files are ours
        journal = _read_journal(out)
        old = journal["remove"] + journal["written"]
    else:
        old = owned_files(out)
    written = json.loads((staging / MANIFEST).read_text())["files"]
    stale = sorted({name for name in old if name not in written} - {JOURNAL})
    record = {"staging": staging.name, "remove": stale, "written": written}
    atomic_write_text(out / JOURNAL, json.dumps(record))
    _finish_update(out)


def _read_journal(out: Path) -> dict:
    path = out / JOURNAL
    try:
        journal = json.loads(path.read_text())
        staging, remove, written = journal["staging"], journal["remove"], journal["written"]
    except (OSError, ValueError, KeyError, TypeError):
        raise OutputFolderError(
            f"{path}: not a journal written by this tool; move the folder away or choose "
            "another --out"
        ) from None
    if not isinstance(staging, str) or not re.fullmatch(
        rf"\.{re.escape(out.name)}\.partial-\d+-[^/]+", staging
    ):
        raise OutputFolderError(
            f"{path}: names {staging!r}, not a staging folder of this tool beside {out}; move "
            "the folder away or choose another --out"
        )
    _plain_names(path, remove)
    _plain_names(path, written)
    return journal


def _finish_update(out: Path) -> None:
    """Carry out (or finish, after a kill) the update of ``out`` that its journal describes.
    Every step can be done again. If the staging folder is gone before its manifest moved in
    (it cannot be, unless removed by hand), the journal stays: the folder is then an unfinished
    output, which the next write replaces."""
    journal = _read_journal(out)
    staging = out.parent / journal["staging"]
    if (staging / MANIFEST).is_file():
        (out / MANIFEST).unlink(missing_ok=True)
        for name in journal["remove"]:
            _remove(out / name)
        for entry in sorted(staging.iterdir()):
            if entry.name != MANIFEST:
                _remove(out / entry.name)
                os.rename(entry, out / entry.name)
        os.rename(staging / MANIFEST, out / MANIFEST)
    if not (out / MANIFEST).is_file():
        return
    shutil.rmtree(staging, ignore_errors=True)
    (out / JOURNAL).unlink()
    for leftover in out.glob(glob.escape(f".{JOURNAL}.tmp-") + "*"):
        leftover.unlink()  # a journal half-written when a run was killed
    _fsync_dir(out)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _remove_dead_partials(out: Path) -> None:
    """Remove the staging folders of runs for ``out`` whose process is gone (killed while
    writing); those of a run still going, or named by the folder's journal, are left alone."""
    prefix = f".{out.name}.partial-"
    kept = _read_journal(out)["staging"] if (out / JOURNAL).is_file() else None
    for leftover in out.parent.glob(glob.escape(prefix) + "*-*"):
        pid = leftover.name[len(prefix) :].split("-")[0]
        if leftover.name != kept and pid.isdigit() and not _alive(int(pid)):
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
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """``atomic_write_bytes`` of UTF-8 text."""
    atomic_write_bytes(path, text.encode())
