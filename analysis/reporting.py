"""Render the Markdown reports from the Jinja2 templates in ``analysis/templates/``.

The prose of every report lives in its template; the Python that calls ``render`` computes the
numbers and the yes/no facts the prose depends on, so no template types a number in. The filters
below write those numbers the same way in every report.
"""

from __future__ import annotations

import math
from pathlib import Path

import jinja2

from sim.record import stated

# How a figure of each unit is written; any other unit is a count of persons.
UNIT_FORMATS = {"share": "{:.1%}", "ratio": "{:.1f}"}
PERSONS = "{:,.0f}"
WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def fmt_unit(value: float | None, unit: str = "persons") -> str:
    """A figure as its unit is written ("84,730", "40.2%", "2.9"); "n/a" when there is none."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return UNIT_FORMATS.get(unit, PERSONS).format(value)


def documented(value: float, qualifier: str, unit: str = "persons") -> str:
    """A documented figure as the documents state it ("over 49,000", "about 25.0%")."""
    return stated(qualifier, value, UNIT_FORMATS.get(unit, PERSONS))


def paired_band(row, prefix: str = "difference") -> str:
    """A paired difference's median and 90% band: "+1,360 [+38 to +2,597]"."""
    median, low, high = (format(row[f"{prefix}_{q}"], "+,.0f") for q in ("median", "p05", "p95"))
    return f"{median} [{low} to {high}]"


def codes(names) -> str:
    """Names as Markdown code, comma-separated: "`a`, `b`"."""
    return ", ".join(f"`{name}`" for name in names)


def paragraph(text: str) -> str:
    """A block of a template as one Markdown line: its line breaks and runs of spaces become one
    space, so that a template can wrap a long paragraph (``{% filter paragraph %}``)."""
    return " ".join(text.split()) + "\n"


def in_words(number: int) -> str:
    """A small count spelt out ("four"); larger ones stay digits."""
    return WORDS[number] if 0 <= number < len(WORDS) else str(number)


ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    # A name missing from the data is an error, not an empty string in the report.
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # Markdown, not HTML
)
ENVIRONMENT.filters.update(
    fmt=format,  # {{ x | fmt(".2f") }}: a one-off format
    fmt_unit=fmt_unit,
    fmt_persons=lambda value: fmt_unit(value, "persons"),
    fmt_share=lambda value: fmt_unit(value, "share"),
    documented=documented,
    paired_band=paired_band,
    codes=codes,
    paragraph=paragraph,
    in_words=in_words,
    basename=lambda path: Path(path).name,
)


def render(name: str, **context) -> str:
    """The template ``analysis/templates/<name>`` rendered with ``context``."""
    return ENVIRONMENT.get_template(name).render(**context)
