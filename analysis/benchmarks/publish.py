"""Where a benchmark's figures go: a generated Markdown file that the docs include.

``published("engine", "python -m analysis.benchmarks.engine")`` tees what the block prints into
``docs/generated/benchmarks/engine.md``, headed by the command, the date and the machine, and
writes the file only if the block finished (a benchmark that fails leaves the last one in place).
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import sys
from collections.abc import Iterator
from datetime import date
from importlib.metadata import version
from pathlib import Path

from sim.staging import atomic_write_text

GENERATED = Path(__file__).resolve().parents[2] / "docs" / "generated" / "benchmarks"


def machine() -> str:
    """The machine a figure was measured on: cores, processor, Python and numpy versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(
                line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} cores, {cpu}, Python {platform.python_version()}, numpy {version('numpy')}"


class _Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)


@contextlib.contextmanager
def published(name: str, command: str, folder: Path = GENERATED) -> Iterator[None]:
    """Print as usual, and keep what was printed as ``folder/name.md`` once the block is done."""
    kept = io.StringIO()
    with contextlib.redirect_stdout(_Tee(sys.stdout, kept)):
        yield
    folder.mkdir(parents=True, exist_ok=True)
    header = (
        f"*Measured on {date.today().isoformat()} with `{command}` on {machine()}; "
        "regenerate with the same command.*\n\n"
    )
    atomic_write_text(folder / f"{name}.md", header + kept.getvalue())
