"""Sensitivity: Sobol indices and Morris screening of a sweep, with the seed's noise beside them.

The historical scenario never publishes the letters (``letters_published`` is 0 throughout), so
``process.publication_learning`` cannot change anything. With common random numbers every point
sees the same random draws, so its indices must be exactly zero, while the pull of the peers
must show.
"""

import contextlib

import numpy as np
import pandas as pd
import pytest
from conftest import HISTORICAL, Terminal

from analysis.cli import main
from analysis.sensitivity import SensitivityError, morris_table, noise_table, sobol_table
from analysis.sweeps.runner import run_sweep
from analysis.sweeps.spec import load_sweep

HEAD = f"""
scenario = "{HISTORICAL.as_posix()}"
seed = 5
replications = 2
scale = 0.01
outputs = ["departures_total", "departures_1960"]

[parameters]
"decision.peers" = {{ min = 0.7, max = 2.8 }}
"process.cancel_rate" = {{ min = 0.1, max = 0.5 }}
"process.publication_learning" = {{ min = 0.0, max = 0.5 }}
"""
SOBOL = 'name = "sobol"\n' + HEAD + '\n[design]\nmethod = "sobol"\nsamples = 4\n'
MORRIS = 'name = "morris"\n' + HEAD + '\n[design]\nmethod = "morris"\nsamples = 3\nlevels = 4\n'
NO_EFFECT = "process.publication_learning"


def run(tmp_path_factory, cluster, text):
    folder = tmp_path_factory.mktemp("sensitivity")
    (folder / "sweep.toml").write_text(text)
    return run_sweep(
        load_sweep(folder / "sweep.toml"), folder / "out", scheduler=cluster.scheduler_address
    ).out


@pytest.fixture(scope="module")
def sobol_sweep(tmp_path_factory, cluster):
    return run(tmp_path_factory, cluster, SOBOL)


@pytest.fixture(scope="module")
def morris_sweep(tmp_path_factory, cluster):
    return run(tmp_path_factory, cluster, MORRIS)


