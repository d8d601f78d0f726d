"""Benchmark of sweeps: model runs per minute, the speed-up of a second worker, the overhead of
the sweep machinery per point, and the time of a Sobol analysis of 8 parameters.

    .venv/bin/python -m analysis.benchmarks.sweep throughput   # scale 1 and 0.1, 1 and 2 workers
    .venv/bin/python -m analysis.benchmarks.sweep overhead     # sweep vs direct run_points calls
    .venv/bin/python -m analysis.benchmarks.sweep sobol        # sweeps/sobol_8.toml + analysis

Each writes its tables to docs/generated/benchmarks/sweep-<what>.md, which the docs include.

Throughput runs a Latin-hypercube sweep (decision.peers, process.cancel_rate; 4 replications per
point) on a local cluster (``runner.local_cluster``, as ``repatriation sweep`` starts it)
started beforehand, so the figures exclude the cluster's start-up and the workers' import of the
model (printed apart). A "model run" is one replication of one point. Each measurement is
repeated (``--repeats``) and reported as median and range, because on a 2-core virtual machine
the speed of one process drifts by 10-20% from run to run. Every run also reports the CPU that
other programs used meanwhile (/proc/stat): on two cores any of it comes straight off the second
worker, so a speed-up measured beside it says little. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from analysis.sweeps import runner
from analysis.sweeps.runner import local_cluster, run_points, run_sweep
from analysis.sweeps.spec import load_sweep
from sim.scenario import bundled_dir

from .publish import published
from .warm import warm_up

SWEEPS = Path(__file__).resolve().parents[2] / "sweeps"

SWEEP = """
name = "bench"
scenario = "{scenario}"
seed = 1959
replications = {reps}
scale = {scale}
outputs = ["departures_total", "departures_1960", "deportee_share"]

[design]
method = "latin"
samples = {points}

