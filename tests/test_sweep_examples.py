"""The example sweeps of sweeps/ and ranges read from the posterior.

Every example is valid, spans the calibrated baseline (the base scenario is a point of its
design space: no example is stale), and runs end to end at a tiny scale, with its sensitivity
analysis. ``range = "posterior"`` is read from the posterior file when the sweep is loaded: a
new posterior gives new ranges without editing a sweep file.
"""

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
from conftest import HISTORICAL, ROOT

from analysis.sensitivity import morris_table, noise_table, sobol_table
from analysis.sweeps.design import Parameter
from analysis.sweeps.levers import Choice, LeverLevel, StepDate
from analysis.sweeps.runner import run_sweep
from analysis.sweeps.spec import SweepError, load_sweep
from analysis.tables import output_column
from sim.schedules import monthly_values

EXAMPLES = sorted((ROOT / "sweeps").glob("*.toml"))
POSTERIOR = ROOT / "scenarios" / "calibration" / "historical" / "posterior.json"


def test_there_are_examples_for_parameters_and_for_levers():
    names = {path.stem for path in EXAMPLES}
    assert {"sobol_8", "morris_screening", "policy_levers", "policy_grid"} <= names


def _holds_base(dimension, base) -> bool:
    """Whether the base scenario's own value (or schedule) lies in a dimension's range."""
    if isinstance(dimension, Parameter):
        section, name = dimension.key.split(".")
        return dimension.low <= getattr(getattr(base, section), name) <= dimension.high
    schedule = getattr(base.levers, dimension.lever)
    if isinstance(dimension, LeverLevel):
        months = base.months[(base.months >= dimension.start) & (base.months <= dimension.end)]
        values = monthly_values(schedule, months)
        return bool(np.all((dimension.low <= values) & (values <= dimension.high)))
    if isinstance(dimension, StepDate):
        return dimension.low <= schedule[dimension.index].start <= dimension.high
    assert isinstance(dimension, Choice)
    return tuple((s.start, s.value) for s in schedule) in dimension.schedules


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_spans_the_calibrated_baseline(path):
    sweep = load_sweep(path)
    outside = [p.key for p in sweep.parameters if not _holds_base(p, sweep.base)]
    assert not outside, f"{path.name}: the calibrated baseline is outside the range of {outside}"


def tiny(path: Path, folder: Path) -> Path:
    """A copy of an example at a tiny size: 1% scale, 2 replications, the fewest samples."""
    raw = tomllib.loads(path.read_text())
    raw["scenario"] = str((path.parent / raw["scenario"]).resolve())
    raw.update(scale=0.01, replications=2)
    method = raw["design"]["method"]
    if method != "grid":
        raw["design"]["samples"] = {"sobol": 4, "morris": 2, "latin": 4}[method]
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / path.name
    out.write_text(_toml(raw))
    return out


def _toml(value, table: str = "") -> str:
    """Enough TOML for the example files: scalars, lists of scalars or tables, nested tables."""
    scalars = {k: v for k, v in value.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in value.items() if isinstance(v, dict)}
    lines = [f"[{table}]"] if table else []
    lines += [f"{json.dumps(k)} = {_inline(v)}" for k, v in scalars.items()]
    for key, inner in tables.items():
        lines.append(_toml(inner, f"{table}.{json.dumps(key)}" if table else json.dumps(key)))
    return "\n".join(lines) + "\n"


