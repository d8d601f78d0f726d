"""Tidy tables of a run: by year, by month, and the documented figures beside the simulated ones.

A run at ``scale`` s simulates s times the population. Every table counts full-population
persons (the simulated counts divided by the scale, as the documents count), each column named
with its unit (``departures_persons_mean``), and keeps the simulated count beside it, named as
such (``departures_simulated_persons_mean``), so that what a small run rests on stays in view.
Households and places on the ships are counted the same way (``departing_households_mean``,
``capacity_places``); shares have no scale. A band is the 5th, 50th and 95th percentile across
replications (``band``): the randomness of the model at fixed parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .aftermath import SERIES, AftermathResult
from .record import aftermath_figures, figures
from .result import FLOW_METRICS, METRICS, RunResult
from .schedules import month_label

QUANTILES = {"p05": 0.05, "p50": 0.50, "p95": 0.95}
ANNUAL_BANDED = ("departures", "registrations", "cancellations")
# What a metric counts, where it is not persons; the name's stem before the unit.
NOT_PERSONS = {
    "departing_households": ("departing", "households"),
    "capacity": ("capacity", "places"),
}


def band(values, axis: int | None = None) -> dict[str, np.ndarray]:
    """The 90% band and median of ``values`` across replications: {"p05", "p50", "p95"}."""
    return {label: np.quantile(values, q, axis=axis) for label, q in QUANTILES.items()}


def annual_counts(result: RunResult) -> pd.DataFrame:
    """One row per calendar year: flows summed over the year, then mean and 90% band over reps
    (``<metric>_<statistic>``, simulated persons; ``annual_table`` for users)."""
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
                for label, value in band(per_rep).items():
                    row[f"{name}_{label}"] = float(value)
        rows.append(row)
    table = pd.DataFrame(rows)
    first = ["year", "departures_mean", "departures_p05", "departures_p50", "departures_p95"]
    return table[first + [c for c in table.columns if c not in first]]


def monthly_counts(result: RunResult) -> pd.DataFrame:
    """Long format: one row per (replication, month), one column per metric (simulated persons;
    ``monthly_table`` for users)."""
    reps, months = len(result.replications), len(result.months)
    table = pd.DataFrame(
        {
            "replication": np.repeat(result.replications, months).astype(np.int32),
            "month": np.tile([month_label(m) for m in result.months], reps),
            "year": np.tile(result.months // 12, reps).astype(np.int16),
        }
    )
    for name in METRICS:
        table[name] = result.metrics[name].reshape(-1)
    return table


def named(metric: str, simulated: bool = False) -> str:
    """A metric's column, its unit in its name: ``departures_persons``, ``capacity_places``,
    and the simulated count ``departures_simulated_persons``."""
    stem, unit = NOT_PERSONS.get(metric, (metric, "persons"))
    return f"{stem}_simulated_{unit}" if simulated else f"{stem}_{unit}"


def per_year_in_persons(table: pd.DataFrame, scale: float) -> pd.DataFrame:
    """``<metric>_<statistic>`` columns of a yearly table in full-population units, and each
    metric's simulated mean after them."""
    out = {"year": table["year"].astype(int)}
    simulated = {}
    for column in table.columns.drop("year"):
        metric, statistic = column.rsplit("_", 1)
        out[f"{named(metric)}_{statistic}"] = table[column] / scale
        if statistic == "mean":
            simulated[f"{named(metric, simulated=True)}_mean"] = table[column]
    return pd.DataFrame({**out, **simulated})


def annual_table(result: RunResult, scale: float) -> pd.DataFrame:
    """One row per year: each flow's mean (and for departures, registrations and cancellations
    the 90% band) in full-population units, then the simulated means."""
    return per_year_in_persons(annual_counts(result), scale)


