"""Benchmark of sweeps: model runs per minute, the speed-up of a second worker, the overhead of
the sweep machinery per point, and the time of a Sobol analysis of 8 parameters.

    /work/venv/bin/python analysis/benchmark_sweep.py throughput   # scale 1 and 0.1, 1 and 2 workers
    /work/venv/bin/python analysis/benchmark_sweep.py overhead     # sweep vs direct engine calls
    /work/venv/bin/python analysis/benchmark_sweep.py sobol        # sweeps/sobol_8.toml + analysis

Throughput runs a Latin-hypercube sweep (decision.peers, process.cancel_rate; 4 replications per
point) on a Dask LocalCluster started beforehand, so the figures exclude the cluster's start-up
(printed apart). A "model run" is one replication of one point. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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
    path.write_text(SWEEP.format(scenario=(ROOT / "scenarios" / "historical.toml").as_posix(),
                                 reps=reps, scale=scale, points=points))
    return path


def _cpu() -> float:
    """CPU seconds (user + system) this process has used."""
    times = os.times()
    return times.user + times.system


def timed_sweep(path: Path, workers: int, out: Path) -> dict:
    """Run a sweep on a fresh LocalCluster; wall time, and CPU time of the driver (which also
    hosts the scheduler) plus the workers: CPU time is what the machinery costs even when other
    programs share the cores and stretch the wall time."""
    import logging

    from distributed import Client, LocalCluster

    import dask

    from sim.sweep import load_sweep, run_sweep, worker_environ

    sweep = load_sweep(path)
    started = time.perf_counter()
    # The same worker environment as `repatriation sweep` gives its local cluster.
    with dask.config.set({"distributed.nanny.pre-spawn-environ": worker_environ()}), LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR,
                      scheduler_kwargs={"dashboard_address": ":0"}) as cluster, \
            Client(cluster) as client:
        startup = time.perf_counter() - started
        cpu_before = _cpu() + sum(client.run(_cpu).values())
        report = run_sweep(sweep, out, scheduler=cluster.scheduler_address)
        cpu = _cpu() + sum(client.run(_cpu).values()) - cpu_before
    runs = report.computed * sweep.spec.replications
    return {"workers": workers, "points": report.computed, "runs": runs,
            "startup_s": startup, "wall_s": report.wall_seconds,
            "runs_per_min": runs / report.wall_seconds * 60,
            "compute_s": report.compute_seconds, "cpu_s": cpu, "load": os.getloadavg()[0]}


def throughput(args) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for scale, points in ((1.0, args.full_points), (0.1, args.tenth_points)):
            path = sweep_file(tmp, points, args.reps, scale)
            for workers in (1, 2):
                row = timed_sweep(path, workers, tmp / f"out_{scale}_{workers}")
                rows.append({"scale": scale, **row})
                print(rows[-1], file=sys.stderr, flush=True)
    print("| scale | workers | points x reps | wall (s) | runs/min | speed-up | CPU s / run | "
          "cluster start (s) | load average |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        one = next(r for r in rows if r["scale"] == row["scale"] and r["workers"] == 1)
        print(f"| {row['scale']:g} | {row['workers']} | {row['points']} x {args.reps} | "
              f"{row['wall_s']:.1f} | {row['runs_per_min']:,.0f} | "
              f"{row['runs_per_min'] / one['runs_per_min']:.2f} | {row['cpu_s'] / row['runs']:.2f} | "
              f"{row['startup_s']:.1f} | {row['load']:.1f} |")


def overhead(args) -> None:
    """Direct engine calls in this process against the same points through a 1-worker sweep."""
    import numpy as np

    from sim.engine_numpy import simulate
    from sim.scenario import with_parameters
    from sim.sweep import OUTPUTS, load_sweep, point_values

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = sweep_file(tmp, args.overhead_points, args.reps, args.overhead_scale)
        sweep = load_sweep(path)
        started, cpu_started = time.perf_counter(), _cpu()
        for _, row in sweep.design.iterrows():
            scenario = with_parameters(sweep.base, point_values(row, sweep.keys))
            result = simulate(scenario, sweep.spec.seed, sweep.spec.replications,
                              scale=sweep.spec.scale)
            for _, measure in OUTPUTS.values():
                np.asarray(measure(result))
        direct, direct_cpu = time.perf_counter() - started, _cpu() - cpu_started
        swept = timed_sweep(path, 1, tmp / "out")
    n = args.overhead_points
    print("| points | | direct engine calls | sweep, 1 worker | overhead |")
    print("|---|---|---|---|---|")
    label = f"{n} x {args.reps} reps, scale {args.overhead_scale:g}"
    print(f"| {label} | wall s / point | {direct / n:.3f} | {swept['wall_s'] / n:.3f} | "
          f"{swept['wall_s'] / direct - 1:+.1%} |")
    print(f"| | CPU s / point | {direct_cpu / n:.3f} | {swept['cpu_s'] / n:.3f} | "
          f"{swept['cpu_s'] / direct_cpu - 1:+.1%} |")
    print(f"| | sweep wall outside the workers' point time | | "
          f"{(swept['wall_s'] - swept['compute_s']) / n:.3f} | "
          f"{swept['wall_s'] / swept['compute_s'] - 1:+.1%} |")
    print(f"(load average {swept['load']:.1f} on {os.cpu_count()} cores)")


def sobol(args) -> None:
    from sim.sensitivity import noise_table, sobol_table
    from sim.sweep import load_sweep, run_sweep

    sweep = load_sweep(ROOT / "sweeps" / "sobol_8.toml")
    out = Path(args.sobol_out)
    started = time.perf_counter()
    report = run_sweep(sweep, out, workers=2, progress=sys.stderr.isatty())
    analysed = time.perf_counter()
    table = sobol_table(out)
    noise = noise_table(out)
    done = time.perf_counter()
    print(f"sobol_8: {report.points} points x {sweep.spec.replications} reps at scale "
          f"{sweep.spec.scale:g}: sweep {analysed - started:.0f} s ({report.computed} computed, "
          f"{report.reused} reused), analysis {done - analysed:.1f} s, total {done - started:.0f} s")
    table["ST_shift_from_half_N"] = (table["ST"] - table["ST_half_N"]).abs()
    print(table.round(3).to_string(index=False))
    print(noise.round(3).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["throughput", "overhead", "sobol"], nargs="+")
    parser.add_argument("--reps", type=int, default=4, help="replications per point (default 4)")
    parser.add_argument("--full-points", type=int, default=12)
    parser.add_argument("--tenth-points", type=int, default=48)
    parser.add_argument("--overhead-points", type=int, default=48)
    parser.add_argument("--overhead-scale", type=float, default=0.1)
    parser.add_argument("--sobol-out", default=str(ROOT / "results" / "sweeps" / "sobol_8"))
    args = parser.parse_args()
    for what in args.what:
        {"throughput": throughput, "overhead": overhead, "sobol": sobol}[what](args)


if __name__ == "__main__":
    main()
