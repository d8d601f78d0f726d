"""The calibration's commands: ``calibrate``, ``calibration-report`` and ``run-posterior``."""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

from sim.record import TargetsError
from sim.rundir import manifest, write_run
from sim.scenario import ScenarioError, load_scenario, posterior_file
from sim.tables import summary

from ..runs import render_summary
from .posterior import read_posterior, simulate_posterior
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
        population_size=args.population_size,
        generations=args.generations,
        max_simulations=args.max_simulations,
        max_minutes=args.max_minutes,
        noise_reps=args.noise_reps,
        workers=args.workers,
        resume=args.resume,
        transition=args.transition,
        kernel_scaling=args.kernel_scaling,
    )
    try:
        calibrate(settings)
    except (ScenarioError, PriorsError, TargetsError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.no_report:
        path = write_report(
            args.out, args.out, args.scenario, args.seed, args.report_reps, args.report_draws
        )
        print(f"report: {path}")
    return 0


def report_command(args) -> int:
    out = args.out or args.calibration
    try:
        path = write_report(
            args.calibration, out, args.scenario, args.seed, args.report_reps, args.report_draws
        )
    except (ScenarioError, PriorsError, TargetsError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {path}")
    return 0


def posterior_command(args) -> int:
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if scenario.calibration is None:
        print(f"error: {args.scenario}: no [calibration] posterior to draw from", file=sys.stderr)
        return 2
    posterior_path = posterior_file(args.scenario)
    posterior = read_posterior(posterior_path)
    started = time.perf_counter()
    result, drawn = simulate_posterior(
        scenario,
        posterior,
        args.seed,
        args.draws,
        args.reps_per_draw,
        args.scale,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    wall = time.perf_counter() - started
    out = args.out or Path("results") / f"{scenario.name}_posterior"
    run_manifest = manifest(scenario, args.scenario, args.seed, result, args.scale, "numpy", wall)
    run_manifest["posterior_draws"] = {
        "posterior_file": str(posterior_path),
        "posterior_sha256": hashlib.sha256(posterior_path.read_bytes()).hexdigest(),
        "draws": args.draws,
        "reps_per_draw": args.reps_per_draw,
        "rule": "draw i resampled with SeedSequence(seed, spawn_key=(2,)); runs replications "
        "i*reps_per_draw .. (i+1)*reps_per_draw-1",
        "parameters": drawn,
    }
    run_summary = summary(result, args.scale)
    try:
        write_run(out, result, run_manifest, run_summary)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
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
