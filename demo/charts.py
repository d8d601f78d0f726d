"""The page's pictures of a run, cheap enough to redraw every month.

``RunCharts`` draws the two charts of a run (departures; registrations and cancellations) once,
then each month only moves their lines and re-encodes the PNG: building a matplotlib figure from
scratch and trimming it (``bbox_inches="tight"``) cost about 0.2 s a chart, updating it in place
costs a tenth of that. ``household_picture`` paints the household grid straight from the states
with numpy (one square per family), with no figure at all.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter
from PIL import Image

from demo.model import DOCUMENTED_CUMULATIVE, STATE_STYLE
from sim.schedules import month_index

# Okabe-Ito, as the reports: readable with the common forms of colour blindness.
BLUE, ORANGE, GREEN, VERMILION, BLACK = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#000000"
FONT = 11  # points; the charts are shown about their own size, for a projector
START, END = 1955, 1985
SIZE = (5.9, 2.55)  # inches at 80 dpi: two charts side by side beside the settings, at 1366 px


def _encode(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="png", compress_level=1)  # speed over size
    return buffer.getvalue()


class _Blitted:
    """A figure whose axes, ticks and labels are drawn once (the background); each PNG then only
    draws the ``moving`` artists, and the ``on_top`` ones (markers, legend) above them."""

    def __init__(self, figure: Figure, moving: list, on_top: list):
        self.figure, self.moving, self.on_top = figure, moving, on_top
        for artist in moving + on_top:
            artist.set_animated(True)  # left out of the background
        self.canvas = FigureCanvasAgg(figure)
        self.background = None

    def invalidate(self) -> None:
        """The axes changed (a new limit): draw the background again at the next PNG."""
        self.figure.tight_layout()  # the tick labels may have grown wider
        self.background = None

    def png(self) -> bytes:
        if self.background is None:
            self.canvas.draw()
            self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        self.canvas.restore_region(self.background)
        for artist in self.moving + self.on_top:
            self.figure.draw_artist(artist)
        return _encode(np.asarray(self.canvas.buffer_rgba())[:, :, :3])


def _ceiling(value: float) -> float:
    """A round upper limit above ``value`` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** np.floor(np.log10(value))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= value))


def _legend_above(ax, handles: list) -> None:
    """The legend above the axes, in the background: drawn once, never over the data (a legend
    drawn every month cost more than all the rest of a chart)."""
    ax.legend(
        handles=handles,
        fontsize=FONT - 2,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=2,
        frameon=False,
        borderaxespad=0.2,
        columnspacing=1.0,
        handlelength=1.5,
    )