def test_sobol_indices_are_zero_for_a_parameter_without_effect(sobol_sweep):
    table = sobol_table(sobol_sweep, resamples=50).set_index(["output", "parameter"])
    assert len(table) == 2 * 3
    assert np.isfinite(table[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy()).all()
    for output in ("departures_total", "departures_1960"):
        assert table.loc[(output, NO_EFFECT), "ST"] == 0
        assert table.loc[(output, NO_EFFECT), "S1"] == 0
    # Clearly above the exact zero of the parameter without effect. (In the calibrated baseline
    # the departures of 1960-1961 are bound by the ships' places, so peers move the total less
    # than they did with the hand-set parameters: ST 0.048 at the calibration of 23 November.)
    assert table.loc[("departures_total", "decision.peers"), "ST"] > 0.01


def test_morris_effects_are_zero_for_a_parameter_without_effect(morris_sweep):
    table = morris_table(morris_sweep, ["departures_total"], resamples=50).set_index("parameter")
    assert table.loc[NO_EFFECT, "mu_star"] == 0 and table.loc[NO_EFFECT, "sigma"] == 0
    assert table.loc["decision.peers", "mu_star"] > 0


def test_the_seed_noise_is_reported_as_its_own_share(sobol_sweep):
    noise = noise_table(sobol_sweep).set_index("output")
    shares = noise[["noise_share_single_run", "noise_share_of_mean"]].to_numpy()
    assert np.isfinite(shares).all() and (shares > 0).all()
    assert (noise["replications"] == 2).all()


def test_the_analysis_must_match_the_design(morris_sweep):
    with pytest.raises(SensitivityError, match="Sobol indices need a sweep with method"):
        sobol_table(morris_sweep)
    with pytest.raises(SensitivityError, match="not kept by this sweep"):
        morris_table(morris_sweep, ["deportee_share"])


def test_the_command_writes_a_table_and_a_plot(sobol_sweep, tmp_path, capsys):
    assert main(["sensitivity", str(sobol_sweep), "--resamples", "50", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "## departures_total" in printed and "Seed noise:" in printed
    assert capsys.readouterr().err == ""  # no progress off a terminal
    # What varied, and over what, as the sweep recorded it.
    assert "| decision.peers | uniform 0.7..2.8 |" in printed
    assert "| process.cancel_rate | uniform 0.1..0.5 |" in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "seed_noise.parquet",
        "sobol.md",
        "sobol.parquet",
        "sobol.png",
    ]
    assert set(pd.read_parquet(tmp_path / "sobol.parquet")["parameter"]) == {
        "decision.peers",
        "process.cancel_rate",
        NO_EFFECT,
    }


def test_morris_effects_are_in_full_population_persons_whatever_the_format(morris_sweep, tmp_path):
    argv = ["sensitivity", str(morris_sweep), "--resamples", "50", "--format", "csv"]
    assert main(argv + ["--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "morris.csv")
    assert set(table["unit"]) == {"persons"}
    # The sweep ran at 1% scale: its effects in simulated persons, times 100.
    results = pd.read_parquet(morris_sweep / "results.parquet")
    simulated = results.rename(columns={"departures_total_simulated_persons": "departures_total"})
    simulated = simulated.drop(columns="departures_total_persons")
    simulated.to_parquet(morris_sweep / "results.parquet")  # as a sweep assembled before units
    try:
        again = morris_table(morris_sweep, ["departures_total"], resamples=50)
    finally:
        results.to_parquet(morris_sweep / "results.parquet")
    mine = table[table["output"] == "departures_total"].reset_index(drop=True)
    assert again["mu_star"].to_numpy() == pytest.approx(mine["mu_star"].to_numpy(), rel=1e-5)
    assert mine["mu_star"].max() > 100  # not simulated persons: 1% scale, 2 replications
    printed = (tmp_path / "morris.md").read_text()
    assert "mu, mu* and sigma in full-population persons" in printed


def test_on_a_terminal_the_analysis_says_each_output_as_it_starts(morris_sweep, tmp_path):
    terminal = Terminal()
    with contextlib.redirect_stderr(terminal):
        assert main(["sensitivity", str(morris_sweep), "--out", str(tmp_path)]) == 0
    lines = terminal.getvalue().splitlines()
    assert lines[0] == "  [1/2] departures_total"
    assert lines[1].startswith("  [2/2] departures_1960, ") and lines[1].endswith(" left")


def test_an_unfinished_sweep_is_refused(tmp_path, capsys):
    assert main(["sensitivity", str(tmp_path)]) == 2
    assert "no results.parquet" in capsys.readouterr().err


def test_numbers_that_should_not_be_read_as_they_stand_carry_a_warning():
    from analysis.sensitivity import unreliable

    sobol = pd.DataFrame(
        {
            "output": ["total", "total", "total"],
            "parameter": ["settled", "wide", "half_differs"],
            "ST": [0.5, 0.5, 0.5],
            "ST_conf": [0.02, 0.3, 0.02],
            "ST_half_N": [0.51, 0.5, 0.8],
        }
    )
    noise = pd.DataFrame({"output": ["total"], "noise_share_of_mean": [0.25]})
    (settling, noisy) = unreliable(sobol, noise, "sobol")["total"]
    assert "wide, half_differs" in settling and "settled," not in settling
    assert "25%" in noisy
    quiet = pd.DataFrame({"output": ["total"], "noise_share_of_mean": [0.01]})
    assert unreliable(sobol.iloc[:1], quiet, "sobol") == {"total": []}
    morris = pd.DataFrame(
        {
            "output": ["total"] * 2,
            "parameter": ["sure", "unsure"],
            "mu_star": [10.0, 10.0],
            "mu_star_conf": [1.0, 8.0],
        }
    )
    assert unreliable(morris, quiet, "morris") == {
        "total": ["uncertain (mu* interval wider than 50% of mu*): unsure; use more trajectories"]
    }
