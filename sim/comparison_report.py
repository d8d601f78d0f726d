"""The ``compare`` command: counterfactual scenarios against the baseline, written as a report.

    repatriation compare --reps 20 --scale 1.0 --out results/comparison
    repatriation compare scenarios/no_welfare_cuts.toml scenarios/letters_published.toml

It writes, atomically, a folder with ``differences.csv`` (paired differences per scenario and
outcome), ``annual_differences.csv``, ``attribution.csv``, three PNG figures, ``report.md`` (a
reader can follow it without running anything) and ``manifest.json``. When a scenario switches
the after-arrival stage on (or with ``--aftermath``), every run is followed to 2025 and the
folder also holds ``aftermath_differences.csv``, ``aftermath_annual_differences.csv`` and
``aftermath_fan_charts.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .compare import AFTERMATH_OUTCOMES, OUTCOMES, Attribution, Comparison, annual
from .outputs import git_commit, staged_directory
from .scenario import Scenario, ScenarioError, load_scenario

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
OUTCOME_LABELS = {
    "departures": "departures, Dec 1959 - Jul 1984",
    "departures_1960": "departures in 1960",
    "registrations": "registrations",
    "cancellations": "cancellations",
    "deportee_departures": "deportees among those who left",
    "japanese_national_departures": "Japanese nationals among those who left",
}
AFTERMATH_LABELS = {
    "resettled_japan_2025": "resettled in Japan by 2025",
    "japanese_nationals_resettled_japan_2025": "Japanese nationals resettled in Japan by 2025",
    "resettled_south_korea_2025": "resettled in South Korea by 2025",
    "in_north_2025": "in the North in 2025",
    "in_japanese_missions_2010": "held in Japanese missions, end of 2010",
}
AFTERMATH_TABLE_YEARS = (1980, 1990, 2000, 2005, 2010, 2015, 2020, 2025)


def add_command(commands) -> None:
    parser = commands.add_parser(
        "compare", help="run counterfactual scenarios against the baseline (paired) and report")
    parser.add_argument("scenarios", nargs="*", type=Path,
                        help="scenario files (default: every other .toml beside the baseline)")
    parser.add_argument("--baseline", type=Path, default=Path("scenarios/historical.toml"))
    parser.add_argument("--reps", type=int, default=20, help="replications (default 20)")
    parser.add_argument("--seed", type=int, default=1959)
    parser.add_argument("--scale", type=float, default=1.0, help="population share (default 1.0)")
    parser.add_argument("--out", type=Path, default=Path("results/comparison"))
    parser.add_argument("--no-attribution", action="store_true",
                        help="skip the 16-run attribution of departures to channels")
    parser.add_argument("--parameter-uncertainty", action="store_true",
                        help="replication k uses posterior draw k of the baseline's calibration, "
                             "so the bands include parameter uncertainty")
    parser.add_argument("--aftermath", action="store_true",
                        help="follow the baseline and every scenario through the after-arrival "
                             "stage to 2025 (done by itself when a scenario's [aftermath] says "
                             "enabled = true)")
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    from .compare import attribute, compare, numpy_runner, posterior_runner
    from .scenario import posterior_file

    if args.reps < 2 or not 0 < args.scale <= 1:
        print("error: --reps must be at least 2 and --scale in (0, 1]", file=sys.stderr)
        return 2
    files = args.scenarios or sorted(p for p in args.baseline.parent.glob("*.toml")
                                     if p.resolve() != args.baseline.resolve())
    try:
        baseline = load_scenario(args.baseline)
        scenarios = [load_scenario(path) for path in files]
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    runner, posterior_path = numpy_runner, None
    if args.parameter_uncertainty:
        from .calibration import read_posterior

        posterior_path = posterior_file(args.baseline)
        if posterior_path is None:
            print(f"error: {args.baseline} has no [calibration] posterior; drop "
                  "--parameter-uncertainty", file=sys.stderr)
            return 2
        runner = posterior_runner(read_posterior(posterior_path))
    say = (lambda text: print(f"  running {text}", file=sys.stderr)) if sys.stderr.isatty() else None
    started = time.perf_counter()
    try:
        comparison = compare(baseline, scenarios, args.seed, args.reps, args.scale, runner, say,
                             aftermath=True if args.aftermath else None)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    attribution = None if args.no_attribution else attribute(
        baseline, args.seed, args.reps, args.scale, runner, progress=say)
    wall = time.perf_counter() - started
    manifest = {
        "command": "compare",
        "baseline": {"file": str(args.baseline), "sha256": baseline.digest()},
        "scenarios": [{"file": str(p), "name": s.name, "sha256": s.digest()}
                      for p, s in zip(files, scenarios)],
        "seed": args.seed, "replications": list(range(args.reps)), "scale": args.scale,
        "parameter_uncertainty": str(posterior_path) if posterior_path else None,
        "engine": "numpy", "package_version": __version__, "git_commit": git_commit(),
        "wall_seconds": round(wall, 1),
    }
    if comparison.aftermath is not None:
        manifest["aftermath"] = {
            "requested": bool(args.aftermath),
            "enabled_by": [s.name for s in scenarios if s.aftermath_enabled],
            "outcomes": {key: {"series": series, "year": year}
                         for key, (series, year) in AFTERMATH_OUTCOMES.items()},
        }
    write_report(args.out, baseline, scenarios, comparison, attribution, manifest)
    print(headline(comparison))
    print(f"Report written to {args.out}/report.md")
    return 0


def headline(comparison: Comparison) -> str:
    table = comparison.differences()
    table = table[table["outcome"] == "departures"]
    lines = ["Change in total departures against the baseline (median [90% band], paired):"]
    for row in table.sort_values("difference_median").itertuples():
        lines.append(f"  {row.scenario:28s} {row.difference_median:+9,.0f}  "
                     f"[{row.difference_p05:+,.0f} to {row.difference_p95:+,.0f}]")
    if comparison.aftermath is not None:
        table = comparison.aftermath_differences()
        table = table[table["outcome"] == "resettled_japan_2025"]
        lines.append("Change in those resettled in Japan by 2025 (after arrival; median "
                     "[90% band], paired):")
        for row in table.sort_values("difference_median").itertuples():
            lines.append(f"  {row.scenario:28s} {row.difference_median:+9,.0f}  "
                         f"[{row.difference_p05:+,.0f} to {row.difference_p95:+,.0f}]")
    return "\n".join(lines)


def write_report(out: Path, baseline: Scenario, scenarios: list[Scenario], comparison: Comparison,
                 attribution: Attribution | None, manifest: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
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


# -- figures -----------------------------------------------------------------------------------


def _band_by_year(run, scale):
    table = annual(run) / scale
    return (table.columns.to_numpy(), table.quantile(0.05).to_numpy(), table.median().to_numpy(),
            table.quantile(0.95).to_numpy())


def fan_charts(comparison: Comparison, path: Path) -> None:
    import matplotlib.pyplot as plt

    names = list(comparison.scenarios)
    cols = 2
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.6 * rows), sharex=True, squeeze=False)
    years, low, mid, high = _band_by_year(comparison.baseline, comparison.scale)
    for ax, name in zip(axes.flat, names):
        ax.fill_between(years, low, high, color="#999999", alpha=0.35, linewidth=0)
        ax.plot(years, mid, color="#555555", linewidth=1.5, label="historical baseline")
        y, lo, md, hi = _band_by_year(comparison.scenarios[name], comparison.scale)
        ax.fill_between(y, lo, hi, color=OKABE_ITO[0], alpha=0.3, linewidth=0)
        ax.plot(y, md, color=OKABE_ITO[0], linewidth=1.5, linestyle="--", label=name)
        ax.set_title(name.replace("_", " "), fontsize=10)
        ax.set_xlim(1958, 1985)
        ax.set_ylabel("departures / year")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    handles = [plt.Line2D([], [], color="#555555", label="historical baseline (median, 90% band)"),
               plt.Line2D([], [], color=OKABE_ITO[0], linestyle="--",
                          label="scenario (median, 90% band)")]
    fig.legend(handles=handles, loc="upper center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def aftermath_fan_charts(comparison: Comparison, path: Path,
                         series: str = "resettled_japan") -> None:
    """Per scenario, the paired difference in cumulative resettlement in Japan, year by year."""
    import matplotlib.pyplot as plt

    table = comparison.aftermath_annual_differences((series,))
    names = list(comparison.aftermath)
    cols = 2
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.6 * rows), sharex=True, squeeze=False)
    for ax, name in zip(axes.flat, names):
        part = table[table["scenario"] == name]
        ax.fill_between(part["year"], part["difference_p05"], part["difference_p95"],
                        color=OKABE_ITO[2], alpha=0.3, linewidth=0)
        ax.plot(part["year"], part["difference_median"], color=OKABE_ITO[2], linewidth=1.5)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_title(name.replace("_", " "), fontsize=10)
        ax.set_xlim(1960, int(part["year"].max()) if len(part) else 2025)
        ax.set_ylabel("resettled in Japan,\nvs. baseline")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    handles = [plt.Line2D([], [], color=OKABE_ITO[2],
                          label="paired difference in those resettled in Japan since 1960 "
                                "(cumulative; median, 90% band)")]
    fig.legend(handles=handles, loc="upper center", ncol=1, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _band_bars(path: Path, labels: list[str], median, low, high, colors, xlabel: str) -> None:
    """Horizontal bars at the median with the 90% band as error bars."""
    import matplotlib.pyplot as plt

    median, low, high = (np.asarray(v, dtype=float) for v in (median, low, high))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(labels) + 1.5))
    y = np.arange(len(labels))
    ax.barh(y, median, color=colors)
    ax.errorbar(median, y, xerr=[median - low, high - median], fmt="none", ecolor="black",
                capsize=3, linewidth=1)
    ax.set_yticks(y, labels)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def difference_bars(differences: pd.DataFrame, path: Path) -> None:
    table = differences[differences["outcome"] == "departures"].sort_values("difference_median")
    colors = [OKABE_ITO[1] if v < 0 else OKABE_ITO[0] for v in table["difference_median"]]
    _band_bars(path, [s.replace("_", " ") for s in table["scenario"]], table["difference_median"],
               table["difference_p05"], table["difference_p95"], colors,
               "change in departures Dec 1959 - Jul 1984 vs. baseline (median, 90% band)")


def attribution_bars(attribution: Attribution, path: Path) -> None:
    table = attribution.shares
    _band_bars(path, list(table["channel"]), 100 * table["share_median"], 100 * table["share_p05"],
               100 * table["share_p95"], OKABE_ITO[2],
               "share of the departures the four channels explain (%, Shapley; 90% band)")


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
        "| scenario | " + " | ".join(AFTERMATH_LABELS[k] for k in AFTERMATH_OUTCOMES) + " |",
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
        "| scenario | " + " | ".join(OUTCOME_LABELS[k] for k in OUTCOMES) + " |",
        "|---|" + "---|" * len(OUTCOMES),
    ]
    for name in comparison.scenarios:
        cells = []
        for key in OUTCOMES:
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
