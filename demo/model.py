"""The teaching demo's model: households deciding month by month, and the page's plain words.

``DemoModel`` is the Mesa engine's ``RepatriationModel`` with a few thousand households and the
policy levers a teacher can change from the page (``page_changes``): each slider or switch acts
*on top of* the scenario picked in the list (1 = as in the scenario). It keeps a trace of every
household's month (``demo/trace.py``, for "why did this family leave?") and runs on to a month
without drawing (``run_until``, a jump: the numpy engine's months loaded into the households).
Here too: the month's policies in plain words (``describe_policy``), the household grid in
network order, and what became of those who have left so far, 1960-2025 (the after-arrival
stage of ``sim/aftermath.py`` run on the model's own departures: ``aftermath_view``).
``repatriation demo`` serves the page (``demo/app.py``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from demo.trace import Trace
from sim.aftermath import SERIES, simulate_aftermath
from sim.decision import Policy
from sim.engine_mesa import RepatriationModel
from sim.fast_forward import fast_forward
from sim.record import Figure, aftermath_figures
from sim.result import (
    CANCELLED,
    DEPARTED,
    DEPORTED,
    GROUP_METRICS,
    INTENDING,
    REGISTERED,
    SETTLED,
    UNFORMED,
    RunResult,
)
from sim.scenario import bundled_dir, load_scenario, with_parameters
from sim.schedules import month_index
from sim.schema import Scenario

# Okabe and Ito's colours (as in the reports), readable with the common forms of colour blindness.
STATE_STYLE = {
    SETTLED: ("staying in Japan", "#DDDDDD"),
    INTENDING: ("thinking of leaving", "#F0E442"),
    REGISTERED: ("registered, waiting for a ship", "#E69F00"),
    DEPARTED: ("left for North Korea", "#0072B2"),
    CANCELLED: ("changed their mind", "#009E73"),
    DEPORTED: ("deported", "#D55E00"),
    UNFORMED: ("not yet formed (the young set up house later)", "#FFFFFF"),
}

# Documented figures (persons), for the charts: (month, cumulative departures, label, source).
DOCUMENTED_CUMULATIVE = [
    ("1960-05", 23_712, "23,712 by end of May 1960", "002"),
    ("1984-07", 93_340, "93,340 in all", "002"),
]


def scenario_names() -> list[str]:
    """The bundled scenarios, the historical baseline first."""
    names = sorted(p.stem for p in bundled_dir().glob("*.toml"))
    return ["historical"] + [n for n in names if n != "historical"]


def _scaled_schedule(scenario: Scenario, lever: str, factor: float) -> list[dict]:
    return [
        {"from": step.start, "value": step.value * factor}
        for step in getattr(scenario.levers, lever)
    ]


def page_changes(
    base: Scenario,
    welfare_cuts: float = 1.0,
    enforcement: float = 1.0,
    south_korea_takes_deportees: bool = False,
    propaganda: float = 1.0,
    private_confirmation: bool = False,
    publish_letters: bool = False,
    right_of_return: bool = False,
) -> dict[str, list[dict]]:
    """The levers the page's sliders and switches change, as ``with_parameters`` takes them
    (each a schedule of ``{"from": month index, "value": v}``): what a saved scenario writes."""
    start = base.simulation.start
    changes: dict = {
        "levers.welfare_cut_share": _scaled_schedule(base, "welfare_cut_share", welfare_cuts),
        "levers.enforcement": _scaled_schedule(base, "enforcement", enforcement),
        "levers.propaganda": _scaled_schedule(base, "propaganda", propaganda),
    }
    if south_korea_takes_deportees:
        changes["levers.south_korea_accepts_deportees"] = [{"from": start, "value": 1}]
    if private_confirmation:
        changes["levers.confirmation_privacy"] = [{"from": start, "value": 1}]
    if publish_letters:
        changes["levers.letters_published"] = [
            {"from": start, "value": 0},
            {"from": month_index("1960-10"), "value": 1},
        ]
    if right_of_return:
        changes["levers.right_of_return"] = [{"from": start, "value": 1}]
    return changes


def demo_scenario(scenario: str = "historical", **settings) -> Scenario:
    """The picked scenario with the page's sliders and switches (``page_changes``) on top."""
    base = load_scenario(bundled_dir() / f"{scenario}.toml")
    return with_parameters(base, page_changes(base, **settings), source="demo page")


