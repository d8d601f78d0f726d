"""Calibration: priors, distance, posterior use by scenarios, and recovery of known parameters."""

import contextlib
import dataclasses
import json
import math

import numpy as np
import pytest
from conftest import HISTORICAL, Terminal

from analysis.calibration.model import (
    Simulator,
    ToleranceDistance,
    base_scenario,
    fitted_figures,
    particle_seed,
)
from analysis.calibration.posterior import (
    POSTERIOR_FORMAT,
    highest_density,
    posterior_draws,
    read_posterior,
    simulate_posterior,
)
from analysis.calibration.priors import PriorsError, load_priors
from analysis.calibration.settings import Settings
from analysis.calibration.setup import check_same_inputs
from analysis.calibration.smc import calibrate
from sim.engine_numpy import simulate
from sim.outcomes import total
from sim.record import TARGETS_FILE, load_targets
from sim.scenario import ScenarioError, load_scenario, posterior_file, with_parameters
from sim.schedules import month_index

FREE = (
    "decision.intercept",
    "decision.soren",
    "process.letter_learning",
    "process.cancel_rate",
    "population.japanese_spouse_share",
    "population.parolees",
)


def test_the_priors_file_lies_inside_the_schema_ranges():
    priors = load_priors()
    assert len({p.key for p in priors}) == len(priors) >= 10
    for p in priors:
        assert p.low <= p.start <= p.high and p.reason


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            'key = "decision.nonsense"\ndist = "uniform"\nlow = 0\nhigh = 1\nstart = 0.5',
            "not a parameter",
        ),
        (
            'key = "decision.peers"\ndist = "uniform"\nlow = -1\nhigh = 1\nstart = 0.5',
            "allowed 0..20",
        ),
        ('key = "decision.peers"\ndist = "normal"\nlow = 0\nhigh = 1\nstart = 0.5', "dist must be"),
        ('key = "decision.peers"\ndist = "uniform"\nlow = 0\nhigh = 1\nstart = 2', "start 2.0"),
    ],
)
def test_an_invalid_prior_is_refused_naming_the_file_and_key(tmp_path, entry, message):
    path = tmp_path / "priors.toml"
    path.write_text("[[parameter]]\n" + entry)
    with pytest.raises(PriorsError) as error:
        load_priors(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_pyabc_samples_the_logit_of_a_parameters_place_in_its_range(tmp_path):
    """Its standard logistic prior is exactly the uniform (or log-uniform) prior of the value,
    and no value of the logit falls outside the range."""
    path = tmp_path / "priors.toml"
    path.write_text(
        '[[parameter]]\nkey = "process.cancel_rate"\ndist = "loguniform"\n'
        "low = 0.001\nhigh = 0.1\nstart = 0.01\n"
        '[[parameter]]\nkey = "decision.peers"\ndist = "uniform"\n'
        "low = 0\nhigh = 4\nstart = 1\n"
    )
    rate, peers = load_priors(path)
    assert rate.name == "process__cancel_rate__logit" and peers.name == "decision__peers__logit"
    assert rate.from_abc(0.0) == pytest.approx(0.01) and peers.from_abc(0.0) == pytest.approx(2.0)
    assert peers.from_abc(-1e6) == 0.0 and peers.from_abc(1e6) == 4.0
    assert rate.from_abc(-1e6) == pytest.approx(0.001) and rate.from_abc(1e6) == pytest.approx(0.1)
    z = rate.rv().rvs(size=20_000, random_state=np.random.default_rng(1))
    values = np.array([peers.from_abc(v) for v in z])
    assert np.histogram(values, bins=4, range=(0, 4))[0] / len(z) == pytest.approx(
        [0.25] * 4, abs=0.015
    )
    logs = np.log10([rate.from_abc(v) for v in z])
    assert np.histogram(logs, bins=2, range=(-3, -1))[0] / len(z) == pytest.approx(
        [0.5, 0.5], abs=0.015
    )


AFTERMATH_TARGET = """
[[target]]
key = "returnee_refugees_in_japan"
label = "returnee-refugees resettled in Japan"
documented = 200
qualifier = "about"
unit = "persons"
period = ["1959-12", "1984-07"]
measure = "total"
metric = "departures"
low = 140
high = 260
sources = ["003"]
stage = "aftermath"
"""


def test_the_calibration_fits_no_after_arrival_target(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text(TARGETS_FILE.read_text() + AFTERMATH_TARGET)
    targets = load_targets(path)
    added = [t for t in targets if t.key == "returnee_refugees_in_japan"]
    assert len(added) == 1 and added[0].stage == "aftermath" and added[0].fit
    fitted = fitted_figures(targets)
    assert "returnee_refugees_in_japan" not in {f.key for f in fitted}
    assert [f.key for f in fitted] == [f.key for f in fitted_figures(load_targets())]


def test_the_distance_weighs_each_target_by_its_tolerance():
    distance = ToleranceDistance({"a": 10.0, "b": 0.05})
    observed = {"a": 100.0, "b": 0.25}
    assert distance(observed, observed) == 0
    assert distance({"a": 110.0, "b": 0.25}, observed) == pytest.approx(1)
    assert distance({"a": 110.0, "b": 0.30}, observed) == pytest.approx(math.sqrt(2))


def test_a_figure_with_no_count_is_met_anywhere_in_its_band():
    """'The ships sailed until 1984' has no count: any value in its band costs nothing, a value
    below its floor costs its distance from the floor, in widths (not from the band's centre)."""
    figures = {f.key: f for f in load_targets()}
    later = figures["departures_1962_1984"]
    assert later.qualifier == "some"
    distance = ToleranceDistance.of([later], {later.key: 1000.0})
    centre = {later.key: later.centre}
    assert distance({later.key: later.low}, centre) == 0
    assert distance({later.key: later.high}, centre) == 0
    assert distance({later.key: later.low - 2000}, centre) == pytest.approx(2)
    assert distance({later.key: later.high + 500}, centre) == pytest.approx(0.5)
    # A figure with a count is read through its centre, as before.
    total = figures["departures_total"]
    counted = ToleranceDistance.of([total], {total.key: 1000.0})
    assert counted({total.key: total.low}, {total.key: total.centre}) > 0


def test_a_particle_seed_depends_on_the_values_and_the_seed_only():
    values = {"decision.peers": 1.5, "process.cancel_rate": 0.1}
    assert particle_seed(1, values) == particle_seed(1, dict(reversed(values.items())))
    assert particle_seed(1, values) != particle_seed(2, values)
    assert particle_seed(1, values) != particle_seed(1, {**values, "decision.peers": 1.5000001})


def test_the_point_estimate_is_the_densest_particle():
    rng = np.random.default_rng(0)
    cluster = rng.normal(0.3, 0.02, size=(40, 3))
    stragglers = rng.uniform(0, 1, size=(10, 3))
    points = np.vstack([stragglers, cluster])
    index = highest_density(points, np.ones(len(points)))
    assert index >= 10 and np.all(np.abs(points[index] - 0.3) < 0.05)
    # Fewer points than dimensions, or a parameter that does not vary: no density, the heaviest.
    assert highest_density(points[:3], np.array([1.0, 3.0, 2.0])) == 1
    assert highest_density(points[:2], np.array([1.0, 3.0])) == 1
    flat = np.column_stack([points[:, :2], np.full(len(points), 0.5)])
    assert highest_density(flat, np.arange(1.0, len(points) + 1)) == len(points) - 1


# ----------------------------------------------------------------------------------------------
# Scenarios that point to a posterior
# ----------------------------------------------------------------------------------------------


def _posterior(tmp_path, point, sample=None):
    sample = sample or {k: [v, v] for k, v in point.items()}
    n = len(next(iter(sample.values())))
    document = {
        "format": POSTERIOR_FORMAT,
        "point_rule": "test",
        "point": point,
        "parameters": list(point),
        "sample": {"weight": [1.0] * n, "distance": [0.0] * n, **sample},
    }
    path = tmp_path / "posterior.json"
    path.write_text(json.dumps(document))
    return path


def _complete_scenario(tmp_path, extra=""):
    """A scenario file extending the baseline with every calibrated key written out."""
    historical = load_scenario(HISTORICAL)
    lines = [f'extends = "{HISTORICAL.as_posix()}"']
    for section in ("population", "decision", "process"):
        lines.append(f"[{section}]")
        for key, value in getattr(historical, section).model_dump().items():
            if (
                historical.calibration is None
                or f"{section}.{key}" in historical.calibration.values
            ):
                lines.append(f"{key} = {value!r}")
    path = tmp_path / "complete.toml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def test_the_calibrated_baseline_sails_on_in_the_resumed_project_of_1971_1984(historical):
    # 002: the ships sailed until July 1984 (a fitted figure with no count in the targets). The
    # letters of hardship end the mass departures of 1960-1961, but they act on belief in the
    # North, so the pushes out of Japan keep a smaller stream going (an earlier model, with
    # letters as an unbounded log-odds term, calibrated to almost no one after 1961).
    run = simulate(historical, seed=3, replications=2, scale=0.1)
    resumed = (run.months >= month_index("1971-05")) & (run.months <= month_index("1984-07"))
    assert (run.metrics["departures"][:, resumed].sum(axis=1) > 0).all()


def test_after_1961_demand_not_capacity_sets_the_departures(historical):
    """From 1962 the ships sailed as demand required (scenarios/historical.toml): every month
    with a sailing has places to spare, in every replication."""
    run = simulate(historical, seed=3, replications=2, scale=0.1)
    later = (run.months >= month_index("1962-01")) & (run.metrics["capacity"][0] > 0)
    assert later.sum() > 100
    spare = run.metrics["capacity"][:, later] - run.metrics["departures"][:, later]
    assert (spare > 0).all()


def test_a_scenario_takes_its_calibrated_values_from_the_posterior(tmp_path):
    point = {"decision.peers": 2.25, "process.cancel_rate": 0.0625}
    _posterior(tmp_path, point)
    path = tmp_path / "calibrated.toml"
    path.write_text(
        f'extends = "{HISTORICAL.as_posix()}"\n[calibration]\nposterior = "posterior.json"\n'
    )
    scenario = load_scenario(path)
    assert scenario.decision.peers == 2.25 and scenario.process.cancel_rate == 0.0625
    record = scenario.calibration
    assert record.posterior == "posterior.json" and len(record.sha256) == 64
    assert record.values == point and record.overridden == []
    assert posterior_file(path) == (tmp_path / "posterior.json").resolve()
    # The manifest's resolved scenario holds the file and its hash; overriding is recorded.
    dumped = json.loads(scenario.canonical_json())["calibration"]
    assert dumped["sha256"] == record.sha256
    changed = with_parameters(scenario, {"decision.peers": 1.0})
    assert changed.calibration.overridden == ["decision.peers"]
    # A new posterior changes the scenario's digest.
    digest = scenario.digest()
    _posterior(tmp_path, {**point, "decision.peers": 2.5})
    assert load_scenario(path).digest() != digest


def test_a_derived_scenario_may_override_a_calibrated_value_and_it_is_recorded(tmp_path):
    _posterior(tmp_path, {"decision.peers": 2.25})
    base = tmp_path / "calibrated.toml"
    base.write_text(
        f'extends = "{HISTORICAL.as_posix()}"\n[calibration]\nposterior = "posterior.json"\n'
    )
    derived = tmp_path / "derived.toml"
    derived.write_text('extends = "calibrated.toml"\n[decision]\npeers = 0.5\n')
    scenario = load_scenario(derived)
    assert scenario.decision.peers == 0.5 and scenario.calibration.overridden == ["decision.peers"]


def test_a_missing_or_invalid_posterior_is_an_error_naming_the_file_and_key(tmp_path):
    path = tmp_path / "calibrated.toml"
    path.write_text(
        f'extends = "{HISTORICAL.as_posix()}"\n[calibration]\nposterior = "missing.json"\n'
    )
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert str(path) in str(error.value) and "'calibration.posterior'" in str(error.value)
    (tmp_path / "missing.json").write_text("{not json")
    with pytest.raises(ScenarioError, match="not a posterior file"):
        load_scenario(path)
    path.write_text(f'extends = "{HISTORICAL.as_posix()}"\n[calibration]\nfile = "x.json"\n')
    with pytest.raises(ScenarioError, match="key 'calibration'"):
        load_scenario(path)


def test_a_key_written_both_in_the_file_and_in_the_posterior_is_refused(tmp_path):
    _posterior(tmp_path, {"decision.peers": 2.25})
    path = tmp_path / "twice.toml"
    path.write_text(
        f'extends = "{HISTORICAL.as_posix()}"\n[calibration]\n'
        f'posterior = "posterior.json"\n[decision]\npeers = 1.0\n'
    )
    with pytest.raises(ScenarioError, match=r"key 'decision\.peers': set both here"):
        load_scenario(path)


def test_posterior_draws_are_reproducible_and_follow_the_weights(tmp_path):
    sample = {"decision.peers": [1.0, 2.0, 3.0]}
    posterior = read_posterior(_posterior(tmp_path, {"decision.peers": 2.0}, sample))
    posterior["sample"]["weight"] = [0.0, 0.0, 1.0]
    assert posterior_draws(posterior, 5, seed=3) == [{"decision.peers": 3.0}] * 5
    posterior["sample"]["weight"] = [1.0, 1.0, 1.0]
    first = posterior_draws(posterior, 20, seed=3)
    assert first == posterior_draws(posterior, 20, seed=3) != posterior_draws(posterior, 20, seed=4)
    assert posterior_draws(posterior, 10, seed=3) == first[:10]


def test_a_posterior_run_is_plain_runs_of_the_drawn_parameters(tmp_path, historical):
    short = with_parameters(historical, {"simulation.end": "1960-06"})
    sample = {"decision.peers": [0.5, 3.0], "process.cancel_rate": [0.01, 0.4]}
    posterior = read_posterior(
        _posterior(tmp_path, {"decision.peers": 0.5, "process.cancel_rate": 0.01}, sample)
    )
    result, drawn = simulate_posterior(
        short, posterior, seed=11, draws=3, reps_per_draw=2, scale=0.01
    )
    assert list(result.replications) == [0, 1, 2, 3, 4, 5]
    for i, values in enumerate(drawn):
        plain = simulate(with_parameters(short, values), 11, [2 * i, 2 * i + 1], scale=0.01)
        for name, metric in plain.metrics.items():
            assert np.array_equal(result.metrics[name][2 * i : 2 * i + 2], metric), name


def test_the_simulator_is_a_deterministic_function_of_the_parameters(historical):
    priors = tuple(p for p in load_priors() if p.key in ("decision.peers", "population.parolees"))
    figures = tuple(f for f in load_targets() if f.fit)
    short = with_parameters(historical, {"simulation.end": "1960-12"})
    model = Simulator(short, priors, figures, 0.01, seed=5)
    peers, parolees = priors
    parameters = {peers.name: 0.0, parolees.name: 0.0}  # the middle of each range
    assert model.values(parameters) == {
        "decision.peers": (peers.low + peers.high) / 2,
        "population.parolees": round((parolees.low + parolees.high) / 2),
    }
    assert model(parameters) == model(parameters)
    assert model(parameters) != model({**parameters, peers.name: 0.5})


# ----------------------------------------------------------------------------------------------
# Recovery of known parameters from data made by the model itself
# ----------------------------------------------------------------------------------------------

TRUTH = {"decision.intercept": -9.0, "process.cancel_rate": 0.08}
SYNTHETIC_TARGETS = [  # key, metric or share, first, last month
    ("registrations_1960", "registrations", "1959-10", "1960-12"),
    ("cancellations_1960", "cancellations", "1959-10", "1960-12"),
    ("departures_1960", "departures", "1959-12", "1960-12"),
    ("intending_1956_04", "intending_stock", "1956-04", "1956-04"),
    ("intending_1958_06", "intending_stock", "1958-06", "1958-06"),
]


def _synthetic_case(tmp_path):
    """Targets made by the model at TRUTH (20 replications, 2% scale, to the end of 1960)."""
    scenario_path = _complete_scenario(
        tmp_path, '[simulation]\nstart = "1955-01"\nend = "1960-12"\n'
    )
    priors_path = tmp_path / "priors.toml"
    priors_path.write_text(
        '[[parameter]]\nkey = "decision.intercept"\ndist = "uniform"\nlow = -11.0\nhigh = -7.0\n'
        "start = -10.0\n"
        '[[parameter]]\nkey = "process.cancel_rate"\ndist = "loguniform"\nlow = 0.005\n'
        "high = 0.5\nstart = 0.3\n"
    )
    priors = load_priors(priors_path)
    truth = with_parameters(base_scenario(scenario_path, priors), TRUTH)
    run = simulate(truth, 99, 20, scale=0.02)
    lines = []
    for key, metric, first, last in SYNTHETIC_TARGETS:
        kind = "stock" if metric.endswith("_stock") else "total"
        values = (
            run.metrics[metric][:, run.months == month_index(last)][:, 0]
            if kind == "stock"
            else total(metric, first, last)(run)
        ) / 0.02
        centre = float(np.mean(values))
        half = max(0.1 * centre, 50.0)
        lines.append(
            f'[[target]]\nkey = "{key}"\nlabel = "{key}"\ndocumented = {round(centre)}\n'
            f'qualifier = "exactly"\nunit = "persons"\nperiod = ["{first}", "{last}"]\n'
            f'measure = "{kind}"\nmetric = "{metric}"\nlow = {round(centre - half)}\n'
            f'high = {round(centre + half)}\nsources = ["002"]\n'
        )
    targets_path = tmp_path / "targets.toml"
    targets_path.write_text("\n".join(lines))
    return Settings(
        scenario=scenario_path,
        priors=priors_path,
        targets=targets_path,
        out=tmp_path / "calibration",
        scale=0.02,
        seed=3,
        population_size=40,
        generations=3,
        max_simulations=2000,
        max_minutes=5,
        noise_reps=6,
    )


@pytest.fixture(scope="module")
def recovered(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("recovery")
    settings = _synthetic_case(tmp_path)
    terminal = Terminal()
    with contextlib.redirect_stderr(terminal):
        path = calibrate(settings, log=lambda *_: None)
    return settings, read_posterior(path), terminal.getvalue().splitlines()


def test_on_a_terminal_the_calibration_says_each_generation_and_the_time_left(recovered):
    settings, posterior, progress = recovered
    # The prior sample that sets the first threshold, the generations (at most those asked
    # for), then the choice of the point.
    cap = settings.generations + 2
    assert progress[0] == f"  [1/{cap} at most] the prior sample that sets the first threshold"
    assert progress[1].startswith(f"  [2/{cap} at most] generation 0, ")
    steps = len(posterior["generations"]) + 2
    assert progress[-1].startswith(f"  [{steps}/{steps}] choosing the point, ")
    assert len(progress) == steps


def test_the_calibration_recovers_known_parameters_from_synthetic_data(recovered):
    settings, posterior, _ = recovered
    weights = np.asarray(posterior["sample"]["weight"])
    for prior in load_priors(settings.priors):
        values = np.asarray(posterior["sample"][prior.key])
        order = np.argsort(values)
        cdf = np.cumsum(weights[order]) / weights.sum()
        low, high = values[order][np.searchsorted(cdf, [0.025, 0.975])]
        assert low <= TRUTH[prior.key] <= high, (prior.key, low, high)
    intercept = np.asarray(posterior["sample"]["decision.intercept"])
    assert np.quantile(intercept, 0.95) - np.quantile(intercept, 0.05) < 0.5 * 4.0  # informative
    assert posterior["generations"][-1]["epsilon"] < posterior["generations"][0]["epsilon"]


def test_a_calibration_resumes_from_its_database(recovered, capsys):
    settings, posterior, _ = recovered
    settings.generations, settings.resume = 4, True
    path = calibrate(settings, log=lambda *_: None)
    resumed = read_posterior(path)
    assert [g["t"] for g in resumed["generations"]] == [0, 1, 2, 3]
    assert resumed["generations"][:3] == posterior["generations"]
    meta = json.loads((settings.out / "calibration_run.json").read_text())
    assert len(meta["sessions"]) == 2
    assert "generation" not in capsys.readouterr().err  # no progress off a terminal
    # The run says why it stopped, and how costly each generation's particles were.
    assert meta["stop"]["reason"] and meta["stop"]["converged"] in (True, False)
    assert len(meta["acceptance_rates"]) == len(meta["effective_sample_sizes"]) == 4
    assert all(0 < rate <= 1 for rate in meta["acceptance_rates"])
    # Only what the distance reads is checked: a comment or an after-arrival target (never
    # fitted) may be added to the targets file during a calibration; a changed band may not.
    original = settings.targets.read_text()
    settings.targets.write_text(original + "\n# changed\n" + AFTERMATH_TARGET)
    check_same_inputs(meta, settings)
    settings.targets.write_text(original.replace("high = ", "high = 9", 1))  # a wider band
    with pytest.raises(ValueError, match="changed since the calibration started"):
        calibrate(settings, log=lambda *_: None)
    settings.targets.write_text(original)
    for change in ({"scale": 2 * settings.scale}, {"seed": settings.seed + 1}):
        with pytest.raises(ValueError, match="another --scale or --seed"):
            check_same_inputs(meta, dataclasses.replace(settings, **change))


def test_the_posterior_is_the_same_on_one_process_two_or_a_dask_cluster(tmp_path, cluster):
    """Particles are proposed by number and accepted in number order, so what evaluates them
    changes nothing."""
    runs = {}
    for name, where in {
        "one": {"workers": 1},
        "two": {"workers": 2},
        "dask": {"scheduler": cluster.scheduler_address},
    }.items():
        folder = tmp_path / name
        folder.mkdir()
        settings = dataclasses.replace(_synthetic_case(folder), generations=2, **where)
        runs[name] = read_posterior(calibrate(settings, log=lambda *_: None))
    for name in ("two", "dask"):
        assert runs[name]["sample"] == runs["one"]["sample"], name
        assert runs[name]["point"] == runs["one"]["point"], name
        epsilons = [g["epsilon"] for g in runs[name]["generations"]]
        assert epsilons == [g["epsilon"] for g in runs["one"]["generations"]], name


def test_a_fresh_start_never_replaces_a_calibration_unless_told_to(recovered):
    settings, _, _ = recovered
    before = {p.name: p.read_bytes() for p in settings.out.iterdir()}
    fresh = dataclasses.replace(settings, resume=False)
    with pytest.raises(ValueError, match=r"holds a calibration .*abc\.db.*--overwrite"):
        calibrate(fresh, log=lambda *_: None)
    assert {p.name: p.read_bytes() for p in settings.out.iterdir()} == before


def test_a_posterior_draw_leaves_a_key_the_scenario_sets_itself(historical):
    """A counterfactual that switches peers off keeps them off in every posterior draw."""
    posterior = read_posterior(posterior_file(HISTORICAL))
    assert "decision.peers" in posterior["parameters"]
    alone = with_parameters(historical, {"decision.peers": 0.0})
    assert alone.calibration.overridden == ["decision.peers"]
    _, values = simulate_posterior(alone, posterior, seed=3, draws=2, scale=0.005)
    assert all("decision.peers" not in v and "decision.soren" in v for v in values)
