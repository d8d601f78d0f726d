"""What every figure of the reports shares: the colours, the documented points, the years.

Okabe and Ito's palette stays distinguishable with the common forms of colour blindness.
"""

import numpy as np

from sim.record import Figure, figures
from sim.result import RunResult

# Largest over smallest year with departures above which a departures axis is logarithmic: the
# rush of 1960 and the trickle of the 1970s then both show.
LOG_RATIO = 30

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def departures_by_year(result: RunResult, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(years, departures per replication and year): full-population persons at ``scale``."""
    years = result.months // 12
    shown = np.unique(years)
    persons = np.stack(
        [result.metrics["departures"][:, years == y].sum(axis=1) for y in shown], axis=1
    )
    return shown, persons / scale


def years_with_ships(result: RunResult) -> dict[int, bool]:
    """For each year of a run, whether any ship had places in it (not while the programme was
    not yet open, or closed)."""
    years = result.months // 12
    return {
        int(y): bool(result.metrics["capacity"][:, years == y].max() > 0) for y in np.unique(years)
    }


def documented_point(ax, x: float, y: float, low: float, high: float, **style) -> None:
    """A documented figure at (x, y), with its tolerance band [low, high] as an error bar."""
    ax.errorbar([x], [y], yerr=[[y - low], [high - y]], color="black", capsize=4, **style)


def yearly_departure_figures() -> list[tuple[int, Figure]]:
    """The documented figures that count the departures of one calendar year, with the year."""
    out = []
    for figure in figures():
        first, last = figure.period
        if (
            figure.unit == "persons"
            and figure.metric == "departures"
            and first[:4] == last[:4]
            and first[5:] == "01"
            and last[5:] == "12"
        ):
            out.append((int(first[:4]), figure))
    return out


def wants_log_axis(median: np.ndarray) -> bool:
    """Whether yearly departures differ by more than ``LOG_RATIO`` between the years that had
    any."""
    sailed = median > 0
    return bool(sailed.any() and median[sailed].max() > LOG_RATIO * median[sailed].min())


def thousands(ax) -> None:
    """Thousands separators on the y axis (49,000, not 49000 or 4.9e4)."""
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def matplotlib_pyplot():
    """matplotlib's pyplot on the Agg backend (files only, no screen), imported when needed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