[parameters]
"decision.peers" = {{ min = 0.7, max = 2.1 }}
"process.cancel_rate" = {{ min = 0.15, max = 0.45 }}
"""


def sweep_file(folder: Path, points: int, reps: int, scale: float) -> Path:
    path = folder / f"bench_{points}_{reps}_{scale}.toml"
    path.write_text(
        SWEEP.format(
            scenario=(bundled_dir() / "historical.toml").as_posix(),
            reps=reps,
            scale=scale,
            points=points,
        )
    )
    return path


def _cpu() -> float:
    """CPU seconds (user + system) this process has used."""
    times = os.times()
    return times.user + times.system


def _machine() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine since boot, from /proc/stat (Linux)."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
    except OSError:
        return math.nan, math.nan
    tick = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) / tick, fields[7] / tick


def _import_model() -> bool:
    import analysis.sweeps.runner  # noqa: F401

    warm_up()  # and load the engine's compiled loops
    return True


def timed_sweep(path: Path, workers: int, out: Path, dask_defaults: bool = False) -> dict:
    """Run a sweep on a fresh local cluster (the one `repatriation sweep` starts); wall time, and
    CPU time of the driver (which also hosts the scheduler) plus the workers: CPU time is what the
    machinery costs even when other programs share the cores and stretch the wall time. "other
    CPU" is what the rest of the machine used meanwhile (from /proc/stat): anything above a few
    percent of the wall time means the figures were taken on a shared machine."""
    from distributed import Client

    sweep = load_sweep(path)
    started = time.perf_counter()
    with (
        local_cluster(workers, config={} if dask_defaults else None) as cluster,
        Client(cluster) as client,
    ):
        # The workers import the model and load its compiled loops (about 1 s each) as part of
        # the start, not of the sweep.
        client.run(_import_model)
        startup = time.perf_counter() - started
        cpu_before = _cpu() + sum(client.run(_cpu).values())
        busy_before, steal_before = _machine()
        report = run_sweep(sweep, out, scheduler=cluster.scheduler_address)
        busy_after, steal_after = _machine()
        cpu = _cpu() + sum(client.run(_cpu).values()) - cpu_before
    runs = report.computed * sweep.spec.replications
    return {
        "workers": workers,
        "points": report.computed,
        "runs": runs,
        "startup_s": startup,
        "wall_s": report.wall_seconds,
        "runs_per_min": runs / report.wall_seconds * 60,
        "compute_s": report.compute_seconds,
        "cpu_s": cpu,
        "other_cpu_s": max(0.0, busy_after - busy_before - cpu),
        "steal_s": steal_after - steal_before,
        "load": os.getloadavg()[0],
    }


def throughput(args) -> None:
    """Pairs of sweeps, 1 then 2 workers (2 then 1 on every other repeat, so that a drift of the
    machine's speed does not favour either), each pair giving one speed-up."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for repeat in range(args.repeats):
            for scale, points in ((1.0, args.full_points), (0.1, args.tenth_points)):
                path = sweep_file(tmp, points, args.reps, scale)
                for workers in (1, 2) if repeat % 2 == 0 else (2, 1):
                    row = timed_sweep(
                        path, workers, tmp / f"out_{repeat}_{scale}_{workers}", args.dask_defaults
                    )
                    rows.append({"repeat": repeat, "scale": scale, **row})
                    print(rows[-1], file=sys.stderr, flush=True)
    print(
        "| repeat | scale | workers | points x reps | wall (s) | runs/min | speed-up | "
        "CPU s / run | other programs' CPU (% of wall) | cluster start (s) | load average |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    speedups: dict[float, list[float]] = {}
    for row in rows:
        one = next(
            r
            for r in rows
            if r["repeat"] == row["repeat"] and r["scale"] == row["scale"] and r["workers"] == 1
        )
        speedup = row["runs_per_min"] / one["runs_per_min"]
        if row["workers"] == 2:
            speedups.setdefault(row["scale"], []).append(speedup)
        print(
            f"| {row['repeat'] + 1} | {row['scale']:g} | {row['workers']} | "
            f"{row['points']} x {args.reps} | {row['wall_s']:.1f} | {row['runs_per_min']:,.0f} | "
            f"{speedup:.2f} | {row['cpu_s'] / row['runs']:.2f} | "
            f"{row['other_cpu_s'] / row['wall_s']:.0%} | {row['startup_s']:.1f} | "
            f"{row['load']:.1f} |"
        )
    for scale, values in speedups.items():
        print(
            f"scale {scale:g}: speed-up of the second worker, median "
            f"{statistics.median(values):.2f}, range {min(values):.2f}-{max(values):.2f} "
            f"over {len(values)} pairs"
        )


def overhead(args) -> None:
    """The same points run in this process by ``run_points`` (the function a worker runs: scenario
    with the point's values, the engine on a population drawn once, the outputs), and through a
    1-worker sweep (Dask, results sent back, chunks and index written). Repeated, alternating
    which goes first."""
    rows = []
    warm_up()  # this process, as the workers (``_import_model``)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = sweep_file(tmp, args.overhead_points, args.reps, args.overhead_scale)
        sweep = load_sweep(path)
        spec = sweep.spec
        tasks = [(row["point_hash"], sweep.point_values(row)) for _, row in sweep.design.iterrows()]
        for repeat in range(args.repeats):
            row = {}
            for way in ("direct", "sweep") if repeat % 2 == 0 else ("sweep", "direct"):
                if way == "direct":
                    runner._POPULATIONS.clear()  # a fresh start, like a new worker
                    started, cpu_started = time.perf_counter(), _cpu()
                    run_points(sweep.base, tasks, spec.seed, spec.replications, spec.scale)
                    row["direct"] = time.perf_counter() - started
                    row["direct_cpu"] = _cpu() - cpu_started
                else:
                    row["swept"] = timed_sweep(path, 1, tmp / f"out{repeat}")
            rows.append(row)
            print(row, file=sys.stderr, flush=True)
    n = args.overhead_points
    print(
        f"{n} points x {args.reps} reps at scale {args.overhead_scale:g}, in-process run_points "
        f"against a 1-worker sweep:"
    )
    print(
        "| repeat | direct wall s / point | sweep wall s / point | wall overhead | direct CPU s / "
        "point | sweep CPU s / point | CPU overhead | sweep wall outside the workers' point time "
        "| other programs' CPU (% of wall) | load average |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    walls, cpus, outside = [], [], []
    for i, row in enumerate(rows):
        swept = row["swept"]
        walls.append(swept["wall_s"] / row["direct"] - 1)
        cpus.append(swept["cpu_s"] / row["direct_cpu"] - 1)
        outside.append(swept["wall_s"] / swept["compute_s"] - 1)
        print(
            f"| {i + 1} | {row['direct'] / n:.3f} | {swept['wall_s'] / n:.3f} | {walls[-1]:+.1%} | "
            f"{row['direct_cpu'] / n:.3f} | {swept['cpu_s'] / n:.3f} | {cpus[-1]:+.1%} | "
            f"{outside[-1]:+.1%} | {swept['other_cpu_s'] / swept['wall_s']:.0%} | "
            f"{swept['load']:.1f} |"
        )
    for label, values in (
        ("wall overhead", walls),
        ("CPU overhead", cpus),
        ("sweep wall outside the workers' point time", outside),
    ):
        print(
            f"{label}: median {statistics.median(values):+.1%}, range {min(values):+.1%} to "
            f"{max(values):+.1%} over {len(values)} repeats"
        )


def sobol(args) -> None:
    from analysis.sensitivity import noise_table, sobol_table

    sweep = load_sweep(SWEEPS / "sobol_8.toml")
    out = Path(args.sobol_out)
    started = time.perf_counter()
    report = run_sweep(sweep, out, workers=2, progress=sys.stderr.isatty())
    analysed = time.perf_counter()
    table = sobol_table(out)
    noise = noise_table(out)
    done = time.perf_counter()
    print(
        f"sobol_8: {report.points} points x {sweep.spec.replications} reps at scale "
        f"{sweep.spec.scale:g}: sweep {analysed - started:.0f} s ({report.computed} computed, "
        f"{report.reused} reused), analysis {done - analysed:.1f} s, total {done - started:.0f} s"
    )
    table["ST_shift_from_half_N"] = (table["ST"] - table["ST_half_N"]).abs()
    print(table.round(3).to_string(index=False))
    print(noise.round(3).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["throughput", "overhead", "sobol"], nargs="+")
    parser.add_argument("--reps", type=int, default=4, help="replications per point (default 4)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="pairs of 1- and 2-worker sweeps per scale (throughput), or of direct "
        "and swept runs (overhead); default 3",
    )
    parser.add_argument(
        "--dask-defaults",
        action="store_true",
        help="run the local clusters with Dask's default housekeeping instead of "
        "runner.LOCAL_CLUSTER_CONFIG, for comparison",
    )
    parser.add_argument("--full-points", type=int, default=12)
    parser.add_argument("--tenth-points", type=int, default=48)
    parser.add_argument("--overhead-points", type=int, default=48)
    parser.add_argument("--overhead-scale", type=float, default=0.1)
    parser.add_argument("--sobol-out", default="results/sweeps/sobol_8")
    args = parser.parse_args()
    for what in args.what:
        with published(f"sweep-{what}", f"python -m analysis.benchmarks.sweep {what}"):
            {"throughput": throughput, "overhead": overhead, "sobol": sobol}[what](args)


if __name__ == "__main__":
    main()
