"""Before a benchmark's clock starts: the numpy engine's compiled loops, loaded once a process.

numba compiles the loops (``sim/kernels.py``, ``sim/screen.py``) at a process's first run of the
engine (about a second, the first time after an install, a change of their files or a new
numba) or loads them from its cache (about 0.2 s). A long-lived worker pays this once, so the
benchmarks of the engine's speed leave it out of their clocks; the whole ``repatriation run``
commands that ``aftermath.py`` times keep it, as a user waits for it.
"""

from __future__ import annotations


def warm_up() -> None:
    """Run the engine once on a small population, so that its compiled loops are loaded."""
    from sim.engine_numpy import simulate
    from sim.scenario import load_scenario

    simulate(load_scenario("historical"), 1, 1, scale=0.01)
