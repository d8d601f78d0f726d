"""Policy levers in a sweep: a level over a period, the date of a step, or a named schedule.

A lever is a dated schedule (``sim/schema.py``), so a sweep varies one aspect of it, written under
``[parameters]`` beside the scalar keys:

- ``"levers.welfare_cut_share" = { min = 0, max = 0.57, from = "1956-02", to = "1959-03" }``:
  its level from one month to another (both included; the whole period if left out), the base
  schedule elsewhere;
- ``"levers.bad_news" = { step = "1960-07", min = "1959-12", max = "1962-12" }``: the month a
  step of the base schedule starts, between two months;
- ``[parameters."levers.letters_published".schedules]`` with ``kept = "historical"`` and
  ``published = [ { from = "1955-01", value = 1 } ]``: a choice among named schedules, each
  written out or taken from a scenario (a path relative to the sweep file, or a bundled name).

``check_lever`` validates such an entry with the scenario schema's own rules (the lever's range,
months, steps in date order) and returns a design dimension; each design point becomes the whole
schedule it runs, which is also what its hash holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from sim.fields import field_range
from sim.scenario import ScenarioError, load_scenario, with_parameters
from sim.schedules import month_index, month_label
from sim.schema import Scenario
from sim.schema_levers import Levers

Schedule = tuple[tuple[int, float], ...]  # (month, value) steps


class LeverSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    min: float | str | None = Field(default=None, description="lowest level, or earliest month")
    max: float | str | None = Field(default=None, description="highest level, or latest month")
    start: str | None = Field(default=None, alias="from", description="level: first month")
    to: str | None = Field(default=None, description="level: last month (included)")
    step: str | None = Field(default=None, description="date: the month the moved step starts")
    schedules: dict[str, str | list[Any]] | None = Field(
        default=None, description="choice: named schedules, or scenarios to take them from"
    )
    distribution: Literal["uniform", "loguniform"] = Field(default="uniform")
    points: int | None = Field(default=None, ge=2, description="grid only: evenly spaced")
    values: list[float | str] | None = Field(default=None, min_length=1, description="grid only")


def _steps(schedule: Schedule) -> list[dict]:
    return [{"from": month_label(m), "value": v} for m, v in schedule]


@dataclass(frozen=True)
class LeverLevel:
    """The lever's level from ``start`` to ``end`` (months, both included)."""

    key: str
    lever: str
    low: float
    high: float
    start: int
    end: int
    base: Schedule
    last_month: int  # the simulation's last month
    distribution: str = "uniform"
    grid: tuple[float, ...] | None = None

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        if self.distribution == "loguniform":
            return np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        return self.low + u * (self.high - self.low)

    def label(self, code: float) -> float:
        return code

    def schedule(self, level: float) -> Schedule:
        before = [s for s in self.base if s[0] < self.start]
        steps = [*before, (self.start, float(level))]
        if self.end < self.last_month:
            after = self.end + 1
            resume = [v for m, v in self.base if m <= after][-1]
            steps.append((after, float(resume)))
            steps += [s for s in self.base if s[0] > after]
        return tuple(steps)

    def override(self, label: Any) -> tuple[str, Any]:
        return f"levers.{self.lever}", _steps(self.schedule(float(label)))

    def identity(self, label: Any) -> Any:
        return self.override(label)[1]

    def describe(self) -> str:
        spread = f"{self.distribution} {self.low:.6g}..{self.high:.6g}"
        if self.grid is not None:
            spread = "values " + ", ".join(f"{v:.6g}" for v in self.grid)
        return f"level {spread}, {month_label(self.start)} to {month_label(self.end)}"


@dataclass(frozen=True)
class StepDate:
    """The month the step ``index`` of the base schedule starts, from ``low`` to ``high``."""

    key: str
    lever: str
    index: int
    low: float  # months
    high: float
    base: Schedule
    grid: tuple[float, ...] | None = None

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        # Each month an equal share of the unit interval; u = 1 (a Morris level) is the last.
        months = self.low + np.floor(np.asarray(u) * (self.high - self.low + 1))
        return np.minimum(months, self.high)

    def label(self, code: float) -> str:
        return month_label(int(code))

    def override(self, label: Any) -> tuple[str, Any]:
        steps = list(self.base)
        steps[self.index] = (month_index(label), steps[self.index][1])
        return f"levers.{self.lever}", _steps(tuple(steps))

    def identity(self, label: Any) -> Any:
        return self.override(label)[1]

    def describe(self) -> str:
        moved = month_label(self.base[self.index][0])
        if self.grid is not None:
            return f"step of {moved} at " + ", ".join(self.label(m) for m in self.grid)
        return f"step of {moved} moved {self.label(self.low)} to {self.label(self.high)}"


