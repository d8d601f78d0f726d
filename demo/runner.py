"""Running the model on for the page: Play (until paused), or stepping to a month.

The model steps as fast as it can; the page is redrawn only when ``frame`` seconds have passed
since the last drawing, so Play keeps its pace even when a drawing costs more than a month of
the model. (A jump does not step: ``DemoModel.run_until`` runs the months in the numpy engine.)
"""

from __future__ import annotations

import time
from collections.abc import Callable

FRAME = 1 / 12  # Play: at most 12 drawings a second


def run_on(
    model,
    keep_going: Callable[[], bool],
    draw: Callable[[], None],
    frame: float = FRAME,
    until: int | None = None,
) -> int:
    """Step ``model`` while ``keep_going()`` and it is running (and, with ``until``, while the
    next month is at most that month index); ``draw()`` at most every ``frame`` seconds, and
    once at the end. Returns the months run."""
    months, last = 0, time.monotonic()
    while model.running and model.t < len(model.months) and keep_going():
        if until is not None and model.months[model.t] > until:
            break
        model.step()
        months += 1
        if time.monotonic() - last >= frame:
            draw()
            last = time.monotonic()
    draw()
    return months
