"""The comparison's report: a folder with the tables, the figures, report.md and a manifest.

``write_report`` writes, atomically, ``differences.csv`` (paired differences per scenario and
outcome), ``annual_differences.csv``, ``attribution.csv``, the PNG figures, ``report.md`` (a
reader can follow it without running anything) and ``manifest.json``. When the after-arrival
stage ran, the folder also holds ``aftermath_differences.csv``,
``aftermath_annual_differences.csv`` and ``aftermath_fan_charts.png``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sim.outcomes import AFTERMATH_OUTCOMES, outcomes
from sim.paired import COMPARED
from sim.rundir import staged_directory
from sim.schema import Scenario

from .attribution import Attribution
from .figures import aftermath_fan_charts, attribution_bars, difference_bars, fan_charts
from .paired import Comparison

AFTERMATH_TABLE_YEARS = (1980, 1990, 2000, 2005, 2010, 2015, 2020, 2025)


def write_report(out: Path, baseline: Scenario, scenarios: list[Scenario], comparison: Comparison,
                 attribution: Attribution | None, manifest: dict) -> None:
    differences = comparison.differences()
    with staged_directory(out) as folder:
        differences.to_csv(folder / "differences.csv", index=False, float_format="%.6g")
        comparison.annual_differences().to_csv(folder / "annual_differences.csv", index=False,
                                               float_format="%.6g")
        fan_charts(comparison, folder / "fan_charts.png")
        difference_bars(differences, folder / "differences.png")
        if attribution is not None:
            attribution.shares.to_csv(folder / "attribution.csv", index=False, float_format="%.6g")
            attribution_bars(attribution, folder / "attribution.png")
        if comparison.aftermath is not None:
            comparison.aftermath_differences().to_csv(folder / "aftermath_differences.csv",
                                                      index=False, float_format="%.6g")
            comparison.aftermath_annual_differences().to_csv(
                folder / "aftermath_annual_differences.csv", index=False, float_format="%.6g")
            aftermath_fan_charts(comparison, folder / "aftermath_fan_charts.png")
        (folder / "report.md").write_text(markdown(baseline, scenarios, comparison, differences,
                                                   attribution, manifest))
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))


# -- the report --------------------------------------------------------------------------------


def _fmt(row, prefix="difference") -> str:
    return (f"{row[f'{prefix}_median']:+,.0f} [{row[f'{prefix}_p05']:+,.0f} to "
            f"{row[f'{prefix}_p95']:+,.0f}]")


def aftermath_markdown(scenarios, comparison, manifest) -> list[str]:
    """The report's after-arrival section: paired differences of who came back, and when."""
    table = comparison.aftermath_differences()
    enabled = [s.name for s in scenarios if s.aftermath_enabled]
    why = " and ".join(
        ([f"{', '.join(f'`{name}`' for name in enabled)} switch it on (`[aftermath] enabled = "
          "true`)"] if enabled else [])
        + (["`--aftermath` was given"] if manifest.get("aftermath", {}).get("requested") else []))
    base = {key: table[table["outcome"] == key]["baseline_median"].iloc[0]
            for key in AFTERMATH_OUTCOMES}
    lines = [
        "",
        "## After arrival: who came back, 1960-2025",
        "",
        "The after-arrival stage (`sim/aftermath.py`) followed the people who left in the "
        "baseline and in every scenario, and the children born to them in the North, year by "
        f"year to 2025; it ran because {why or 'it was asked for'}. In every run, replication k "
        "of the stage draws from its own stream (child k of the seed's after-arrival branch), so "
        "its differences are paired like the others. A scenario that changes who leaves changes "
        "who arrives; one that changes the stage's gates (China's, Japan's, a right of return, a "
        "resettlement programme) changes who comes back. The stage's rates are assumptions, set "
        "by hand to meet a few documented counts (the `[aftermath]` section of the baseline's "
        "scenario file says which): read these differences as properties of the model, not as "
        "findings about history.",
        "",
        f"Baseline (median over replications): {base['resettled_japan_2025']:,.0f} resettled in "
        f"Japan by 2025, of them {base['japanese_nationals_resettled_japan_2025']:,.0f} Japanese "
        f"nationals; {base['resettled_south_korea_2025']:,.0f} resettled in South Korea; "
        f"{base['in_north_2025']:,.0f} returnees and descendants in the North in 2025; "
        f"{base['in_japanese_missions_2010']:,.0f} held in Japanese missions or custody in China "
        "at the end of 2010.",
        "",
        "| scenario | " + " | ".join(o.label for o in AFTERMATH_OUTCOMES.values()) + " |",
        "|---|" + "---|" * len(AFTERMATH_OUTCOMES),
    ]
    for name in comparison.aftermath:
        cells = [_fmt(table[(table["scenario"] == name) & (table["outcome"] == key)].iloc[0])
                 for key in AFTERMATH_OUTCOMES]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    annual = comparison.aftermath_annual_differences(("resettled_japan",))
    years = [y for y in AFTERMATH_TABLE_YEARS if y in set(annual["year"])]
    lines += [
        "",
        "Resettled in Japan since 1960 (cumulative), paired difference from the baseline by the "
        "end of each year (median [90% band]):",
        "",
        "| scenario | " + " | ".join(str(y) for y in years) + " |",
        "|---|" + "---|" * len(years),
    ]
    for name in comparison.aftermath:
        part = annual[annual["scenario"] == name].set_index("year")
        lines.append(f"| {name} | " + " | ".join(_fmt(part.loc[y]) for y in years) + " |")
    lines += [
        "",
        "![Resettled in Japan, paired difference by year](aftermath_fan_charts.png)",
        "",
        "Every year from 1960, for resettlement in Japan, of Japanese nationals, in South Korea "
        "and those in the North, is in `aftermath_annual_differences.csv`; the table above is "
        "`aftermath_differences.csv`.",
    ]
    return lines