class RunCharts:
    """Departures, and registrations and cancellations, of one run, updated month by month.

    The axes are fixed (1955-1985) and the vertical limits only grow, to a round number, so
    most months nothing but the data moves; ``update`` then re-encodes the two PNGs."""

    def __init__(self, per_person: float, dpi: int = 80):
        self.per_person = per_person
        self.departures = Figure(figsize=SIZE, dpi=dpi)
        self.registrations = Figure(figsize=SIZE, dpi=dpi)
        self.blitted = {
            "departures": self._draw_departures(),
            "registrations": self._draw_registrations(),
        }
        self.shown = -1  # months drawn so far
        self.pngs = tuple(chart.png() for chart in self.blitted.values())

    def _draw_departures(self) -> _Blitted:
        ax = self.departures.subplots()
        total = ax.twinx()
        edges = np.array([START, START + 1 / 12])
        self.monthly = ax.stairs([0.0], edges, fill=True, color=BLUE, label="this run: a month")
        (self.cumulative,) = total.plot([], [], color=BLACK, lw=2, label="this run: in all")
        documented = [
            total.plot(
                [month_index(when) / 12.0],
                [value],
                "D",
                color=VERMILION,
                ms=8,
                label=f"documented: {label}",
            )[0]
            for when, value, label, _ in DOCUMENTED_CUMULATIVE
        ]
        ax.set_xlim(START, END)
        ax.set_ylim(0, 1000)
        total.set_ylim(0, 130_000)
        ax.set_ylabel("people a month", fontsize=FONT)
        total.set_ylabel("people in all", fontsize=FONT)
        self.departures.suptitle(
            "Departures to North Korea (whole community; documented: doc. 002)", fontsize=FONT
        )
        handles = ax.get_legend_handles_labels()[0] + total.get_legend_handles_labels()[0]
        _legend_above(ax, handles)
        for axis in (ax, total):
            axis.tick_params(labelsize=FONT - 1)
            axis.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        self.departures_axes = ax
        self.departures.tight_layout()
        return _Blitted(self.departures, [self.monthly, self.cumulative], documented)

    def _draw_registrations(self) -> _Blitted:
        ax = self.registrations.subplots()
        (self.registered,) = ax.plot([], [], color=ORANGE, lw=2, label="this run: registered")
        (self.cancelled,) = ax.plot(
            [], [], color=GREEN, lw=2, ls="--", label="this run: changed their mind"
        )
        ax.set_xlim(START, END)
        ax.set_ylim(0, 1000)
        ax.set_ylabel("people a month", fontsize=FONT)
        self.registrations.suptitle("Registrations and cancellations", fontsize=FONT)
        _legend_above(ax, ax.get_legend_handles_labels()[0])
        ax.tick_params(labelsize=FONT - 1)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        self.registrations_axes = ax
        self.registrations.tight_layout()
        return _Blitted(self.registrations, [self.registered, self.cancelled], [])

    def update(self, months: np.ndarray, series: dict[str, list]) -> tuple[bytes, bytes]:
        """The two PNGs for the first ``len(series['departures'])`` months of a run.

        ``months`` are the run's month indices (12 x year + month - 1); ``series`` its
        data collector's columns (persons of the simulated population, scaled here)."""
        count = len(series["departures"])
        if count == self.shown:
            return self.pngs
        x = np.asarray(months[:count]) / 12.0
        scale = self.per_person
        monthly = np.asarray(series["departures"], dtype=float) * scale
        edges = np.append(x, x[-1] + 1 / 12) if count else np.array([START, START + 1 / 12])
        self.monthly.set_data(monthly if count else [0.0], edges)
        self.cumulative.set_data(x, np.asarray(series["departed_stock"], dtype=float) * scale)
        registered = np.asarray(series["registrations"], dtype=float) * scale
        cancelled = np.asarray(series["cancellations"], dtype=float) * scale
        self.registered.set_data(x, registered)
        self.cancelled.set_data(x, cancelled)
        self._grow(self.blitted["departures"], self.departures_axes, monthly)
        self._grow(self.blitted["registrations"], self.registrations_axes, registered, cancelled)
        self.shown = count
        self.pngs = tuple(chart.png() for chart in self.blitted.values())
        return self.pngs

    @staticmethod
    def _grow(chart: _Blitted, ax, *values: np.ndarray) -> None:
        highest = max((float(v.max()) for v in values if len(v)), default=0.0)
        if highest > ax.get_ylim()[1]:
            ax.set_ylim(0, _ceiling(highest * 1.1))
            chart.invalidate()


# The grid's colours: index 0 is an empty cell (the grid is square, families may not fill it).
PALETTE = np.array(
    [[255, 255, 255]]
    + [
        [int(c[i : i + 2], 16) for i in (1, 3, 5)]
        for _, c in (STATE_STYLE[s] for s in sorted(STATE_STYLE))
    ],
    dtype=np.uint8,
)


def household_picture(grid: np.ndarray, pixels: int = 6, chosen: int | None = None) -> bytes:
    """The household grid (states, -1 for no family) as a PNG, ``pixels`` a square; the family
    ``chosen`` (its index in network order) is ringed in black."""
    image = PALETTE[grid + 1].repeat(pixels, axis=0).repeat(pixels, axis=1)
    if chosen is not None:
        row, col = divmod(chosen, grid.shape[1])
        square = image[row * pixels : (row + 1) * pixels, col * pixels : (col + 1) * pixels]
        colour = square[pixels // 2, pixels // 2].copy()
        square[:] = 0  # a black ring around the family's own colour
        square[1:-1, 1:-1] = colour
    return _encode(image)
