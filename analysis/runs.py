"""The ``run``, ``validate`` and ``levers`` commands, and the terminal summary of a run."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.aftermath import AftermathResult, simulate_aftermath, value_at
from sim.engine_numpy import memory_needed, simulate
from sim.record import aftermath_figures, figures, stated
from sim.result import STOCK_METRICS, RunResult
from sim.rundir import manifest, write_run
from sim.scenario import ScenarioError, load_scenario, posterior_file
from sim.schema import Scenario
from sim.schema_aftermath import AftermathLevers
from sim.schema_levers import lever_catalogue
from sim.staging import check_output_folder
from sim.table_files import FormatError, check_format
from sim.tables import aftermath_summary, annual_table, summary

from .calibration.posterior import (
    draws_record,
    effective_sample_size,
    read_posterior,
    simulate_posterior,
)
from .figures import years_with_ships
from .progress import Progress
from .run_figure import FILE as FIGURE
from .run_figure import departures_figure


def levers_command(args) -> int:
    print("[levers] (monthly, 1955-1984):")
    for lever in lever_catalogue():
        print(f"  {lever.name:30s} {lever.description}")
    print("[aftermath.levers] (after arrival, year by year from 1960):")
    for lever in lever_catalogue(AftermathLevers):
        print(f"  {lever.name:30s} {lever.description}")
    return 0


def scenario_or_none(path: Path) -> Scenario | None:
    """The scenario a command was given, or None once its error is printed (exit code 2)."""
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def writable_or_none(out: Path) -> Path | None:
    """``out`` if a command may write its folder there, else None once the reason is printed
    (exit code 2). Checked before any work, so a refusal never comes after a long run."""
    try:
        check_output_folder(out)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    return out


def fits_in_memory(scenario: Scenario, replications: int, scale: float) -> bool:
    """Whether a run fits in this machine's memory; if not, say so (the caller exits with 2)."""
    needed = memory_needed(scenario, replications, scale)
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if needed <= 0.8 * total:
        return True
    print(
        f"error: {replications:,} replications at scale {scale:g} need about "
        f"{needed / 2**30:,.1f} GiB; this machine has {total / 2**30:,.1f} GiB: use fewer --reps "
        "or a smaller --scale",
        file=sys.stderr,
    )
    return False


# An effective sample size below this share of the posterior sample: the draws repeat a few
# parameter sets (the calibration report's threshold of "even" weights).
UNEVEN = 0.25


def few_parameter_sets(posterior: dict) -> str:
    """What the bands need said when the posterior's weights are uneven, or when the calibration
    that made it did not converge ("" when neither)."""
    weights = posterior["sample"]["weight"]
    ess = effective_sample_size(weights)
    said = ""
    if ess < UNEVEN * len(weights):
        said += (
            f" (but the posterior's effective sample size is {ess:.1f} of {len(weights)}: the "
            "draws repeat a few parameter sets, so the bands understate the parameter "
            "uncertainty)"
        )
    stop = posterior.get("run", {}).get("stop", {})
    if stop.get("converged") is False:
        said += (
            f" (and the calibration did not converge: {stop.get('reason', 'no reason recorded')}; "
            "read its parameters as provisional)"
        )
    return said


def validate_command(args) -> int:
    scenario = scenario_or_none(args.scenario)
    if scenario is None:
        return 2
    print(f"{args.scenario}: valid scenario '{scenario.name}' (sha256 {scenario.digest()[:12]})")
    return 0


