"""Write the page reference/scenario-file.md from the scenario schema (a mkdocs-gen-files script).

Every row of every table is read from the pydantic models in ``sim/schema*.py``: the key (its alias
where it has one), its type (from the field's annotation), its unit and allowed range
(``json_schema_extra`` min/max/unit, or the field's own bounds), its default, and its meaning
(``description``). The sections are found by walking the ``Scenario`` model, so a section or key
added to the schema appears here without editing this script. Nothing about a key is typed here.
"""

from __future__ import annotations

import inspect
import re
import sys
import types
import typing
from pathlib import Path

import mkdocs_gen_files
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.schema import Scenario  # noqa: E402  (the whole schema hangs from Scenario)

PAGE = "reference/scenario-file.md"


# -- reading the schema -------------------------------------------------------------------------


def _unwrap_optional(annotation: typing.Any) -> typing.Any:
    """``X | None`` -> X; anything else unchanged."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _submodel(field: FieldInfo) -> type[BaseModel] | None:
    annotation = _unwrap_optional(field.annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _step_model(field: FieldInfo) -> type[BaseModel] | None:
    """The model of a schedule's steps, if the field is a list of models (a schedule)."""
    annotation = _unwrap_optional(field.annotation)
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item
    return None


def _is_month(field: FieldInfo) -> bool:
    """A whole number written in the file as text: the schema's months (YYYY-MM).

    Found by asking the field's own serializer what it writes for a month number."""
    if _unwrap_optional(field.annotation) is not int:
        return False
    for item in field.metadata:
        func = getattr(item, "func", None)
        if getattr(item, "return_type", None) is str and callable(func):
            try:
                return bool(re.fullmatch(r"\d{4}-\d{2}", func(1959 * 12 + 11)))
            except Exception:
                return False
    return False


def sections(model: type[BaseModel], prefix: str = "") -> list[tuple[str, type[BaseModel]]]:
    """Every table of a scenario file, in the schema's order: [("simulation", Simulation), ...]."""
    found = []
    for name, field in model.model_fields.items():
        sub = _submodel(field)
        if sub is not None:
            dotted = f"{prefix}{name}"
            found.append((dotted, sub))
            found.extend(sections(sub, dotted + "."))
    return found


def anchor(dotted: str) -> str:
    return dotted.replace(".", "-")


def type_text(field: FieldInfo) -> str:
    annotation = _unwrap_optional(field.annotation)
    if _is_month(field):
        return "month, `YYYY-MM`"
    if _step_model(field) is not None:
        return "[schedule](#schedules)"
    if _submodel(field) is not None:
        return "table"
    origin = typing.get_origin(annotation)
    if origin is dict:
        return "table of numbers" if typing.get_args(annotation)[1] is float else "table"
    if origin is list:
        return "list of text" if typing.get_args(annotation)[0] is str else "list"
    return {bool: "true or false", int: "whole number", float: "number", str: "text"}.get(
        annotation, getattr(annotation, "__name__", str(annotation))
    )


