"""The ``sweep`` command: check a sweep file, or run it (resumably) and say where it went."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.table_files import SUFFIXES, FormatError, check_format

from .runner import run_sweep
from .spec import SweepError, load_sweep


def sweep_command(args) -> int:
    try:
        check_format(args.format)
        sweep = load_sweep(args.sweep)
    except (SweepError, FormatError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    unique = sweep.design["point_hash"].nunique()
    if args.check:
        print(
            f"{args.sweep}: valid sweep '{sweep.name}': {sweep.spec.design.method} design, "
            f"{len(sweep.design)} points ({unique} distinct) x {sweep.spec.replications} "
            f"replications = {unique * sweep.spec.replications} runs at scale {sweep.spec.scale:g}"
        )
        if sweep.posterior is not None:
            print(f"  {sweep.posterior.describe()}")
        for key, spread in sweep.ranges().items():
            print(f"  {key}: {spread}")
        return 0
    if args.workers is not None and args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    out = args.out or Path("results") / "sweeps" / sweep.name
    log = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr))
    try:
        report = run_sweep(
            sweep,
            out,
            workers=args.workers,
            scheduler=args.scheduler,
            chunk_size=args.chunk_size,
            progress=not args.quiet and sys.stderr.isatty(),
            log=log,
            fmt=args.format,
        )
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: the finished chunks are saved in {out}; run the same command "
            "again to compute only what is missing",
            file=sys.stderr,
        )
        return 130
    if not args.quiet:
        runs = report.computed * sweep.spec.replications
        rate = f", {runs / report.wall_seconds * 60:,.0f} runs/min" if runs else ""
        print(
            f"{sweep.name}: {report.points} points ({report.reused} reused, {report.computed} "
            f"computed{rate}) in {report.wall_seconds:.1f} s -> {out}/results"
            f"{SUFFIXES[args.format]}"
        )
    return 0