def format_or_none(fmt: str) -> str | None:
    """``fmt`` if its tables can be written here, else None once the reason is printed (exit
    code 2). Checked before any work."""
    try:
        return check_format(fmt)
    except FormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def run_command(args) -> int:
    scenario = scenario_or_none(args.scenario)
    if scenario is None or format_or_none(args.format) is None:
        return 2
    out = writable_or_none(args.out or Path("results") / scenario.name)
    if out is None or not fits_in_memory(scenario, args.reps, args.scale):
        return 2
    started = time.perf_counter()
    engine = simulate
    if args.engine == "mesa":
        from sim.engine_mesa import simulate_mesa  # Mesa is slow to import; only when asked for

        engine = simulate_mesa
    # A calibrated scenario runs over its posterior by default: replication k takes posterior
    # draw k, so every band holds the uncertainty of the parameters as well as the randomness of a
    # run. --point runs the single calibrated point.
    draws = scenario.calibration is not None and not args.point
    if draws and args.engine == "mesa":
        print("note: the Mesa engine runs the calibrated point (as with --point)", file=sys.stderr)
        draws = False
    follow = args.aftermath or scenario.aftermath_enabled
    if follow and scenario.aftermath is None:
        print(
            f"error: {args.scenario}: key 'aftermath': the scenario has no [aftermath] section "
            "(extend scenarios/historical.toml, which has one)",
            file=sys.stderr,
        )
        return 2
    progress = not args.quiet and sys.stderr.isatty()
    if draws:
        posterior_path = posterior_file(args.scenario)
        posterior = read_posterior(posterior_path)
        say = Progress(args.reps, one_line=True) if progress else None
        result, drawn = simulate_posterior(
            scenario, posterior, args.seed, args.reps, 1, args.scale, say
        )
        if say:
            say.end()
    else:
        result = engine(scenario, args.seed, args.reps, scale=args.scale, progress=progress)
    aftermath = simulate_aftermath(scenario, result, args.seed) if follow else None
    wall = time.perf_counter() - started
    run_summary = summary(result, args.scale)
    if aftermath is not None:
        run_summary["aftermath"] = aftermath_summary(aftermath, args.scale)
    run_manifest = manifest(
        scenario, args.scenario, args.seed, result, args.scale, args.engine, wall
    )
    if draws:
        run_manifest["posterior_draws"] = draws_record(posterior_path, args.reps, 1, drawn)
    bands = (
        "parameter uncertainty and a run's randomness: replication k runs posterior draw k"
        if draws
        else "a run's randomness at fixed parameters"
    )
    if draws:
        bands += few_parameter_sets(posterior)
    title = f"{scenario.name}: departures per year, {len(result.replications)} replications"
    write_run(
        out,
        result,
        run_manifest,
        run_summary,
        args.scale,
        args.format,
        aftermath,
        extra_files=lambda folder: departures_figure(result, args.scale, title, folder / FIGURE),
    )
    if not args.quiet:
        print(render_summary(scenario.name, result, run_summary, args.scale, wall, out, bands))
        if aftermath is not None:
            print(render_aftermath(aftermath, run_summary["aftermath"], args.scale))
    return 0


def describe_population(result: RunResult) -> str:
    """The households and persons run: one population, or each replication's own (posterior
    draws that set population keys), as a range. Persons of the households the young form later
    (sim/formation.py) are told apart from those there at the start."""
    persons = sum(result.metrics[name][:, 0] for name in STOCK_METRICS)  # every state, month 1
    later = result.metrics["unformed_stock"][:, 0]
    start = persons - later

    def told(values) -> str:
        low, high = int(values.min()), int(values.max())
        return f"{low:,}" if low == high else f"{low:,} to {high:,}"

    if persons.min() == persons.max():
        text = f"{result.households:,} households, {told(start)} people"
    else:
        text = f"a population drawn for each (its parameters): {told(start)} people"
    if later.max() > 0:
        text += f" at the start and {told(later)} in households the young form later"
    return text


