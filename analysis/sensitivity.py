"""Sensitivity analysis of a finished sweep: Sobol indices or Morris screening, from SALib.

``sobol_table`` reads a Sobol (Saltelli) sweep and gives, per output and parameter, the
first-order and total indices with bootstrap confidence intervals, and the total index from
the first half of the base samples as a check of convergence. ``morris_table`` reads a Morris
sweep and gives mu, mu* (with its bootstrap interval) and sigma.

The seed is treated openly. Each point ran R replications with the sweep seed (common random
numbers: every point sees the same population and random streams), and the indices are those
of the replication mean. Beside them, ``noise_table`` reports the share of the variance of a
single run that is seed noise (mean within-point variance over the variance of all runs), and
the same share for the replication mean (noise variance / R over the variance of the means).
A parameter whose index is below that noise share cannot be told apart from the seed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from sim.outcomes import outcomes
from sim.staging import atomic_write_text
from sim.table_files import FormatError, check_format, read_table, write_table

from .progress import Progress
from .reporting import render as report_template
from .sensitivity_plot import plot
from .tables import output_column, outputs_in_persons


class SensitivityError(ValueError):
    """The sweep folder cannot be analysed as asked; the message says why."""


def _read(sweep_dir: Path) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    sweep_dir = Path(sweep_dir)
    try:
        table = read_table(sweep_dir, "results")
    except FileNotFoundError:
        raise SensitivityError(
            f"{sweep_dir}: no results.parquet (nor .csv, .nc); run (or finish) the sweep first "
            "with `repatriation sweep`"
        ) from None
    manifest = json.loads((sweep_dir / "sweep.json").read_text())
    # Counts of a sweep assembled before they were full-population persons.
    raw = [
        key
        for key in manifest["definition"]["outputs"]
        if key in table.columns and output_column(key) != key
    ]
    table = outputs_in_persons(table, raw, manifest["definition"]["scale"])
    return manifest, pd.read_parquet(sweep_dir / "design.parquet"), table


def _problem(manifest: dict) -> dict:
    names = manifest["parameters"]
    # Analyses work on the unit hypercube the design was drawn on; indices do not depend on the
    # parameters' units, and Morris effects are per full range of each parameter.
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def _check_outputs(manifest: dict, outputs: list[str] | None) -> list[str]:
    kept = manifest["definition"]["outputs"]
    outputs = outputs or kept
    unknown = [o for o in outputs if o not in kept]
    if unknown:
        raise SensitivityError(
            f"output(s) {', '.join(unknown)} not kept by this sweep (kept: {', '.join(kept)})"
        )
    return outputs


def _means(results: pd.DataFrame, output: str) -> np.ndarray:
    """The replication mean of ``output`` per design point, in design order."""
    values = results.groupby("point", sort=True)[output_column(output)].mean().to_numpy()
    if np.isnan(values).any():
        raise SensitivityError(
            f"output {output} is undefined (NaN) at {np.isnan(values).sum()} "
            "points (a share of zero persons?); choose another output"
        )
    return values


def noise_table(sweep_dir: Path, outputs: list[str] | None = None) -> pd.DataFrame:
    """Seed noise per output: its share of the variance of one run and of the replication mean."""
    manifest, _, results = _read(sweep_dir)
    outputs = _check_outputs(manifest, outputs)
    reps = manifest["definition"]["replications"]
    rows = []
    for output in outputs:
        per_point = results.groupby("point")[output_column(output)]
        within = per_point.var(ddof=1).mean() if reps > 1 else np.nan
        rows.append(
            {
                "output": output,
                "replications": reps,
                "noise_share_single_run": within / results[output_column(output)].var(ddof=1),
                "noise_share_of_mean": (within / reps) / per_point.mean().var(ddof=1),
            }
        )
    return pd.DataFrame(rows)


def _generator(seed: int) -> np.random.Generator:
    """A generator for SALib's bootstrap. SALib's Sobol analysis ignores an integer seed of 0
    (``if seed:``), which left its confidence intervals different on every run; a Generator is
    always used."""
    return np.random.default_rng(seed)


def sobol_table(
    sweep_dir: Path,
    outputs: list[str] | None = None,
    resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """First-order and total Sobol indices with bootstrap intervals, per output and parameter
    (``progress`` is told each output as its analysis starts)."""
    from SALib.analyze import sobol

    manifest, _, results = _read(sweep_dir)
    definition = manifest["definition"]
    if definition["design"]["method"] != "sobol":
        raise SensitivityError(
            f"{sweep_dir}: a {definition['design']['method']} design; Sobol "
            'indices need a sweep with method = "sobol"'
        )
    outputs = _check_outputs(manifest, outputs)
    problem, second = _problem(manifest), definition["design"]["second_order"]
    d, n = problem["num_vars"], definition["design"]["samples"]
    block = 2 * d + 2 if second else d + 2
    rows = []
    for output in outputs:
        if progress:
            progress(output)
        y = _means(results, output)
        full = sobol.analyze(
            problem,
            y,
            calc_second_order=second,
            num_resamples=resamples,
            conf_level=conf_level,
            seed=_generator(seed),
        )
        # Saltelli's design is N blocks of (D + 2) rows: the first N/2 blocks are a design of
        # their own, so their total indices show how far the estimate still moves.
        half = (
            sobol.analyze(
                problem,
                y[: (n // 2) * block],
                calc_second_order=second,
                num_resamples=10,
                seed=_generator(seed),
            )
            if n >= 4
            else None
        )
        for i, name in enumerate(problem["names"]):
            rows.append(
                {
                    "output": output,
                    "parameter": name,
                    "S1": full["S1"][i],
                    "S1_conf": full["S1_conf"][i],
                    "ST": full["ST"][i],
                    "ST_conf": full["ST_conf"][i],
                    "ST_half_N": half["ST"][i] if half is not None else np.nan,
                }
            )
    return pd.DataFrame(rows)


def morris_table(
    sweep_dir: Path,
    outputs: list[str] | None = None,
    resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Morris screening: mu, mu* with its bootstrap interval, and sigma, per output and parameter.

    Effects are in the output's unit (``unit``: full-population persons, or a share) per full
    range of the parameter (the design's unit cube).
    ``progress`` is told each output as its analysis starts.
    """
    from SALib.analyze import morris

    manifest, design, results = _read(sweep_dir)
    definition = manifest["definition"]
    if definition["design"]["method"] != "morris":
        raise SensitivityError(
            f"{sweep_dir}: a {definition['design']['method']} design; Morris "
            'screening needs a sweep with method = "morris"'
        )
    outputs = _check_outputs(manifest, outputs)
    problem = _problem(manifest)
    x = design.sort_values("point")[[f"unit:{k}" for k in problem["names"]]].to_numpy()
    rows = []
    for output in outputs:
        if progress:
            progress(output)
        y = _means(results, output)
        found = morris.analyze(
            problem,
            x,
            y,
            num_resamples=resamples,
            conf_level=conf_level,
            num_levels=definition["design"]["levels"],
            seed=seed,
        )
        for i, name in enumerate(problem["names"]):
            rows.append(
                {
                    "output": output,
                    "unit": outcomes()[output].unit,
                    "parameter": name,
                    "mu": found["mu"][i],
                    "mu_star": found["mu_star"][i],
                    "mu_star_conf": found["mu_star_conf"][i],
                    "sigma": found["sigma"][i],
                }
            )
    return pd.DataFrame(rows)


