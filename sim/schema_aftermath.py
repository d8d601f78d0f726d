"""The scenario schema's after-arrival section: ``[aftermath]`` and its dated gates.

The after-arrival stage (``aftermath.py``) follows those who left, year by year from 1960: their
fate in the North, escapes into China, China's and Japan's gates, resettlement. Its rates and
gates are written here with their units, ranges and meanings, like the rest of the schema.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from .fields import KeyPathError, Schedule, Strict, check_schedules, lever, param
from .schedules import month_label

AFTERMATH_START_YEAR = 1960  # the first full year after the first sailing (14 Dec 1959, 002)


class AftermathLevers(Strict):
    """Dated schedules of the after-arrival stage. The stage moves a year at a time, and a year
    takes the mean of its twelve months: a gate that closes in August is open 7/12 of that year.
    Rates are yearly chances for one person."""

    escape: Schedule = lever(
        0,
        1,
        "per person-year",
        "chance a returnee or descendant of escaping age in the North crosses into China",
    )
    persecution: Schedule = lever(
        0, 1, "per person-year", "chance a person in the North is imprisoned or sent to a camp"
    )
    fertility: Schedule = lever(
        0, 10, "children per woman", "total fertility of returnees and descendants in the North"
    )
    famine_mortality: Schedule = lever(
        1, 10, "x death rates", "multiplier of death rates in the North (the 1990s famine)"
    )
    china_arrest: Schedule = lever(
        0,
        1,
        "per person-year",
        "chance an escapee hiding in China is caught and sent back to the North",
    )
    japan_mission_entry: Schedule = lever(
        0,
        1,
        "per person-year",
        "chance an escapee Japan accepts (former resident or kin to three degrees) is taken into "
        "a Japanese mission in China",
    )
    japan_outside_custody: Schedule = lever(
        0,
        1,
        "per person-year",
        "chance Japan takes such an escapee into its custody outside its missions in China",
    )
    china_mission_exit: Schedule = lever(
        0,
        1,
        "per person-year",
        "chance China lets a person sheltered by Japan leave for Japan (0: blocked)",
    )
    south_korea_route: Schedule = lever(
        0,
        1,
        "per person-year",
        "chance an escapee in China reaches South Korea (via Laos and Thailand, or otherwise)",
    )
    japan_private_route: Schedule = lever(
        0,
        1,
        "per person-year",
        "chance an escapee Japan accepts reaches Japan without the government's help",
    )
    japanese_family_resettlement: Schedule = lever(
        0,
        1,
        "per person-year",
        "chance a Japanese spouse's family member in the North who wishes it is brought to Japan",
    )

    @model_validator(mode="after")
    def _check_schedules(self) -> AftermathLevers:
        return check_schedules(self)


class Aftermath(Strict):
    """The after-arrival stage: who left, followed year by year in the North and beyond.

    Switched on by ``enabled = true`` or by ``repatriation run --aftermath``."""

    enabled: bool = Field(default=False, description="run the after-arrival stage with the run")
    end_year: int = param(1985, 2100, "year", "last year followed")
    mortality_level: float = param(0, 0.1, "per year", "Gompertz death rate extrapolated to age 0")
    mortality_slope: float = param(0, 0.2, "per year of age", "Gompertz rise of the log death rate")
    child_mortality: float = param(
        0, 0.5, "per year", "extra death rate of a newborn, halving with every 1.4 years of age"
    )
    prison_mortality: float = param(1, 50, "x death rates", "multiplier of death rates in prison")
    prison_release: float = param(0, 1, "per person-year", "chance a prisoner is released")
    deportee_persecution: float = param(
        0, 50, "x persecution", "persecution of former Omura deportees, relative to others"
    )
    escape_min_age: int = param(0, 100, "years", "youngest age at which one escapes")
    escape_max_age: int = param(0, 100, "years", "oldest age at which one escapes")
    return_rate: float = param(
        0,
        1,
        "per person-year",
        "chance a returnee (or child born in the North) comes back to "
        "Japan in a year the right of return holds (x levers.right_of_return)",
    )
    japanese_family_wish: float = param(
        0, 1, "share", "share of the Japanese spouses' families who would settle in Japan"
    )
    training_years: float = param(
        0, 10, "years", "language and job training after resettlement through a programme"
    )
    levers: AftermathLevers

    @model_validator(mode="after")
    def _check(self) -> Aftermath:
        if self.escape_max_age < self.escape_min_age:
            raise KeyPathError(("escape_max_age",), "must not be below escape_min_age")
        start = AFTERMATH_START_YEAR * 12
        for name in AftermathLevers.model_fields:
            first = getattr(self.levers, name)[0].start
            if first > start:
                raise KeyPathError(
                    ("levers", name, 0, "from"),
                    f"the first step ({month_label(first)}) must be on or before "
                    f"{month_label(start)}, when the stage starts",
                )
        return self

    @property
    def years(self) -> np.ndarray:
        return np.arange(AFTERMATH_START_YEAR, self.end_year + 1)