class DemoModel(RepatriationModel):
    """The Mesa model with the demo page's settings (the page makes a new one on Start again)."""

    # The picked scenario is ``scenario_name``: Mesa's Model reserves ``scenario``.
    def __init__(
        self,
        scenario_name: str = "historical",
        households: int = 2500,
        welfare_cuts: float = 1.0,
        enforcement: float = 1.0,
        south_korea_takes_deportees: bool = False,
        propaganda: float = 1.0,
        private_confirmation: bool = False,
        publish_letters: bool = False,
        right_of_return: bool = False,
        rng: int | str = 1959,
    ):
        spec = demo_scenario(
            scenario_name,
            welfare_cuts=welfare_cuts,
            enforcement=enforcement,
            south_korea_takes_deportees=south_korea_takes_deportees,
            propaganda=propaganda,
            private_confirmation=private_confirmation,
            publish_letters=publish_letters,
            right_of_return=right_of_return,
        )
        full = spec.population.people / spec.population.mean_household_size
        self.settings = {  # what the page set, to start again with the same
            "scenario_name": scenario_name,
            "households": int(households),
            "welfare_cuts": welfare_cuts,
            "enforcement": enforcement,
            "propaganda": propaganda,
            "south_korea_takes_deportees": south_korea_takes_deportees,
            "private_confirmation": private_confirmation,
            "publish_letters": publish_letters,
            "right_of_return": right_of_return,
            "rng": int(rng),
        }
        self.run_seed = int(rng)  # the seed the page shows (Mesa's own seed is derived from it)
        super().__init__(spec, seed=self.run_seed, scale=min(int(households) / full, 1.0))
        self.aftermath_cache: AftermathView | None = None
        # The page reads households' states from the trace; collecting them again, as Python
        # tuples, every month would cost a sixth of a step.
        self.datacollector.agent_reporters.clear()
        self.sizes = np.array([h.size for h in self.households])
        self._states: np.ndarray | None = None  # gathered once a month (``states``)
        self.trace = Trace(self)

    def step(self) -> None:
        """One month of the Mesa engine, kept in the trace."""
        self._states = None  # the month moves households
        if self.t >= len(self.months):
            super().step()
            return
        self.trace.before(self)
        super().step()
        self.trace.after(self)

    def states(self) -> np.ndarray:
        """Every household's state, in network order, gathered once between two months (the
        data collector and the trace both read it)."""
        if self._states is None:
            households = self.households
            self._states = np.fromiter((h.state for h in households), np.int8, len(households))
        return self._states

    def persons_in(self, state: int) -> int:
        """The persons in households in ``state``, as the model counts them for its data
        collector at the end of each month, from the month's states: Mesa selecting the
        agents again for each of the six states cost a twentieth of a month."""
        return int(self.sizes[self.states() == state].sum())

    def run_until(self, month: str | int) -> None:
        """Run on, without drawing anything, until ``month`` (``YYYY-MM``, or a month index)
        has been run: a jump. The numpy engine runs the months and the households take the
        state it reaches, the state stepping them would reach (``sim/fast_forward.py``: about
        a tenth of the time); the trace keeps every month run past, as stepping keeps it."""
        target = month_index(month) if isinstance(month, str) else int(month)
        months = int(np.searchsorted(self.months, target, side="right"))
        if months > self.t:
            fast_forward(self, months, self.trace.watcher(self))
            self._states = None

    @property
    def people_per_person(self) -> float:
        """How many people of the whole community one simulated person stands for (the
        persons of the start: those of households the young form later come on top)."""
        return self.spec.population.people / self.population.people_at_start


def describe_policy(policy: Policy) -> list[str]:
    """The month's policies in plain words, for a secondary-school class."""
    lines = []
    if policy.programme_open and policy.ship_capacity > 0:
        lines.append(
            f"Ships to North Korea leave from Niigata: about {policy.ship_capacity:,.0f} "
            "places a month."
        )
    elif policy.programme_open:
        lines.append("The Red Cross is registering people who want to go; no ship has left yet.")
    else:
        lines.append("There are no ships to North Korea this month.")
    if policy.welfare_cut_share > 0:
        lines.append(
            f"Welfare: {policy.welfare_cut_share:.0%} of the families who lived on welfare "
            "have had their payments cut or stopped."
        )
    if policy.welfare_exclusion > 0:
        lines.append("Koreans are shut out of Japan's new national welfare and pension system.")
    if policy.special_status > 0:
        lines.append(
            "Koreans have a special residence status: no one is deported for a crime or "
            "for being poor."
        )
    elif policy.enforcement > 0:
        where = (
            "South Korea takes the people Japan deports"
            if policy.south_korea_accepts_deportees
            else "South Korea refuses them, so they wait in Ōmura detention centre"
        )
        lines.append(f"Japan can deport Koreans who break the law or are destitute; {where}.")
    if policy.third_country_for_deportees > 0:
        lines.append("People facing deportation may go to another country instead.")
    if policy.secure_residence_kankoku > 0:
        lines.append("Koreans registered as 'Kankoku' (South Korea) have a secure right to stay.")
    if policy.propaganda >= 0.8:
        lines.append("North Korea and Sōren campaign hard: the North is a 'paradise on earth'.")
    elif policy.propaganda > 0.2:
        lines.append("North Korea and Sōren still praise life in the North.")
    if policy.soren_pressure >= 0.8:
        lines.append("Sōren organises the registrations and presses its members to go.")
    if policy.bad_news > 0:
        lines.append(
            f"About {policy.bad_news:.0%} of the letters from those who left tell of "
            "hunger and hardship; families and friends hear of them."
        )
    if policy.letters_published > 0:
        lines.append("Japan publishes what it knows about the hardship in the North.")
    elif policy.bad_news > 0:
        lines.append("Japan knows about the hardship but keeps it secret.")
    if policy.programme_open:
        if policy.confirmation_privacy >= 0.5:
            lines.append("Each family confirms in private that it wants to go.")
        else:
            lines.append(
                "The Red Cross checks 'free will' family by family, in rooms without "
                "doors, often within earshot of Sōren officials."
            )
    lines.append(
        "People who leave may come back to Japan."
        if policy.right_of_return
        else "It is a one-way journey: no one who leaves may come back."
    )
    if policy.impoverished_only:
        lines.append("Only poor families may register to leave.")
    if policy.convict_expulsion > 0:
        lines.append(
            "Prisoners with long sentences are to be expelled, to the North if Seoul refuses them."
        )
    return lines


