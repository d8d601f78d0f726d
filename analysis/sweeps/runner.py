"""Running a sweep: the points on local worker processes or a Dask cluster, streamed to disk.

``run_sweep`` runs the points on a Dask distributed cluster: a ``LocalCluster`` of worker
processes by default (one per core), or an existing scheduler given by address. Every point runs
the base scenario with its parameter values and the sweep seed (common random numbers across
points), so its results depend only on its inputs. A worker runs the points of a chunk that
share a population as one batch of the engine, which gives each point the numbers it gives
alone. The driver streams results to the sweep's store (``store.py``) as chunks finish; a
killed sweep loses at most one chunk per worker.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.engine_numpy import memory_needed, simulate_batch
from sim.outcomes import outcomes
from sim.population import generate_population
from sim.scenario import with_parameters
from sim.schema import Scenario
from sim.streams import population_stream
from sim.version import __version__

from .spec import Sweep
from .store import SweepStore

# Populations drawn on this worker, by (seed, scale, population parameters): at most four kept.
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


# At most this many bytes of engine state per batch of points run in the same arrays
# (``memory_needed``): a chunk of small points runs as one batch, a full-scale point alone.
BATCH_BYTES = 256 * 2**20


def run_points(
    base: Scenario, points: list[tuple[str, dict]], seed: int, replications: int, scale: float
) -> dict[str, list]:
    """Run each (point_hash, values) and measure every output per replication.

    Points that share the population and the months run as one batch (``simulate_batch``),
    each bit-for-bit what it gives alone, so a point's results do not depend on the chunk it
    came in. Returns columns: point_hash, replication, one column per output, and the seconds
    each point took (its batch's time shared evenly; for the benchmark of the sweep's own
    overhead).
    """
    columns: dict[str, list] = {"point_hash": [], "replication": [], **{k: [] for k in outcomes()}}
    scenarios = [
        with_parameters(base, values, source=f"point {digest[:12]}") for digest, values in points
    ]
    results, seconds = [None] * len(points), [0.0] * len(points)
    for batch in point_batches(scenarios, replications, scale):
        started = time.perf_counter()
        first = scenarios[batch[0]]
        for i, result in zip(
            batch,
            simulate_batch(
                [scenarios[i] for i in batch],
                seed,
                replications,
                scale=scale,
                population=_population_for(first, seed, scale),
            ),
        ):
            results[i] = result
        elapsed = time.perf_counter() - started
        for i in batch:
            seconds[i] = elapsed / len(batch)
    for (digest, _), result in zip(points, results):
        columns["point_hash"] += [digest] * replications
        columns["replication"] += result.replications.tolist()
        for name, outcome in outcomes().items():
            columns[name] += np.asarray(outcome.measure(result), dtype=float).tolist()
    columns["__seconds__"] = seconds
    return columns


def point_batches(scenarios: list[Scenario], replications: int, scale: float) -> list[list[int]]:
    """The points (indices) grouped into batches that share the population and the months, in
    order of first appearance, each at most ``BATCH_BYTES`` of engine state."""
    groups: dict[str, list[int]] = {}
    for i, scenario in enumerate(scenarios):
        key = scenario.population.model_dump_json() + scenario.simulation.model_dump_json()
        groups.setdefault(key, []).append(i)
    per_point = memory_needed(scenarios[0], replications, scale) if scenarios else 1
    size = max(1, BATCH_BYTES // max(per_point, 1))
    return [group[i : i + size] for group in groups.values() for i in range(0, len(group), size)]


def _worker_version() -> str:
    return __version__


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

    settings = {
        "distributed.nanny.pre-spawn-environ": worker_environ(),
        **(LOCAL_CLUSTER_CONFIG if config is None else config),
    }
    # Worker processes inherit this process's environment, and Dask's nannies copy their
    # pre-spawn variables into it for good: after any earlier cluster with Dask's defaults in this
    # process (a test fixture, a notebook), MALLOC_TRIM_THRESHOLD_ would reach the workers anyway.
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set(settings), _workers_ignore_ctrl_c():
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            # No dashboard, and the scheduler's small HTTP server on a free
            # port: 8787 may be taken by another cluster on the machine.
            scheduler_kwargs={"dashboard_address": ":0"},
        )


@contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Start processes with Ctrl-C ignored (an ignored signal stays ignored in a child): the
    terminal sends SIGINT to every process of the sweep, and only this one should answer it,
    with one line, rather than each worker with a traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


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


def run_sweep(
    sweep: Sweep,
    out: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    progress: bool = False,
    log: Callable[[str], None] = lambda s: None,
    fmt: str = "parquet",
) -> SweepReport:
    """Run the points of ``sweep`` that ``out`` does not yet hold, then write the results table
    (``results.parquet``, or the format ``fmt`` asks for)."""
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
            compute_seconds, n_workers = _compute(
                sweep,
                store,
                missing,
                done,
                workers,
                scheduler,
                chunk_size,
                progress,
                reused,
                len(unique),
                log,
            )
        results = store.assemble(sweep, done, fmt)
        return SweepReport(
            Path(out),
            len(unique),
            reused,
            len(missing),
            n_workers,
            time.perf_counter() - started,
            compute_seconds,
            results,
            store.warnings,
        )


def _compute(
    sweep, store, missing, done, workers, scheduler, chunk_size, progress, reused, total_points, log
) -> tuple[float, int]:
    from distributed import as_completed
    from tqdm import tqdm

    spec = sweep.spec
    client, cluster = _client(scheduler, workers)
    futures = []
    try:
        n_workers = max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
        versions = set(client.run(_worker_version).values())
        if versions - {__version__}:
            raise RuntimeError(
                f"the workers run sim {sorted(versions)}, this process "
                f"{__version__}: install the same version on every worker"
            )
        sizes = chunk_sizes(len(missing), n_workers, chunk_size or spec.chunk_size)
        log(
            f"{spec.name}: {total_points} points, {reused} already on disk, {len(missing)} to "
            f"run on {n_workers} worker(s) in {len(sizes)} chunks of {sizes[-1]} to {sizes[0]}"
        )
        base = client.scatter(sweep.base, broadcast=True)
        tasks = [(row["point_hash"], sweep.point_values(row)) for _, row in missing.iterrows()]
        start = 0
        for size in sizes:
            # Dask runs queued tasks in the order they were submitted (their priority), so the
            # small chunks come last.
            futures.append(
                client.submit(
                    run_points,
                    base,
                    tasks[start : start + size],
                    spec.seed,
                    spec.replications,
                    spec.scale,
                    pure=False,
                )
            )
            start += size
        compute_seconds = 0.0
        bar = tqdm(
            total=total_points,
            initial=reused,
            unit="point",
            desc=spec.name,
            disable=not progress,
            smoothing=0.05,
            dynamic_ncols=True,
        )
        with bar:
            for _, columns in as_completed(futures, with_results=True):
                table = store.write_chunk(columns)
                for digest, rows in table.groupby("point_hash", sort=False):
                    done[digest] = rows
                compute_seconds += sum(columns["__seconds__"])
                n = len(columns["__seconds__"])
                bar.update(n)
                elapsed = bar.format_dict["elapsed"] or 1e-9
                bar.set_postfix_str(
                    f"{(bar.n - reused) * spec.replications / elapsed * 60:,.0f} runs/min",
                    refresh=False,
                )
        return compute_seconds, n_workers
    finally:
        for future in futures:
            future.cancel()
        client.close()
        if cluster is not None:
            cluster.close()
