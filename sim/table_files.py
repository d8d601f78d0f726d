"""Tables as files: Parquet (the default), CSV or NetCDF, each column's unit in its name.

Every table a run or a command writes counts full-population persons, named with their unit
(``departures_persons_mean``), the simulated count beside it (``..._simulated_persons_mean``;
``tables.py``). NetCDF goes through xarray (the ``netcdf`` extra, imported only when asked for):
the identifying columns are its dimensions and each variable carries its ``units`` attribute.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .staging import atomic_write_bytes

FORMATS = ("parquet", "csv", "netcdf")
SUFFIXES = {"parquet": ".parquet", "csv": ".csv", "netcdf": ".nc"}
UNITS = ("persons", "households", "places")
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
