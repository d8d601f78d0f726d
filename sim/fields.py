"""Building blocks of the scenario schema: strict sections, months, schedules, bounded fields.

Every field of the schema is made with ``param`` (a number with a unit and an allowed range) or
``lever`` (a dated schedule whose values have a unit and a range), so that the range is checked on
load and the scenario-file reference can be generated from the schema. Validators raise
``KeyPathError`` with the key path at fault; ``scenario.py`` turns it into a message naming the
file and the key.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)
from pydantic_core import PydanticUndefined

from .schedules import month_index, month_label


class KeyPathError(ValueError):
    """Raised inside validators with the key path relative to the model that raised it."""

    def __init__(self, loc: tuple, message: str):
        super().__init__(message)
        self.loc = loc
        self.message = message


def _parse_month(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return month_index(value)


YearMonth = Annotated[
    int, BeforeValidator(_parse_month), PlainSerializer(month_label, return_type=str)
]


_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def _folder_name(value: str) -> str:
    if not _FOLDER_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a plain folder name: use 1 to 100 letters, digits, '.', '_' or "
            "'-', starting with a letter or digit (the name becomes a folder under results/)"
        )
    return value


# A name that becomes a folder of its own under results/: never empty, '.', '..', a path or
# anything a shell would need quoted.
FolderName = Annotated[str, AfterValidator(_folder_name)]


class Strict(BaseModel):
    """A section of a scenario file: unknown keys are errors, values are frozen, and true/false
    is refused where a number is meant (pydantic would read true as 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _no_truth_values_for_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                key = field.alias or name
                if isinstance(data.get(key), bool) and field.annotation is not bool:
                    raise KeyPathError((key,), f"{str(data[key]).lower()} is not a number")
        return data


class Step(Strict):
    """One step of a schedule: ``value`` holds from the month ``from`` until the next step."""

    start: YearMonth = Field(alias="from", description="first month the value holds, YYYY-MM")
    value: float = Field(description="the lever's value from that month on")


Schedule = Annotated[list[Step], Field(min_length=1)]


def param(
    low: float, high: float, unit: str, meaning: str, default: Any = PydanticUndefined
) -> Any:
    """A number field with its unit and allowed range (checked on load); with a ``default``, a
    scenario file may leave it out."""
    return Field(
        default,
        ge=low,
        le=high,
        description=f"{meaning} [{unit}; {low}..{high}]",
        json_schema_extra={"min": low, "max": high, "unit": unit},
    )


def lever(low: float, high: float, unit: str, meaning: str) -> Any:
    """A schedule field whose values have a unit and an allowed range (see ``check_schedules``)."""
    return Field(
        description=f"{meaning} [{unit}; {low}..{high}]",
        json_schema_extra={"min": low, "max": high, "unit": unit},
    )


def field_range(model: type[BaseModel], field: str) -> tuple[float, float]:
    """The allowed (min, max) of a field of the schema."""
    extra = model.model_fields[field].json_schema_extra or {}
    return extra["min"], extra["max"]


def check_schedules(levers: BaseModel) -> Any:
    """Every schedule of a levers model: values in the lever's range, steps in date order."""
    for name in type(levers).model_fields:
        low, high = field_range(type(levers), name)
        steps = getattr(levers, name)
        for i, step in enumerate(steps):
            if not low <= step.value <= high:
                raise KeyPathError(
                    (name, i, "value"), f"{step.value} is outside the allowed range {low}..{high}"
                )
            if i and step.start <= steps[i - 1].start:
                raise KeyPathError(
                    (name, i, "from"),
                    f"{month_label(step.start)} is not after the previous step's "
                    f"{month_label(steps[i - 1].start)}: steps must be in date order",
                )
    return levers