def markdown(baseline, scenarios, comparison, differences, attribution, manifest) -> str:
    lines = [
        "# Counterfactual scenarios against the historical baseline",
        "",
        f"Each scenario was run with the baseline's seed ({manifest['seed']}), the same synthetic "
        f"population and the same {len(manifest['replications'])} replications, at scale "
        f"{manifest['scale']:g} (counts below are full-population persons). Replication k of a "
        "scenario shares its random numbers with replication k of the baseline, so the difference "
        "taken replication by replication is the effect of the policy change; the tables give "
        "its median and 90% band. " + (
            "Replication k of every run used posterior draw k of the calibration "
            f"(`{manifest['parameter_uncertainty']}`), so the bands include the uncertainty of "
            "the calibrated parameters." if manifest["parameter_uncertainty"] else
            "The parameters are those of the baseline scenario file; the bands show the "
            "model's randomness, not the uncertainty of its parameters (add "
            "`--parameter-uncertainty` for that)."),
        "",
        "## The scenarios",
        "",
        "| scenario | what it changes |",
        "|---|---|",
    ]
    for scenario in scenarios:
        lines.append(f"| {scenario.name} | {scenario.description} |")
    base_total = differences[differences["outcome"] == "departures"]["baseline_median"].iloc[0]
    lines += [
        "",
        "## Paired differences from the baseline",
        "",
        f"Baseline (median over replications): {base_total:,.0f} departures, Dec 1959 - Jul 1984.",
        "",
        "| scenario | " + " | ".join(outcomes()[k].label for k in COMPARED) + " |",
        "|---|" + "---|" * len(COMPARED),
    ]
    for name in comparison.scenarios:
        cells = []
        for key in COMPARED:
            row = differences[(differences["scenario"] == name) & (differences["outcome"] == key)].iloc[0]
            cells.append(_fmt(row))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "![Change in total departures](differences.png)",
        "",
        "Annual departures of each scenario beside the baseline:",
        "",
        "![Fan charts](fan_charts.png)",
        "",
        "Year-by-year paired differences are in `annual_differences.csv`.",
    ]
    if attribution is not None:
        lines += [
            "",
            "## Which channels produced the baseline's departures?",
            "",
            "Four channels were switched off alone and in every combination (16 paired runs). "
            f"With all four on (the baseline) {np.median(attribution.all_on):,.0f} people leave; "
            f"with all four off, {np.median(attribution.all_off):,.0f}. Each channel's Shapley value "
            "is its effect averaged over the orders in which channels can be switched on; the four "
            "add up to the difference.",
            "",
            "| channel | what is switched off | departures due to it | share of the difference |",
            "|---|---|---|---|",
        ]
        for row in attribution.shares.to_dict("records"):
            share = (f"{100 * row['share_median']:.0f}% [{100 * row['share_p05']:.0f}% to "
                     f"{100 * row['share_p95']:.0f}%]")
            lines.append(f"| {row['channel']} | {row['meaning']} | {_fmt(row, 'departures')} | {share} |")
        lines += ["", "![Attribution](attribution.png)"]
    if comparison.aftermath is not None:
        lines += aftermath_markdown(scenarios, comparison, manifest)
    lines += [
        "",
        "## How this was produced",
        "",
        "`repatriation compare` (package version "
        f"{manifest['package_version']}, commit {manifest['git_commit']}), "
        f"{manifest['wall_seconds']} s. Scenario files and their sha256 are in `manifest.json`.",
        "",
    ]
    return "\n".join(lines)
