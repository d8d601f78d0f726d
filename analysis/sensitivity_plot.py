"""The figure of a sensitivity analysis, drawn by SALib's own plots (``SALib.plotting``).

Sobol: per output, the first-order and total indices of each parameter with their bootstrap
intervals (``SALib.plotting.bar``), and the seed's share of the variance of the mean as a dashed
line: an index below it cannot be told from the seed. Morris: per output, mu* of each parameter
with its interval, named on the axis (``horizontal_bar_plot``), and below it mu* against sigma
with the ratios 1, 0.5 and 0.1 (``covariance_plot``): above the first line a parameter's effect
depends mostly on the others.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from sim.staging import atomic_write_bytes

from .figures import matplotlib_pyplot


def plot(table: pd.DataFrame, noise: pd.DataFrame, method: str, path: Path) -> None:
    """Draw the table of ``sobol_table`` or ``morris_table`` beside ``noise_table`` to
    ``path`` (its suffix is the format), atomically."""
    plt = matplotlib_pyplot()
    outputs = list(dict.fromkeys(table["output"]))
    names = table["parameter"].unique()
    width = 4.8 * len(outputs)
    if method == "sobol":
        fig, axes = plt.subplots(1, len(outputs), figsize=(width, 4.8), squeeze=False)
    else:
        height = 2.0 + 0.35 * len(names) + 3.6
        fig, axes = plt.subplots(2, len(outputs), figsize=(width, height), squeeze=False)
    shares = noise.set_index("output")["noise_share_of_mean"]
    for column, output in enumerate(outputs):
        rows = table[table["output"] == output]
        if method == "sobol":
            _sobol(axes[0][column], rows, shares.get(output, np.nan))
        else:
            _morris(axes[0][column], axes[1][column], rows)
        axes[0][column].set_title(output, fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.suffix.lstrip("."), dpi=120)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def _sobol(ax, rows: pd.DataFrame, share: float) -> None:
    from SALib.plotting.bar import plot as bars

    # SALib's bar chart pairs each column with its "<name>_conf" interval.
    names = {"S1": "first order", "ST": "total"}
    indices = rows.set_index("parameter")[["S1", "S1_conf", "ST", "ST_conf"]]
    bars(indices.rename(columns=lambda c: c.replace(c[:2], names[c[:2]], 1)), ax=ax)
    if np.isfinite(share):
        ax.axhline(share, color="grey", ls="--", lw=1, label="seed noise share")
    ax.set_ylabel("Sobol index")
    ax.set_xlabel("")
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.legend(fontsize=7)


def _morris(bars_ax, scatter_ax, rows: pd.DataFrame) -> None:
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter
    from SALib.plotting.morris import covariance_plot, horizontal_bar_plot

    unit = " (persons)" if rows["unit"].iloc[0] == "persons" else " (share)"
    effects = {
        "names": list(rows["parameter"]),
        **{k: rows[k].to_numpy() for k in ("mu", "mu_star", "mu_star_conf", "sigma")},
    }
    horizontal_bar_plot(bars_ax, effects, unit=unit)
    bars_ax.tick_params(axis="y", labelsize=7)
    covariance_plot(scatter_ax, effects, unit=unit)
    for text in scatter_ax.get_legend().get_texts():  # SALib's legend of the three ratios
        text.set_fontsize(7)
    if unit == " (persons)":
        for ax in (bars_ax, scatter_ax):
            ax.xaxis.set_major_locator(MaxNLocator(4))  # room for the thousands separators
            ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        scatter_ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
