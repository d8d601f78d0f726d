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
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

# Optional parts of the install, by the module a command needs: (extra, what it is).
EXTRAS = {
    "distributed": ("sweeps", "Dask"),
    "dask": ("sweeps", "Dask"),
    "SALib": ("sweeps", "SALib"),
    "pyabc": ("calibration", "pyABC"),
    "solara": ("demo", "Solara"),
}


# Below this share the population has fewer than about 150 households: too few for any figure.
MIN_SCALE = 0.001


def _scale(text: str) -> float:
    value = float(text)
    if not MIN_SCALE <= value <= 1:
        raise argparse.ArgumentTypeError(
            f"--scale must be in [{MIN_SCALE}, 1] (below {MIN_SCALE}, fewer than 150 households), "
            f"got {text}"
        )
    return value


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a whole number 0 or more, got {text}")
    return value


def _folder(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path: name a folder")
    return Path(text)


def _port(text: str) -> int:
    value = int(text)
    if not 1024 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number in 1024..65535, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _nonnegative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _nonnegative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text}")
    return value


def _version() -> str:
    try:
        return version("repatriation-sim")
    except PackageNotFoundError:
        return "unknown"


def _format(parser: argparse.ArgumentParser) -> None:
    # sim.table_files.FORMATS, written out: importing it would load pandas for --help.
    parser.add_argument(
        "--format",
        choices=("parquet", "csv", "netcdf"),
        default="parquet",
        help="file format of the tables (default parquet; netcdf through xarray, with units)",
    )