def _inline(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_inline(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return json.dumps(value)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_runs_at_a_tiny_scale_with_its_analysis(path, tmp_path, cluster):
    small = tiny(path, tmp_path)
    original, sweep = load_sweep(path), load_sweep(small)
    assert sweep.ranges() == original.ranges()  # the same sweep, only smaller
    report = run_sweep(sweep, tmp_path / "out", scheduler=cluster.scheduler_address)
    results = report.results
    assert len(results) == len(sweep.design) * 2
    outputs = sweep.spec.outputs
    columns = [output_column(key) for key in outputs]
    assert np.isfinite(results[columns].to_numpy(dtype=float)).all()
    method = sweep.spec.design.method
    if method in ("sobol", "morris"):
        analyse = sobol_table if method == "sobol" else morris_table
        table = analyse(report.out, resamples=20)
        assert set(table["parameter"]) == set(sweep.keys)
        assert len(noise_table(report.out)) == len(outputs)


# -- ranges read from the posterior ---------------------------------------------------------


def posterior_copy(folder: Path, change=None) -> Path:
    """A scenario extending the baseline whose posterior is a (changed) copy of the adopted one."""
    document = json.loads(POSTERIOR.read_text())
    if change:
        change(document)
    (folder / "posterior.json").write_text(json.dumps(document))
    scenario = folder / "base.toml"
    scenario.write_text(
        f'extends = "{HISTORICAL.as_posix()}"\nname = "base"\n'
        '[calibration]\nposterior = "posterior.json"\n'
    )
    return scenario


SWEEP = """
name = "ranges"
scenario = "base.toml"
seed = 1
replications = 1
scale = 0.01
outputs = ["departures_total"]

[design]
method = "latin"
samples = 4

[parameters]
"decision.peers" = { range = "posterior" }
"population.parolees" = { range = "posterior" }
"""


def test_a_posterior_range_is_the_particles_5_to_95_percent_holding_the_point(tmp_path):
    def move_point(document):  # a point beyond every particle
        document["point"]["decision.peers"] = max(document["sample"]["decision.peers"]) + 0.5

    posterior_copy(tmp_path, move_point)
    (tmp_path / "sweep.toml").write_text(SWEEP)
    sweep = load_sweep(tmp_path / "sweep.toml")
    document = json.loads((tmp_path / "posterior.json").read_text())
    peers, parolees = sweep.parameters
    particles = np.asarray(document["sample"]["decision.peers"])
    assert peers.low == pytest.approx(np.quantile(particles, 0.05))
    assert peers.high == document["point"]["decision.peers"]  # widened to the point
    # Each particle counts once, whatever its weight (the adopted posterior's weights collapse).
    assert peers.low < np.quantile(particles, 0.95) < peers.high
    # A whole-number key gets whole-number ends around its particles' percentiles.
    counts = np.quantile(document["sample"]["population.parolees"], [0.05, 0.95])
    assert parolees.low == np.floor(counts[0]) and parolees.high == np.ceil(counts[1])
    assert sweep.design["population.parolees"].map(float.is_integer).all()


def test_a_new_posterior_gives_new_ranges_and_new_points(tmp_path):
    posterior_copy(tmp_path)
    (tmp_path / "sweep.toml").write_text(SWEEP)
    before = load_sweep(tmp_path / "sweep.toml")

    def shift(document):
        document["sample"]["decision.peers"] = [v + 1 for v in document["sample"]["decision.peers"]]
        document["point"]["decision.peers"] += 1

    posterior_copy(tmp_path, shift)  # another calibration replaces the file
    after = load_sweep(tmp_path / "sweep.toml")
    assert after.parameters[0].low == pytest.approx(before.parameters[0].low + 1)
    assert not set(after.design["point_hash"]) & set(before.design["point_hash"])


@pytest.mark.parametrize(
    "line, message",
    [
        (
            '"decision.family_ties" = { range = "posterior" }',
            "key 'parameters.decision.family_ties.range': decision.family_ties is not calibrated "
            "by posterior.json (its parameters: decision.intercept",
        ),
        (
            '"decision.peers" = { range = "posterior", min = 1.0 }',
            "key 'parameters.decision.peers': give either range = \"posterior\" or the range",
        ),
        (
            '"decision.peers" = { range = "prior" }',
            "key 'parameters.decision.peers.range': Input should be 'posterior'",
        ),
    ],
)
def test_a_bad_posterior_range_is_refused_naming_the_key(tmp_path, line, message):
    posterior_copy(tmp_path)
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP.replace('"decision.peers" = { range = "posterior" }', line))
    with pytest.raises(SweepError) as error:
        load_sweep(path)
    assert f"{path}: {message}" in str(error.value), str(error.value)


def test_a_posterior_that_cannot_be_read_is_refused_before_any_work(tmp_path):
    posterior_copy(tmp_path)
    (tmp_path / "posterior.json").write_text("{}")
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP)
    with pytest.raises(SweepError, match="not a posterior file") as error:
        load_sweep(path)
    assert str(path) in str(error.value)
