"""An agent-based simulation of the repatriation of Korean residents of Japan to North Korea.

The model alone: the scenario schema and loading, the synthetic population, the monthly
decision rule, the two engines (numpy, Mesa), the after-arrival stage, the documented record,
the outcomes, tidy tables and the run directory. It imports nothing of ``analysis`` (calibration,
comparison reports, sweeps, the command line) or ``demo``. For a notebook::

    import sim

    baseline = sim.load_scenario("historical")            # a bundled scenario, or a path
    result = sim.simulate(baseline, seed=1959, replications=4, scale=0.1)
    sim.annual_table(result, scale=0.1)                    # one row per year, persons
    sim.figures_table(result, scale=0.1)                   # documented vs simulated
    other = sim.load_scenario("no_welfare_cuts")
    sim.compare(baseline, other, seed=1959, replications=4, scale=0.1)  # paired differences

The Mesa engine (``sim.engine_mesa``) is imported only when asked for: Mesa is slow to import.
"""

from .aftermath import AftermathResult, simulate_aftermath
from .engine_numpy import simulate, simulate_batch
from .outcomes import AFTERMATH_OUTCOMES, outcomes
from .paired import compare, paired_differences
from .record import Figure, aftermath_figures, figures
from .result import RunResult
from .rundir import manifest, write_run
from .scenario import ScenarioError, bundled_dir, load_scenario, with_parameters
from .schema import Scenario
from .schema_levers import lever_catalogue
from .tables import aftermath_table, annual_table, figures_table, monthly_table, summary
from .version import __version__

__all__ = [
    "AFTERMATH_OUTCOMES",
    "AftermathResult",
    "Figure",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "aftermath_figures",
    "aftermath_table",
    "annual_table",
    "bundled_dir",
    "compare",
    "figures",
    "figures_table",
    "lever_catalogue",
    "load_scenario",
    "manifest",
    "monthly_table",
    "outcomes",
    "paired_differences",
    "simulate",
    "simulate_aftermath",
    "simulate_batch",
    "summary",
    "with_parameters",
    "write_run",
]