def _command(commands, name: str, handler: str, **kwargs) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, **kwargs)
    parser.set_defaults(handler=handler)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="repatriation",
        description="Simulate the repatriation of Korean residents of Japan to North Korea "
        "(1959-1984): run the historical baseline and counterfactual scenarios, "
        "calibrate, compare, sweep, and open the teaching demo.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    scenario_help = "scenario file, or the name of a bundled scenario (e.g. historical)"

    run = _command(
        commands,
        "run",
        "analysis.runs:run_command",
        help="run a scenario and write a run directory",
    )
    run.add_argument("scenario", type=Path, help=scenario_help)
    run.add_argument("--reps", type=_positive, default=20, help="replications (default 20)")
    run.add_argument("--seed", type=_seed, default=1959, help="master seed (default 1959)")
    run.add_argument(
        "--scale",
        type=_scale,
        default=1.0,
        help="share of the full population to simulate, in (0, 1] (default 1.0)",
    )
    run.add_argument(
        "--out",
        type=_folder,
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
    _format(run)

    validate = _command(
        commands,
        "validate",
        "analysis.runs:validate_command",
        help="check a scenario file and its bases",
    )
    validate.add_argument("scenario", type=Path, help=scenario_help)

    _command(
        commands,
        "levers",
        "analysis.runs:levers_command",
        help="list the policy levers a scenario schedules",
    )

    compare = _command(
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
    compare.add_argument("--reps", type=_positive, default=20, help="replications (default 20)")
    compare.add_argument("--seed", type=_seed, default=1959)
    compare.add_argument("--scale", type=_scale, default=1.0, help="population share (default 1.0)")
    compare.add_argument("--out", type=_folder, default=Path("results/comparison"))
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
    _format(compare)

    demo = _command(
        commands,
        "demo",
        "analysis.serve_demo:serve_command",
        help="start the teaching demo in the browser",
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=_port, default=8765)

    sweep = _command(
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
        "--out", type=_folder, default=None, help="sweep folder (default results/sweeps/<name>)"
    )
    sweep.add_argument(
        "--workers",
        type=_positive,
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
        type=_positive,
        default=None,
        help="points per task and per chunk file (default: automatic)",
    )
    sweep.add_argument(
        "--check",
        action="store_true",
        help="validate the sweep file and print its size, run nothing",
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    _format(sweep)

    sensitivity = _command(
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
        type=_positive,
        default=1000,
        help="bootstrap resamples for the confidence intervals (default 1000)",
    )
    sensitivity.add_argument(
        "--out",
        type=_folder,
        default=None,
        help="folder for the table and plot (default SWEEP_DIR/sensitivity)",
    )
    _format(sensitivity)

    _calibration_commands(commands, scenario_help)

    aftermath = _command(
        commands,
        "aftermath-report",
        "analysis.aftermath_report:report_command",
        help="write report.md and aftermath.png from a run made with --aftermath",
    )
    aftermath.add_argument("run", type=Path, help="run directory written by `run --aftermath`")
    aftermath.add_argument(
        "--out",
        type=_folder,
        default=None,
        help="folder to write (default: <run>/aftermath-report)",
    )
    return parser


def _calibration_commands(commands, scenario_help: str) -> None:
    from .calibration.settings import HISTORICAL, METHODS, OUT_DIR, PRIORS_FILE, Settings

    defaults = Settings()
    cal = _command(
        commands,
        "calibrate",
        "analysis.calibration.command:calibrate_command",
        help="fit the free parameters to the documented figures (ABC-SMC, pyABC)",
    )
    cal.add_argument("--scenario", type=Path, default=HISTORICAL, help=scenario_help)
    cal.add_argument("--priors", type=Path, default=PRIORS_FILE)
    cal.add_argument(
        "--targets",
        type=Path,
        default=None,
        help="documented figures (default: the record shipped with the model)",
    )
    cal.add_argument(
        "--out",
        type=_folder,
        default=OUT_DIR,
        help=f"folder for abc.db, posterior.json and the report (default {OUT_DIR})",
    )
    cal.add_argument("--scale", type=_scale, default=defaults.scale)
    cal.add_argument("--seed", type=_seed, default=defaults.seed)
    cal.add_argument(
        "--method",
        choices=METHODS,
        default=None,
        help="history matching (waves of emulators rule out the implausible space, then "
        f"rejection ABC in what is left) or pyABC's ABC-SMC (default {defaults.method}; "
        "smc with --resume, which continues an ABC-SMC calibration)",
    )
    cal.add_argument(
        "--population-size",
        type=_positive,
        default=defaults.population_size,
        help="ABC-SMC: particles per generation; history matching: runs drawn for the "
        "posterior from the space left (default %(default)s)",
    )
    cal.add_argument(
        "--runs-per-wave",
        type=_positive,
        default=defaults.runs_per_wave,
        help="history matching: simulations in each wave (default %(default)s)",
    )
    cal.add_argument(
        "--cutoff",
        type=_positive_float,
        default=defaults.cutoff,
        help="history matching: implausibility that rules a parameter set out (default "
        "%(default)s)",
    )
    cal.add_argument(
        "--max-waves",
        type=_positive,
        default=defaults.max_waves,
        help="history matching: a safety cap on the waves (default %(default)s)",
    )
    cal.add_argument(
        "--min-epsilon",
        type=_nonnegative,
        default=None,
        help="stop when the acceptance threshold reaches this (default: the square root of the "
        "number of fitted figures, every figure at its tolerance on average)",
    )
    cal.add_argument(
        "--min-eps-diff",
        type=_nonnegative,
        default=defaults.min_eps_diff,
        help="stop when the threshold falls by less than this in a generation (default "
        "%(default)s)",
    )
    cal.add_argument(
        "--min-acceptance-rate",
        type=_share,
        default=defaults.min_acceptance_rate,
        help="stop when fewer particles than this are accepted per simulation (default "
        "%(default)s)",
    )
    cal.add_argument(
        "--generations",
        type=_positive,
        default=defaults.generations,
        help="generations in all (a resumed run counts those done)",
    )
    cal.add_argument("--max-simulations", type=_positive, default=defaults.max_simulations)
    cal.add_argument("--max-minutes", type=_positive_float, default=defaults.max_minutes)
    cal.add_argument("--noise-reps", type=_positive, default=defaults.noise_reps)
    cal.add_argument(
        "--transition",
        choices=("local", "normal"),
        default=defaults.transition,
        help="pyABC perturbation kernel (default %(default)s)",
    )
    cal.add_argument(
        "--kernel-scaling",
        type=_positive_float,
        default=defaults.kernel_scaling,
        help="factor on the kernel's covariance (pyABC's scaling; default %(default)s)",
    )
    cal.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="local processes (default 1; the posterior is the same for any number)",
    )
    cal.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="evaluate particles on a Dask cluster, e.g. tcp://10.0.0.5:8786 (the posterior is "
        "the same as on local processes)",
    )
    cal.add_argument(
        "--resume",
        action="store_true",
        help="continue the calibration in OUT/abc.db from its last generation",
    )
    cal.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh in an OUT that holds a calibration, replacing it (never by default)",
    )
    cal.add_argument("--no-report", action="store_true", help="write the posterior only")
    cal.add_argument("--report-reps", type=_positive, default=20)
    cal.add_argument("--report-draws", type=_positive, default=40)
    cal.add_argument(
        "--robustness-trajectories",
        type=_nonnegative_int,
        default=6,
        help="Morris trajectories over the hand-set weights in the report (0: skip; default "
        "%(default)s)",
    )

    rep = _command(
        commands,
        "calibration-report",
        "analysis.calibration.command:report_command",
        help="write the calibration report of a calibration folder",
    )
    rep.add_argument(
        "--calibration",
        type=Path,
        default=OUT_DIR,
        help="calibration folder holding posterior.json and calibration_run.json "
        f"(default {OUT_DIR}; the adopted one is "
        "scenarios/calibration/historical)",
    )
    rep.add_argument(
        "--out",
        type=_folder,
        default=None,
        help="folder for the report (default: the calibration folder)",
    )
    rep.add_argument("--scenario", type=Path, default=HISTORICAL, help=scenario_help)
    rep.add_argument("--seed", type=_seed, default=1959)
    rep.add_argument("--report-reps", type=_positive, default=20)
    rep.add_argument("--report-draws", type=_positive, default=40)
    rep.add_argument(
        "--robustness-trajectories",
        type=_nonnegative_int,
        default=6,
        help="Morris trajectories over the hand-set weights in the report (0: skip; default "
        "%(default)s)",
    )

    post = _command(
        commands,
        "run-posterior",
        "analysis.calibration.command:posterior_command",
        help="run a calibrated scenario over parameter sets drawn from its posterior",
    )
    post.add_argument("scenario", type=Path, help=scenario_help)
    post.add_argument("--draws", type=_positive, default=40, help="parameter sets (default 40)")
    post.add_argument("--reps-per-draw", type=_positive, default=1)
    post.add_argument("--seed", type=_seed, default=1959)
    post.add_argument("--scale", type=_scale, default=1.0)
    post.add_argument(
        "--out",
        type=_folder,
        default=None,
        help="run directory (default results/<scenario name>_posterior)",
    )
    post.add_argument("--quiet", action="store_true")
    _format(post)


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
