"""After arrival: what became of those who left, year by year from 1960 to the present.

The stage follows the persons a run sent to the North (``GROUP_METRICS``: returnees by group and
year of departure) and the children born to them there. Each year, in this order:

1. the year's arrivals join the North, with ages drawn from ``AGE_AT_DEPARTURE``;
2. births to those aged 20-39 in the North (descendants: a child is one generation below its
   parent; Japan accepts former residents and kin to three degrees, document 003);
3. deaths everywhere (Gompertz, raised in famine years and in prison);
4. in the North: imprisonment (persecution), escape into China, the legal way back where a right
   of return holds, and the resettlement programme for Japanese spouses' families (document 004);
5. prisoners released; escapees in China caught and sent back, taken into a Japanese mission or
   into Japanese custody outside it, or reaching South Korea or Japan on their own;
6. those sheltered by Japan leave China when China lets them; trainees finish their training.

Persons are counted in cells (replication, group, five-year birth cohort, state), never twice:
every person who left or was born there is, each year, in exactly one state or dead. Replication
k draws from its own stream, child k of the seed's after-arrival branch, so the stage is seeded
and its results do not depend on how many replications run; switching it on changes nothing
upstream. The gates and rates are the ``[aftermath]`` section of a scenario (schema.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .population import DEPARTURE_GROUPS
from .result import GROUP_METRICS, RunResult
from .schedules import yearly_values
from .schema import Scenario
from .schema_aftermath import Aftermath
from .streams import AFTERMATH, branch_streams

# Groups of persons followed: the five departure groups (generation 0), then descendants by
# lineage (a Japanese spouse's family or not) and generation 1, 2, 3 and 4 or more.
FIRST_GENERATION = DEPARTURE_GROUPS
LINEAGES = ("korean", "japanese_family")
GROUPS = FIRST_GENERATION + tuple(
    f"{lineage}_generation_{g}" for lineage in LINEAGES for g in (1, 2, 3, 4)
)
G = len(GROUPS)
GENERATION = np.array([0] * 5 + [1, 2, 3, 4] * 2)
JAPANESE_FAMILY = np.array([False, False, True, True, True] + [False] * 4 + [True] * 4)
JAPANESE_NATIONAL = np.isin(np.array(GROUPS), ["japanese_spouse", "japanese_child"])
DEPORTEE = np.array(GROUPS) == "deportee"
# Japan accepts former residents and kin up to three degrees (003): generation 3 at most.
ACCEPTED_BY_JAPAN = GENERATION <= 3
# The right of return of the scenarios issue covers the returnees and the children born to them.
MAY_RETURN = GENERATION <= 1


def _child_group(group: int) -> int:
    lineage = 1 if JAPANESE_FAMILY[group] else 0
    generation = min(GENERATION[group] + 1, 4)
    return 5 + 4 * lineage + generation - 1


CHILD_GROUP = np.array([_child_group(g) for g in range(G)])

# Five-year birth cohorts from 1880-1884 to the one holding the last year followed.
FIRST_COHORT_YEAR, COHORT_YEARS = 1880, 5

# ASSUMPTION (no document gives the ages of those who left): shares of each departure group by
# five-year age band at departure, 0-4, 5-9, ... Families with children of a mean household size
# of 4; deportees are men of working age; Japanese spouses married adults; Japanese children
# are children of the mixed marriages of the 1940s and 1950s.
AGE_AT_DEPARTURE = {
    "korean": [12, 12, 11, 9, 8, 8, 8, 8, 7, 6, 5, 3, 2, 1],
    "deportee": [0, 0, 0, 0, 15, 25, 25, 20, 10, 5],
    "japanese_spouse": [0, 0, 0, 0, 15, 30, 30, 15, 10],
    "japanese_child": [40, 35, 25],
    "japanese_family_korean": [12, 12, 11, 9, 8, 8, 8, 8, 7, 6, 5, 3, 2, 1],
}

# States of a person after departure (the dead are counted as a flow).
NORTH, PRISON, CHINA, MISSION, TRAINING, JAPAN, SOUTH_KOREA = range(7)
STATES = ("north", "prison", "china", "mission", "training", "japan", "south_korea")

# What aftermath.csv reports per year (mean and 90% band over replications), in persons of the
# simulated population: stocks at the end of the year, and ``cumulative`` flows since 1960.
SERIES = {
    "in_north": "returnees and descendants alive in the North (prisoners included)",
    "returnees_in_north": "of them, persons who left Japan",
    "descendants_in_north": "of them, persons born in the North",
    "imprisoned": "in prison or camps in the North",
    "escaped": "cumulative escapes from the North into China",
    "in_china": "escapees hiding or held in China, not sheltered by Japan",
    "caught_and_returned": "cumulative escapees caught in China and sent back",
    "in_japanese_missions": "sheltered in Japanese missions or custody in China",
    "resettled_japan": "cumulative arrivals in Japan (every route)",
    "resettled_south_korea": "cumulative arrivals in South Korea",
    "japanese_nationals_resettled_japan": "of those resettled in Japan, Japanese nationals",
    "left_missions_for_japan": "of them, let leave China from Japanese missions or custody",
    "returned_by_right_of_return": "cumulative arrivals in Japan under a right of return",
    "resettled_by_programme": "cumulative arrivals in Japan through a resettlement programme",
    "in_training": "in language and job training in Japan",
    "born": "cumulative births in the North",
    "died": "cumulative deaths (everywhere)",
}


def aftermath_streams(seed: int, replications: Sequence[int]) -> list[np.random.Generator]:
    """Replication k's generator: child k of the seed's after-arrival branch (any grouping)."""
    return branch_streams(seed, AFTERMATH, replications)


@dataclass(frozen=True)
class AftermathResult:
    """``series[name]`` has shape (replications, years); ``alive`` the end-of-year stocks by
    state, shape (replications, years, states); ``departed`` cumulative arrivals in the North."""

    years: np.ndarray
    replications: np.ndarray
    series: dict[str, np.ndarray]
    alive: np.ndarray
    departed: np.ndarray


@dataclass(frozen=True)
class _Rates:
    """The scenario's schedules and parameters as yearly chances per (group, cohort) cell, worked
    out once for all replications: ``chance[name]`` has shape (years, groups, cohorts)."""

    years: np.ndarray
    cohorts: int
    ages: np.ndarray  # (years, cohorts): mid-cohort age, negative before birth
    chance: dict[str, np.ndarray]
    scalar: dict[str, np.ndarray]  # (years,): chances the same for every cell
    params: Aftermath

    @classmethod
    def of(cls, scenario: Scenario) -> _Rates:
        a = scenario.aftermath
        years = a.years
        cohorts = (int(years[-1]) - FIRST_COHORT_YEAR) // COHORT_YEARS + 1
        lev = {
            name: yearly_values(getattr(a.levers, name), years)
            for name in type(a.levers).model_fields
        }
        ages = years[:, None] - (FIRST_COHORT_YEAR + COHORT_YEARS * np.arange(cohorts) + 2)[None, :]
        age = np.maximum(ages, 0).astype(float)
        hazard = a.mortality_level * np.exp(a.mortality_slope * age) + a.child_mortality * 0.6**age
        hazard = hazard * lev["famine_mortality"][:, None]
        shape = (len(years), G, cohorts)

        def cells(per_year: np.ndarray, per_group=1.0, per_cohort=1.0) -> np.ndarray:
            value = (
                np.asarray(per_year)[:, None, None]
                * np.asarray(per_group, float)[..., None]
                * per_cohort
            )
            return np.ascontiguousarray(np.broadcast_to(np.minimum(value, 1.0), shape))

        death = 1.0 - np.exp(-hazard)
        prison_death = 1.0 - np.exp(-hazard * a.prison_mortality)
        of_age = ((ages >= a.escape_min_age) & (ages <= a.escape_max_age))[:, None, :]
        right_of_return = yearly_values(scenario.levers.right_of_return, years)
        chance = {
            # Deaths of every state at once: prison's own rate in the prison row.
            "death": np.ascontiguousarray(
                np.broadcast_to(
                    np.where(
                        np.arange(len(STATES))[None, :, None, None] == PRISON,
                        prison_death[:, None, None, :],
                        death[:, None, None, :],
                    ),
                    (len(years), len(STATES), G, cohorts),
                )
            ),
            "persecution": cells(
                lev["persecution"], np.where(DEPORTEE, a.deportee_persecution, 1.0)
            ),
            "escape": cells(lev["escape"], 1.0, of_age),
            "return": cells(a.return_rate * right_of_return, MAY_RETURN),
            "japan_mission_entry": cells(lev["japan_mission_entry"], ACCEPTED_BY_JAPAN),
            "japan_outside_custody": cells(lev["japan_outside_custody"], ACCEPTED_BY_JAPAN),
            "japan_private_route": cells(lev["japan_private_route"], ACCEPTED_BY_JAPAN),
        }
        scalar = {
            name: lev[name]
            for name in (
                "fertility",
                "china_arrest",
                "south_korea_route",
                "china_mission_exit",
                "japanese_family_resettlement",
            )
        }
        scalar["right_of_return"] = right_of_return
        return cls(years, cohorts, ages, chance, scalar, a)


def arrivals_by_year(result: RunResult, years: np.ndarray) -> np.ndarray:
    """Persons who sailed, by year of arrival and departure group: (replications, years, 5).

    The few who sailed in December 1959 arrive with those of 1960."""
    out = np.zeros((len(result.replications), len(years), len(FIRST_GENERATION)), dtype=np.int64)
    year_of = np.maximum(result.months // 12, years[0])
    for g, name in enumerate(GROUP_METRICS):
        values = result.metrics[name]
        for y, year in enumerate(years):
            out[:, y, g] = values[:, year_of == year].sum(axis=1)
    return out


def simulate_aftermath(scenario: Scenario, result: RunResult, seed: int) -> AftermathResult:
    """Follow a run's departures to ``scenario.aftermath.end_year``, one stream per replication."""
    if scenario.aftermath is None:
        raise ValueError(
            f"scenario '{scenario.name}' has no [aftermath] section "
            "(scenarios/historical.toml has one; extend it)"
        )
    rates = _Rates.of(scenario)
    arrivals = arrivals_by_year(result, rates.years)
    runs = [
        _follow(arrivals[i], rates, stream)
        for i, stream in enumerate(aftermath_streams(seed, result.replications))
    ]
    series = {name: np.stack([run[0][name] for run in runs]) for name in SERIES}
    return AftermathResult(
        rates.years,
        np.asarray(result.replications),
        series,
        np.stack([run[1] for run in runs]),
        np.cumsum(arrivals.sum(axis=2), axis=1),
    )


