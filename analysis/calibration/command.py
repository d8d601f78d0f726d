"""The calibration's commands: ``calibrate``, ``calibration-report`` and ``run-posterior``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sim.record import TargetsError
from sim.rundir import manifest, write_run
from sim.scenario import ScenarioError, posterior_file
from sim.tables import summary

from ..progress import Progress
from ..run_figure import FILE as FIGURE
from ..run_figure import departures_figure
from ..runs import format_or_none, render_summary, scenario_or_none, writable_or_none
from .matching import calibrate_by_matching
from .posterior import draws_record, read_posterior, simulate_posterior
from .priors import PriorsError
from .report import write_report
from .settings import Settings
from .smc import calibrate


def calibrate_command(args) -> int:
    settings = Settings(
        scenario=args.scenario,
        priors=args.priors,
        targets=args.targets,
        out=args.out,
        scale=args.scale,
        seed=args.seed,
        method=args.method or ("smc" if args.resume else Settings.method),
        population_size=args.population_size,
        runs_per_wave=args.runs_per_wave,
        cutoff=args.cutoff,
        max_waves=args.max_waves,
        generations=args.generations,
        max_simulations=args.max_simulations,
        min_epsilon=args.min_epsilon,
        min_eps_diff=args.min_eps_diff,
        min_acceptance_rate=args.min_acceptance_rate,
        max_minutes=args.max_minutes,
        noise_reps=args.noise_reps,
        workers=args.workers,
        scheduler=args.scheduler,
        resume=args.resume,
        overwrite=args.overwrite,
        transition=args.transition,
        kernel_scaling=args.kernel_scaling,
    )
    try:
        (calibrate if settings.method == "smc" else calibrate_by_matching)(settings)
    except (ScenarioError, PriorsError, TargetsError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.no_report:
        path = write_report(
            args.out,
            args.out,
            args.scenario,
            args.seed,
            args.report_reps,
            args.report_draws,
            args.robustness_trajectories,
        )
        print(f"report: {path}")
    return 0


def report_command(args) -> int:
    out = args.out or args.calibration
    try:
        path = write_report(
            args.calibration,
            out,
            args.scenario,
            args.seed,
            args.report_reps,
            args.report_draws,
            args.robustness_trajectories,
        )
    except (ScenarioError, PriorsError, TargetsError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {path}")
    return 0


def posterior_command(args) -> int:
    scenario = scenario_or_none(args.scenario)
    if scenario is None or format_or_none(args.format) is None:
        return 2
    if scenario.calibration is None:
        print(f"error: {args.scenario}: no [calibration] posterior to draw from", file=sys.stderr)
        return 2
    out = writable_or_none(args.out or Path("results") / f"{scenario.name}_posterior")
    if out is None:
        return 2
    posterior_path = posterior_file(args.scenario)
    posterior = read_posterior(posterior_path)
    started = time.perf_counter()
    say = None if args.quiet else Progress.on_terminal(args.draws, one_line=True)
    result, drawn = simulate_posterior(
        scenario, posterior, args.seed, args.draws, args.reps_per_draw, args.scale, say
    )
    if say:
        say.end()
    wall = time.perf_counter() - started
    run_manifest = manifest(scenario, args.scenario, args.seed, result, args.scale, "numpy", wall)
    run_manifest["posterior_draws"] = draws_record(
        posterior_path, args.draws, args.reps_per_draw, drawn
    )
    run_summary = summary(result, args.scale)
    title = f"{scenario.name}: departures per year over {args.draws} posterior draws"
    write_run(
        out,
        result,
        run_manifest,
        run_summary,
        args.scale,
        args.format,
        extra_files=lambda folder: departures_figure(result, args.scale, title, folder / FIGURE),
    )
    if not args.quiet:
        print(
            render_summary(
                f"{scenario.name} over {args.draws} posterior draws",
                result,
                run_summary,
                args.scale,
                wall,
                out,
            )
        )
    return 0
