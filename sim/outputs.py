"""Run directories: the tables a run writes, its manifest, and the atomic write that holds them.

A run directory holds ``annual.csv`` (one row per year: mean and 90% band across replications),
``aftermath.csv`` when the after-arrival stage ran (one row per year, 1960 to its end year),
``monthly.parquet`` (every metric per month and replication, long format), ``summary.json``
(totals per replication, their mean and quantiles, the documented figures beside them) and
``manifest.json`` (what was run: resolved scenario and its hash, seed, replications, scale,
package version, git commit, engine, wall time). Counts are persons of the simulated population:
at ``--scale`` below 1 divide them by the scale for full-population equivalents.

Everything is written into a hidden sibling folder first and renamed into place at the end, so
an interrupted run never leaves a folder that looks complete.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from . import __version__
from .engine_numpy import FLOW_METRICS, METRICS, RunResult
from .record import FIGURES
from .scenario import Scenario, month_label

QUANTILES = {"p05": 0.05, "p50": 0.50, "p95": 0.95}
ANNUAL_BANDED = ("departures", "registrations", "cancellations")


def annual_table(result: RunResult) -> pd.DataFrame:
    """One row per calendar year: flows summed over the year, then mean and 90% band over reps."""
    years = result.months // 12
    rows = []
    for year in np.unique(years):
        in_year = years == year
        row: dict[str, float] = {"year": int(year)}
        for name in FLOW_METRICS:
            if name == "capacity":
                continue
            per_rep = result.metrics[name][:, in_year].sum(axis=1)
            row[f"{name}_mean"] = float(per_rep.mean())
            if name in ANNUAL_BANDED:
                for label, q in QUANTILES.items():
                    row[f"{name}_{label}"] = float(np.quantile(per_rep, q))
        rows.append(row)
    table = pd.DataFrame(rows)
    first = ["year", "departures_mean", "departures_p05", "departures_p50", "departures_p95"]
    return table[first + [c for c in table.columns if c not in first]]


def monthly_table(result: RunResult) -> pd.DataFrame:
    """Long format: one row per (replication, month), one column per metric."""
    reps, months = len(result.replications), len(result.months)
    table = pd.DataFrame({
        "replication": np.repeat(result.replications, months).astype(np.int32),
        "month": np.tile([month_label(m) for m in result.months], reps),
        "year": np.tile(result.months // 12, reps).astype(np.int16),
    })
    for name in METRICS:
        table[name] = result.metrics[name].reshape(-1)
    return table


def summary(result: RunResult, scale: float) -> dict:
    """Totals per replication with their mean and quantiles, beside the documented figures."""
    figures = {}
    for figure in FIGURES:
        values = figure.measure(result)
        comparable = values if figure.is_share else values / scale
        figures[figure.key] = {
            "label": figure.label,
            "documented": figure.documented,
            "qualifier": figure.qualifier,
            "source": figure.source,
            "per_replication": [float(v) for v in values],
            "mean": float(np.mean(values)),
            **{label: float(np.quantile(values, q)) for label, q in QUANTILES.items()},
            "full_scale_mean": float(np.mean(comparable)),
            "full_scale_p05": float(np.quantile(comparable, 0.05)),
            "full_scale_p95": float(np.quantile(comparable, 0.95)),
        }
    return {
        "scale": scale,
        "replications": [int(r) for r in result.replications],
        "households": result.households,
        "people": result.people,
        "figures": figures,
    }


def git_commit() -> str:
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, check=True).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def manifest(scenario: Scenario, scenario_path: Path, seed: int, result: RunResult, scale: float,
             engine: str, wall_seconds: float) -> dict:
    return {
        "scenario_name": scenario.name,
        "scenario_file": str(scenario_path),
        "scenario_sha256": scenario.digest(),
        "scenario": json.loads(scenario.canonical_json()),
        "seed": seed,
        "replications": [int(r) for r in result.replications],
        "scale": scale,
        "households": result.households,
        "people": result.people,
        "engine": engine,
        "package_version": __version__,
        "git_commit": git_commit(),
        "wall_seconds": round(wall_seconds, 3),
        "files": ["annual.csv", "monthly.parquet", "summary.json", "manifest.json"],
    }


@contextmanager
def staged_directory(out: Path) -> Iterator[Path]:
    """Yield a hidden sibling folder to write into; rename it to ``out`` only if all went well.

    An earlier output folder at ``out`` (one holding a manifest.json) is replaced; any other
    non-empty folder is refused, so a mistyped --out never deletes someone's files.
    """
    out = Path(out)
    if out.exists() and not (out / "manifest.json").is_file():
        if not out.is_dir() or any(out.iterdir()):
            raise FileExistsError(
                f"{out} exists and is not an output directory of this tool (no manifest.json); "
                "choose another --out"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield staging
        _replace_directory(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_run(out: Path, result: RunResult, run_manifest: dict, run_summary: dict,
              aftermath=None) -> Path:
    """Write a run directory atomically; replace an earlier run directory at the same place.

    With an ``aftermath`` (an ``aftermath.AftermathResult``) the directory also holds
    ``aftermath.csv``, one row per year from 1960, and the summary and manifest say so."""
    with staged_directory(out) as staging:
        annual_table(result).to_csv(staging / "annual.csv", index=False, float_format="%.6g")
        monthly_table(result).to_parquet(staging / "monthly.parquet", index=False)
        if aftermath is not None:
            from .aftermath import aftermath_table

            aftermath_table(aftermath).to_csv(staging / "aftermath.csv", index=False,
                                              float_format="%.6g")
            run_manifest = {**run_manifest, "files": run_manifest["files"] + ["aftermath.csv"]}
        (staging / "summary.json").write_text(json.dumps(run_summary, indent=2))
        # The manifest is written last: a directory with a manifest is a complete run.
        (staging / "manifest.json").write_text(json.dumps(run_manifest, indent=2))
    return Path(out)


def _replace_directory(new: Path, out: Path) -> None:
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rename(out, old / "run")
        os.rename(new, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(new, out)