@dataclass(frozen=True)
class Choice:
    """One of the named schedules, in the order written."""

    key: str
    lever: str
    names: tuple[str, ...]
    schedules: tuple[Schedule, ...]
    grid: tuple[float, ...] | None = None

    @property
    def low(self) -> float:
        return 0.0

    @property
    def high(self) -> float:
        return float(len(self.names) - 1)

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        return np.minimum(np.floor(np.asarray(u) * len(self.names)), self.high)

    def label(self, code: float) -> str:
        return self.names[int(code)]

    def override(self, label: Any) -> tuple[str, Any]:
        return f"levers.{self.lever}", _steps(self.schedules[self.names.index(label)])

    def identity(self, label: Any) -> Any:
        return self.override(label)[1]

    def describe(self) -> str:
        return "one of " + ", ".join(self.names)


def _schedule_of(scenario: Scenario, lever: str) -> Schedule:
    return tuple((s.start, s.value) for s in getattr(scenario.levers, lever))


def _month(where: str, name: str, text: Any, errors: list[str]) -> int | None:
    try:
        return month_index(text)
    except ValueError as exc:
        errors.append(f"{where}.{name}': {exc}")
        return None


def check_lever(
    path: Path, key: str, spec: LeverSpec, method: str, base: Scenario | None
) -> tuple[list[str], Any]:
    """Errors (naming the file and key) and the design dimension of a lever entry."""
    where = f"{path}: key 'parameters.{key}"
    lever = key.partition(".")[2]
    if lever not in Levers.model_fields:
        return [f"{where}': unknown lever (allowed: {', '.join(Levers.model_fields)})"], None
    if base is None:  # the base scenario is invalid; that error is reported already
        return [], None
    written = {n for n in LeverSpec.model_fields if getattr(spec, n) not in (None, "uniform")}
    kind = "choice" if spec.schedules is not None else "date" if spec.step else "level"
    allowed = {
        "choice": {"schedules"},
        "date": {"step", "min", "max", "points", "values"},
        "level": {"min", "max", "start", "to", "points", "values", "distribution"},
    }[kind]
    names = {"start": "from"}
    extra = sorted(names.get(n, n) for n in written - allowed)
    if extra:
        what = {"choice": "a choice of schedules", "date": "the date of a step"}.get(kind, "")
        return [
            f"{where}': {', '.join(extra)} cannot go with {what or 'a level'}; write a level "
            "(min, max, from, to), the date of a step (step, min, max) or a choice of named "
            "schedules (schedules)"
        ], None
    if kind == "choice":
        return _check_choice(path, where, key, lever, spec, base, method)
    if method == "grid" and spec.points is None and spec.values is None:
        return [f"{where}': a grid needs points (with min and max) or values"], None
    if method != "grid" and (spec.points is not None or spec.values is not None):
        return [f"{where}': only a grid design takes points or values"], None
    if spec.points is not None and spec.values is not None:
        return [f"{where}': give either points (with min and max) or values, not both"], None
    if kind == "date":
        return _check_date(where, key, lever, spec, base)
    return _check_level(where, key, lever, spec, base)