def monthly_table(result: RunResult, scale: float) -> pd.DataFrame:
    """One row per (replication, month): every flow and stock in full-population units, then
    the simulated counts."""
    table = monthly_counts(result)
    ids = table[["replication", "month", "year"]]
    full = pd.DataFrame({named(m): table[m] / scale for m in METRICS})
    simulated = pd.DataFrame({named(m, simulated=True): table[m] for m in METRICS})
    return pd.concat([ids, full, simulated], axis=1)


def aftermath_table(result: AftermathResult, scale: float) -> pd.DataFrame:
    """One row per year of the after-arrival stage: each series' mean and 90% band in
    full-population persons, then the simulated means."""
    return per_year_in_persons(aftermath_counts(result), scale)


def summary(result: RunResult, scale: float) -> dict:
    """Each documented figure beside the run: per replication, mean, band, full-scale band."""
    out = {}
    for figure in figures():
        values = figure.values(result)
        comparable = figure.full_scale(values, scale)
        out[figure.key] = {
            "label": figure.label,
            "documented": figure.documented,
            "qualifier": figure.qualifier,
            "source": figure.source,
            # per replication and over them, simulated (divide by the scale for full-scale
            # persons, as the full_scale_* values do)
            "simulated_per_replication": [float(v) for v in values],
            "simulated_mean": float(np.mean(values)),
            **{f"simulated_{label}": float(value) for label, value in band(values).items()},
            "full_scale_mean": float(np.mean(comparable)),
            "full_scale_p05": float(np.quantile(comparable, 0.05)),
            "full_scale_p95": float(np.quantile(comparable, 0.95)),
        }
    return {
        "scale": scale,
        "replications": [int(r) for r in result.replications],
        "households": result.households,
        "people": result.people,
        "figures": out,
    }


def aftermath_counts(result: AftermathResult) -> pd.DataFrame:
    """One row per year: each series' mean and 90% band over replications (simulated persons;
    ``aftermath_table`` for users)."""
    table = {"year": result.years}
    for name in SERIES:
        values = result.series[name]
        table[f"{name}_mean"] = values.mean(axis=0)
        for label, value in band(values, axis=0).items():
            table[f"{name}_{label}"] = value
    return pd.DataFrame(table)


def aftermath_summary(result: AftermathResult, scale: float) -> dict:
    """The documented after-arrival figures beside the stage's values (full-population, mean
    and 90% band; None where no replication has a value)."""
    out = {}
    for figure in aftermath_figures():
        values = figure.full_scale(figure.values(result), scale)
        finite = values[np.isfinite(values)]
        out[figure.key] = {
            "label": figure.label,
            "documented": figure.documented,
            "qualifier": figure.qualifier,
            "source": figure.source,
            "year": figure.year,
            "low": figure.low,
            "high": figure.high,
            "per_replication": [float(v) for v in values],
            **(
                {
                    "full_scale_mean": float(finite.mean()),
                    "full_scale_p05": float(np.quantile(finite, 0.05)),
                    "full_scale_p95": float(np.quantile(finite, 0.95)),
                }
                if len(finite)
                else {"full_scale_mean": None, "full_scale_p05": None, "full_scale_p95": None}
            ),
        }
    return out


def figures_table(result: RunResult, scale: float) -> pd.DataFrame:
    """The documented figures beside the run, one row each, in full-population units: the
    document's figure and band, the simulated mean and 90% band, and whether the mean is within."""
    rows = []
    for figure in figures():
        values = figure.full_scale(figure.values(result), scale)
        rows.append(
            {
                "key": figure.key,
                "label": figure.label,
                "unit": figure.unit,
                "qualifier": figure.qualifier,
                "documented": figure.documented,
                "low": figure.low,
                "high": figure.high,
                "source": figure.source,
                "mean": float(np.mean(values)),
                **{label: float(value) for label, value in band(values).items()},
                "within": bool(figure.low <= np.mean(values) <= figure.high),
            }
        )
    return pd.DataFrame(rows)
