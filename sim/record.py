"""The documented record: figures the documents give, and how to read each one off the model.

The figures live in one data file that ships with the package, ``sim/data/targets.toml``: its
``[[target]]`` entries are figures of 1955-1984 in Japan (read off a run's monthly metrics),
its ``[[aftermath_target]]`` entries figures of what became of those who left (read off the
after-arrival stage's yearly series). Each names its document(s), the words of the source, what
the model measures and a tolerance band that reflects how precise the source is. ``targets()``
reads and checks the file (once; nothing is read at import); ``figures()`` and
``aftermath_figures()`` give the figures the model produces, for summaries and the calibration.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from .aftermath import SERIES, AftermathResult, value_at
from .result import METRICS, RunResult
from .scenario import read_toml
from .schedules import month_index
from .schema_aftermath import AFTERMATH_START_YEAR

TARGETS_FILE = Path(__file__).resolve().parent / "data" / "targets.toml"
# How a [[target]] is read off a run: "total" sums a monthly flow over the period, "stock" reads a
# stock at the period's month, "cancelled_share" is cancellations / registrations over the period,
# "stock_less_total" a stock at the period's month less a flow summed over a later period (those
# of the stock who are accounted for later, such as the waiting who sailed after a pause).
MEASURES = ("total", "stock", "cancelled_share", "stock_less_total")
# "some": the documents record that it happened but give no count; `documented` is then the
# band's floor, and the band is a stated reading of the words (its `tolerance_reason`).
# "derived": not stated by any document, but computed from figures that are (the
# `tolerance_reason` shows the sum).
QUALIFIERS = ("exactly", "about", "over", "under", "some", "derived")
# "repatriation": 1955-1984 in Japan, what the calibration fits; "aftermath": after arrival in
# the North (its own stage of the tool), never fitted by the calibration of the baseline.
STAGES = ("repatriation", "aftermath")


class TargetsError(ValueError):
    """The targets file is invalid; the message names the file and the target."""


@dataclass(frozen=True)
class Figure:
    """A documented figure and how the model produces the same quantity.

    ``values(result)`` gives one value per replication in the model's units (persons of the
    simulated population, or a share or ratio); ``full_scale`` turns them into what the
    documents count. Repatriation figures read a ``RunResult`` (``kind`` over ``period`` of
    ``metric``); after-arrival figures read an ``AftermathResult`` (``series`` at the end of
    ``year``, divided by ``relative_to`` for a ratio).
    """

    key: str
    label: str
    documented: float
    qualifier: str  # see QUALIFIERS
    unit: str  # "persons" (full-population counts), "share" or "ratio"
    low: float  # tolerance band of the documented figure (full-population units)
    high: float
    sources: tuple[str, ...]  # document numbers, e.g. ("002", "001")
    quote: str = ""
    tolerance_reason: str = ""
    stage: str = "repatriation"
    # Repatriation figures
    kind: str = "total"  # see MEASURES
    metric: str = ""
    period: tuple[str, str] = ("", "")
    less_metric: str = ""  # "stock_less_total": the flow taken off the stock ...
    less_period: tuple[str, str] = ("", "")  # ... summed over this period
    fit: bool = True  # used by the calibration
    produced: bool = True  # False: the engine does not record it yet
    needs: str = ""  # what the engine must record to produce it
    # After-arrival figures
    series: str = ""
    year: int = 0
    relative_to: str = ""

    @property
    def source(self) -> str:
        return ", ".join(self.sources)

    @property
    def is_share(self) -> bool:
        """A share or ratio: the same at every scale (a count of persons is not)."""
        return self.unit != "persons"

    @property
    def centre(self) -> float:
        return (self.low + self.high) / 2

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def values(self, result: RunResult | AftermathResult) -> np.ndarray:
        """One value per replication, in the model's units."""
        if self.stage == "aftermath":
            values = value_at(result, self.series, self.year)
            if not self.relative_to:
                return values
            base = value_at(result, self.relative_to, self.year)
            return np.divide(values, base, out=np.full(len(values), np.nan), where=base > 0)
        if self.kind in ("stock", "stock_less_total"):
            column = np.flatnonzero(result.months == month_index(self.period[1]))
            if len(column) == 0:
                return np.full(len(result.replications), np.nan)
            stock = result.metrics[self.metric][:, column[0]].astype(float)
            if self.kind == "stock":
                return stock
            return stock - result.total(self.less_metric, *self.less_period)
        if self.kind == "total":
            return result.total(self.metric, *self.period)
        registered = result.total("registrations", *self.period)
        cancelled = result.total("cancellations", *self.period)
        return np.divide(
            cancelled, registered, out=np.full(len(registered), np.nan), where=registered > 0
        )

    def full_scale(self, values: np.ndarray, scale: float) -> np.ndarray:
        """Values measured on a run at ``scale``, as full-population equivalents."""
        return np.asarray(values, dtype=float) if self.is_share else np.asarray(values) / scale


