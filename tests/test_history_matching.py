"""History matching: waves rule out what cannot fit, never the truth; the calibration built on it
recovers known parameters and does not depend on where its runs are evaluated."""

import contextlib
import dataclasses

import numpy as np
import pytest
from conftest import Terminal
from test_calibration import TRUTH, _synthetic_case

from analysis.calibration.history_matching import (
    draw_not_ruled_out,
    history_match,
    not_ruled_out,
    walk_not_ruled_out,
)
from analysis.calibration.matching import calibrate_by_matching
from analysis.calibration.posterior import read_posterior
from analysis.calibration.priors import load_priors

# A toy model with a known answer: two figures of three parameters (the third does nothing),
# documented at the truth, each with a width of 0.05 and noise of sd 0.02.
TOY_TRUTH = np.array([0.3, 0.7, 0.5])


def toy_terms(design: np.ndarray, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed + len(design))
    figures = np.column_stack([design[:, 0] + design[:, 1] ** 2, np.exp(design[:, 0])])
    truth = np.array([TOY_TRUTH[0] + TOY_TRUTH[1] ** 2, np.exp(TOY_TRUTH[0])])
    return (figures + rng.normal(0, 0.02, figures.shape) - truth) / 0.05


@pytest.fixture(scope="module")
def toy():
    return history_match(toy_terms, ["a", "b"], 3, seed=1, runs_per_wave=60, log=lambda _: None)


def test_the_waves_shrink_the_space_and_never_rule_out_the_truth(toy):
    assert toy.converged, toy.reason
    assert not_ruled_out(toy.waves, TOY_TRUTH[None, :], 3.0)[0]
    # What is left is a small part of the prior, around the truth in the parameters that matter.
    rng = np.random.default_rng(5)
    uniform = rng.random((20_000, 3))
    left = uniform[not_ruled_out(toy.waves, uniform, 3.0)]
    assert 0 < len(left) < 0.2 * len(uniform)
    assert abs(np.median(left[:, 0]) - TOY_TRUTH[0]) < 0.1
    # The parameter that does nothing is not constrained.
    assert np.ptp(left[:, 2]) > 0.8
    record = toy.waves[0].record()
    assert record["runs"] == 60 and {e["key"] for e in record["emulators"]} == {"a", "b"}


def test_draws_from_the_space_left_lie_in_it_by_rejection_or_by_walks(toy):
    rng = np.random.default_rng(2)
    drawn, searched = draw_not_ruled_out(toy.waves, 50, 3, rng, 3.0, max_candidates=100_000)
    assert len(drawn) == 50 and searched >= 20_000
    assert not_ruled_out(toy.waves, drawn, 3.0).all()
    walked = walk_not_ruled_out(toy.waves, drawn[:3], 200, rng, 3.0)
    assert len(walked) == 200 and not_ruled_out(toy.waves, walked, 3.0).all()
    assert ((walked >= 0) & (walked <= 1)).all()
    # The walks spread over the space, not only near their three starts.
    assert len(np.unique(walked.round(6), axis=0)) > 100


def test_a_space_ruled_out_entirely_is_an_error_that_says_so():
    def impossible(design):
        return np.full((len(design), 1), 50.0) + design[:, :1]

    with pytest.raises(ValueError, match="every parameter set is ruled out"):
        history_match(impossible, ["a"], 2, 1, 30, max_candidates=40_000, log=lambda _: None)


@pytest.fixture(scope="module")
def matched(tmp_path_factory):
    settings = dataclasses.replace(
        _synthetic_case(tmp_path_factory.mktemp("matching")),
        method="history-matching",
        runs_per_wave=40,
        population_size=60,
        point_scale=0.02,
    )
    terminal = Terminal()
    with contextlib.redirect_stderr(terminal):
        path = calibrate_by_matching(settings, log=lambda *_: None)
    return settings, read_posterior(path), terminal.getvalue().splitlines()


def test_on_a_terminal_the_calibration_says_each_wave_and_the_time_left(matched):
    settings, posterior, progress = matched
    waves = len(posterior["run"]["waves"])
    cap = settings.max_waves + 2
    assert progress[0] == f"  [1/{cap} at most] wave 1"
    assert progress[1].startswith(f"  [2/{cap} at most] wave 2, ") and "up to about" in progress[1]
    assert progress[-2].startswith(f"  [{waves + 1}/{waves + 2}] the posterior's runs, ")
    assert progress[-1].startswith(f"  [{waves + 2}/{waves + 2}] choosing the point, ")
    assert len(progress) == waves + 2


def test_history_matching_recovers_known_parameters_from_synthetic_data(matched):
    settings, posterior, _ = matched
    run = posterior["run"]
    assert run["method"] == "history-matching" and run["waves"]
    assert posterior["sample"]["weight"] == [1.0] * len(posterior["sample"]["weight"])
    for prior in load_priors(settings.priors):
        values = np.asarray(posterior["sample"][prior.key])
        low, high = np.quantile(values, [0.025, 0.975])
        assert low <= TRUTH[prior.key] <= high, (prior.key, low, high)
    intercept = np.asarray(posterior["sample"]["decision.intercept"])
    assert np.quantile(intercept, 0.95) - np.quantile(intercept, 0.05) < 0.5 * 4.0


def test_every_run_is_kept_in_a_reference_table_for_the_validation_checks(matched):
    settings, posterior, _ = matched
    table = np.load(settings.out / "runs.npz")
    waves = table["wave"]
    assert sorted(set(waves)) == list(range(len(posterior["run"]["waves"]) + 1))
    assert (waves == 0).sum() == settings.population_size  # drawn for the posterior
    assert table["points"].shape == (len(waves), len(table["parameters"]))
    assert table["terms"].shape == (len(waves), len(table["figures"]))
    assert table["inside"][waves == 0].all()
    assert ((table["points"] >= 0) & (table["points"] <= 1)).all()


def test_history_matching_is_the_same_on_one_process_or_two(tmp_path, capsys):
    posteriors = []
    for workers in (1, 2):
        (tmp_path / str(workers)).mkdir()
        settings = dataclasses.replace(
            _synthetic_case(tmp_path / str(workers)),
            method="history-matching",
            runs_per_wave=40,
            population_size=40,
            max_waves=2,
            point_scale=0.02,
            workers=workers,
        )
        posteriors.append(read_posterior(calibrate_by_matching(settings, log=lambda *_: None)))
    one, two = posteriors
    assert two["sample"] == one["sample"] and two["point"] == one["point"]
    assert two["run"]["waves"] == one["run"]["waves"]
    assert capsys.readouterr().err == ""  # no progress off a terminal
