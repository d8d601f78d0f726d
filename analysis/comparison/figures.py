"""The comparison's figures: fan charts of departures by year, paired differences, attribution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..figures import OKABE_ITO, matplotlib_pyplot
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
    plt = matplotlib_pyplot()

    names = list(comparison.scenarios)
    cols = 2
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.6 * rows), sharex=True, squeeze=False)
    years, low, mid, high = _band_by_year(comparison.baseline, comparison.scale)
    for ax, name in zip(axes.flat, names):
        ax.fill_between(years, low, high, color="#999999", alpha=0.35, linewidth=0)
        ax.plot(years, mid, color="#555555", linewidth=1.5, label="historical baseline")
        y, lo, md, hi = _band_by_year(comparison.scenarios[name], comparison.scale)
        ax.fill_between(y, lo, hi, color=OKABE_ITO[0], alpha=0.3, linewidth=0)
        ax.plot(y, md, color=OKABE_ITO[0], linewidth=1.5, linestyle="--", label=name)
        ax.set_title(name.replace("_", " "), fontsize=10)
        ax.set_xlim(1958, 1985)
        ax.set_ylabel("departures / year")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    handles = [
        plt.Line2D([], [], color="#555555", label="historical baseline (median, 90% band)"),
        plt.Line2D([], [], color=OKABE_ITO[0], linestyle="--", label="scenario (median, 90% band)"),
    ]
    fig.legend(handles=handles, loc="upper center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
