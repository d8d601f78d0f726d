"""The ``aftermath-report`` command: a run's after-arrival stage as a Markdown report and a figure.

    repatriation run scenarios/historical.toml --aftermath --out results/historical-aftermath
    repatriation aftermath-report results/historical-aftermath --out analysis/aftermath

It reads the run directory (the ``aftermath`` table, ``summary.json``, ``manifest.json``), never
reruns the model, and writes ``report.md`` and ``aftermath.png`` atomically: the stage year by year
(people in the North, escapes, those held in China or in Japanese missions, resettlement in Japan
and South Korea) with 90% bands, in full-population persons, and the documented figures beside
the simulated ones, each marked within its tolerance or not. The prose, and why a missed figure
can be missed, is in ``analysis/templates/aftermath_report.md.j2``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from sim.aftermath import SERIES
from sim.record import aftermath_figures
from sim.staging import staged_directory
from sim.table_files import read_table
from sim.tables import per_year_in_persons

from .figures import OKABE_ITO, matplotlib_pyplot
from .reporting import render
from .runs import writable_or_none

# (title, first year shown: escapes are few before the 1990s, series)
PANELS = (
    ("People in the North", 1960, ("in_north", "returnees_in_north", "descendants_in_north")),
    (
        "Escaped, held in China, sheltered by Japan",
        1990,
        ("escaped", "in_china", "in_japanese_missions", "caught_and_returned"),
    ),
    ("Resettled (cumulative)", 1990, ("resettled_south_korea", "resettled_japan")),
    (
        "Japanese nationals resettled in Japan (cumulative)",
        1990,
        ("japanese_nationals_resettled_japan",),
    ),
)
TABLE_YEARS = (1960, 1970, 1980, 1990, 1995, 2000, 2005, 2008, 2010, 2014, 2020, 2025)
# The series of the year-by-year table, in its column order.
COLUMNS = (
    "in_north",
    "returnees_in_north",
    "descendants_in_north",
    "imprisoned",
    "escaped",
    "in_china",
    "in_japanese_missions",
    "resettled_japan",
    "resettled_south_korea",
    "japanese_nationals_resettled_japan",
    "born",
    "died",
)


class ReportError(ValueError):
    """The run directory cannot be reported on; the message says why."""


def report_command(args: argparse.Namespace) -> int:
    try:
        table, summary, manifest = read_run(args.run)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = writable_or_none(args.out or args.run / "aftermath-report")
    if out is None:
        return 2
    try:
        with staged_directory(out) as folder:
            plot(table, manifest["scale"], folder / "aftermath.png")
            (folder / "report.md").write_text(report(table, summary, manifest, args.run))
            (folder / "manifest.json").write_text(
                json.dumps(
                    {
                        "run": str(args.run),
                        "run_manifest": manifest,
                        "files": ["report.md", "aftermath.png", "manifest.json"],
                    },
                    indent=2,
                )
            )
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Written to {out}/ (report.md, aftermath.png)")
    return 0


def read_run(run: Path) -> tuple[pd.DataFrame, dict, dict]:
    """The run's aftermath table in full-population persons (a run written before tables were,
    in simulated persons, is converted), its summary and its manifest."""
    files = {name: run / name for name in ("summary.json", "manifest.json")}
    missing = [name for name, path in files.items() if not path.is_file()]
    try:
        table = read_table(run, "aftermath")
    except FileNotFoundError:
        missing.insert(0, "aftermath table")
    if missing:
        raise ReportError(
            f"{run}: no {', '.join(missing)} (run the scenario with --aftermath, "
            "e.g. repatriation run scenarios/historical.toml --aftermath --out DIR)"
        )
    summary = json.loads(files["summary.json"].read_text())
    if "aftermath" not in summary:
        raise ReportError(f"{files['summary.json']}: no after-arrival figures")
    manifest = json.loads(files["manifest.json"].read_text())
    if "in_north_mean" in table.columns:  # aftermath.csv of an older run: simulated persons
        table = per_year_in_persons(table, manifest["scale"])
    return table, summary, manifest


def plot(table: pd.DataFrame, scale: float, path: Path) -> None:
    plt = matplotlib_pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), constrained_layout=True)
    years = table["year"]
    for ax, (title, first_year, names) in zip(axes.ravel(), PANELS):
        for colour, name in zip(OKABE_ITO, names):
            ax.fill_between(
                years,
                table[f"{name}_persons_p05"],
                table[f"{name}_persons_p95"],
                color=colour,
                alpha=0.2,
                linewidth=0,
            )
            ax.plot(years, table[f"{name}_persons_mean"], color=colour, label=SERIES[name])
            for figure in aftermath_figures():
                if figure.series == name and figure.unit == "persons":
                    ax.errorbar(
                        [figure.year],
                        [figure.documented],
                        color=colour,
                        yerr=[[figure.documented - figure.low], [figure.high - figure.documented]],
                        fmt="D",
                        markeredgecolor="black",
                        capsize=3,
                        label=f"documented ({figure.source}): {figure.label}",
                    )
        ax.set_title(title, fontsize=10)
        ax.set_xlim(first_year, int(years.iloc[-1]))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(
        f"After arrival: mean and 90% band over replications, full-population persons "
        f"(run at scale {scale:g}); diamonds: documented figures and their tolerance",
        fontsize=10,
    )
    fig.savefig(path, dpi=100)
    plt.close(fig)


def report(table: pd.DataFrame, summary: dict, manifest: dict, run: Path) -> str:
    """The report's Markdown: the template ``aftermath_report.md.j2`` given the run's files."""
    figures = []
    for figure in aftermath_figures():
        sim = summary["aftermath"][figure.key]
        mean = sim["full_scale_mean"]
        figures.append(
            {
                "figure": figure,
                "mean": mean,
                "p05": sim["full_scale_p05"],
                "p95": sim["full_scale_p95"],
                "within": mean is not None and figure.low <= mean <= figure.high,
            }
        )
    by_year = table.set_index("year")
    years = [
        (year, [by_year.at[year, f"{name}_persons_mean"] for name in COLUMNS])
        for year in TABLE_YEARS
        if year in by_year.index
    ]
    return render(
        "aftermath_report.md.j2",
        run=run,
        manifest=manifest,
        figures=figures,
        # the calibration's figure the reasons for a miss quote, if the run has it
        nationals=summary["figures"].get("japanese_national_departures"),
        columns=COLUMNS,
        years=years,
        series=SERIES,
    )
