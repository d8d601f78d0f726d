"""Progress of a long command on a terminal: which step of how many, and about how long is left.

The estimate assumes the steps left cost what the steps done cost on average (the runs of a
comparison share their replications and scale; the waves of a calibration their runs). When
only a cap on the steps is known (a calibration stops when it has converged, at the latest at
its cap), the line says "at most" and the time left is an upper estimate; ``settle`` gives the
number once it is known. Many short steps (the draws of a posterior run) can share one line
that each step rewrites (``one_line``; ``end`` closes it). Nothing is printed when stderr is
not a terminal, so logs and pipes stay clean.
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
        *,
        at_most: bool = False,
        one_line: bool = False,
    ):
        self.total, self.stream, self.clock = total, stream or sys.stderr, clock
        self.at_most, self.one_line = at_most, one_line
        self.started, self.done = clock(), 0

    def __call__(self, name: str) -> None:
        elapsed = self.clock() - self.started
        cap = " at most" if self.at_most else ""
        line = f"  [{self.done + 1}/{self.total}{cap}] {name}"
        if self.done:
            left = elapsed / self.done * max(self.total - self.done, 0)
            estimate = "up to about" if self.at_most else "about"
            line += f", {_duration(elapsed)} in, {estimate} {_duration(left)} left"
        if self.one_line:
            # Back to the start of the line, and clear what a longer line left there.
            print(f"\r{line}\033[K", end="", file=self.stream, flush=True)
        else:
            print(line, file=self.stream, flush=True)
        self.done += 1

    def settle(self, total: int) -> None:
        """The number of steps is now known (a calibration stopped before its cap)."""
        self.total, self.at_most = total, False

    def end(self) -> None:
        """Close the line that one-line progress rewrites (nothing otherwise)."""
        if self.one_line and self.done:
            print(file=self.stream, flush=True)

    @classmethod
    def on_terminal(cls, total: int, **options) -> Progress | None:
        """A Progress if stderr is a terminal, else None (no output); ``options`` as for
        ``Progress`` (``at_most``, ``one_line``)."""
        return cls(total, **options) if sys.stderr.isatty() else None
