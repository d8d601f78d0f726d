"""Months and dated schedules: the calendar a scenario is written in.

A month is written ``YYYY-MM`` in scenario files and held as an absolute month number
(``year * 12 + month - 1``). A policy lever is a schedule: a list of steps, each holding its value
from its month until the next step. These functions turn a schedule into its value in each
simulated month (for the engines) or its mean over each year (for the after-arrival stage).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np

_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_index(text: str) -> int:
    """'1959-12' -> absolute month number (year * 12 + month - 1)."""
    match = _YEAR_MONTH.match(str(text))
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"{text!r} is not a month written as YYYY-MM (e.g. 1959-12)")
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def month_label(index: int) -> str:
    """Absolute month number -> 'YYYY-MM'."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


class Step(Protocol):
    """One step of a schedule (``schema.Step``): ``value`` holds from month ``start`` on."""

    start: int
    value: float


def monthly_values(steps: Sequence[Step], months: np.ndarray) -> np.ndarray:
    """A schedule's value in each of ``months`` (float64; the first step holds before it starts)."""
    starts = np.array([s.start for s in steps])
    values = np.array([s.value for s in steps], dtype=np.float64)
    index = np.searchsorted(starts, np.asarray(months), side="right") - 1
    return values[np.maximum(index, 0)]


def yearly_values(steps: Sequence[Step], years: np.ndarray) -> np.ndarray:
    """A schedule's mean over the months of each year: a gate open from July counts half."""
    months = (np.asarray(years)[:, None] * 12 + np.arange(12)[None, :]).ravel()
    return monthly_values(steps, months).reshape(len(years), 12).mean(axis=1)
