"""The comparison's figures: fan charts of departures by year, paired differences, attribution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..figures import (
    OKABE_ITO,
    documented_point,
    matplotlib_pyplot,
    thousands,
    wants_log_axis,
    yearly_departure_figures,
    years_with_ships,
)
from .attribution import Attribution
from .paired import Comparison, annual


def _band_by_year(run, scale):
    table = annual(run) / scale
    return (
        table.columns.to_numpy(),
        table.quantile(0.05).to_numpy(),
        table.median().to_numpy(),
        table.quantile(0.95).to_numpy(),
    )


def fan_charts(comparison: Comparison, path: Path) -> None:
    """Departures per year of each scenario beside the baseline (medians and 90% bands).

    The axis is logarithmic when the baseline's years differ by more than ``LOG_RATIO``, so
    that 1962-1984 shows beside the rush of 1960; years with no departures leave a gap, years
    with no ships are shaded, and the documented yearly figures are drawn with their bands.
    """
    plt = matplotlib_pyplot()

    names = list(comparison.scenarios)
    cols = 1 if len(names) == 1 else 2
    rows = (len(names) + cols - 1) // cols
    height = 2.8 * rows + 0.6  # the legend's strip at the top, above every panel
    fig, axes = plt.subplots(
        rows, cols, figsize=(5.5 * cols + 0.5, height), sharex=True, sharey=True, squeeze=False
    )
    years, low, mid, high = _band_by_year(comparison.baseline, comparison.scale)
    log = wants_log_axis(mid)
    closed = [y for y, sailed in years_with_ships(comparison.baseline).items() if not sailed]
    for ax, name in zip(axes.flat, names):
        for year in closed:
            ax.axvspan(year - 0.5, year + 0.5, color="grey", alpha=0.12, lw=0)
        _fan(ax, years, low, mid, high, "#555555", "-", log)
        y, lo, md, hi = _band_by_year(comparison.scenarios[name], comparison.scale)
        _fan(ax, y, lo, md, hi, OKABE_ITO[0], "--", log)
        for year, figure in yearly_departure_figures():
            documented_point(ax, year, figure.centre, figure.low, figure.high, fmt="D", ms=4)
        ax.set_title(name.replace("_", " "), fontsize=10)
        ax.set_xlim(1958.5, 1984.5)
        if log:
            ax.set_yscale("log")
            ax.set_ylim(bottom=50)
        thousands(ax)
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("departures / year" + (" (log)" if log else ""))
    for index in range(len(names), rows * cols):
        axes.flat[index].axis("off")
        axes.flat[index - cols].xaxis.set_tick_params(labelbottom=True)  # the panel above it
    handles = [
        plt.Line2D([], [], color="#555555", label="historical baseline (median, 90% band)"),
        plt.Line2D([], [], color=OKABE_ITO[0], linestyle="--", label="scenario (median, 90% band)"),
        plt.Line2D([], [], color="black", marker="D", linestyle="", label="documented (band)"),
        plt.Rectangle((0, 0), 1, 1, color="grey", alpha=0.12, label="no ships"),
    ]
    fig.legend(handles=handles, loc="upper center", ncol=2 if cols == 1 else 4, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.55 / height))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fan(ax, years, low, mid, high, color, style, log) -> None:
    """A median line and its band; on a log axis, years with no departures leave a gap."""
    if log:
        low, mid, high = (np.where(v > 0, v, np.nan) for v in (low, mid, high))
    ax.fill_between(years, low, high, color=color, alpha=0.3, linewidth=0)
    ax.plot(years, mid, color=color, linewidth=1.5, linestyle=style)


def aftermath_fan_charts(
    comparison: Comparison, path: Path, series: str = "resettled_japan"
) -> None:
    """Per scenario, the paired difference in cumulative resettlement in Japan, year by year."""
    plt = matplotlib_pyplot()

    table = comparison.aftermath_annual_differences((series,))
    names = list(comparison.aftermath)
    cols = 2
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.6 * rows), sharex=True, squeeze=False)
    for ax, name in zip(axes.flat, names):
        part = table[table["scenario"] == name]
        ax.fill_between(
            part["year"],
            part["difference_p05"],
            part["difference_p95"],
            color=OKABE_ITO[2],
            alpha=0.3,
            linewidth=0,
        )
        ax.plot(part["year"], part["difference_median"], color=OKABE_ITO[2], linewidth=1.5)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_title(name.replace("_", " "), fontsize=10)
        ax.set_xlim(1960, int(part["year"].max()) if len(part) else 2025)
        ax.set_ylabel("resettled in Japan,\nvs. baseline")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    handles = [
        plt.Line2D(
            [],
            [],
            color=OKABE_ITO[2],
            label="paired difference in those resettled in Japan since 1960 "
            "(cumulative; median, 90% band)",
        )
    ]
    fig.legend(handles=handles, loc="upper center", ncol=1, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _band_bars(path: Path, labels: list[str], median, low, high, colors, xlabel: str) -> None:
    """Horizontal bars at the median with the 90% band as error bars."""
    plt = matplotlib_pyplot()

    median, low, high = (np.asarray(v, dtype=float) for v in (median, low, high))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(labels) + 1.5))
    y = np.arange(len(labels))
    ax.barh(y, median, color=colors)
    ax.errorbar(
        median,
        y,
        xerr=[median - low, high - median],
        fmt="none",
        ecolor="black",
        capsize=3,
        linewidth=1,
    )
    ax.set_yticks(y, labels)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def difference_bars(differences: pd.DataFrame, path: Path) -> None:
    table = differences[differences["outcome"] == "departures"].sort_values("difference_median")
    colors = [OKABE_ITO[1] if v < 0 else OKABE_ITO[0] for v in table["difference_median"]]
    _band_bars(
        path,
        [s.replace("_", " ") for s in table["scenario"]],
        table["difference_median"],
        table["difference_p05"],
        table["difference_p95"],
        colors,
        "change in departures Dec 1959 - Jul 1984 vs. baseline (median, 90% band)",
    )


def attribution_bars(attribution: Attribution, path: Path) -> None:
    table = attribution.shares
    _band_bars(
        path,
        list(table["channel"]),
        100 * table["share_median"],
        100 * table["share_p05"],
        100 * table["share_p95"],
        OKABE_ITO[2],
        "share of the departures the four channels explain (%, Shapley; 90% band)",
    )
