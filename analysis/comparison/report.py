"""The comparison's report: a folder with the tables, the figures, report.md and a manifest.

``write_report`` writes, atomically, ``differences.csv`` (paired differences per scenario and
outcome), ``annual_differences.csv``, ``attribution.csv``, the PNG figures, ``report.md`` (a
reader can follow it without running anything) and ``manifest.json``. When the after-arrival
stage ran, the folder also holds ``aftermath_differences.csv``,
``aftermath_annual_differences.csv`` and ``aftermath_fan_charts.png``. The report's prose is in
``analysis/templates/comparison_report.md.j2``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim.outcomes import AFTERMATH_OUTCOMES, outcomes
from sim.paired import COMPARED
from sim.schema import Scenario
from sim.staging import staged_directory

from ..reporting import render
from .attribution import Attribution
from .figures import aftermath_fan_charts, attribution_bars, difference_bars, fan_charts
from .paired import Comparison

AFTERMATH_TABLE_YEARS = (1980, 1990, 2000, 2005, 2010, 2015, 2020, 2025)


def write_report(
    out: Path,
    baseline: Scenario,
    scenarios: list[Scenario],
    comparison: Comparison,
    attribution: Attribution | None,
    manifest: dict,
) -> None:
    differences = comparison.differences()
    with staged_directory(out) as folder:
        differences.to_csv(folder / "differences.csv", index=False, float_format="%.6g")
        comparison.annual_differences().to_csv(
            folder / "annual_differences.csv", index=False, float_format="%.6g"
        )
        fan_charts(comparison, folder / "fan_charts.png")
        difference_bars(differences, folder / "differences.png")
        if attribution is not None:
            attribution.shares.to_csv(folder / "attribution.csv", index=False, float_format="%.6g")
            attribution_bars(attribution, folder / "attribution.png")
        if comparison.aftermath is not None:
            comparison.aftermath_differences().to_csv(
                folder / "aftermath_differences.csv", index=False, float_format="%.6g"
            )
            comparison.aftermath_annual_differences().to_csv(
                folder / "aftermath_annual_differences.csv", index=False, float_format="%.6g"
            )
            aftermath_fan_charts(comparison, folder / "aftermath_fan_charts.png")
        (folder / "report.md").write_text(
            markdown(scenarios, comparison, differences, attribution, manifest)
        )
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))


# -- the report --------------------------------------------------------------------------------


def _by_scenario(table: pd.DataFrame, names, keys, column: str) -> dict[str, list[pd.Series]]:
    """Per scenario, its rows of ``table`` in the order of ``keys`` (``column`` holds the key)."""
    rows = table.set_index(["scenario", column])
    return {name: [rows.loc[(name, key)] for key in keys] for name in names}


def _aftermath_context(scenarios, comparison: Comparison, manifest: dict) -> dict:
    """What the after-arrival section shows: who switched the stage on, the baseline's medians
    and the paired differences, per outcome and per year of resettlement in Japan."""
    table = comparison.aftermath_differences()
    baseline = table.drop_duplicates("outcome").set_index("outcome")["baseline_median"]
    annual = comparison.aftermath_annual_differences(("resettled_japan",))
    years = [y for y in AFTERMATH_TABLE_YEARS if y in set(annual["year"])]
    return {
        "enabled": [s.name for s in scenarios if s.aftermath_enabled],
        "requested": bool(manifest.get("aftermath", {}).get("requested")),
        "first_year": int(annual["year"].min()),
        "last_year": int(annual["year"].max()),
        "baseline": {
            key: {"value": baseline[key], "year": outcome.year}
            for key, outcome in AFTERMATH_OUTCOMES.items()
        },
        "labels": [o.label for o in AFTERMATH_OUTCOMES.values()],
        "differences": _by_scenario(table, comparison.aftermath, AFTERMATH_OUTCOMES, "outcome"),
        "years": years,
        "by_year": _by_scenario(annual, comparison.aftermath, years, "year"),
    }


def markdown(
    scenarios,
    comparison: Comparison,
    differences: pd.DataFrame,
    attribution: Attribution | None,
    manifest: dict,
) -> str:
    """The report's Markdown: the template ``comparison_report.md.j2`` given the runs' results."""
    departures = differences[differences["outcome"] == "departures"]
    channels = None
    if attribution is not None:
        channels = {
            "channels": attribution.shares.to_dict("records"),
            "runs": 2 ** len(attribution.shares),  # every subset of channels switched off
            "all_on": np.median(attribution.all_on),
            "all_off": np.median(attribution.all_off),
        }
    return render(
        "comparison_report.md.j2",
        manifest=manifest,
        scenarios=scenarios,
        departures={
            "baseline": departures["baseline_median"].iloc[0],
            "label": outcomes()["departures"].label,
        },
        compared=[outcomes()[key].label for key in COMPARED],
        differences=_by_scenario(differences, comparison.scenarios, COMPARED, "outcome"),
        attribution=channels,
        aftermath=None
        if comparison.aftermath is None
        else _aftermath_context(scenarios, comparison, manifest),
    )
