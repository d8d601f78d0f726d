"""The ``repatriation`` command's grammar for the calibration: ``calibrate``,
``calibration-report`` and ``posterior``, each naming its handler as ``"module:function"``."""

from __future__ import annotations

from pathlib import Path

from . import cli_arguments as arg


def add_calibration_commands(commands, scenario_help: str) -> None:
    from .calibration.settings import HISTORICAL, METHODS, OUT_DIR, PRIORS_FILE, Settings

    defaults = Settings()
    cal = arg.add_command(
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
        type=arg.folder,
        default=OUT_DIR,
        help=f"folder for abc.db, posterior.json and the report (default {OUT_DIR})",
    )
    cal.add_argument("--scale", type=arg.scale, default=defaults.scale)
    cal.add_argument("--seed", type=arg.seed, default=defaults.seed)
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
        type=arg.positive,
        default=defaults.population_size,
        help="ABC-SMC: particles per generation; history matching: runs drawn for the "
        "posterior from the space left (default %(default)s)",
    )
    cal.add_argument(
        "--runs-per-wave",
        type=arg.positive,
        default=defaults.runs_per_wave,
        help="history matching: simulations in each wave (default %(default)s)",
    )
    cal.add_argument(
        "--cutoff",
        type=arg.positive_float,
        default=defaults.cutoff,
        help="history matching: implausibility that rules a parameter set out (default "
        "%(default)s)",
    )
    cal.add_argument(
        "--max-waves",
        type=arg.positive,
        default=defaults.max_waves,
        help="history matching: a safety cap on the waves (default %(default)s)",
    )
    cal.add_argument(
        "--min-epsilon",
        type=arg.nonnegative,
        default=None,
        help="stop when the acceptance threshold reaches this (default: the square root of the "
        "number of fitted figures, every figure at its tolerance on average)",
    )
    cal.add_argument(
        "--min-eps-diff",
        type=arg.nonnegative,
        default=defaults.min_eps_diff,
        help="stop when the threshold falls by less than this in a generation (default "
        "%(default)s)",
    )
    cal.add_argument(
        "--min-acceptance-rate",
        type=arg.share,
        default=defaults.min_acceptance_rate,
        help="stop when fewer particles than this are accepted per simulation (default "
        "%(default)s)",
    )
    cal.add_argument(
        "--generations",
        type=arg.positive,
        default=defaults.generations,
        help="generations in all (a resumed run counts those done)",
    )
    cal.add_argument("--max-simulations", type=arg.positive, default=defaults.max_simulations)
    cal.add_argument("--max-minutes", type=arg.positive_float, default=defaults.max_minutes)
    cal.add_argument("--noise-reps", type=arg.positive, default=defaults.noise_reps)
    cal.add_argument(
        "--transition",
        choices=("local", "normal"),
        default=defaults.transition,
        help="pyABC perturbation kernel (default %(default)s)",
    )
    cal.add_argument(
        "--kernel-scaling",
        type=arg.positive_float,
        default=defaults.kernel_scaling,
        help="factor on the kernel's covariance (pyABC's scaling; default %(default)s)",
    )
    cal.add_argument(
        "--workers",
        type=arg.positive,
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
    cal.add_argument("--report-reps", type=arg.positive, default=20)
    cal.add_argument("--report-draws", type=arg.positive, default=40)
    cal.add_argument(
        "--robustness-trajectories",
        type=arg.nonnegative_int,
        default=6,
        help="Morris trajectories over the hand-set weights in the report (0: skip; default "
        "%(default)s)",
    )

    rep = arg.add_command(
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
        type=arg.folder,
        default=None,
        help="folder for the report (default: the calibration folder)",
    )
    rep.add_argument("--scenario", type=Path, default=HISTORICAL, help=scenario_help)
    rep.add_argument("--seed", type=arg.seed, default=1959)
    rep.add_argument("--report-reps", type=arg.positive, default=20)
    rep.add_argument("--report-draws", type=arg.positive, default=40)
    rep.add_argument(
        "--robustness-trajectories",
        type=arg.nonnegative_int,
        default=6,
        help="Morris trajectories over the hand-set weights in the report (0: skip; default "
        "%(default)s)",
    )

    post = arg.add_command(
        commands,
        "run-posterior",
        "analysis.calibration.command:posterior_command",
        help="run a calibrated scenario over parameter sets drawn from its posterior",
    )
    post.add_argument("scenario", type=Path, help=scenario_help)
    post.add_argument("--draws", type=arg.positive, default=40, help="parameter sets (default 40)")
    post.add_argument("--reps-per-draw", type=arg.positive, default=1)
    post.add_argument("--seed", type=arg.seed, default=1959)
    post.add_argument("--scale", type=arg.scale, default=1.0)
    post.add_argument(
        "--out",
        type=arg.folder,
        default=None,
        help="run directory (default results/<scenario name>_posterior)",
    )
    post.add_argument("--quiet", action="store_true")
    arg.add_format(post)
