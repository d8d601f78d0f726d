"""Sweeps: a TOML file defines the points; runs are the same on 1 or 2 workers and on a Dask
cluster, survive a kill -9, never trust a damaged chunk, and refuse a bad file before running."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import HISTORICAL

from analysis.cli import main
from analysis.sweeps.runner import LOCAL_CLUSTER_CONFIG, chunk_sizes, local_cluster, run_sweep
from analysis.sweeps.spec import SweepError, load_sweep
from analysis.sweeps.store import SweepStore
from sim.engine_numpy import simulate
from sim.outcomes import outcomes
from sim.scenario import with_parameters

# 12 Latin-hypercube points x 2 replications at 1% scale: a few seconds of work.
SWEEP = f"""
name = "test_latin"
scenario = "{HISTORICAL.as_posix()}"
seed = 11
replications = 2
scale = 0.01
outputs = ["departures_total", "departures_1960", "deportee_share"]

[design]
method = "latin"
samples = 12

[parameters]
"decision.peers" = {{ min = 0.7, max = 2.1 }}
"process.cancel_rate" = {{ min = 0.1, max = 0.5 }}
"process.letter_learning" = {{ min = 0.01, max = 0.16, distribution = "loguniform" }}
"""


def write(folder: Path, text: str, name: str = "sweep.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory):
    return write(tmp_path_factory.mktemp("sweep"), SWEEP)


@pytest.fixture(scope="module")
def uninterrupted(sweep_file, tmp_path_factory):
    """The reference: the whole sweep on one local worker, never interrupted."""
    out = tmp_path_factory.mktemp("runs") / "one_worker"
    report = run_sweep(load_sweep(sweep_file), out, workers=1)
    return out, report.results


# -- the definition ----------------------------------------------------------------------------


def test_a_sweep_file_defines_its_design_within_the_ranges(sweep_file):
    sweep = load_sweep(sweep_file)
    assert len(sweep.design) == 12 and sweep.design["point_hash"].is_unique
    peers, learning = sweep.design["decision.peers"], sweep.design["process.letter_learning"]
    assert peers.between(0.7, 2.1).all() and learning.between(0.01, 0.16).all()
    # Latin hypercube: one point in each twelfth of every range.
    assert sorted((sweep.design["unit:decision.peers"] * 12).astype(int)) == list(range(12))
    # Log-uniform: as many points below the geometric middle (0.04) as above it.
    assert (learning < 0.04).sum() == 6


def test_the_design_depends_on_the_seed_only(sweep_file, tmp_path):
    again = load_sweep(sweep_file).design
    pd.testing.assert_frame_equal(load_sweep(sweep_file).design, again)
    other = load_sweep(write(tmp_path, SWEEP.replace("seed = 11", "seed = 12"))).design
    assert not np.allclose(other["decision.peers"], again["decision.peers"])


@pytest.mark.parametrize(
    "method, extra, points",
    [
        ("sobol", "samples = 8", 8 * (3 + 2)),
        ("sobol", "samples = 8\nsecond_order = true", 8 * (2 * 3 + 2)),
        ("morris", "samples = 5\nlevels = 4", 5 * (3 + 1)),
    ],
)
def test_salib_designs_have_their_textbook_sizes(tmp_path, method, extra, points):
    text = SWEEP.replace('method = "latin"\nsamples = 12', f'method = "{method}"\n{extra}')
    assert len(load_sweep(write(tmp_path, text)).design) == points


def test_a_grid_crosses_evenly_spaced_points_with_explicit_values(tmp_path):
    text = (
        SWEEP.split("[design]")[0]
        + """
[design]
method = "grid"

[parameters.process]
cancel_rate = { min = 0.1, max = 0.5, points = 3 }

