"""The command line: a run writes its four files atomically, with a manifest of what was run."""

import contextlib
import json

import numpy as np
import pandas as pd
import pytest
from conftest import HISTORICAL, Terminal

from analysis.cli import main
from analysis.runs import describe_population
from sim.result import RunResult

ANNUAL_COLUMNS = [
    "year",
    "departures_persons_mean",
    "departures_persons_p05",
    "departures_persons_p50",
    "departures_persons_p95",
    "registrations_persons_mean",
    "cancellations_persons_mean",
    "deportee_departures_persons_mean",
    "japanese_national_departures_persons_mean",
    "departing_households_mean",
    "departures_simulated_persons_mean",
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "baseline"
    assert (
        main(
            [
                "run",
                str(HISTORICAL),
                "--reps",
                "2",
                "--seed",
                "5",
                "--scale",
                "0.01",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    return out


def test_a_run_writes_annual_monthly_summary_figure_and_manifest(run_dir):
    written = [
        "annual.parquet",
        "departures.png",
        "manifest.json",
        "monthly.parquet",
        "summary.json",
    ]
    assert sorted(p.name for p in run_dir.iterdir()) == written
    assert json.loads((run_dir / "manifest.json").read_text())["files"] == written
    assert (run_dir / "departures.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    annual = pd.read_parquet(run_dir / "annual.parquet")
    assert list(annual["year"]) == list(range(1955, 1985))
    assert set(ANNUAL_COLUMNS) <= set(annual.columns)
    assert (annual["departures_persons_p05"] <= annual["departures_persons_p95"]).all()
    assert annual.attrs == {"scenario": "historical", "scale": 0.01}


def test_tables_count_full_population_persons_and_keep_the_simulated_count(run_dir):
    annual = pd.read_parquet(run_dir / "annual.parquet")
    # At --scale 0.01 one simulated person stands for 100.
    simulated = annual["departures_simulated_persons_mean"]
    assert annual["departures_persons_mean"].tolist() == pytest.approx((simulated / 0.01).tolist())
    assert annual.loc[annual["year"] == 1960, "departures_persons_mean"].item() > 40_000
    summary = json.loads((run_dir / "summary.json").read_text())["figures"]["departures_total"]
    assert annual["departures_persons_mean"].sum() == pytest.approx(summary["full_scale_mean"])


def test_monthly_is_long_format_per_replication_and_month(run_dir):
    monthly = pd.read_parquet(run_dir / "monthly.parquet")
    assert len(monthly) == 2 * 360
    assert sorted(monthly["replication"].unique()) == [0, 1]
    assert monthly["month"].iloc[0] == "1955-01"
    assert (
        monthly["settled_stock_persons"] == monthly["settled_stock_simulated_persons"] / 0.01
    ).all()
    annual = pd.read_parquet(run_dir / "annual.parquet")
    by_year = (
        monthly.groupby(["year", "replication"])["departures_persons"].sum().groupby("year").mean()
    )
    assert by_year.to_numpy() == pytest.approx(annual["departures_persons_mean"].to_numpy())


@pytest.mark.parametrize("fmt", ["csv", "netcdf"])
def test_a_run_writes_its_tables_in_the_format_asked_for(tmp_path, fmt, run_dir):
    from sim.table_files import read_table

    out = tmp_path / fmt
    argv = ["run", str(HISTORICAL), "--reps", "2", "--seed", "5", "--scale", "0.01"]
    assert main(argv + ["--out", str(out), "--format", fmt, "--quiet"]) == 0
    suffix = {"csv": ".csv", "netcdf": ".nc"}[fmt]
    assert {f"annual{suffix}", f"monthly{suffix}"} <= {p.name for p in out.iterdir()}
    for stem in ("annual", "monthly"):
        written = read_table(out, stem)
        same = pd.read_parquet(run_dir / f"{stem}.parquet")
        assert list(written.columns) == list(same.columns)
        numbers = same.select_dtypes("number").columns
        assert written[numbers].to_numpy() == pytest.approx(same[numbers].to_numpy(), rel=1e-5)
    if fmt == "netcdf":
        import xarray as xr

        with xr.open_dataset(out / "annual.nc", engine="h5netcdf") as annual:
            assert annual["departures_persons_mean"].attrs["units"] == "persons"
            assert "simulated" in annual["departures_simulated_persons_mean"].attrs["comment"]
            assert annual.attrs["scale"] == 0.01


def test_manifest_says_what_was_run(run_dir):
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["files"] == sorted(p.name for p in run_dir.iterdir())
    assert manifest["seed"] == 5 and manifest["replications"] == [0, 1]
    assert manifest["scale"] == 0.01 and manifest["engine"] == "numpy"
    assert len(manifest["scenario_sha256"]) == 64
    assert manifest["scenario"]["name"] == "historical"
    assert manifest["scenario_file"] == "scenarios/historical.toml"  # the same on every machine
    assert manifest["package_version"] and manifest["git_commit"]
    assert manifest["libraries"]["numpy"] == np.__version__
    assert set(manifest["libraries"]) == {"numpy", "scipy", "networkx", "numba", "mesa"}
    assert manifest["wall_seconds"] > 0


def test_a_manifest_names_a_file_outside_the_project_by_its_full_path(tmp_path):
    from sim.rundir import recorded_path

    mine = tmp_path / "mine.toml"
    assert recorded_path(mine) == str(mine.resolve())
    assert recorded_path(HISTORICAL) == "scenarios/historical.toml"


def test_summary_holds_totals_per_replication_beside_the_documented_figures(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text())
    total = summary["figures"]["departures_total"]
    assert total["documented"] == 93_340 and len(total["simulated_per_replication"]) == 2
    assert total["simulated_p05"] <= total["simulated_mean"] <= total["simulated_p95"]
    # at --scale 0.01 the full-scale figures are the simulated ones times 100
    assert total["full_scale_mean"] == pytest.approx(total["simulated_mean"] / 0.01)


def test_a_second_run_replaces_the_first(run_dir):
    assert (
        main(
            [
                "run",
                str(HISTORICAL),
                "--reps",
                "1",
                "--seed",
                "6",
                "--scale",
                "0.01",
                "--out",
                str(run_dir),
                "--quiet",
            ]
        )
        == 0
    )
    assert json.loads((run_dir / "manifest.json").read_text())["seed"] == 6
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith(".")]


def test_a_folder_that_is_not_a_run_is_never_overwritten(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert (
        main(
            [
                "run",
                str(HISTORICAL),
                "--reps",
                "1",
                "--scale",
                "0.01",
                "--out",
                str(tmp_path),
                "--quiet",
            ]
        )
        == 2
    )
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert "not an output directory" in capsys.readouterr().err


def test_a_run_interrupted_while_writing_says_so_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while the monthly table is being written

    monkeypatch.setattr(pd.DataFrame, "to_parquet", interrupted)
    out = tmp_path / "run"
    argv = ["run", str(HISTORICAL), "--reps", "1", "--scale", "0.01", "--out", str(out), "--quiet"]
    assert main(argv) == 130
    assert capsys.readouterr().err == (
        "interrupted: `repatriation run` stopped; nothing half-written was kept\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_ends_in_one_line_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "x"))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    argv = ["run", str(HISTORICAL), "--reps", "1", "--scale", "0.01", "--out", str(tmp_path / "r")]
    assert main(argv) == 1
    assert capsys.readouterr().err == f"error: No space left on device: {tmp_path / 'x'}\n"
    assert list(tmp_path.iterdir()) == []


def test_the_summary_is_printed(tmp_path, capsys):
    assert (
        main(
            ["run", str(HISTORICAL), "--reps", "2", "--scale", "0.01", "--out", str(tmp_path / "r")]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "93,340" in printed and "1960" in printed and "90% band" in printed
    # Every year is shown, and a year with no departures says when no ship had places.
    years = [line.split()[0] for line in printed.splitlines() if line[:6].strip().isdigit()]
    assert years == [str(y) for y in range(1955, 1985)]
    assert "  1968          0  [0 - 0]  no ships" in printed
    # Two replications at 1% scale: the summary says why its bands and small figures are rough.
    assert "Note: 2 replications" in printed and "Note: at scale 0.01" in printed


def test_levers_lists_every_lever_with_its_unit_and_range(capsys):
    assert main(["levers"]) == 0
    printed = capsys.readouterr().out
    assert "ship_capacity" in printed and "persons per month" in printed
    assert "confirmation_privacy" in printed and "0..1" in printed
    assert "[aftermath.levers]" in printed and "china_mission_exit" in printed


def test_validate_accepts_the_baseline(capsys):
    assert main(["validate", str(HISTORICAL)]) == 0
    assert "valid scenario 'historical'" in capsys.readouterr().out


def test_the_mesa_engine_writes_the_same_run_directory(tmp_path):
    args = [
        "run",
        str(HISTORICAL),
        "--reps",
        "1",
        "--seed",
        "4",
        "--scale",
        "0.002",
        "--quiet",
        "--point",
    ]
    assert main(args + ["--out", str(tmp_path / "numpy")]) == 0
    assert main(args + ["--out", str(tmp_path / "mesa"), "--engine", "mesa"]) == 0
    assert json.loads((tmp_path / "mesa" / "manifest.json").read_text())["engine"] == "mesa"
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "numpy" / "annual.parquet"),
        pd.read_parquet(tmp_path / "mesa" / "annual.parquet"),
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "numpy" / "monthly.parquet"),
        pd.read_parquet(tmp_path / "mesa" / "monthly.parquet"),
    )


def test_a_calibrated_scenario_runs_over_its_posterior_unless_asked_for_its_point(tmp_path):
    """Replication k runs posterior draw k, so the bands hold parameter uncertainty; --point runs
    the calibrated point alone. Both are exactly what the functions behind them give."""
    from analysis.calibration.posterior import read_posterior, simulate_posterior
    from sim import annual_table, load_scenario, simulate
    from sim.scenario import posterior_file

    args = ["run", str(HISTORICAL), "--reps", "3", "--seed", "5", "--scale", "0.01", "--quiet"]
    assert main(args + ["--out", str(tmp_path / "drawn")]) == 0
    assert main(args + ["--out", str(tmp_path / "point"), "--point"]) == 0
    historical = load_scenario(HISTORICAL)
    posterior = read_posterior(posterior_file(HISTORICAL))
    drawn, values = simulate_posterior(historical, posterior, 5, 3, 1, 0.01)
    point = simulate(historical, 5, 3, scale=0.01)
    for folder, result in (("drawn", drawn), ("point", point)):
        written = pd.read_parquet(tmp_path / folder / "annual.parquet")
        expected = annual_table(result, 0.01)["departures_simulated_persons_mean"].tolist()
        assert written["departures_simulated_persons_mean"].tolist() == pytest.approx(expected)
    manifest = json.loads((tmp_path / "drawn" / "manifest.json").read_text())
    assert manifest["posterior_draws"]["parameters"] == values and len(values) == 3
    assert manifest["posterior_draws"]["posterior_file"] == (
        "scenarios/calibration/historical/posterior.json"
    )
    assert "posterior_draws" not in json.loads((tmp_path / "point" / "manifest.json").read_text())


def test_bands_over_a_posterior_with_uneven_weights_say_so():
    from analysis.runs import few_parameter_sets

    even = {"sample": {"weight": [1.0] * 400}}
    assert few_parameter_sets(even) == ""
    uneven = {"sample": {"weight": [1.0] + [1e-9] * 399}}
    assert "effective sample size is 1.0 of 400" in few_parameter_sets(uneven)
    capped = {**even, "run": {"stop": {"converged": False, "reason": "cap: 10 waves"}}}
    assert "did not converge: cap: 10 waves" in few_parameter_sets(capped)
    converged = {**even, "run": {"stop": {"converged": True, "reason": "wave 9 fit no better"}}}
    assert few_parameter_sets(converged) == ""


def test_run_posterior_shows_each_draw_and_the_time_left_on_a_terminal_only(tmp_path, capsys):
    args = ["run-posterior", str(HISTORICAL), "--draws", "2", "--seed", "5", "--scale", "0.005"]
    terminal = Terminal()
    with contextlib.redirect_stderr(terminal):
        assert main(args + ["--out", str(tmp_path / "terminal")]) == 0
    shown = terminal.getvalue()
    assert "\r  [1/2] posterior draw 1" in shown and "\r  [2/2] posterior draw 2, " in shown
    assert shown.endswith("\n")  # the line it rewrote is closed before the summary
    assert main(args + ["--out", str(tmp_path / "log")]) == 0
    assert capsys.readouterr().err == ""
    # A run directory like run's, with its figure.
    written = ["annual.parquet", "departures.png", "manifest.json", "monthly.parquet"]
    assert sorted(p.name for p in (tmp_path / "log").iterdir()) == [*written, "summary.json"]


def test_netcdf_without_xarray_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "xarray", None)  # as if not installed
    out = tmp_path / "run"
    argv = ["run", str(HISTORICAL), "--reps", "1", "--scale", "0.01", "--out", str(out)]
    assert main(argv + ["--format", "netcdf"]) == 2
    assert "pip install 'repatriation-sim[netcdf]'" in capsys.readouterr().err
    assert not out.exists()


def test_the_summary_names_one_population_or_each_draws_range():
    """A run over posterior draws that set population keys runs a population per replication:
    the summary gives their range, and the persons the young's households add apart."""
    one = RunResult.empty(np.arange(3), [0, 1], households=10, people=40)
    one.metrics["settled_stock"][:, 0] = 40
    assert describe_population(one) == "10 households, 40 people"

    drawn = RunResult.empty(np.arange(3), [0, 1], households=10, people=40)
    drawn.metrics["settled_stock"][:, 0] = [28, 35]
    drawn.metrics["intending_stock"][:, 0] = [2, 0]
    drawn.metrics["unformed_stock"][:, 0] = [10, 0]
    assert describe_population(drawn) == (
        "a population drawn for each (its parameters): 30 to 35 people at the start "
        "and 0 to 10 in households the young form later"
    )
