"""The three Markdown reports render from data through their templates (analysis/templates/)."""

import copy
import json
import re
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from analysis.aftermath_report import COLUMNS, report
from analysis.calibration.report import LETTERS_FACTOR, _markdown
from analysis.comparison.paired import compare
from analysis.comparison.report import markdown
from analysis.reporting import paragraph
from sim.paired import COMPARED
from sim.record import aftermath_figures

CALIBRATION_DATA = ROOT / "docs" / "generated" / "calibration" / "report_data.json"


@pytest.fixture(scope="module")
def calibration_data(historical):
    """The committed report's data, with the keys a report written before the templates lacks."""
    data = json.loads(CALIBRATION_DATA.read_text())
    data.setdefault("people", historical.population.people)
    data["queue"].setdefault("letters_factor", LETTERS_FACTOR)
    data["queue"].setdefault("mean_household_size", historical.population.mean_household_size)
    return data


def _not_met(text: str) -> list[str]:
    """The bullets of the calibration report's section on the fitted figures it misses."""
    section = text.split("## What fits, what does not, and why")[1].split("\n\n")[1]
    return [line for line in section.splitlines() if line.startswith("- **")]


def test_the_calibration_report_lists_a_missed_figure_only_when_it_is_missed(calibration_data):
    data = copy.deepcopy(calibration_data)
    for row in data["rows"]:
        row["met"] = True
    text = _markdown(data)
    fitted = sum(row["fit"] for row in data["rows"])
    assert f"**{fitted} of {fitted} fitted figures**" in text
    assert "Every fitted figure is within its tolerance at the calibrated point." in text
    assert _not_met(text) == []

    wives = next(row for row in data["rows"] if row["key"] == "japanese_wives")
    wives["met"] = False
    text = _markdown(data)
    assert f"**{fitted - 1} of {fitted} fitted figures**" in text
    assert "Every fitted figure is within" not in text
    (line,) = _not_met(text)
    assert line.startswith(f"- **{wives['label']}**: documented ")
    assert f"(band {wives['low']:,.0f} - {wives['high']:,.0f})" in line


def test_the_calibration_report_refuses_data_without_a_number_it_quotes(calibration_data):
    data = copy.deepcopy(calibration_data)
    del data["people"]  # the scale section's "(30,000 people)"
    with pytest.raises(jinja2.UndefinedError):
        _markdown(data)


def test_the_comparison_report_has_one_row_per_scenario_in_each_table(historical):
    scenarios = [
        historical.model_copy(update={"name": name, "description": f"{name}, unchanged"})
        for name in ("first", "second", "third")
    ]
    comparison = compare(historical, scenarios, seed=5, reps=2, scale=0.01)
    manifest = {
        "seed": 5,
        "replications": [0, 1],
        "scale": 0.01,
        "parameter_uncertainty": None,
        "package_version": "test",
        "git_commit": "test",
        "wall_seconds": 1.0,
    }
    text = markdown(scenarios, comparison, comparison.differences(), None, manifest)
    tables = [block for block in text.split("\n\n") if block.startswith("| scenario |")]
    assert len(tables) == 2  # what each changes; the paired differences
    for table in tables:
        rows = table.splitlines()[2:]
        assert [row.split(" | ")[0] for row in rows] == ["| first", "| second", "| third"]
    # The scenarios are the baseline under other names: every difference is exactly zero.
    assert tables[1].count("+0 [+0 to +0]") == 3 * len(COMPARED)
    assert "## Which channels" not in text and "## After arrival" not in text


def test_the_aftermath_report_explains_each_missed_figure_and_only_those():
    figures = aftermath_figures()
    missed = figures[-1]
    summary = {
        "aftermath": {
            f.key: {
                "full_scale_mean": f.high + 1 if f is missed else f.documented,
                "full_scale_p05": f.low,
                "full_scale_p95": f.high,
            }
            for f in figures
        },
        "figures": {
            "japanese_national_departures": {
                "documented": 6700,
                "qualifier": "about",
                "source": "004",
                "full_scale_mean": 5432.0,
            }
        },
    }
    years = np.arange(1960, 2026)
    table = pd.DataFrame(
        {"year": years, **{f"{name}_persons_mean": np.full(len(years), 100.0) for name in COLUMNS}}
    )
    manifest = {
        "scenario_name": "historical",
        "replications": [0, 1],
        "scale": 0.1,
        "seed": 1,
        "git_commit": "0123456789abcdef",
    }
    text = report(table, summary, manifest, Path("results/run"))
    assert f"**{len(figures) - 1} of {len(figures)}** documented" in text
    (line,) = [line for line in text.splitlines() if line.startswith("- Not met:")]
    assert f"**{missed.label}**" in line
    assert "the run sends 5,432 Japanese nationals against about 6,700 documented" in line
    assert text.count("| **no** |") == 1
    # The year-by-year table shows the run's full-population persons as they are.
    assert re.search(r"^\| 2025 \| 100 \| 100 \|", text, re.MULTILINE)


def test_a_paragraph_block_becomes_one_line():
    assert paragraph("  One long\nsentence,   wrapped.\n") == "One long sentence, wrapped.\n"


def test_the_calibration_report_shows_the_validation_checks_when_the_runs_were_kept(
    calibration_data,
):
    from test_validation import synthetic_table

    from analysis.calibration.validation import coverage, leave_one_out

    table = synthetic_table(noise=1.0)
    widths = {"a": 1.0, "b": 1.0, "total": 100.0}
    bands = {"a": (-1, 1), "b": (-1, 1), "total": (900, 1100)}
    data = copy.deepcopy(calibration_data)
    data["validation"] = {
        "runs": 3000,
        "inside": 3000,
        "leave_one_out": leave_one_out(table, widths, bands, 100, keys=("total",)),
        "coverage": coverage(table, 50, 100, np.random.default_rng(0)),
    }
    text = _markdown(data)
    assert "### Leave-one-out" in text and "| total | 900 to 1,100 |" in text
    assert "| `p` |" in text and "not available" not in text.lower()
    data["validation"] = None
    assert "Not available for this calibration" in _markdown(data)