def sensitivity_command(args) -> int:
    try:
        check_format(args.format)
        manifest, _, _ = _read(args.sweep_dir)
        method = manifest["definition"]["design"]["method"]
        if method not in ("sobol", "morris"):
            raise SensitivityError(
                f"{args.sweep_dir}: a {method} design; use a sobol or a morris "
                "sweep for a sensitivity analysis"
            )
        analyse = sobol_table if method == "sobol" else morris_table
        say = Progress.on_terminal(len(_check_outputs(manifest, args.outputs)))
        table = analyse(args.sweep_dir, args.outputs, resamples=args.resamples, progress=say)
        noise = noise_table(args.sweep_dir, args.outputs)
    except (SensitivityError, FormatError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = args.out or Path(args.sweep_dir) / "sensitivity"
    out.mkdir(parents=True, exist_ok=True)
    attrs = {"sweep": manifest["name"], "method": method}
    written = [
        write_table(table, out, method, args.format, ["output", "parameter"], attrs).name,
        write_table(noise, out, "seed_noise", args.format, ["output"], attrs).name,
    ]
    plot(table, noise, method, out / f"{method}.png")
    text = render(manifest, table, noise, method)
    atomic_write_text(out / f"{method}.md", text + "\n")
    print(text)
    print(f"\nWritten to {out}/ ({', '.join([*written, f'{method}.md', f'{method}.png'])})")
    return 0


# A Sobol index whose 95% bootstrap interval is wider than this either way, or whose value from
# half the base samples differs from the whole by more, has not settled; a Morris mu* whose
# interval is wider than this share of itself is uncertain; seed noise above this share of the
# mean's variance hides the smaller indices.
UNSETTLED, UNCERTAIN_MU, NOISY = 0.1, 0.5, 0.1


def unreliable(table: pd.DataFrame, noise: pd.DataFrame, method: str) -> dict[str, list[str]]:
    """For each output, one line per kind of number that should not be read as it stands."""
    out: dict[str, list[str]] = {}
    shares = dict(zip(noise["output"], noise["noise_share_of_mean"]))
    for output, rows in table.groupby("output", sort=False):
        lines = []
        if method == "sobol":
            wide = rows[
                (rows["ST_conf"] > UNSETTLED) | ((rows["ST_half_N"] - rows["ST"]).abs() > UNSETTLED)
            ]
            if len(wide):
                lines.append(
                    f"not settled (interval wider than +-{UNSETTLED:g}, or half the samples "
                    f"differ by more): {', '.join(wide['parameter'])}; use a larger N"
                )
        else:
            wide = rows[rows["mu_star_conf"] > UNCERTAIN_MU * rows["mu_star"].abs()]
            if len(wide):
                lines.append(
                    f"uncertain (mu* interval wider than {UNCERTAIN_MU:.0%} of mu*): "
                    f"{', '.join(wide['parameter'])}; use more trajectories"
                )
        share = shares.get(output, float("nan"))
        if share > NOISY:
            lines.append(
                f"seed noise is {share:.0%} of the variance of the mean: indices below about "
                f"{share:.2g} cannot be told from it; use more replications"
            )
        out[output] = lines
    return out


def render(manifest: dict, table: pd.DataFrame, noise: pd.DataFrame, method: str) -> str:
    """The Markdown report (``templates/sensitivity.md.j2``): what varied, then one table per
    output, sorted by total index (Sobol) or mu* (Morris), and the seed noise beside it."""
    order = "ST" if method == "sobol" else "mu_star"
    tables = [
        (
            output,
            rows.drop(columns=["output", "unit"], errors="ignore")
            .sort_values(order, ascending=False)
            .to_markdown(index=False, floatfmt=".3g"),
        )
        for output, rows in table.groupby("output", sort=False)
    ]
    noise_by_output = {
        row["output"]: {**row, "replications": int(row["replications"])}
        for row in noise.to_dict("records")
    }
    return report_template(
        "sensitivity.md.j2",
        manifest=manifest,
        definition=manifest["definition"],
        method=method,
        ranges=manifest.get("ranges") or {},
        posterior=manifest.get("posterior"),
        tables=tables,
        noise=noise_by_output,
        warnings=unreliable(table, noise, method),
        units={key: outcomes()[key].unit for key in noise["output"]},
    ).rstrip("\n")
