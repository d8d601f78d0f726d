"""The ``repatriation`` command: its grammar, and the module that carries out each command.

    repatriation run historical --reps 20 --seed 1959 --out results/historical
    repatriation compare --reps 20 --scale 0.25
    repatriation --help

This module only parses: each command names its handler as ``"module:function"``, imported
when the command runs, so ``--help`` answers without loading numpy, pandas, Mesa or pyABC.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from . import cli_arguments as arg
from .cli_calibration import add_calibration_commands

# Optional parts of the install, by the module a command needs: (extra, what it is).
EXTRAS = {
    "distributed": ("sweeps", "Dask"),
    "dask": ("sweeps", "Dask"),
    "SALib": ("sweeps", "SALib"),
    "pyabc": ("calibration", "pyABC"),
    "solara": ("demo", "Solara"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="repatriation",
        description="Simulate the repatriation of Korean residents of Japan to North Korea "
        "(1959-1984): run the historical baseline and counterfactual scenarios, "
        "calibrate, compare, sweep, and open the teaching demo.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {arg.package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    scenario_help = "scenario file, or the name of a bundled scenario (e.g. historical)"

    run = arg.add_command(
        commands,
        "run",
        "analysis.runs:run_command",
        help="run a scenario and write a run directory",
    )
    run.add_argument("scenario", type=Path, help=scenario_help)
    run.add_argument("--reps", type=arg.positive, default=20, help="replications (default 20)")
    run.add_argument("--seed", type=arg.seed, default=1959, help="master seed (default 1959)")
    run.add_argument(
        "--scale",
        type=arg.scale,
        default=1.0,
        help="share of the full population to simulate, in (0, 1] (default 1.0)",
    )
    run.add_argument(
        "--out",
        type=arg.folder,
        default=None,
        help="run directory to write (default results/<scenario name>)",
    )
    run.add_argument(
        "--engine",
        choices=["numpy", "mesa"],
        default="numpy",
        help="numpy (fast, default) or mesa (one agent per household; use a small "
        "--scale such as 0.01)",
    )
    run.add_argument(
        "--aftermath",
        action="store_true",
        help="also follow those who left, 1960-2025 (the after-arrival stage; on "
        "by itself where the scenario's [aftermath] says enabled = true)",
    )
    run.add_argument(
        "--point",
        action="store_true",
        help="run a calibrated scenario at its calibrated point only (default: replication k "
        "runs posterior draw k, so the bands include parameter uncertainty)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    arg.add_format(run)

    validate = arg.add_command(
        commands,
        "validate",
        "analysis.runs:validate_command",
        help="check a scenario file and its bases",
    )
    validate.add_argument("scenario", type=Path, help=scenario_help)

    arg.add_command(
        commands,
        "levers",
        "analysis.runs:levers_command",
        help="list the policy levers a scenario schedules",
    )

    compare = arg.add_command(
        commands,
        "compare",
        "analysis.comparison.command:compare_command",
        help="run counterfactual scenarios against the baseline (paired) and report",
    )
    compare.add_argument(
        "scenarios",
        nargs="*",
        type=Path,
        help="scenario files (default: every other .toml beside the baseline)",
    )
    compare.add_argument(
        "--baseline",
        type=Path,
        default=Path("historical"),
        help="the baseline scenario (default: the bundled historical one)",
    )
    compare.add_argument("--reps", type=arg.positive, default=20, help="replications (default 20)")
    compare.add_argument("--seed", type=arg.seed, default=1959)
    compare.add_argument(
        "--scale", type=arg.scale, default=1.0, help="population share (default 1.0)"
    )
    compare.add_argument("--out", type=arg.folder, default=Path("results/comparison"))
    compare.add_argument(
        "--no-attribution",
        action="store_true",
        help="skip the 16-run attribution of departures to channels",
    )
    compare.add_argument(
        "--parameter-uncertainty",
        action="store_true",
        help="replication k uses posterior draw k of the baseline's calibration, so the bands "
        "include parameter uncertainty (the default for a calibrated baseline)",
    )
    compare.add_argument(
        "--point",
        action="store_true",
        help="run every scenario at the baseline's calibrated point: bands of a run's randomness "
        "only",
    )
    compare.add_argument(
        "--aftermath",
        action="store_true",
        help="follow the baseline and every scenario through the after-arrival "
        "stage to 2025 (done by itself when a scenario's [aftermath] says "
        "enabled = true)",
    )
    arg.add_format(compare)

    demo = arg.add_command(
        commands,
        "demo",
        "analysis.serve_demo:serve_command",
        help="start the teaching demo in the browser",
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=arg.port, default=8765)

    sweep = arg.add_command(
        commands,
        "sweep",
        "analysis.sweeps.command:sweep_command",
        help="run a parameter sweep (local worker processes or a Dask cluster); resumable",
        description="Run the points of a sweep file, streaming results to OUT. Run "
        "it again after an interruption and it computes only what is "
        "missing.",
    )
    sweep.add_argument("sweep", type=Path, help="sweep TOML file, e.g. sweeps/example_latin.toml")
    sweep.add_argument(
        "--out", type=arg.folder, default=None, help="sweep folder (default results/sweeps/<name>)"
    )
    sweep.add_argument(
        "--workers",
        type=arg.positive,
        default=None,
        help="local worker processes (default: one per core)",
    )
    sweep.add_argument(
        "--scheduler",
        default=None,
        help="address of a Dask scheduler, e.g. tcp://10.0.0.5:8786; its workers "
        "need this package installed",
    )
    sweep.add_argument(
        "--chunk-size",
        type=arg.positive,
        default=None,
        help="points per task and per chunk file (default: automatic)",
    )
    sweep.add_argument(
        "--check",
        action="store_true",
        help="validate the sweep file and print its size, run nothing",
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    arg.add_format(sweep)

    sensitivity = arg.add_command(
        commands,
        "sensitivity",
        "analysis.sensitivity:sensitivity_command",
        help="Sobol indices or Morris screening of a finished sweep (SALib)",
        description="Analyse a sweep folder written by `repatriation sweep`: Sobol indices for a "
        "sobol design, Morris screening for a morris design. Writes a table (Parquet, CSV "
        "or NetCDF, and Markdown) and a plot.",
    )
    sensitivity.add_argument(
        "sweep_dir", type=Path, help="sweep folder, e.g. results/sweeps/sobol_8"
    )
    sensitivity.add_argument(
        "--outputs",
        nargs="+",
        default=None,
        help="outputs to analyse (default: every output the sweep kept)",
    )
    sensitivity.add_argument(
        "--resamples",
        type=arg.positive,
        default=1000,
        help="bootstrap resamples for the confidence intervals (default 1000)",
    )
    sensitivity.add_argument(
        "--out",
        type=arg.folder,
        default=None,
        help="folder for the table and plot (default SWEEP_DIR/sensitivity)",
    )
    arg.add_format(sensitivity)

    add_calibration_commands(commands, scenario_help)

    aftermath = arg.add_command(
        commands,
        "aftermath-report",
        "analysis.aftermath_report:report_command",
        help="write report.md and aftermath.png from a run made with --aftermath",
    )
    aftermath.add_argument("run", type=Path, help="run directory written by `run --aftermath`")
    aftermath.add_argument(
        "--out",
        type=arg.folder,
        default=None,
        help="folder to write (default: <run>/aftermath-report)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command. What a command does not handle itself ends in one line, never a
    traceback: an interrupt (exit 130; every output is written whole or not at all, a sweep
    resumes), a full disk or an unwritable place (exit 1), too little memory (exit 1)."""
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print(
            f"interrupted: `repatriation {args.command}` stopped; nothing half-written was kept",
            file=sys.stderr,
        )
        return 130
    except MemoryError:
        print(
            f"error: `repatriation {args.command}` needs more memory than this machine has: "
            "use fewer --reps or a smaller --scale",
            file=sys.stderr,
        )
        return 1
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    module, function = args.handler.split(":")
    try:
        handler = getattr(importlib.import_module(module), function)
        return handler(args)
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        if top not in EXTRAS:
            raise
        extra, what = EXTRAS[top]
        print(
            f"error: `repatriation {args.command}` needs {what}, which is not installed: "
            f"pip install 'repatriation-sim[{extra}]'",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