def stated(qualifier: str, documented: float, fmt: str = "{:,.0f}") -> str:
    """How the documents state a figure, for tables: "over 49,000", "23,712", "some (no count)"."""
    if qualifier == "some":
        return "some (no count)"
    text = fmt.format(documented)
    if qualifier == "derived":
        return f"{text} (derived)"
    return text if qualifier == "exactly" else f"{qualifier} {text}"


def load_targets(path: str | Path = TARGETS_FILE) -> tuple[Figure, ...]:
    """Read and check a targets file: every documented figure, of both stages."""
    path = Path(path)
    raw = read_toml(path, TargetsError, "targets")
    tables = {"target": "repatriation", "aftermath_target": "aftermath"}
    for table in raw:
        entries = raw[table]
        if table not in tables:
            raise TargetsError(
                f"{path}: unknown key '{table}' (allowed: [[target]], [[aftermath_target]])"
            )
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise TargetsError(
                f"{path}: key '{table}' must be a list of tables, written [[{table}]]"
            )
    figures, seen = [], set()
    for table, stage in tables.items():
        for i, entry in enumerate(raw.get(table, [])):
            where = f"{path}: {table}[{i}] ({entry.get('key', '?')})"
            try:
                figure = _repatriation(entry) if stage == "repatriation" else _aftermath(entry)
            except KeyError as exc:
                raise TargetsError(f"{where}: missing key {exc}") from None
            except (TypeError, ValueError) as exc:
                raise TargetsError(f"{where}: {exc}") from None
            if figure.key in seen:
                raise TargetsError(f"{where}: key '{figure.key}' appears twice")
            seen.add(figure.key)
            figures.append(figure)
    return tuple(figures)


_COMMON = {
    "key",
    "label",
    "documented",
    "qualifier",
    "unit",
    "low",
    "high",
    "sources",
    "quote",
    "tolerance_reason",
}


def _common(entry: dict, allowed: set[str], units: tuple[str, ...]) -> dict:
    unknown = set(entry) - allowed
    if unknown:
        raise ValueError(f"unknown key(s) {sorted(unknown)} (allowed: {sorted(allowed)})")
    if entry["unit"] not in units:
        raise ValueError(f"unit must be one of {units}, got {entry['unit']!r}")
    if entry["qualifier"] not in QUALIFIERS:
        raise ValueError(f"qualifier must be one of {QUALIFIERS}, got {entry['qualifier']!r}")
    if entry["qualifier"] == "some" and entry["documented"] != entry["low"]:
        raise ValueError("a figure with no count ('some') has documented = low, the band's floor")
    if not entry["low"] <= entry["documented"] <= entry["high"] or entry["low"] >= entry["high"]:
        raise ValueError(
            f"band [{entry['low']}, {entry['high']}] must hold the documented "
            f"{entry['documented']} and have a width"
        )
    return {
        "key": entry["key"],
        "label": entry["label"],
        "documented": entry["documented"],
        "qualifier": entry["qualifier"],
        "unit": entry["unit"],
        "low": entry["low"],
        "high": entry["high"],
        "sources": tuple(entry["sources"]),
        "quote": entry.get("quote", ""),
        "tolerance_reason": entry.get("tolerance_reason", ""),
    }


