"""Shared fixtures: the historical scenario and a small run of it, computed once per session."""

import io
from pathlib import Path

import pytest

from sim.engine_numpy import simulate
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
HISTORICAL = ROOT / "scenarios" / "historical.toml"


@pytest.fixture(scope="session")
def historical():
    return load_scenario(HISTORICAL)


@pytest.fixture(scope="session")
def small_run(historical):
    """Three replications of the baseline at 2% scale, with stocks recounted every month."""
    return simulate(historical, seed=7, replications=3, scale=0.02, check_invariants=True)


def write_scenario(folder: Path, name: str, text: str) -> Path:
    """Write a scenario file that extends the historical baseline."""
    path = folder / name
    path.write_text(f'extends = "{HISTORICAL.as_posix()}"\n' + text)
    return path


@pytest.fixture(scope="session")
def cluster():
    """A Dask LocalCluster started apart from the command under test and reached by its
    address, like a remote one."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
    ) as local:
        yield local


class Terminal(io.StringIO):
    """Stands for stderr on a terminal (``contextlib.redirect_stderr(Terminal())``): commands
    show their progress there, and only there."""

    def isatty(self) -> bool:
        return True


def engines_agree(scenario, replication: int, seed: int = 21, scale: float = 0.003):
    """Run ``scenario`` on both engines (same seed, population and replication) and assert
    that every metric is identical month by month; returns the numpy run."""
    import numpy as np

    from sim.engine_mesa import simulate_mesa
    from sim.population import generate_population
    from sim.streams import population_stream

    population = generate_population(scenario.population, scale, population_stream(seed))
    numpy_run = simulate(scenario, seed, [replication], population=population, scale=scale)
    mesa_run = simulate_mesa(scenario, seed, [replication], population=population, scale=scale)
    for name in numpy_run.metrics:
        assert np.array_equal(mesa_run.metrics[name], numpy_run.metrics[name]), name
    return numpy_run