[parameters.population]
network_degree = { values = [4, 8] }
"""
    )
    design = load_sweep(write(tmp_path, text)).design
    assert sorted(zip(design["process.cancel_rate"], design["population.network_degree"])) == [
        (0.1, 4),
        (0.1, 8),
        (0.3, 4),
        (0.3, 8),
        (0.5, 4),
        (0.5, 8),
    ]


BAD = [
    (
        '"decision.peerz" = { min = 0.7, max = 2.1 }',
        "key 'parameters.decision.peerz'",
        "unknown parameter (allowed in [decision]: intercept",
    ),
    (
        '"decision.peers" = { min = 2.1, max = 2.1 }',
        "key 'parameters.decision.peers'",
        "empty range: min (2.1) must be below max (2.1)",
    ),
    (
        '"process.revert_rate" = { min = 0.1, max = 1.5 }',
        "key 'parameters.process.revert_rate.max'",
        "1.5 is outside the allowed range; the allowed range of process.revert_rate is 0..1 "
        "per month",
    ),
    (
        '"levers.propaganda" = { min = 0, max = 1.5 }',
        "key 'parameters.levers.propaganda'",
        "1.5 is outside the allowed range; the allowed range of propaganda is 0..1",
    ),
    ('"decision.peers" = { min = 0.7 }', "key 'parameters.decision.peers.max'", "missing key"),
    (
        '"decision.peers" = { min = 0.7, max = 2.1, distribution = "normal" }',
        "key 'parameters.decision.peers.distribution'",
        "'uniform' or 'loguniform'",
    ),
]


@pytest.mark.parametrize("line, key, message", BAD)
def test_a_bad_parameter_is_refused_naming_the_file_and_key(tmp_path, line, key, message):
    text = SWEEP.replace('"decision.peers" = { min = 0.7, max = 2.1 }', line)
    path = write(tmp_path, text)
    with pytest.raises(SweepError) as error:
        load_sweep(path)
    assert f"{path}: {key}" in str(error.value) and message in str(error.value)


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            'outputs = ["departures_total"',
            'outputs = ["departures_totl"',
            "key 'outputs': unknown output 'departures_totl'",
        ),
        (
            'method = "latin"\nsamples = 12',
            'method = "sobol"\nsamples = 12',
            "key 'design.samples': 12 is not a power of 2",
        ),
        (
            "replications = 2",
            "replications = 0",
            "key 'replications': Input should be greater than or equal to 1",
        ),
        ("seed = 11", "seed = 11\nsed = 3", "key 'sed': unknown key"),
        (
            f'scenario = "{HISTORICAL.as_posix()}"',
            'scenario = "nowhere.toml"',
            "no such scenario file",
        ),
    ],
)
def test_a_bad_setting_is_refused_naming_the_file_and_key(tmp_path, old, new, message):
    path = write(tmp_path, SWEEP.replace(old, new))
    with pytest.raises(SweepError) as error:
        load_sweep(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_points_that_break_a_cross_key_rule_are_refused_before_running(tmp_path):
    # register_rate + revert_rate must not exceed 1: a range of register_rate every point of
    # which breaks the rule with the baseline's revert_rate (which the calibration sets).
    from sim.scenario import load_scenario

    revert = load_scenario(HISTORICAL).process.revert_rate
    assert revert > 0
    low = 1 - revert / 2
    text = SWEEP.replace(
        '"process.cancel_rate" = { min = 0.1, max = 0.5 }',
        f'"process.register_rate" = {{ min = {low!r}, max = 1.0 }}',
    )
    with pytest.raises(SweepError, match="is not a valid scenario; narrow the ranges") as error:
        load_sweep(write(tmp_path, text))
    assert "register_rate + revert_rate must not exceed 1" in str(error.value)


def test_the_command_refuses_a_bad_file_and_writes_nothing(tmp_path, capsys):
    path = write(tmp_path, SWEEP.replace("min = 0.7, max = 2.1", "min = 2.1, max = 0.7"))
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    assert "empty range" in capsys.readouterr().err
    assert not out.exists()


def test_check_prints_the_size_of_the_sweep(sweep_file, capsys):
    assert main(["sweep", str(sweep_file), "--check"]) == 0
    assert (
        "latin design, 12 points (12 distinct) x 2 replications = 24 runs"
        in capsys.readouterr().out
    )


# -- reproducibility ---------------------------------------------------------------------------


def test_results_hold_every_point_and_replication_once(uninterrupted):
    out, results = uninterrupted
    assert len(results) == 12 * 2
    assert not results.duplicated(["point", "replication"]).any()
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), results)
    assert list(results.columns) == [
        "point",
        "point_hash",
        "decision.peers",
        "process.cancel_rate",
        "process.letter_learning",
        "replication",
        "departures_total_persons",
        "departures_total_simulated_persons",
        "departures_1960_persons",
        "departures_1960_simulated_persons",
        "deportee_share",
    ]
    # Counts in full-population persons (the sweep ran at 1% scale), shares as they are.
    simulated = results["departures_total_simulated_persons"]
    assert (results["departures_total_persons"] == simulated / 0.01).all()


def test_a_point_gives_what_the_engine_gives_when_called_directly(sweep_file, uninterrupted):
    sweep, (_, results) = load_sweep(sweep_file), uninterrupted
    row = sweep.design.iloc[5]
    direct = simulate(
        with_parameters(sweep.base, sweep.point_values(row)),
        seed=11,
        replications=2,
        scale=0.01,
    )
    mine = results[results["point"] == 5]
    for name, column in (
        ("departures_total", "departures_total_simulated_persons"),
        ("departures_1960", "departures_1960_simulated_persons"),
        ("deportee_share", "deportee_share"),
    ):
        assert np.array_equal(outcomes()[name].measure(direct), mine[column].to_numpy()), name


def test_two_workers_give_the_same_results_as_one(sweep_file, uninterrupted, tmp_path):
    report = run_sweep(load_sweep(sweep_file), tmp_path / "two", workers=2, chunk_size=1)
    assert report.workers == 2
    pd.testing.assert_frame_equal(report.results, uninterrupted[1])


def test_a_dask_cluster_gives_the_same_results(sweep_file, uninterrupted, cluster, tmp_path):
    report = run_sweep(
        load_sweep(sweep_file), tmp_path / "dask", scheduler=cluster.scheduler_address, chunk_size=5
    )
    assert report.workers == 2
    pd.testing.assert_frame_equal(report.results, uninterrupted[1])


@pytest.mark.parametrize("points, workers", [(1, 2), (12, 1), (12, 2), (48, 2), (5120, 2)])
def test_chunks_shrink_to_single_points_so_the_workers_finish_together(points, workers):
    sizes = chunk_sizes(points, workers)
    assert sum(sizes) == points
    assert sizes == sorted(sizes, reverse=True) and max(sizes) <= 32
    assert sizes[-min(points, workers) :] == [1] * min(points, workers)
    assert chunk_sizes(10, 2, 3) == [3, 3, 3, 1]


def test_local_workers_run_without_malloc_trim_threads_or_housekeeping(monkeypatch):
    """What the local cluster promises its workers, checked inside the worker processes, even
    after an earlier cluster with Dask's defaults left MALLOC_TRIM_THRESHOLD_ in os.environ."""
    import dask
    from distributed import Client

    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")

    def inside():
        return (
            os.environ.get("MALLOC_TRIM_THRESHOLD_"),
            os.environ.get("OMP_NUM_THREADS"),
            os.environ.get("OPENBLAS_NUM_THREADS"),
            {key: dask.config.get(key) for key in LOCAL_CLUSTER_CONFIG},
        )

    with local_cluster(1) as cluster, Client(cluster) as client:
        ((malloc, omp, openblas, config),) = client.run(inside).values()
        saturation = cluster.scheduler.WORKER_SATURATION
    assert malloc is None and omp == openblas == "1"
    assert config == LOCAL_CLUSTER_CONFIG
    assert saturation == 1.0


