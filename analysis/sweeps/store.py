"""A sweep's folder on disk: chunks of results written atomically, an index, and the results.

Run the same sweep again and only the points that have no valid chunk are computed; a chunk
counts only if the index vouches for it (name, checksum, rows and point hashes).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from sim.outcomes import outcomes
from sim.rundir import git_commit
from sim.staging import atomic_write_bytes
from sim.table_files import SUFFIXES, write_table
from sim.version import __version__

from ..tables import outputs_in_persons
from .design import code_digest
from .spec import Sweep


def _parquet_bytes(table: pd.DataFrame, metadata: dict | None = None) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    if metadata:
        arrow = arrow.replace_schema_metadata(
            {**(arrow.schema.metadata or {}), b"sweep": json.dumps(metadata).encode()}
        )
    sink = pa.BufferOutputStream()
    pq.write_table(arrow, sink)
    return sink.getvalue().to_pybytes()


_INDEX_FIELDS = {"chunk", "sha256", "rows", "points"}


def _sound(entry) -> bool:
    """Whether an index line holds an entry of the form write_chunk writes."""
    return (
        isinstance(entry, dict)
        and set(entry) >= _INDEX_FIELDS
        and isinstance(entry["chunk"], str)
        and entry["chunk"].startswith("chunk-")
        and "/" not in entry["chunk"]
        and isinstance(entry["sha256"], str)
        and isinstance(entry["rows"], int)
        and isinstance(entry["points"], list)
        and all(isinstance(p, str) for p in entry["points"])
    )


class SweepStore:
    """A sweep's folder on disk.

    ``sweep.json``   what is swept (the definition, base scenario hash, seed, version, commit)
    ``design.parquet`` the design points with their hashes
    ``chunks/``      Parquet chunks of results, each written atomically
    ``index.jsonl``  one line per chunk: file name, sha256, rows and point hashes; appended and
                     fsynced after its chunk is in place, so a listed chunk was complete
    ``results.parquet`` one row per (point, replication), written when every point is done
                     (``results.csv`` or ``results.nc`` with another format):
                     each count output in full-population persons (``<key>_persons``) and
                     simulated persons (``<key>_simulated_persons``), each share as it is

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
        if (
            out.exists()
            and not (out / "sweep.json").is_file()
            and (not out.is_dir() or any(out.iterdir()))
        ):
            raise FileExistsError(
                f"{out} exists and is not a sweep folder (no sweep.json); choose another --out"
            )
        for name, kind in (("index.jsonl", "file"), ("chunks", "folder"), ("orphans", "folder")):
            path = out / name
            if path.exists() and path.is_dir() != (kind == "folder"):
                raise FileExistsError(
                    f"{path} should be a {kind} of this sweep; move it away and run again"
                )
        self.chunks.mkdir(parents=True, exist_ok=True)
        # One writer at a time; the kernel drops the lock if the process dies, even by kill -9.
        self._lock_handle = open(out / ".lock", "w")  # noqa: SIM115 (held until close())
        try:
            fcntl.flock(self._lock_handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FileExistsError(f"{out} is in use by another sweep process") from None
        manifest = {
            "name": sweep.name,
            "sweep_file": str(sweep.path),
            "definition": sweep.spec.model_dump(mode="json"),
            "scenario_sha256": sweep.base.digest(),
            "scenario": json.loads(sweep.base.canonical_json()),
            "parameters": [p.key for p in sweep.parameters],
            "ranges": sweep.ranges(),
            "posterior": sweep.posterior.record() if sweep.posterior else None,
            "points": len(sweep.design),
            "distinct_points": int(sweep.design["point_hash"].nunique()),
            "package_version": __version__,
            "code_sha256": code_digest(),
            "git_commit": git_commit(),
        }
        # A results table is only ever that of the sweep.json beside it: drop an older one.
        for suffix in SUFFIXES.values():
            (out / f"results{suffix}").unlink(missing_ok=True)
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
        for number, line in enumerate(self.index.read_bytes().splitlines(), 1):
            try:
                entry = json.loads(line.decode())
                if not _sound(entry):
                    raise ValueError
            except ValueError:  # UnicodeDecodeError and json's errors included
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
        # Files no valid index line vouches for are never read. A half-written temporary of this
        # tool is removed; a chunk whose index line never made it to disk (or whose index was
        # deleted) may hold hours of results, so it is moved aside, never deleted; anything else
        # is left where it is. Each is reported.
        for stray in sorted(self.chunks.iterdir()):
            if stray.name in valid_files:
                continue
            if stray.is_file() and stray.name.startswith(".chunk-") and ".tmp-" in stray.name:
                stray.unlink()
                self.warnings.append(f"{stray}: half-written by an interrupted run; removed")
            elif stray.name.startswith("chunk-"):
                aside = self.out / "orphans"
                aside.mkdir(exist_ok=True)
                target = aside / stray.name
                while target.exists():
                    target = target.with_name(target.name + ".again")
                os.replace(stray, target)
                self.warnings.append(
                    f"{stray}: no sound index line vouches for it; not used, moved to {target}"
                )
            else:
                self.warnings.append(f"{stray}: not a chunk of this tool; ignored")
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
        except OSError as exc:  # a folder in its place, a file that cannot be read
            self.warnings.append(f"{path}: cannot be read ({exc.strerror}); its points rerun")
            return None
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            self.warnings.append(
                f"{path}: checksum does not match the index (corrupt or partly "
                "written); its points rerun"
            )
            return None
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(pa.BufferReader(data)).to_pandas()
        except (pa.ArrowException, OSError) as exc:
            self.warnings.append(f"{path}: unreadable Parquet ({exc}); its points rerun")
            return None
        counts = table["point_hash"].value_counts()
        if (
            len(table) != entry["rows"]
            or set(counts.index) != set(entry["points"])
            or (counts != replications).any()
            or not set(outcomes()) <= set(table.columns)
        ):
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
        line = json.dumps(
            {
                "chunk": name,
                "sha256": hashlib.sha256(data).hexdigest(),
                "rows": len(table),
                "points": points,
            }
        )
        # The index line goes last: if the process dies before it is on disk, the chunk is an
        # orphan and is recomputed, never trusted.
        with open(self.index, "a") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return table

    def assemble(
        self, sweep: Sweep, done: dict[str, pd.DataFrame], fmt: str = "parquet"
    ) -> pd.DataFrame:
        """The results table (``results.parquet``, or the format ``fmt`` asks for): one row per
        (design point, replication), in design order."""
        keep = ["point_hash", "replication", *sweep.spec.outputs]
        outputs = pd.concat(
            [done[h][keep] for h in sweep.unique_points()["point_hash"]], ignore_index=True
        )
        design = sweep.design[["point", "point_hash", *sweep.keys]]
        results = design.merge(outputs, on="point_hash", how="left", validate="many_to_many")
        results = results.sort_values(["point", "replication"], kind="stable").reset_index(
            drop=True
        )
        # Counts in full-population persons, the simulated count beside them (the chunks keep
        # what the model measured).
        results = outputs_in_persons(results, sweep.spec.outputs, sweep.spec.scale)
        if len(results) != len(design) * sweep.spec.replications:
            raise AssertionError("assembled results do not cover every point and replication")
        about = {
            "name": sweep.name,
            "seed": sweep.spec.seed,
            "scale": sweep.spec.scale,
            "replications": sweep.spec.replications,
        }
        written = self.out / f"results{SUFFIXES[fmt]}"
        if fmt == "parquet":
            atomic_write_bytes(written, _parquet_bytes(results, about))
        else:
            write_table(results, self.out, "results", fmt, ["point", "replication"], about)
        for other in SUFFIXES.values():  # one results table: that of the last assembly
            if other != written.suffix:
                (self.out / f"results{other}").unlink(missing_ok=True)
        return results
