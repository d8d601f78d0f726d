"""The ``repatriation`` command: run a scenario and print a short summary, or check a scenario file.

    repatriation run scenarios/historical.toml --reps 20 --seed 1959 --scale 1.0 --out results/historical
    repatriation validate scenarios/my_scenario.toml
    repatriation levers
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

import pandas as pd

from . import __version__
from .engine_numpy import simulate
from .outputs import annual_table, manifest, summary, write_run
from .record import FIGURES, stated
from .scenario import AftermathLevers, ScenarioError, lever_catalogue, load_scenario


def _scale(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"--scale must be in (0, 1], got {text}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="repatriation", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a scenario and write a run directory")
    run.add_argument("scenario", type=Path, help="scenario TOML file, e.g. scenarios/historical.toml")
    run.add_argument("--reps", type=_positive, default=20, help="replications (default 20)")
    run.add_argument("--seed", type=int, default=1959, help="master seed (default 1959)")
    run.add_argument("--scale", type=_scale, default=1.0,
                     help="share of the full population to simulate, in (0, 1] (default 1.0)")
    run.add_argument("--out", type=Path, default=None,
                     help="run directory to write (default results/<scenario name>)")
    run.add_argument("--engine", choices=["numpy", "mesa"], default="numpy",
                     help="numpy (fast, default) or mesa (one agent per household; use a small "
                          "--scale such as 0.01)")
    run.add_argument("--aftermath", action="store_true",
                     help="also follow those who left, 1960-2025 (the after-arrival stage; on "
                          "by itself where the scenario's [aftermath] says enabled = true)")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no summary")

    validate = commands.add_parser("validate", help="check a scenario file and its bases")
    validate.add_argument("scenario", type=Path)

    commands.add_parser("levers", help="list the policy levers a scenario schedules")

    for name, target in MORE_COMMANDS.items():
        module, function = target.split(":")
        getattr(importlib.import_module(module), function)(commands)
    return parser


# Commands that live beside the feature they drive: "module:function", where the function takes
# argparse's subparsers, adds its own parser and sets ``handler=callable(args) -> exit code``.
# Such modules import their heavy dependencies inside the handler, to keep start-up quick.
MORE_COMMANDS: dict[str, str] = {
    "compare": "sim.comparison_report:add_command",
    "demo": "sim.demo:add_command",
    "sweep": "sim.sweep:add_command",
    "sensitivity": "sim.sensitivity:add_command",
    "calibrate": "sim.calibration:add_commands",  # also calibration-report, run-posterior
    "aftermath-report": "sim.aftermath_report:add_command",
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if hasattr(args, "handler"):
        return args.handler(args)
    if args.command == "levers":
        print("[levers] (monthly, 1955-1984):")
        for lever in lever_catalogue():
            print(f"  {lever.name:30s} {lever.description}")
        print("[aftermath.levers] (after arrival, year by year from 1960):")
        for lever in lever_catalogue(AftermathLevers):
            print(f"  {lever.name:30s} {lever.description}")
        return 0
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "validate":
        print(f"{args.scenario}: valid scenario '{scenario.name}' (sha256 {scenario.digest()[:12]})")
        return 0

    out = args.out or Path("results") / scenario.name
    started = time.perf_counter()
    engine = simulate
    if args.engine == "mesa":
        from .engine_mesa import simulate_mesa  # Mesa is slow to import; only when asked for

        engine = simulate_mesa
    follow = args.aftermath or scenario.aftermath_enabled
    if follow and scenario.aftermath is None:
        print(f"error: {args.scenario}: key 'aftermath': the scenario has no [aftermath] section "
              "(extend scenarios/historical.toml, which has one)", file=sys.stderr)
        return 2
    result = engine(scenario, args.seed, args.reps, scale=args.scale,
                    progress=not args.quiet and sys.stderr.isatty())
    aftermath = None
    if follow:
        from .aftermath import aftermath_summary, simulate_aftermath

        aftermath = simulate_aftermath(scenario, result, args.seed)
    wall = time.perf_counter() - started
    run_summary = summary(result, args.scale)
    if aftermath is not None:
        run_summary["aftermath"] = aftermath_summary(aftermath, args.scale)
    try:
        write_run(out, result, manifest(scenario, args.scenario, args.seed, result, args.scale,
                                        args.engine, wall), run_summary, aftermath)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(render_summary(scenario.name, result, run_summary, args.scale, wall, out))
        if aftermath is not None:
            from .aftermath import render_aftermath

            print(render_aftermath(aftermath, run_summary["aftermath"], args.scale))
    return 0


def render_summary(name, result, run_summary, scale, wall, out) -> str:
    """The terminal summary: departures per year with their band, then documented vs simulated."""
    annual = annual_table(result)
    per = "" if scale == 1 else f" (x 1/{scale:g}: full-population equivalents)"
    lines = [
        f"{name}: {len(result.replications)} replications, {result.households:,} households, "
        f"{result.people:,} people, {wall:.1f} s",
        f"Departures per year{per}, mean [90% band]:",
    ]
    active = annual[annual[["departures_mean", "registrations_mean"]].sum(axis=1) > 0]
    for row in active.itertuples():
        lines.append(
            f"  {row.year}  {row.departures_mean / scale:9,.0f}  "
            f"[{row.departures_p05 / scale:,.0f} - {row.departures_p95 / scale:,.0f}]"
        )
    lines.append(f"Documented figures beside the simulated ones{per}:")
    table = []
    for figure in FIGURES:
        sim = run_summary["figures"][figure.key]
        fmt = "{:.0%}" if figure.is_share else "{:,.0f}"
        table.append({
            "figure": figure.label,
            "documented": stated(figure.qualifier, figure.documented, fmt),
            "simulated": fmt.format(sim["full_scale_mean"]),
            "90% band": f"{fmt.format(sim['full_scale_p05'])} - {fmt.format(sim['full_scale_p95'])}",
            "source": figure.source,
        })
    lines.append(pd.DataFrame(table).to_string(index=False))
    lines.append(f"Written to {out}/ (annual.csv, monthly.parquet, summary.json, manifest.json)")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