# -- resuming ----------------------------------------------------------------------------------


def test_a_sweep_killed_mid_way_resumes_to_the_same_results(sweep_file, uninterrupted, tmp_path):
    out = tmp_path / "killed"
    command = [
        sys.executable,
        "-m",
        "analysis.cli",
        "sweep",
        str(sweep_file),
        "--out",
        str(out),
        "--workers",
        "1",
        "--chunk-size",
        "1",
        "--quiet",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    index = out / "index.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if index.is_file() and len(index.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the sweep ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (out / "results.parquet").exists()
    saved = len(index.read_text().splitlines())
    assert 3 <= saved < 12

    report = run_sweep(load_sweep(sweep_file), out, workers=1)
    assert report.reused >= 3 and report.reused + report.computed == 12
    pd.testing.assert_frame_equal(report.results, uninterrupted[1])


def test_a_finished_sweep_run_again_computes_nothing(sweep_file, uninterrupted, tmp_path):
    out = tmp_path / "again"
    shutil.copytree(uninterrupted[0], out)
    report = run_sweep(load_sweep(sweep_file), out, workers=1)
    assert (report.reused, report.computed) == (12, 0)
    pd.testing.assert_frame_equal(report.results, uninterrupted[1])


@pytest.mark.parametrize("fmt", ["csv", "netcdf"])
def test_the_results_table_is_written_in_the_format_asked_for(
    sweep_file, uninterrupted, tmp_path, fmt
):
    from sim.table_files import read_table

    out = tmp_path / fmt
    shutil.copytree(uninterrupted[0], out)
    report = run_sweep(load_sweep(sweep_file), out, workers=1, fmt=fmt)
    assert report.computed == 0
    suffix = {"csv": ".csv", "netcdf": ".nc"}[fmt]
    assert sorted(p.name for p in out.glob("results.*")) == [f"results{suffix}"]
    written, expected = read_table(out, "results"), uninterrupted[1]
    assert list(written.columns) == list(expected.columns)
    numbers = expected.select_dtypes("number").columns
    assert written[numbers].to_numpy() == pytest.approx(expected[numbers].to_numpy(), rel=1e-5)


def test_a_damaged_chunk_is_detected_and_recomputed(sweep_file, uninterrupted, cluster, tmp_path):
    out = tmp_path / "damaged"
    shutil.copytree(uninterrupted[0], out)
    first, second, *_ = sorted((out / "chunks").iterdir())
    first.write_bytes(first.read_bytes()[: first.stat().st_size // 2])  # cut short
    data = bytearray(second.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same length
    second.write_bytes(bytes(data))
    (out / "chunks" / ".chunk-x.parquet.tmp-99").write_bytes(b"PAR1 half")  # a crashed write
    cut_line = len((out / "index.jsonl").read_text().splitlines()) + 1
    with open(out / "index.jsonl", "a") as index:
        index.write('{"chunk": "chunk-y.parquet", "sha2')  # an index line cut short
    lost = {
        p: len(pd.read_parquet(uninterrupted[0] / "chunks" / p.name)["point_hash"].unique())
        for p in (first, second)
    }

    report = run_sweep(load_sweep(sweep_file), out, scheduler=cluster.scheduler_address)
    assert report.computed == sum(lost.values())
    messages = "\n".join(report.warnings)
    assert f"{first}: checksum does not match" in messages
    assert f"{second}: checksum does not match" in messages
    assert f"line {cut_line} is incomplete" in messages
    pd.testing.assert_frame_equal(report.results, uninterrupted[1])
    # The damaged state was reported once: a second resume finds everything sound.
    again = run_sweep(load_sweep(sweep_file), out, scheduler=cluster.scheduler_address)
    assert (again.computed, again.warnings) == (0, [])


def test_a_chunk_whose_index_line_never_reached_disk_is_not_trusted(
    sweep_file, uninterrupted, cluster, tmp_path
):
    out = tmp_path / "orphan"
    shutil.copytree(uninterrupted[0], out)
    lines = (out / "index.jsonl").read_text().splitlines()
    (out / "index.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    report = run_sweep(load_sweep(sweep_file), out, scheduler=cluster.scheduler_address)
    assert report.computed >= 1 and report.reused + report.computed == 12
    pd.testing.assert_frame_equal(report.results, uninterrupted[1])


def test_broken_index_lines_and_lost_indexes_never_cost_a_chunk(
    sweep_file, uninterrupted, cluster, tmp_path
):
    """A line that is not an entry is ignored; a chunk no sound line vouches for (here: every
    chunk, once the index is deleted) is moved to orphans/, reported, and recomputed."""
    out = tmp_path / "lost"
    shutil.copytree(uninterrupted[0], out)
    chunks = sorted(p.name for p in (out / "chunks").iterdir())
    (out / "index.jsonl").write_bytes(
        b'123\nnull\n\xff\xfe\n{"chunk": "chunk-x", "sha256": "a", "rows": 1, "points": 5}\n'
    )
    report = run_sweep(load_sweep(sweep_file), out, scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(report.results, uninterrupted[1])
    messages = "\n".join(report.warnings)
    assert all(f"line {n} is incomplete" in messages for n in (1, 2, 3, 4))
    assert sorted(p.name for p in (out / "orphans").iterdir()) == chunks
    assert messages.count("moved to") == len(chunks)


def test_a_folder_that_is_not_a_sweep_is_never_written_to(sweep_file, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a sweep folder"):
        SweepStore(tmp_path).open(load_sweep(sweep_file))
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_chunk_runs_its_points_in_batches_that_share_a_population(historical, monkeypatch):
    """Points of one population run as one batch, another population's apart, a batch holds at
    most BATCH_BYTES of engine state; every point gives what it gives alone."""
    from analysis.sweeps import runner

    values = [
        {"decision.peers": 1.0},
        {"population.welfare_share": 0.3},
        {"process.cancel_rate": 0.2},
        {"decision.peers": 2.0, "population.welfare_share": 0.3},
    ]
    scenarios = [with_parameters(historical, v) for v in values]
    assert runner.point_batches(scenarios, 2, 0.01) == [[0, 2], [1, 3]]
    one_point = runner.memory_needed(historical, 2, 0.01)
    monkeypatch.setattr(runner, "BATCH_BYTES", one_point)
    assert runner.point_batches(scenarios, 2, 0.01) == [[0], [2], [1], [3]]
    monkeypatch.undo()

    points = [(f"hash{i}", v) for i, v in enumerate(values)]
    columns = runner.run_points(historical, points, 5, 2, 0.01)
    assert columns["point_hash"] == [digest for digest, _ in points for _ in range(2)]
    for i, scenario in enumerate(scenarios):
        alone = simulate(scenario, 5, 2, scale=0.01)
        for name, outcome in outcomes().items():
            mine = np.asarray(columns[name][2 * i : 2 * i + 2])
            expected = np.asarray(outcome.measure(alone), dtype=float)
            assert np.array_equal(expected, mine, equal_nan=True), name
