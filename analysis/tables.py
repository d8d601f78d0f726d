"""A sweep's outputs in one unit: full-population persons, each column named with its unit.

The model's tables (``sim.tables``) and files (``sim.table_files``) count full-population
persons and name each column's unit; a sweep's results table does the same for its outputs:
``<output>_persons`` for a count, with ``<output>_simulated_persons`` beside it, and a share
as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from sim.outcomes import outcomes


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