def _arrival_cells(
    arrived: np.ndarray, year: int, cohorts: int, rng: np.random.Generator
) -> np.ndarray:
    """Persons arriving this year by (group, birth cohort), ages drawn by group."""
    cells = np.zeros((G, cohorts), dtype=np.int64)
    for g, name in enumerate(FIRST_GENERATION):
        if arrived[g] == 0:
            continue
        shares = np.asarray(AGE_AT_DEPARTURE[name], dtype=float)
        by_band = rng.multinomial(arrived[g], shares / shares.sum())
        birth_year = year - (COHORT_YEARS * np.arange(len(shares)) + 2)
        np.add.at(cells[g], (birth_year - FIRST_COHORT_YEAR) // COHORT_YEARS, by_band)
    return cells


_TOTALS = (
    "escaped",
    "caught_and_returned",
    "resettled_japan",
    "resettled_south_korea",
    "japanese_nationals_resettled_japan",
    "left_missions_for_japan",
    "returned_by_right_of_return",
    "resettled_by_programme",
    "born",
    "died",
)


def _follow(arrivals: np.ndarray, rates: _Rates, rng: np.random.Generator):
    """One replication: (series of the year, end-of-year stocks by state).

    The hot loop: about a dozen binomial draws a year on (groups x cohorts) arrays; states
    nobody is in are skipped (no draw, no number consumed, nothing to move)."""
    a, p, q = rates.params, rates.chance, rates.scalar
    n = np.zeros((len(STATES), G, rates.cohorts), dtype=np.int64)
    north, prison, china, mission, training, japan, south = n  # views, one per state
    programme = np.zeros((G, rates.cohorts), dtype=np.int64)  # resettled by the programme
    totals = dict.fromkeys(_TOTALS, 0)
    out = {name: np.zeros(len(rates.years), dtype=np.int64) for name in SERIES}
    alive = np.zeros((len(rates.years), len(STATES)), dtype=np.int64)
    binomial = rng.binomial
    generation0 = GENERATION == 0

    def move(source: np.ndarray, target: np.ndarray, chance) -> np.ndarray:
        moved = binomial(source, chance)
        source -= moved
        target += moved
        return moved

    def to_japan(moved: np.ndarray, route: str | None = None) -> None:
        count = int(moved.sum())
        totals["resettled_japan"] += count
        totals["japanese_nationals_resettled_japan"] += int(moved[JAPANESE_NATIONAL].sum())
        if route:
            totals[route] += count

    for y, year in enumerate(rates.years):
        if arrivals[y].any():
            north += _arrival_cells(arrivals[y], int(year), rates.cohorts, rng)
        age = rates.ages[y]

        # Births: TFR / 40 a year for each person aged 20-39 (two parents share a child, so a
        # child of two returnees is counted once; with a partner from outside, half of them).
        parents = north[:, (age >= 20) & (age < 40)].sum(axis=1)
        births = rng.poisson(parents * (q["fertility"][y] / 40.0))
        np.add.at(north[:, (int(year) - FIRST_COHORT_YEAR) // COHORT_YEARS], CHILD_GROUP, births)
        totals["born"] += int(births.sum())

        dead = binomial(n, p["death"][y])
        n -= dead
        totals["died"] += int(dead.sum())

        # In the North: prison, escape, the legal way back, the programme.
        jailed = binomial(north, p["persecution"][y])
        north -= jailed
        totals["escaped"] += int(move(north, china, p["escape"][y]).sum())
        if q["right_of_return"][y] > 0:
            to_japan(move(north, japan, p["return"][y]), "returned_by_right_of_return")
        if q["japanese_family_resettlement"][y] > 0:
            # Only those who wish it: the programme stops once a cell's wishing share has gone.
            wishing = np.maximum(a.japanese_family_wish * (north + programme) - programme, 0)
            share = np.divide(wishing, north, out=np.zeros(north.shape), where=north > 0)
            chance = np.minimum(
                q["japanese_family_resettlement"][y] * share * JAPANESE_FAMILY[:, None], 1.0
            )
            moved = move(north, training, chance)
            programme += moved
            to_japan(moved, "resettled_by_programme")
        prison += jailed
        move(prison, north, a.prison_release)

        # In China: caught first, then the ways out, each among those still there.
        if china.any():
            totals["caught_and_returned"] += int(move(china, prison, q["china_arrest"][y]).sum())
            move(china, mission, p["japan_mission_entry"][y])
            move(china, mission, p["japan_outside_custody"][y])
            totals["resettled_south_korea"] += int(
                move(china, south, q["south_korea_route"][y]).sum()
            )
            to_japan(move(china, japan, p["japan_private_route"][y]))
        # Leaving China under Japan's protection; finishing training in Japan.
        if mission.any():
            to_japan(move(mission, japan, q["china_mission_exit"][y]), "left_missions_for_japan")
        if training.any():
            move(training, japan, min(1.0, 1.0 / a.training_years) if a.training_years else 1.0)

        in_north = north + prison
        out["in_north"][y] = in_north.sum()
        out["returnees_in_north"][y] = in_north[generation0].sum()
        out["descendants_in_north"][y] = out["in_north"][y] - out["returnees_in_north"][y]
        out["imprisoned"][y] = prison.sum()
        out["in_china"][y] = china.sum()
        out["in_japanese_missions"][y] = mission.sum()
        out["in_training"][y] = training.sum()
        for name, value in totals.items():
            out[name][y] = value
        alive[y] = n.sum(axis=(1, 2))
    return out, alive


def value_at(result: AftermathResult, name: str, year: int) -> np.ndarray:
    """One value per replication: a series at the end of ``year`` (NaN outside the years run)."""
    column = np.flatnonzero(result.years == year)
    if len(column) == 0:
        return np.full(len(result.replications), np.nan)
    return result.series[name][:, column[0]].astype(float)