def _check_level(where, key, lever, spec, base) -> tuple[list[str], Any]:
    errors: list[str] = []
    low_allowed, high_allowed = field_range(Levers, lever)
    allowed = f"the allowed range of {lever} is {low_allowed:g}..{high_allowed:g}"
    numbers = list(spec.values or []) + [v for v in (spec.min, spec.max) if v is not None]
    for value in numbers:
        if isinstance(value, str):
            errors.append(f"{where}': {value!r} is not a number (a level is a number)")
        elif not low_allowed <= value <= high_allowed:
            errors.append(f"{where}': {value:g} is outside the allowed range; {allowed}")
    if spec.values is None:
        for name in ("min", "max"):
            if getattr(spec, name) is None:
                errors.append(f"{where}.{name}': missing key")
    first, last = base.simulation.start, base.simulation.end
    start = first if spec.start is None else _month(where, "from", spec.start, errors)
    end = last if spec.to is None else _month(where, "to", spec.to, errors)
    if errors:
        return errors, None
    if not first <= start <= end <= last:
        errors.append(
            f"{where}': from {month_label(start)} to {month_label(end)} must be months of the "
            f"simulated period, {month_label(first)} to {month_label(last)}, in order"
        )
    grid = tuple(sorted(set(spec.values))) if spec.values else None
    low, high = (grid[0], grid[-1]) if grid else (spec.min, spec.max)
    if grid is None and not low < high:
        errors.append(f"{where}': empty range: min ({low:g}) must be below max ({high:g})")
    if spec.distribution == "loguniform" and low <= 0:
        errors.append(f"{where}.min': a loguniform range must start above 0, got {low:g}")
    if errors:
        return errors, None
    schedule = _schedule_of(base, lever)
    if spec.points:
        spaced = LeverLevel(key, lever, low, high, start, end, schedule, last, spec.distribution)
        # Rounded to 12 digits, as the grids of scalar parameters are.
        grid = tuple(
            sorted({float(f"{v:.12g}") for v in spaced.from_unit(np.linspace(0, 1, spec.points))})
        )
    return [], LeverLevel(
        key, lever, low, high, start, end, schedule, last, spec.distribution, grid
    )


def _check_date(where, key, lever, spec, base) -> tuple[list[str], Any]:
    errors: list[str] = []
    schedule = _schedule_of(base, lever)
    starts = [m for m, _ in schedule]
    step = _month(where, "step", spec.step, errors)
    months = [_month(where, "values", v, errors) for v in spec.values or []]
    if spec.values is None:
        for name in ("min", "max"):
            if getattr(spec, name) is None:
                errors.append(f"{where}.{name}': missing key")
            else:
                months.append(_month(where, name, getattr(spec, name), errors))
    if errors:
        return errors, None
    if step not in starts[1:]:
        return [
            f"{where}.step': the base scenario's {lever} has no step at {month_label(step)} to "
            f"move; its steps after the first start at "
            + (", ".join(month_label(m) for m in starts[1:]) or "(none: it has one step)")
        ], None
    if spec.values is None and months[0] >= months[1]:
        return [f"{where}': empty range: min ({spec.min}) must be before max ({spec.max})"], None
    index = starts.index(step)
    after = starts[index - 1]
    before = starts[index + 1] if index + 1 < len(starts) else base.simulation.end + 1
    low, high = min(months), max(months)
    if not after < low <= high < before:
        return [
            f"{where}': the step of {month_label(step)} can move only between the steps around "
            f"it: after {month_label(after)} and before {month_label(before)} "
            f"(got {month_label(low)} to {month_label(high)})"
        ], None
    grid = tuple(sorted(set(months))) if spec.values else None
    if spec.points:
        grid = tuple(sorted(set(np.round(np.linspace(low, high, spec.points)).tolist())))
    return [], StepDate(key, lever, index, float(low), float(high), schedule, grid)


def _check_choice(path, where, key, lever, spec, base, method) -> tuple[list[str], Any]:
    errors: list[str] = []
    if len(spec.schedules) < 2:
        errors.append(f"{where}.schedules': a choice needs at least 2 named schedules")
    names, schedules = [], []
    for name, given in spec.schedules.items():
        at = f"{where}.schedules.{name}'"
        if isinstance(given, str):
            # A scenario file relative to the sweep file, or the name of a bundled one.
            beside = path.parent / given
            try:
                scenario = load_scenario(beside if beside.exists() or beside.suffix else given)
            except ScenarioError as exc:
                errors.append(
                    f"{at}: {given!r} is not a valid scenario (a file relative to the sweep "
                    "file, or a bundled scenario's name):\n    " + str(exc).replace("\n", "\n    ")
                )
                continue
        else:
            try:  # the schema's own validation of a schedule, messages renamed to this key
                scenario = with_parameters(base, {f"levers.{lever}": given}, source=str(path))
            except ScenarioError as exc:
                errors.append(
                    str(exc)
                    .replace("invalid scenario\n  ", "")
                    .replace(f"key 'levers.{lever}", f"key 'parameters.{key}.schedules.{name}")
                )
                continue
        names.append(name)
        schedules.append(_schedule_of(scenario, lever))
    if errors:
        return errors, None
    grid = tuple(float(i) for i in range(len(names))) if method == "grid" else None
    return [], Choice(key, lever, tuple(names), tuple(schedules), grid)
