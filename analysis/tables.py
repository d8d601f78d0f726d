"""The tables a user reads, in one unit: full-population persons, each column named with its unit.

A run at ``--scale`` s simulates s times the population, and the model's own tables
(``sim.tables``) count those simulated persons. Every table a command writes divides the counts
by the scale, as the terminal summary and the documents count, and names each column with its
unit: ``departures_persons_mean``. The simulated count is kept beside it, named as such
(``departures_simulated_persons_mean``), so that what a small run rests on stays in view.
Households and places on the ships are counted the same way (``departing_households_mean``,
``capacity_places``); shares and indices have no scale.

A table is written as Parquet (the default), CSV or NetCDF (``--format``): NetCDF through xarray
(the ``netcdf`` extra), the identifying columns as its dimensions and each variable with its
``units`` attribute.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from sim.aftermath import AftermathResult
from sim.outcomes import outcomes
from sim.result import METRICS, RunResult
from sim.staging import atomic_write_bytes, staged_directory
from sim.tables import aftermath_table, annual_table, monthly_table

FORMATS = ("parquet", "csv", "netcdf")
SUFFIXES = {"parquet": ".parquet", "csv": ".csv", "netcdf": ".nc"}
UNITS = ("persons", "households", "places")
# What a metric counts, where it is not persons; the name's stem before the unit.
NOT_PERSONS = {
    "departing_households": ("departing", "households"),
    "capacity": ("capacity", "places"),
}
COMPRESS_ROWS = 1000  # NetCDF: compress the variables of tables this long or longer
SIMULATED = "of the simulated population: the full population times the run's scale"


class FormatError(ValueError):
    """A table format that cannot be written here; the message says what to do."""


def check_format(fmt: str) -> str:
    """``fmt`` if its tables can be written here, checked before any work (FormatError)."""
    if fmt not in FORMATS:
        raise FormatError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "netcdf":
        try:
            import h5netcdf  # noqa: F401
            import h5py  # noqa: F401  (what h5netcdf writes with)
            import xarray  # noqa: F401
        except ImportError:
            raise FormatError(
                "--format netcdf needs xarray, h5netcdf and h5py, which are not all installed: "
                "pip install 'repatriation-sim[netcdf]'"
            ) from None
    return fmt


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


def annual(result: RunResult, scale: float) -> pd.DataFrame:
    """One row per year: each flow's mean (and for departures, registrations and cancellations
    the 90% band) in full-population units, then the simulated means."""
    return per_year_in_persons(annual_table(result), scale)


def monthly(result: RunResult, scale: float) -> pd.DataFrame:
    """One row per (replication, month): every flow and stock in full-population units, then
    the simulated counts."""
    table = monthly_table(result)
    ids = table[["replication", "month", "year"]]
    full = pd.DataFrame({named(m): table[m] / scale for m in METRICS})
    simulated = pd.DataFrame({named(m, simulated=True): table[m] for m in METRICS})
    return pd.concat([ids, full, simulated], axis=1)


def aftermath(result: AftermathResult, scale: float) -> pd.DataFrame:
    """One row per year of the after-arrival stage: each series' mean and 90% band in
    full-population persons, then the simulated means."""
    return per_year_in_persons(aftermath_table(result), scale)


def output_column(key: str) -> str:
    """The column of a sweep's output: ``<key>_persons`` for a count (full population), the key
    itself for a share."""
    return f"{key}_persons" if outcomes()[key].unit == "persons" else key


def outputs_in_persons(table: pd.DataFrame, keys: Sequence[str], scale: float) -> pd.DataFrame:
    """A table with one column per output of ``keys`` (measured on a run at ``scale``): each
    count as ``<key>_persons`` (full population) and ``<key>_simulated_persons`` beside it, each
    share as it is."""
    out = table.drop(columns=list(keys))
    for key in keys:
        if outcomes()[key].unit == "persons":
            out[f"{key}_persons"] = table[key] / scale
            out[f"{key}_simulated_persons"] = table[key]
        else:
            out[key] = table[key]
    return out


def unit_of(column: str) -> str | None:
    """The unit a column's name carries (None for identifiers, shares and indices)."""
    words = column.split("_")
    return next((unit for unit in UNITS if unit in words), None)


