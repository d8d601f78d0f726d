"""Progress of a long command on a terminal: which step of how many, and about how long is left.

The estimate assumes the steps left cost what the steps done cost on average (the runs of a
comparison share their replications and scale). Nothing is printed when stderr is not a
terminal, so logs and pipes stay clean.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


class Progress:
    """Call with the name of each step as it starts: ``[k/n] name, 1 min 10 s in, about 4 min
    left``."""

    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.total, self.stream, self.clock = total, stream or sys.stderr, clock
        self.started, self.done = clock(), 0

    def __call__(self, name: str) -> None:
        elapsed = self.clock() - self.started
        line = f"  [{self.done + 1}/{self.total}] {name}"
        if self.done:
            left = elapsed / self.done * max(self.total - self.done, 0)
            line += f", {_duration(elapsed)} in, about {_duration(left)} left"
        print(line, file=self.stream, flush=True)
        self.done += 1

    @classmethod
    def on_terminal(cls, total: int) -> Progress | None:
        """A Progress if stderr is a terminal, else None (no output)."""
        return cls(total) if sys.stderr.isatty() else None
