"""A parameter as it enters the float32 arithmetic of households: one float, or one value per
row when several parameter sets run in the same arrays (``rows.py``)."""

from __future__ import annotations

import numpy as np


def as_float32(value):
    """A parameter as it meets the float32 arrays of households: a float is left as it is (numpy
    converts it to float32 then), an array of values by row is converted here (as float64 it
    would turn the households' arrays into float64, and change their numbers)."""
    return value.astype(np.float32) if isinstance(value, np.ndarray) else value


def float32_of(value):
    """A parameter as float32 itself: an ``np.float32`` for one value, a float32 array for values
    by row (where a float left as it is would be converted only when it meets an array)."""
    return np.float32(value) if np.ndim(value) == 0 else as_float32(np.asarray(value))


def is_on(value):
    """Whether a lever or a rate is on (not 0): one bool, or an array of one per row."""
    return value != 0


def any_positive(value) -> bool:
    """Whether a value, or any of its values by row, is above 0."""
    return bool(np.any(value > 0)) if isinstance(value, np.ndarray) else value > 0
