"""The waiting list at the calibrated point, for the calibration report: what the documented
figures imply together, where the model's registrants end up, what drives the departures of 1961
(the ships' places, the waiting list, the letters of hardship and the hearsay), and the persons
per Japanese spouse.
"""

from __future__ import annotations

import numpy as np

from sim.population import generate_population
from sim.result import RunResult
from sim.streams import population_stream

# The side run on the letters of hardship: each letter takes this many times the point's belief.
LETTERS_FACTOR = 4


def consistency(targets, point_figs, run_point: RunResult) -> dict:
    """What the documented figures imply together, and where the model's registrants end up."""
    by_key = {t.key: t for t in targets}
    registered = by_key["registrations_1959_1967"].documented
    share = by_key["cancelled_share_1959_1967"].documented
    total = by_key["departures_total"].documented
    months = run_point.months
    upto_1967 = months <= 1967 * 12 + 11
    departed_1967 = run_point.metrics["departures"][:, upto_1967].sum(axis=1)
    waiting_1967 = run_point.metrics["registered_stock"][:, np.flatnonzero(upto_1967)[-1]]
    return {
        "implied_departures_1959_1967": registered * (1 - share),
        "documented_departures_total": total,
        "simulated_departures_1959_1967": float(np.median(departed_1967)),
        "simulated_waiting_at_lapse_1967": float(np.median(waiting_1967)),
        "simulated_departures_1968_1984": float(
            np.median(run_point.metrics["departures"][:, ~upto_1967].sum(axis=1))
        ),
    }


def queue(
    run_point: RunResult,
    run_letters: RunResult,
    run_no_hearsay: RunResult,
    point_figs,
    calibrated,
    seed: int,
) -> dict:
    """The waiting list of 1959-1961, what drives the departures of 1961, and the letters' reach."""
    months, m = run_point.months, run_point.metrics

    def at_end(year: int, metric: str = "registered_stock") -> float:
        return float(np.median(m[metric][:, np.flatnonzero(months == year * 12 + 11)[0]]))

    def in_years(result: RunResult, first: int, last: int, metric: str = "departures") -> float:
        years = result.months // 12
        keep = (years >= first) & (years <= last)
        return float(np.median(result.metrics[metric][:, keep].sum(axis=1)))

    def in_year(result: RunResult, year: int, metric: str) -> float:
        return in_years(result, year, year, metric)

    def total(result: RunResult) -> float:
        keep = (result.months >= 1959 * 12 + 11) & (result.months <= 1984 * 12 + 6)
        return float(np.median(result.metrics["departures"][:, keep].sum(axis=1)))

    def deportee_share(keep) -> float:
        sailed = m["departures"][:, keep].sum(axis=1)
        deportees = m["deportee_departures"][:, keep].sum(axis=1)
        return float(np.median(deportees / np.maximum(sailed, 1)))

    wives = float(np.median(point_figs["japanese_wives"]))
    nationals = float(np.median(point_figs["japanese_national_departures"]))
    return {
        "waiting_end_1959": at_end(1959),
        "waiting_end_1960": at_end(1960),
        "waiting_end_1961": at_end(1961),
        "capacity_1960": in_year(run_point, 1960, "capacity"),
        "capacity_1961": in_year(run_point, 1961, "capacity"),
        "departures_1961": in_year(run_point, 1961, "departures"),
        "cancellations_1961": in_year(run_point, 1961, "cancellations"),
        "registrations_1961": in_year(run_point, 1961, "registrations"),
        "departures_1962_1984": in_years(run_point, 1962, 1984),
        "deportee_share_1962_1984": deportee_share(months // 12 >= 1962),
        "deportee_share_all": deportee_share(slice(None)),
        "departures_total": total(run_point),
        "departures_total_letters_x4": total(run_letters),
        "departures_1961_letters_x4": in_year(run_letters, 1961, "departures"),
        "departures_total_no_hearsay": total(run_no_hearsay),
        "departures_1961_no_hearsay": in_year(run_no_hearsay, 1961, "departures"),
        "registrations_no_hearsay": in_years(run_no_hearsay, 1959, 1967, "registrations"),
        "side_reps": len(run_letters.replications),
        "letters_factor": LETTERS_FACTOR,
        "letter_learning": float(calibrated.process.letter_learning),
        "letter_anchoring": float(calibrated.process.letter_anchoring),
        "hearsay": float(calibrated.process.hearsay),
        "nationals_per_wife": nationals / wives if wives else float("nan"),
        "nationals_per_spouse_if_all_children": nationals_if_all_children(calibrated, seed),
        "japanese_child_share": float(calibrated.population.japanese_child_share),
        "mean_household_size": float(calibrated.population.mean_household_size),
    }


def nationals_if_all_children(scenario, seed: int) -> float:
    """Persons per Japanese spouse in the mixed households of the population (spouse and every
    child): the ratio of Japanese nationals to spouses if every child held Japanese nationality."""
    pop = generate_population(scenario.population, 1.0, population_stream(seed))
    mixed = pop.japanese_spouse
    return float(np.mean(pop.size[mixed].astype(float) - 1.0)) if mixed.any() else float("nan")
