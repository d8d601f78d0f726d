"""The figure every run writes: departures per year, with their band and the documented record.

The y axis is logarithmic when the years differ by more than ``figures.LOG_RATIO`` (the rush of
1960 and the trickle of the 1970s then both show), linear otherwise; the one yearly documented
figure (over 49,000 in 1960, 002) is drawn as its band.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.record import stated
from sim.result import RunResult

from .figures import (
    OKABE_ITO,
    departures_by_year,
    documented_point,
    matplotlib_pyplot,
    thousands,
    wants_log_axis,
    yearly_departure_figures,
    years_with_ships,
)

FILE = "departures.png"


def departures_figure(result: RunResult, scale: float, title: str, path: Path) -> None:
    plt = matplotlib_pyplot()

    years, persons = departures_by_year(result, scale)
    keep = years >= 1959
    years, persons = years[keep], persons[:, keep]
    median = np.median(persons, axis=0)
    low, high = np.quantile(persons, [0.05, 0.95], axis=0)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    log = wants_log_axis(median)
    ax.fill_between(
        years,
        low,
        high,
        step="mid",
        color=OKABE_ITO[0],
        alpha=0.25,
        label="90% band over replications",
    )
    ax.step(years, median, where="mid", color=OKABE_ITO[0], lw=2, label="simulated (median)")
    ships = years_with_ships(result)
    closed = [y for y in years if not ships[y]]
    for i, year in enumerate(closed):
        ax.axvspan(
            year - 0.5,
            year + 0.5,
            color="grey",
            alpha=0.15,
            lw=0,
            label="no ships (the programme closed)" if i == 0 else None,
        )
    for year, figure in yearly_departure_figures():
        documented_point(
            ax,
            year,
            figure.centre,
            figure.low,
            figure.high,
            fmt="D",
            label=f"documented: {stated(figure.qualifier, figure.documented)} "
            f"in {year} ({figure.source})",
        )
    if log:
        ax.set_yscale("log")
        ax.set_ylim(bottom=max(1.0, low[low > 0].min() / 2) if (low > 0).any() else 1.0)
    thousands(ax)
    ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
    ax.set_xlabel("year")
    ax.set_ylabel("departures (persons" + (", log scale)" if log else ")"))
    ax.set_title(title, fontsize=11)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right", framealpha=0.9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