def household_grid(model: RepatriationModel) -> np.ndarray:
    """States as a square grid, households in network order (neighbours side by side)."""
    states = np.array([h.state for h in model.households])
    side = int(np.ceil(np.sqrt(len(states))))
    grid = np.full(side * side, -1)
    grid[: len(states)] = states
    return grid.reshape(side, side)


# What the after-arrival chart draws (labels for the page), all from aftermath.SERIES.
AFTERMATH_VIEW_SERIES = {
    "in_north": "in the North (returnees and descendants)",
    "escaped": "escaped from the North (in all)",
    "resettled_japan": "resettled in Japan (in all)",
    "resettled_south_korea": "resettled in South Korea (in all)",
    "japanese_nationals_resettled_japan": "of them, Japanese nationals",
}
_versions = itertools.count(1)


@dataclass(frozen=True)
class AftermathView:
    """What became of those who have left so far, 1960-2025, in full-population persons.

    ``table`` has a ``year`` column and one column per ``aftermath.SERIES`` (simulated persons
    times ``per_person``); ``left`` is the persons who have left so far (full population),
    ``key`` the departures by group it was computed from, ``version`` a number that changes
    whenever the view is recomputed (the page redraws the chart only then)."""

    table: pd.DataFrame
    left: float
    per_person: float
    key: tuple[int, ...]
    version: int

    def at(self, series: str, year: int) -> float:
        rows = self.table.index[self.table["year"] == year]
        return float(self.table.at[rows[0], series]) if len(rows) else float("nan")

    def documented(self) -> list[tuple[Figure, float]]:
        """The documented after-arrival figures in persons, each with this run's value."""
        return [
            (f, self.at(f.series, f.year))
            for f in aftermath_figures()
            if f.unit == "persons" and f.series in self.table
        ]


def aftermath_of_departures(
    scenario: Scenario,
    months: np.ndarray,
    departures: dict[str, np.ndarray],
    seed: int,
    replication: int = 0,
    per_person: float = 1.0,
) -> AftermathView:
    """Run the after-arrival stage on one replication's monthly departures by group.

    ``departures[name]`` holds, for each of ``GROUP_METRICS``, the persons who sailed in each of
    ``months``. The stage draws from replication ``replication``'s own stream of ``seed`` (a
    one-replication call of ``simulate_aftermath``), so the page shows what ``repatriation run``
    with that seed would give replication ``replication`` for the same departures."""
    months = np.asarray(months)
    metrics = {
        name: np.asarray(departures[name], dtype=np.int64).reshape(1, len(months))
        for name in GROUP_METRICS
    }
    run = RunResult(
        months=months, replications=np.array([replication]), metrics=metrics, households=0, people=0
    )
    result = simulate_aftermath(scenario, run, seed)
    table = pd.DataFrame(
        {"year": result.years, **{name: result.series[name][0] * per_person for name in SERIES}}
    )
    key = tuple(int(metrics[name].sum()) for name in GROUP_METRICS)
    return AftermathView(table, sum(key) * per_person, per_person, key, next(_versions))


def aftermath_view(model: DemoModel) -> AftermathView | None:
    """The after-arrival view of the model's departures so far (None if the scenario has no
    ``[aftermath]`` section), recomputed only when someone new has left since the last call."""
    if model.spec.aftermath is None:
        return None
    collected = model.datacollector.model_vars
    count = len(collected.get(GROUP_METRICS[0], []))
    departures = {
        name: np.asarray(collected.get(name, []), dtype=np.int64) for name in GROUP_METRICS
    }
    key = tuple(int(departures[name].sum()) for name in GROUP_METRICS)
    cached = model.aftermath_cache
    if cached is None or cached.key != key:
        model.aftermath_cache = aftermath_of_departures(
            model.spec,
            model.months[:count],
            departures,
            model.run_seed,
            model.replication,
            model.people_per_person,
        )
    return model.aftermath_cache
