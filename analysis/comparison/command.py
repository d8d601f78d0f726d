"""The ``compare`` command: counterfactual scenarios against the baseline, written as a report.

repatriation compare --reps 20 --scale 1.0 --out results/comparison
repatriation compare scenarios/no_welfare_cuts.toml scenarios/letters_published.toml
"""

from __future__ import annotations

import argparse
import sys
import time

from sim.outcomes import AFTERMATH_OUTCOMES
from sim.rundir import git_commit, library_versions, recorded_path
from sim.scenario import ScenarioError, load_scenario, posterior_file, scenario_file
from sim.version import __version__

from ..calibration.posterior import read_posterior
from ..progress import Progress
from ..runs import format_or_none, writable_or_none
from .attribution import CHANNELS, attribute
from .paired import Comparison, compare, follows_aftermath, numpy_runner, posterior_runner
from .report import write_report


def compare_command(args: argparse.Namespace) -> int:
    if args.reps < 2 or not 0 < args.scale <= 1:
        print("error: --reps must be at least 2 and --scale in (0, 1]", file=sys.stderr)
        return 2
    if writable_or_none(args.out) is None or format_or_none(args.format) is None:
        return 2
    baseline_path = scenario_file(args.baseline)
    files = args.scenarios or sorted(
        p for p in baseline_path.parent.glob("*.toml") if p.resolve() != baseline_path.resolve()
    )
    try:
        baseline = load_scenario(baseline_path)
        scenarios = [load_scenario(path) for path in files]
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # A calibrated baseline is compared over its posterior by default: replication k of every
    # run takes posterior draw k, so the bands include parameter uncertainty (--point: not).
    runner, posterior_path = numpy_runner, None
    if args.parameter_uncertainty or (baseline.calibration is not None and not args.point):
        posterior_path = posterior_file(baseline_path)
        if posterior_path is None:
            print(
                f"error: {args.baseline} has no [calibration] posterior; drop "
                "--parameter-uncertainty",
                file=sys.stderr,
            )
            return 2
        runner = posterior_runner(read_posterior(posterior_path))
    # One step per run: the baseline, each scenario, the after-arrival stage, and the 16
    # switched-off baselines of the attribution.
    follows = bool(args.aftermath) or follows_aftermath(scenarios)
    say = Progress.on_terminal(
        1 + len(scenarios) + follows + (0 if args.no_attribution else 2 ** len(CHANNELS))
    )
    started = time.perf_counter()
    try:
        comparison = compare(
            baseline,
            scenarios,
            args.seed,
            args.reps,
            args.scale,
            runner,
            say,
            aftermath=True if args.aftermath else None,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    attribution = (
        None
        if args.no_attribution
        else attribute(baseline, args.seed, args.reps, args.scale, runner, progress=say)
    )
    wall = time.perf_counter() - started
    manifest = {
        "command": "compare",
        "baseline": {"file": recorded_path(baseline_path), "sha256": baseline.digest()},
        "scenarios": [
            {"file": recorded_path(p), "name": s.name, "sha256": s.digest()}
            for p, s in zip(files, scenarios)
        ],
        "seed": args.seed,
        "replications": list(range(args.reps)),
        "scale": args.scale,
        "parameter_uncertainty": recorded_path(posterior_path) if posterior_path else None,
        "engine": "numpy",
        "package_version": __version__,
        "git_commit": git_commit(),
        "libraries": library_versions(),
        "wall_seconds": round(wall, 1),
    }
    if comparison.aftermath is not None:
        manifest["aftermath"] = {
            "requested": bool(args.aftermath),
            "enabled_by": [s.name for s in scenarios if s.aftermath_enabled],
            "outcomes": {
                key: {"series": o.series, "year": o.year} for key, o in AFTERMATH_OUTCOMES.items()
            },
        }
    write_report(args.out, baseline, scenarios, comparison, attribution, manifest, args.format)
    print(headline(comparison))
    print(f"Report written to {args.out}/report.md")
    return 0


def headline(comparison: Comparison) -> str:
    table = comparison.differences()
    table = table[table["outcome"] == "departures"]
    lines = ["Change in total departures against the baseline (median [90% band], paired):"]
    for row in table.sort_values("difference_median").itertuples():
        lines.append(
            f"  {row.scenario:28s} {row.difference_median:+9,.0f}  "
            f"[{row.difference_p05:+,.0f} to {row.difference_p95:+,.0f}]"
        )
    if comparison.aftermath is not None:
        table = comparison.aftermath_differences()
        table = table[table["outcome"] == "resettled_japan_2025"]
        lines.append(
            "Change in those resettled in Japan by 2025 (after arrival; median [90% band], paired):"
        )
        for row in table.sort_values("difference_median").itertuples():
            lines.append(
                f"  {row.scenario:28s} {row.difference_median:+9,.0f}  "
                f"[{row.difference_p05:+,.0f} to {row.difference_p95:+,.0f}]"
            )
    return "\n".join(lines)
