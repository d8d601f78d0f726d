"""The documented record: figures the documents give, and how to read each one off a run.

The figures live in one file, ``analysis/targets.toml`` (document, words of the source, period,
unit, tolerance band); this module reads it and gives each figure a function that computes the
same quantity from a run's monthly metrics (one value per replication), so the run summary and
the calibration compare the same things. ``FIGURES`` holds the figures the engine can produce;
``TARGETS`` holds every documented figure, including those the engine does not record yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .engine_numpy import METRICS, RunResult
from .scenario import month_index, read_toml

TARGETS_FILE = Path(__file__).resolve().parents[1] / "analysis" / "targets.toml"
MEASURES = ("total", "stock", "cancelled_share")
UNITS = ("persons", "share")
# "some": the documents record that it happened but give no count; `documented` is then the
# band's floor, and the band is a stated reading of the words (its `tolerance_reason`).
QUALIFIERS = ("exactly", "about", "over", "under", "some")
# "repatriation": 1955-1984 in Japan, what the calibration fits; "aftermath": after arrival in
# the North (its own stage of the tool), never fitted by the calibration of the baseline.
STAGES = ("repatriation", "aftermath")


def _months_between(result: RunResult, first: str, last: str) -> np.ndarray:
    return (result.months >= month_index(first)) & (result.months <= month_index(last))


def total(metric: str, first: str, last: str) -> Callable[[RunResult], np.ndarray]:
    def measure(result: RunResult) -> np.ndarray:
        return result.metrics[metric][:, _months_between(result, first, last)].sum(axis=1)

    return measure


def stock_at(metric: str, month: str) -> Callable[[RunResult], np.ndarray]:
    def measure(result: RunResult) -> np.ndarray:
        column = np.flatnonzero(result.months == month_index(month))
        if len(column) == 0:
            return np.full(len(result.replications), np.nan)
        return result.metrics[metric][:, column[0]].astype(float)

    return measure


def cancelled_share(first: str, last: str) -> Callable[[RunResult], np.ndarray]:
    def measure(result: RunResult) -> np.ndarray:
        registered = total("registrations", first, last)(result)
        cancelled = total("cancellations", first, last)(result)
        return np.divide(cancelled, registered, out=np.full(len(registered), np.nan),
                         where=registered > 0)

    return measure


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    documented: float
    qualifier: str  # "about", "over", "under", "exactly", "some" (see QUALIFIERS)
    source: str  # document file name(s), e.g. "002, 001"
    measure: Callable[[RunResult], np.ndarray] | None  # None: not produced by the model yet
    is_share: bool = False
    low: float = 0.0  # tolerance band of the documented figure (full-population units)
    high: float = 0.0
    unit: str = "persons"
    period: tuple[str, str] = ("", "")
    metric: str = ""
    kind: str = "total"
    quote: str = ""
    tolerance_reason: str = ""
    fit: bool = True  # used by the calibration
    needs: str = ""  # what the engine must record to produce it
    sources: tuple[str, ...] = field(default=())
    stage: str = "repatriation"  # or "aftermath": not part of the baseline's calibration

    @property
    def produced(self) -> bool:
        return self.measure is not None

    @property
    def centre(self) -> float:
        return (self.low + self.high) / 2

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def full_scale(self, values: np.ndarray, scale: float) -> np.ndarray:
        """Values measured on a run at ``scale``, as full-population equivalents."""
        return np.asarray(values, dtype=float) if self.is_share else np.asarray(values) / scale


def stated(qualifier: str, documented: float, fmt: str = "{:,.0f}") -> str:
    """How the documents state a figure, for tables: "over 49,000", "23,712", "some (no count)"."""
    if qualifier == "some":
        return "some (no count)"
    text = fmt.format(documented)
    return text if qualifier == "exactly" else f"{qualifier} {text}"


class TargetsError(ValueError):
    """The targets file is invalid; the message names the file and the target."""


def _measure_of(entry: dict) -> Callable[[RunResult], np.ndarray] | None:
    if not entry.get("produced", True):
        return None
    first, last = entry["period"]
    if entry["measure"] == "total":
        return total(entry["metric"], first, last)
    if entry["measure"] == "stock":
        return stock_at(entry["metric"], last)
    return cancelled_share(first, last)


def load_targets(path: str | Path = TARGETS_FILE) -> tuple[Figure, ...]:
    """Read and check the targets file: every documented figure, with its measure and band."""
    path = Path(path)
    entries = read_toml(path, TargetsError, "targets").get("target", [])
    figures, seen = [], set()
    for i, entry in enumerate(entries):
        where = f"{path}: target[{i}] ({entry.get('key', '?')})"
        try:
            figure = _figure(entry)
        except (KeyError, TypeError, ValueError) as exc:
            raise TargetsError(f"{where}: {exc}") from None
        if figure.key in seen:
            raise TargetsError(f"{where}: key '{figure.key}' appears twice")
        seen.add(figure.key)
        figures.append(figure)
    return tuple(figures)


def _figure(entry: dict) -> Figure:
    allowed = {"key", "label", "documented", "qualifier", "unit", "period", "measure", "metric",
               "low", "high", "sources", "quote", "tolerance_reason", "produced", "needs", "fit",
               "stage"}
    unknown = set(entry) - allowed
    if unknown:
        raise ValueError(f"unknown key(s) {sorted(unknown)} (allowed: {sorted(allowed)})")
    if entry["measure"] not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {entry['measure']!r}")
    if entry["unit"] not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, got {entry['unit']!r}")
    if entry.get("stage", "repatriation") not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, got {entry['stage']!r}")
    if entry["qualifier"] not in QUALIFIERS:
        raise ValueError(f"qualifier must be one of {QUALIFIERS}, got {entry['qualifier']!r}")
    if entry["qualifier"] == "some" and entry["documented"] != entry["low"]:
        raise ValueError("a figure with no count ('some') has documented = low, the band's floor")
    if (entry["unit"] == "share") != (entry["measure"] == "cancelled_share"):
        raise ValueError("a share is measured by 'cancelled_share', and only a share is")
    first, last = entry["period"]
    if month_index(first) > month_index(last):
        raise ValueError(f"period {first}..{last} ends before it starts")
    if entry["measure"] == "stock" and first != last:
        raise ValueError("a stock is read at one month: period must be [month, month]")
    produced = entry.get("produced", True)
    if produced and entry["measure"] != "cancelled_share" and entry.get("metric") not in METRICS:
        raise ValueError(f"metric {entry.get('metric')!r} is not recorded by the engine")
    if not produced and not entry.get("needs"):
        raise ValueError("a target not produced by the model must say what it 'needs'")
    if not entry["low"] <= entry["documented"] <= entry["high"] or entry["low"] >= entry["high"]:
        raise ValueError(f"band [{entry['low']}, {entry['high']}] must hold the documented "
                         f"{entry['documented']} and have a width")
    return Figure(
        key=entry["key"], label=entry["label"], documented=entry["documented"],
        qualifier=entry["qualifier"], source=", ".join(entry["sources"]),
        measure=_measure_of(entry), is_share=entry["unit"] == "share",
        low=float(entry["low"]), high=float(entry["high"]), unit=entry["unit"],
        period=(first, last), metric=entry.get("metric", ""), kind=entry["measure"],
        quote=entry.get("quote", ""), tolerance_reason=entry.get("tolerance_reason", ""),
        fit=entry.get("fit", True) and produced, needs=entry.get("needs", ""),
        sources=tuple(entry["sources"]), stage=entry.get("stage", "repatriation"),
    )


TARGETS: tuple[Figure, ...] = load_targets()
FIGURES: tuple[Figure, ...] = tuple(f for f in TARGETS if f.produced)
