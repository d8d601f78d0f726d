"""The comparison's report: a folder with the tables, the figures, report.md and a manifest.

``write_report`` writes, atomically, the tables ``differences`` (paired differences per scenario
and outcome), ``annual_differences`` and ``attribution`` (in the
``--format`` asked for: ``differences.parquet`` by default), the PNG figures, ``report.md`` (a
reader can follow it without running anything) and ``manifest.json``. When the after-arrival
stage ran, the folder also holds the tables ``aftermath_differences`` and
``aftermath_annual_differences``, and ``aftermath_fan_charts.png``. Counts are full-population
persons, named so (``difference_persons_median``). The report's prose is in
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
from sim.table_files import write_table

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
    fmt: str = "parquet",
) -> None:
    """Write the comparison's folder, its tables in ``fmt`` (``sim.table_files.FORMATS``)."""
    differences = comparison.differences()
    attrs = {"baseline": baseline.name, "scale": comparison.scale}
    files: dict[str, str] = {}

    def table(frame: pd.DataFrame, stem: str, dims: list[str]) -> None:
        files[stem] = write_table(frame, folder, stem, fmt, dims, attrs).name

    with staged_directory(out) as folder:
        table(in_persons(differences), "differences", ["scenario", "outcome"])
        table(
            in_persons(comparison.annual_differences()), "annual_differences", ["scenario", "year"]
        )
        fan_charts(comparison, folder / "fan_charts.png")
        difference_bars(differences, folder / "differences.png")
        if attribution is not None:
            table(in_persons(attribution.shares), "attribution", ["channel"])
            attribution_bars(attribution, folder / "attribution.png")
        if comparison.aftermath is not None:
            after = comparison.aftermath_differences()
            table(in_persons(after), "aftermath_differences", ["scenario", "outcome"])
            table(
                in_persons(comparison.aftermath_annual_differences()),
                "aftermath_annual_differences",
                ["scenario", "series", "year"],
            )
            aftermath_fan_charts(comparison, folder / "aftermath_fan_charts.png")
        (folder / "report.md").write_text(
            markdown(scenarios, comparison, differences, attribution, manifest, files)
        )
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))


STATISTICS = ("p05", "median", "p95")


def in_persons(table: pd.DataFrame) -> pd.DataFrame:
    """A table whose differences, medians and departures are all full-population persons (the
    compared outcomes are counts: ``sim.paired.COMPARED``), with the unit in their names:
    ``difference_median`` becomes ``difference_persons_median``."""

    def name(column: str) -> str:
        head, _, statistic = column.rpartition("_")
        if statistic in STATISTICS and head in ("difference", "baseline", "departures"):
            return f"{head}_persons_{statistic}"
        return column

    return table.rename(columns=name)


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
    files: dict[str, str] | None = None,
) -> str:
    """The report's Markdown: the template ``comparison_report.md.j2`` given the runs' results
    and the names of the table files (``files``, by table)."""
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
        files=files or {stem: f"{stem}.parquet" for stem in TABLES},
    )


TABLES = (
    "differences",
    "annual_differences",
    "attribution",
    "aftermath_differences",
    "aftermath_annual_differences",
)
