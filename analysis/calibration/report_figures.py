"""The calibration report's three figures, written as PNG files beside ``report.md``.

``plot_departures`` draws departures per year and cumulated against the documented points,
``plot_marginals`` the posterior's marginals over the prior ranges, and ``plot_fit`` each figure's
distance from its tolerance band. Each returns the file name the report links to.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from sim.schedules import month_index

from ..figures import departures_by_year, documented_point, matplotlib_pyplot


def plot_departures(out: Path, targets, run_point, run_draws, run_start) -> str:
    plt = matplotlib_pyplot()
    from matplotlib.ticker import FuncFormatter

    by_key = {t.key: t for t in targets}
    years, point = departures_by_year(run_point, 1.0)
    _, draws = departures_by_year(run_draws, 1.0)
    _, start = departures_by_year(run_start, 1.0)
    keep = years >= 1959
    years, point, draws, start = years[keep], point[:, keep], draws[:, keep], start[:, keep]
    fig, (ax, cum) = plt.subplots(1, 2, figsize=(13, 6.2))
    ax.fill_between(
        years,
        np.quantile(draws, 0.05, axis=0),
        np.quantile(draws, 0.95, axis=0),
        color="tab:blue",
        alpha=0.2,
        label="90% band, posterior draws",
    )
    ax.fill_between(
        years,
        np.quantile(point, 0.05, axis=0),
        np.quantile(point, 0.95, axis=0),
        color="tab:blue",
        alpha=0.45,
        label="90% band, calibrated point",
    )
    ax.plot(
        years,
        np.median(point, axis=0),
        color="tab:blue",
        lw=2,
        label="calibrated baseline (median)",
    )
    ax.plot(
        years,
        np.median(start, axis=0),
        color="grey",
        ls="--",
        lw=1,
        label="hand-set first guess (median)",
    )
    t = by_key["departures_1960"]
    documented_point(
        ax,
        1960,
        t.centre,
        t.low,
        t.high,
        fmt="o",
        label=f"documented: {t.qualifier} {t.documented:,.0f} in 1960 ({t.source})",
    )
    # The later years have no count, only a band over a span of years (qualifier "some"): drawn
    # as that band divided by the span's length, a yearly average, over the span.
    no_count = [f for f in by_key.values() if f.qualifier == "some" and f.fit]
    for t, colour in zip(no_count, itertools.cycle(("tab:green", "tab:olive", "tab:cyan"))):
        first, last = (month_index(m) for m in t.period)
        years_long = (last - first + 1) / 12
        ax.fill_between(
            [first / 12, (last + 1) / 12],
            t.low / years_long,
            t.high / years_long,
            color=colour,
            alpha=0.15,
            label=f"{t.label}: band / {years_long:.1f} years (no count; {t.source})",
        )
    ax.set_yscale("log")
    ax.set_xlabel("year")
    ax.set_ylabel("departures per year (persons, log scale)")
    ax.set_title("Departures per year")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    # Below the plot, never over the data.
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)

    months = run_point.months
    keep_m = months >= 1959 * 12 + 11
    x = 1959 + 11 / 12 + (months[keep_m] - months[keep_m][0]) / 12
    c_point = np.cumsum(run_point.metrics["departures"][:, keep_m], axis=1)
    c_draws = np.cumsum(run_draws.metrics["departures"][:, keep_m], axis=1)
    cum.fill_between(
        x,
        np.quantile(c_draws, 0.05, axis=0),
        np.quantile(c_draws, 0.95, axis=0),
        color="tab:blue",
        alpha=0.2,
        label="90% band, posterior draws",
    )
    cum.plot(
        x, np.median(c_point, axis=0), color="tab:blue", lw=2, label="calibrated baseline (median)"
    )
    for key in ("departures_to_may_1960", "departures_total"):
        t = by_key[key]
        last = t.period[1]
        xm = int(last[:4]) + int(last[5:]) / 12
        documented_point(cum, xm, t.documented, t.low, t.high, fmt="o")
        early = xm < 1970  # written to the right of an early point, to the left of a late one
        cum.annotate(
            f"{t.documented:,.0f} by {last} ({t.source})",
            (xm, t.documented),
            textcoords="offset points",
            xytext=(10, -4) if early else (-10, 8),
            ha="left" if early else "right",
            fontsize=8,
        )
    cum.set_xlabel("year")
    cum.set_ylabel("cumulative departures (persons)")
    cum.set_title("Cumulative departures from December 1959")
    cum.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    cum.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path = out / "departures.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def plot_marginals(out: Path, priors, posterior) -> str:
    """Each parameter's posterior density by pyABC's own plot (``plot_kde_1d``: a weighted
    kernel density), over its prior range (a log-uniform one as its base-10 logarithm), with the
    point and the hand-set first guess marked."""
    import pandas as pd
    from pyabc.visualization import plot_kde_1d

    plt = matplotlib_pyplot()
    sample = posterior["sample"]
    weights = np.asarray(sample["weight"], dtype=float)
    weights = weights / weights.sum()
    n = len(priors)
    cols = 4
    fig, axes = plt.subplots(
        (n + cols - 1) // cols, cols, figsize=(13, 2.6 * ((n + cols - 1) // cols))
    )
    for ax, p in zip(axes.flat, priors):
        log = p.dist == "loguniform"
        scaled = np.log10 if log else (lambda v: v)
        values = scaled(np.asarray(sample[p.key], dtype=float))
        name = f"log10 {p.key}" if log else p.key
        plot_kde_1d(
            pd.DataFrame({name: values}),
            weights,
            name,
            xmin=scaled(p.low),
            xmax=scaled(p.high),
            ax=ax,
            refval={name: scaled(posterior["point"][p.key])},
            refval_color="black",
            color="tab:blue",
        )
        ax.axvline(scaled(p.start), color="grey", ls="--", lw=1, label="hand-set")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.set_yticks([])
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(["posterior", "point", "hand-set"], fontsize=7)
    fig.suptitle("Posterior marginals (pyABC's weighted kernel density; x axis = prior range)")
    fig.tight_layout(rect=(0, 0, 1, 0.98))  # the title above the first row's
    path = out / "posterior_marginals.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.name


def plot_fit(out: Path, rows) -> str:
    plt = matplotlib_pyplot()
    shown = [r for r in rows if r["produced"]]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(shown) + 1))
    for i, r in enumerate(shown):
        centre, half = (r["low"] + r["high"]) / 2, (r["high"] - r["low"]) / 2

        def z(value: float, centre: float = centre, half: float = half) -> float:
            return (value - centre) / half

        u = r["with_parameter_uncertainty"]
        ax.plot([z(u["p05"]), z(u["p95"])], [i, i], color="tab:blue", alpha=0.4, lw=6)
        ax.plot([z(r["hand_set"]["p50"])], [i], "x", color="grey")
        ax.plot(
            [z(r["calibrated"]["p50"])], [i], "o", color="tab:blue" if r["fit"] else "tab:orange"
        )
    ax.axvspan(-1, 1, color="green", alpha=0.1)
    ax.set_yticks(
        range(len(shown)),
        [r["label"] + ("" if r["fit"] else " (not fitted)") for r in shown],
        fontsize=8,
    )
    ax.set_xscale("symlog", linthresh=2)
    ax.set_xlabel("(simulated - centre of band) / half-width of band; green = within tolerance")
    ax.set_title("Fit: o calibrated median, bar 90% band with parameter uncertainty, x hand-set")
    fig.tight_layout()
    path = out / "fit.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.name