def table_bytes(
    table: pd.DataFrame, fmt: str, dims: Sequence[str] = (), attrs: dict | None = None
) -> bytes:
    """``table`` as a file of ``fmt``. ``dims``: the columns that identify a row (NetCDF's
    dimensions); ``attrs``: what the file records about itself (NetCDF's global attributes,
    Parquet's metadata)."""
    if fmt == "csv":
        return table.to_csv(index=False, float_format="%.6g").encode()
    if fmt == "parquet":
        buffer = io.BytesIO()
        table = table.copy()
        table.attrs = dict(attrs or {})  # pandas keeps them in the file's metadata
        table.to_parquet(buffer, index=False)
        return buffer.getvalue()
    import xarray as xr

    dataset = xr.Dataset.from_dataframe(table.set_index(list(dims)) if dims else table)
    for name, variable in dataset.variables.items():
        unit = unit_of(str(name))
        if unit:
            variable.attrs["units"] = unit
            if "simulated" in str(name).split("_"):
                variable.attrs["comment"] = f"{unit} {SIMULATED}"
    dataset.attrs.update({k: v for k, v in (attrs or {}).items() if v is not None})
    dataset.attrs["columns"] = json.dumps(list(table.columns))  # the table's order, for reading
    # Long tables compressed, as Parquet is: the monthly table of 20 replications at scale 0.1
    # takes 0.4 MB instead of 2.3 MB. A short one would grow (a chunk's overhead per variable).
    numbers = [name for name, v in dataset.data_vars.items() if v.dtype.kind in "biuf"]
    long = len(table) >= COMPRESS_ROWS
    encoding = {name: {"zlib": True, "complevel": 4} for name in numbers} if long else {}
    return bytes(dataset.to_netcdf(engine="h5netcdf", encoding=encoding))


def write_table(
    table: pd.DataFrame,
    folder: Path,
    stem: str,
    fmt: str,
    dims: Sequence[str] = (),
    attrs: dict | None = None,
) -> Path:
    """Write ``folder/stem.<suffix of fmt>`` atomically; returns its path."""
    path = Path(folder) / f"{stem}{SUFFIXES[fmt]}"
    atomic_write_bytes(path, table_bytes(table, fmt, dims, attrs))
    return path


def read_table(folder: Path, stem: str) -> pd.DataFrame:
    """The table ``stem`` of ``folder`` in whichever format it was written (FileNotFoundError
    if there is none)."""
    for fmt, suffix in SUFFIXES.items():
        path = Path(folder) / f"{stem}{suffix}"
        if path.is_file():
            if fmt == "csv":
                return pd.read_csv(path)
            if fmt == "parquet":
                return pd.read_parquet(path)
            import xarray as xr

            with xr.open_dataset(path, engine="h5netcdf") as dataset:
                table = dataset.to_dataframe().reset_index()
                order = json.loads(dataset.attrs.get("columns", "[]"))
            return table[order] if set(order) == set(table.columns) else table
    raise FileNotFoundError(f"{folder}: no {stem} table ({', '.join(SUFFIXES.values())})")


def write_run(
    out: Path,
    result: RunResult,
    run_manifest: dict,
    run_summary: dict,
    scale: float,
    fmt: str = "parquet",
    aftermath_result: AftermathResult | None = None,
    extra_files: Callable[[Path], None] | None = None,
) -> Path:
    """Write a run folder whole or not at all, as ``sim.rundir.write_run`` does, its tables in
    full-population units and in ``fmt``: ``annual``, ``monthly`` and, with an
    ``aftermath_result``, ``aftermath``. ``extra_files(folder)`` writes more files (the figure);
    the manifest, written last, lists every file."""
    attrs = {"scenario": run_manifest.get("scenario_name"), "scale": scale}
    with staged_directory(out) as staging:
        if extra_files is not None:
            extra_files(staging)
        write_table(annual(result, scale), staging, "annual", fmt, ["year"], attrs)
        write_table(
            monthly(result, scale), staging, "monthly", fmt, ["replication", "month"], attrs
        )
        if aftermath_result is not None:
            write_table(
                aftermath(aftermath_result, scale), staging, "aftermath", fmt, ["year"], attrs
            )
        (staging / "summary.json").write_text(json.dumps(run_summary, indent=2))
        # The manifest is written last: a folder with a manifest is a complete run.
        (staging / "manifest.json").write_text(json.dumps(run_manifest, indent=2))
    return Path(out)