def _number(value: typing.Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (
        isinstance(value, float) and value.is_integer() and abs(value) >= 10_000
    ):
        # thousands separators only from 10,000, so that years read as years
        return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _bounds(field: FieldInfo) -> tuple[typing.Any, typing.Any]:
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    low, high = extra.get("min"), extra.get("max")
    for item in field.metadata:  # ge/le given to Field() itself
        low = getattr(item, "ge", low) if low is None else low
        high = getattr(item, "le", high) if high is None else high
    return low, high


def range_text(field: FieldInfo) -> str:
    low, high = _bounds(field)
    if low is None and high is None:
        text = ""
    elif high is None:
        text = f"at least {_number(low)}"
    elif low is None:
        text = f"at most {_number(high)}"
    else:
        text = f"{_number(low)} to {_number(high)}"
    if _step_model(field) is not None:
        lengths = [getattr(item, "min_length", None) for item in field.metadata]
        steps = next((n for n in lengths if n), None)
        each = f"each value {text}" if text else ""
        more = f"at least {steps} step" + ("s" if steps and steps > 1 else "") if steps else ""
        text = "; ".join(t for t in (each, more) if t)
    return text


def unit_text(field: FieldInfo) -> str:
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    return str(extra.get("unit", ""))


def default_text(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
        return "empty" if not value else f"`{value!r}`"
    if field.default is PydanticUndefined:
        return "required"
    if field.default is None:
        return "none (optional)"
    if isinstance(field.default, str):
        return f'`"{field.default}"`'
    return f"`{_number(field.default)}`"


def meaning_text(field: FieldInfo) -> str:
    """The field's description, without the "[unit; low..high]" the schema appends to it (the
    unit and range have columns of their own)."""
    text = field.description or ""
    low, high = _bounds(field)
    unit = unit_text(field)
    if unit and low is not None and high is not None:
        suffix = f" [{unit}; {low}..{high}]"
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return _markdown(text)


def _markdown(text: str) -> str:
    """reStructuredText literals to Markdown; no table-breaking pipes or line breaks."""
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    return " ".join(text.replace("|", "\\|").split())


def _first_sentence(text: str) -> str:
    first = text.split("\n\n")[0]
    return first.split(". ")[0].rstrip(".") + "." if first else ""


def docstring(model: type[BaseModel]) -> str:
    doc = model.__doc__
    inherited = [base.__doc__ for base in model.__mro__[1:]]
    if not doc or doc in inherited:
        return ""
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(_markdown(p) for p in paragraphs)


# -- writing the page ---------------------------------------------------------------------------


def key_table(model: type[BaseModel], children: dict[str, str]) -> list[str]:
    lines = [
        "| key | type | unit | allowed range | default | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for name, field in model.model_fields.items():
        key = field.alias or name
        kind = type_text(field)
        meaning = meaning_text(field)
        if name in children:
            kind = f"[table](#{anchor(children[name])})"
            if not meaning:  # a section without a description: the first sentence of its
                meaning = _first_sentence(docstring(_submodel(field)))  # model's docstring
        lines.append(
            f"| `{key}` | {kind} | {unit_text(field)} | {range_text(field)} | "
            f"{default_text(field)} | {meaning} |"
        )
    return lines


def page() -> str:
    tables = sections(Scenario)
    step = next(
        (
            s
            for _, m in tables
            for f in m.model_fields.values()
            if (s := _step_model(f)) is not None
        ),
        None,
    )
    module = Scenario.__module__.replace(".", "/") + ".py"
    out = [
        "# Scenario file reference",
        "",
        f"This page is generated when the site is built, by `docs/gen_reference.py`, from the "
        f"schema in `{module}`. Every key, type, unit, range and meaning below is read from "
        "that code, so the page always matches what `repatriation validate` accepts.",
        "",
        "A scenario file is TOML. Its tables are the sections below. A key is named by its table "
        "and its name: `decision.peers` is the key `peers` in the table `[decision]`. A key that "
        "is not listed here is an error. How files extend each other, and how the calibrated "
        "values come in, is explained in [Writing scenarios](../scenarios.md).",
        "",
        "## Top level { #top-level }",
        "",
        *key_table(Scenario, {name: name for name, _ in tables if "." not in name}),
        "",
    ]
    if step is not None:
        out += [
            "## Schedules { #schedules }",
            "",
            "Every policy lever is a schedule: a list of steps in date order. Each step's value "
            "holds from its month until the next step's month. The first step must start no later "
            "than the period the schedule covers: the first simulated month for `[levers]`, the "
            "first year of the after-arrival stage for `[aftermath.levers]`. The allowed range "
            "of a lever applies to the value of each of its steps. A step has these keys:",
            "",
            *key_table(step, {}),
            "",
        ]
    for dotted, model in tables:
        children = {
            name: f"{dotted}.{name}"
            for name, field in model.model_fields.items()
            if _submodel(field) is not None
        }
        out += [f"## `[{dotted}]` {{ #{anchor(dotted)} }}", ""]
        if doc := docstring(model):
            out += [doc, ""]
        out += [*key_table(model, children), ""]
    return "\n".join(out)


with mkdocs_gen_files.open(PAGE, "w") as handle:
    handle.write(page())
mkdocs_gen_files.set_edit_path(PAGE, "gen_reference.py")
