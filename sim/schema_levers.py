"""The scenario schema's policy levers: dated, piecewise-constant schedules, and their catalogue.

Each lever is a list of ``{ from = "YYYY-MM", value = x }`` steps, each value holding from its
date until the next step, with its unit, allowed range and meaning (``fields.lever``). The
after-arrival stage's levers are in ``schema_aftermath.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, model_validator

from .fields import Schedule, Strict, check_schedules, field_range, lever


class Levers(Strict):
    """Policy levers, each a dated schedule. Values hold until the next step."""

    programme_open: Schedule = lever(
        0, 1, "0 or 1", "Red Cross registration windows and sailings operate"
    )
    ship_capacity: Schedule = lever(
        0, 20000, "persons per month", "places on the ships from Niigata (full-scale population)"
    )
    welfare_cut_share: Schedule = lever(
        0, 1, "share", "share of livelihood-protection recipients whose payments are cut or ended"
    )
    welfare_exclusion: Schedule = lever(
        0, 1, "0..1", "foreigners excluded from the national welfare and pension system"
    )
    enforcement: Schedule = lever(
        0, 1, "0..1", "rigour with which the Migration Control Ordinance is applied"
    )
    south_korea_accepts_deportees: Schedule = lever(
        0, 1, "0..1", "South Korea takes the deportees Japan sends it"
    )
    third_country_for_deportees: Schedule = lever(
        0, 1, "0..1", "deportees may go to a third country instead of either Korea"
    )
    special_status: Schedule = lever(
        0, 1, "0..1", "special residence status: no deportation for offences or destitution"
    )
    secure_residence_kankoku: Schedule = lever(
        0, 1, "0..1", "households registered as Kankoku hold a secure residence status"
    )
    propaganda: Schedule = lever(
        0, 1, "0..1", "intensity of the 'paradise on earth' campaign by North Korea and Soren"
    )
    soren_pressure: Schedule = lever(
        0, 1, "0..1", "Soren's organised pressure to register, felt in proportion to tie strength"
    )
    bad_news: Schedule = lever(
        0, 1, "share", "share of returnees' letters home that report hardship in the North"
    )
    letters_published: Schedule = lever(
        0, 1, "0..1", "Japan publishes the letters and its intelligence on conditions in the North"
    )
    confirmation_privacy: Schedule = lever(
        0, 1, "0..1", "privacy of the ICRC confirmation of free will (1 = private and individual)"
    )
    right_of_return: Schedule = lever(
        0, 1, "0..1", "returnees may come back to Japan (visits or two-way travel)"
    )
    convict_expulsion: Schedule = lever(
        0, 1, "0..1", "long-sentence convicts face expulsion, to the North if Seoul refuses them"
    )
    impoverished_only: Schedule = lever(
        0, 1, "0 or 1", "only impoverished households (on welfare or jobless) may register"
    )
    kankoku_switching: Schedule = lever(
        0,
        1,
        "per month",
        "chance a settled household registered as Chosen registers as Kankoku this month",
    )
    job_scarcity: Schedule = lever(
        0,
        1,
        "0..1",
        "how hard work is to find for a jobless Korean: scales the push of having no work "
        "(1: the 1950s; lower as the economy grows)",
    )

    @model_validator(mode="after")
    def _check_schedules(self) -> Levers:
        return check_schedules(self)


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeverInfo:
    name: str
    low: float
    high: float
    description: str


def lever_catalogue(model: type[BaseModel] = Levers) -> list[LeverInfo]:
    """The levers with their ranges and meanings, for help texts and the demo
    (``lever_catalogue(AftermathLevers)`` for the after-arrival stage's)."""
    return [
        LeverInfo(name, *field_range(model, name), model.model_fields[name].description or "")
        for name in model.model_fields
    ]