def render_summary(
    name: str,
    result: RunResult,
    run_summary: dict,
    scale: float,
    wall: float,
    out: Path,
    bands: str = "",
) -> str:
    """The terminal summary: departures per year with their band, then documented vs simulated;
    ``bands`` says what the bands hold."""
    table = annual_table(result, scale)
    per = "" if scale == 1 else f" (x 1/{scale:g}: full-population equivalents)"
    lines = [
        f"{name}: {len(result.replications)} replications, {describe_population(result)}, "
        f"{wall:.1f} s",
        *([f"Bands: {bands}."] if bands else []),
        f"Departures per year{per}, mean [90% band]:",
    ]
    # Every year, with why a year has no departures: no ship had places (the programme not yet
    # open, or closed), or nobody sailed although they had.
    ships = years_with_ships(result)
    for row in table.itertuples():
        note = "" if ships[row.year] else "  no ships"
        lines.append(
            f"  {row.year}  {row.departures_persons_mean:9,.0f}  "
            f"[{row.departures_persons_p05:,.0f} - {row.departures_persons_p95:,.0f}]{note}"
        )
    lines.append(f"Documented figures beside the simulated ones{per}:")
    table = []
    for figure in figures():
        sim = run_summary["figures"][figure.key]
        fmt = "{:.0%}" if figure.is_share else "{:,.0f}"
        table.append(
            {
                "figure": figure.label,
                "documented": stated(figure.qualifier, figure.documented, fmt),
                "simulated": fmt.format(sim["full_scale_mean"]),
                "90% band": (
                    f"{fmt.format(sim['full_scale_p05'])} - {fmt.format(sim['full_scale_p95'])}"
                ),
                "source": figure.source,
            }
        )
    lines.append(pd.DataFrame(table).to_string(index=False))
    lines += reliability_notes(len(result.replications), scale)
    written = json.loads((out / "manifest.json").read_text())["files"]
    lines.append(f"Written to {out}/ ({', '.join(written)}); counts in full-population persons")
    return "\n".join(lines)


# Fewer replications than this give 5th and 95th percentiles that are little more than the
# smallest and largest value.
FEW_REPLICATIONS = 10
# Below this scale a simulated person stands for more than 20 real ones: the documented figures
# of a few hundred persons (277 who stayed, 421 from Omura, 6 at the confirmation) are then
# counted in a handful of simulated households.
SMALL_SCALE = 0.05


def reliability_notes(replications: int, scale: float) -> list[str]:
    """One line for each reason the numbers above are less reliable than they look."""
    notes = []
    if replications < FEW_REPLICATIONS:
        notes.append(
            f"Note: {replications} replications: the 90% bands are rough (use --reps "
            f"{2 * FEW_REPLICATIONS} or more)."
        )
    if scale < SMALL_SCALE:
        notes.append(
            f"Note: at scale {scale:g} one simulated person stands for {1 / scale:,.0f}: figures "
            f"of a few hundred persons rest on a handful of households (use --scale "
            f"{SMALL_SCALE:g} or more)."
        )
    return notes


SUMMARY_YEARS = (1960, 1970, 1980, 1990, 2000, 2010, 2020, 2025)
SUMMARY_SERIES = {
    "in_north": "in North",
    "escaped": "escaped",
    "in_china": "in China",
    "in_japanese_missions": "in missions",
    "resettled_japan": "to Japan",
    "resettled_south_korea": "to S. Korea",
    "japanese_nationals_resettled_japan": "Japanese to Japan",
}


def render_aftermath(result: AftermathResult, checks: dict, scale: float) -> str:
    """The terminal summary of the stage: a few years, then the documented checks."""
    per = "" if scale == 1 else f" (x 1/{scale:g}: full-population equivalents)"
    lines = [
        f"After arrival{per}, mean over replications (escaped, to Japan, to S. Korea: "
        "cumulative since 1960):"
    ]
    rows = []
    for year in [y for y in SUMMARY_YEARS if y in result.years]:
        row = {"year": year}
        for name, label in SUMMARY_SERIES.items():
            row[label] = f"{np.nanmean(value_at(result, name, year)) / scale:,.0f}"
        rows.append(row)
    lines.append(pd.DataFrame(rows).to_string(index=False))
    lines.append(f"Documented after-arrival figures beside the simulated ones{per}:")
    table = []
    for figure in aftermath_figures():
        sim = checks[figure.key]
        fmt = "{:.1f}" if figure.unit == "ratio" else "{:,.0f}"
        shown = lambda v, fmt=fmt: "n/a" if v is None else fmt.format(v)
        table.append(
            {
                "figure": figure.label,
                "documented": stated(figure.qualifier, figure.documented, fmt),
                "simulated": shown(sim["full_scale_mean"]),
                "90% band": f"{shown(sim['full_scale_p05'])} - {shown(sim['full_scale_p95'])}",
                "source": figure.source,
            }
        )
    lines.append(pd.DataFrame(table).to_string(index=False))
    lines.append(
        "The aftermath table holds every year, 1960 on, with 90% bands (full-population persons)"
    )
    return "\n".join(lines)
