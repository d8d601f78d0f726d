"""Property-based fuzzing of the two documents users write most: any scenario or sweep file is
either accepted or refused with an error that names the file, never a traceback."""

import json
import math
import tomllib

import pytest
from conftest import HISTORICAL
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.sweeps.spec import SweepError, load_sweep
from sim.scenario import ScenarioError, load_scenario
from sim.schema import Scenario

FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Scalars as TOML holds them (no surrogates: a TOML file is UTF-8 text).
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
scalars = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    text,
    st.sampled_from(["1955-01", "1984-12", "1960-13", "historical", "../x", ""]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=6,
)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(document: dict) -> str:
    """A TOML file of ``document``: top-level keys first, then one [table] per nested dict."""
    scalars_ = [
        f"{json.dumps(k)} = {toml_value(v)}" for k, v in document.items() if not isinstance(v, dict)
    ]
    tables = [
        f"[{json.dumps(k)}]\n"
        + "\n".join(f"{json.dumps(n)} = {toml_value(v)}" for n, v in t.items())
        for k, t in document.items()
        if isinstance(t, dict)
    ]
    return "\n".join(scalars_ + tables) + "\n"


def mutated(document: dict, draw) -> dict:
    """The document with a few keys replaced by anything, removed, or added."""
    document = json.loads(json.dumps(document))
    for _ in range(draw(st.integers(1, 3))):
        sections = [k for k, v in document.items() if isinstance(v, dict) and v]
        action = draw(st.sampled_from(["replace", "remove", "add", "replace_top"]))
        if action == "replace_top" or not sections:
            key = draw(st.sampled_from(sorted(document) or ["name"]))
            document[key] = draw(values)
            continue
        section = document[draw(st.sampled_from(sections))]
        key = draw(st.sampled_from(sorted(section)))
        if action == "replace":
            section[key] = draw(values)
        elif action == "remove":
            del section[key]
        else:
            section[draw(text)] = draw(values)
    return document


SCENARIO = {
    "extends": str(HISTORICAL),
    "name": "fuzzed",
    "decision": {"peers": 1.0, "belief": 3.0},
    "process": {"register_rate": 0.1, "cancel_rate": 0.2},
    "population": {"network_degree": 8, "people": 100_000},
    "levers": {"propaganda": [{"from": "1955-01", "value": 0.5}]},
    "simulation": {"start": "1955-01", "end": "1984-12"},
}
SWEEP = {
    "name": "fuzzed",
    "scenario": str(HISTORICAL),
    "seed": 1,
    "replications": 1,
    "scale": 0.01,
    "outputs": ["departures_total"],
    "design": {"method": "latin", "samples": 2},
    "parameters": {
        "decision.peers": {"min": 0.5, "max": 1.0},
        "levers.propaganda": {"min": 0.2, "max": 0.9, "from": "1958-08", "to": "1961-12"},
        "levers.programme_open": {"step": "1967-12", "min": "1961-01", "max": "1969-12"},
        "levers.letters_published": {
            "schedules": {"kept": "historical", "published": [{"from": "1955-01", "value": 1}]}
        },
    },
}


def test_the_unmutated_documents_are_valid(tmp_path):
    (tmp_path / "s.toml").write_text(toml_document(SCENARIO))
    assert tomllib.loads(toml_document(SCENARIO))["decision"] == SCENARIO["decision"]
    assert isinstance(load_scenario(tmp_path / "s.toml"), Scenario)
    (tmp_path / "w.toml").write_text(toml_document(SWEEP))
    assert load_sweep(tmp_path / "w.toml").name == "fuzzed"


# Each door: the document it starts from, how it is read, what it raises on bad input.
DOORS = {
    "scenario": (SCENARIO, load_scenario, ScenarioError),
    "sweep": (SWEEP, load_sweep, SweepError),
}


@FUZZ
@given(data=st.data())
@pytest.mark.parametrize("kind", sorted(DOORS))
def test_any_document_is_accepted_or_refused_naming_the_file(tmp_path, kind, data):
    document, load, error = DOORS[kind]
    path = tmp_path / "f.toml"
    path.write_text(toml_document(mutated(document, data.draw)))
    # A scenario's error may lie in the base file it extends, and then names that file.
    named = (str(path), str(HISTORICAL)) if kind == "scenario" else (str(path),)
    try:
        load(path)
    except error as exc:
        assert any(name in str(exc) for name in named)


@FUZZ
@given(content=st.binary(max_size=200))
@pytest.mark.parametrize("kind", sorted(DOORS))
def test_any_bytes_are_accepted_or_refused_naming_the_file(tmp_path, kind, content):
    _, load, error = DOORS[kind]
    path = tmp_path / "f.toml"
    path.write_bytes(content)
    try:
        load(path)
    except error as exc:
        assert str(path) in str(exc)