def _repatriation(entry: dict) -> Figure:
    common = _common(
        entry,
        _COMMON
        | {"period", "measure", "metric", "produced", "needs", "fit", "stage"}
        | {"less_metric", "less_period"},
        ("persons", "share"),
    )
    if entry.get("stage", "repatriation") not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, got {entry['stage']!r}")
    if entry["measure"] not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {entry['measure']!r}")
    if (entry["unit"] == "share") != (entry["measure"] == "cancelled_share"):
        raise ValueError("a share is measured by 'cancelled_share', and only a share is")
    period = entry["period"]
    if not isinstance(period, list) or len(period) != 2:
        raise ValueError(f"period must be [first month, last month], got {period!r}")
    first, last = period
    if month_index(first) > month_index(last):
        raise ValueError(f"period {first}..{last} ends before it starts")
    if entry["measure"] in ("stock", "stock_less_total") and first != last:
        raise ValueError("a stock is read at one month: period must be [month, month]")
    less = entry["measure"] == "stock_less_total"
    if less != ("less_metric" in entry) or less != ("less_period" in entry):
        raise ValueError("'less_metric' and 'less_period' go with measure 'stock_less_total' only")
    less_period = tuple(entry.get("less_period", ("", "")))
    if less:
        if entry["less_metric"] not in METRICS:
            raise ValueError(f"less_metric {entry['less_metric']!r} is not recorded by the engine")
        if month_index(less_period[0]) > month_index(less_period[1]):
            raise ValueError(f"less_period {'..'.join(less_period)} ends before it starts")
    produced = entry.get("produced", True)
    if produced and entry["measure"] != "cancelled_share" and entry.get("metric") not in METRICS:
        raise ValueError(f"metric {entry.get('metric')!r} is not recorded by the engine")
    if not produced and not entry.get("needs"):
        raise ValueError("a target not produced by the model must say what it 'needs'")
    common.update(low=float(common["low"]), high=float(common["high"]))
    return Figure(
        **common,
        stage=entry.get("stage", "repatriation"),
        kind=entry["measure"],
        metric=entry.get("metric", ""),
        period=(first, last),
        less_metric=entry.get("less_metric", ""),
        less_period=less_period,
        fit=entry.get("fit", True) and produced,
        produced=produced,
        needs=entry.get("needs", ""),
    )


def _aftermath(entry: dict) -> Figure:
    common = _common(entry, _COMMON | {"series", "year", "relative_to"}, ("persons", "ratio"))
    relative_to = entry.get("relative_to", "")
    for name in filter(None, (entry["series"], relative_to)):
        if name not in SERIES:
            raise ValueError(f"series {name!r} is not one of {sorted(SERIES)}")
    if (entry["unit"] == "ratio") != bool(relative_to):
        raise ValueError("unit must be 'persons', or 'ratio' with relative_to")
    if not AFTERMATH_START_YEAR <= entry["year"] <= 2100:
        raise ValueError(f"year {entry['year']} is outside {AFTERMATH_START_YEAR}..2100")
    return Figure(
        **common,
        stage="aftermath",
        fit=False,
        series=entry["series"],
        year=int(entry["year"]),
        relative_to=relative_to,
    )


@cache
def targets() -> tuple[Figure, ...]:
    """Every documented figure of the package's targets file (read once)."""
    return load_targets(TARGETS_FILE)


def figures() -> tuple[Figure, ...]:
    """The documented figures of 1955-1984 that a run produces, in the file's order."""
    return tuple(f for f in targets() if f.stage == "repatriation" and f.produced)


def aftermath_figures() -> tuple[Figure, ...]:
    """The documented figures of the after-arrival stage, in the file's order."""
    return tuple(f for f in targets() if f.stage == "aftermath")
