"""The after-arrival chart: what became of those who have left so far, 1960-2025.

Drawn only when someone new has sailed (``aftermath_view`` recomputes the view then, and the
chart is kept by the view's version); its text puts each documented figure beside this run's.
"""

from __future__ import annotations

import solara
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from demo.model import AFTERMATH_VIEW_SERIES, AftermathView, DemoModel, aftermath_view

# Okabe-Ito again: (colour, line style) of each after-arrival series; documented points vermilion.
AFTERMATH_STYLE = {
    "in_north": ("#0072B2", "-"),
    "escaped": ("#E69F00", "-"),
    "resettled_japan": ("#009E73", "-"),
    "resettled_south_korea": ("#CC79A7", "-"),
    "japanese_nationals_resettled_japan": ("#009E73", ":"),
}


def aftermath_figure(view: AftermathView) -> Figure:
    """Two panels sharing the years 1960-2025: those in the North above, the few who got out
    (and the documented figures, numbered as in the text below the chart) beneath."""
    fig = Figure(figsize=(6.2, 4.2))
    north, out = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 1.4]})
    years = view.table["year"]
    for ax, names in ((north, ["in_north"]), (out, list(AFTERMATH_VIEW_SERIES)[1:])):
        for name in names:
            colour, style = AFTERMATH_STYLE[name]
            ax.plot(
                years,
                view.table[name],
                color=colour,
                linestyle=style,
                linewidth=1.8,
                label=AFTERMATH_VIEW_SERIES[name],
            )
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", color="#EEEEEE")
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    north.set_ylim(top=max(1.0, view.table["in_north"].max()) * 1.15)
    highest = max(
        [view.table[n].max() for n in list(AFTERMATH_VIEW_SERIES)[1:]]
        + [f.documented for f, _ in view.documented()]
    )
    out.set_ylim(top=highest * 1.25)
    for number, (figure, _) in enumerate(view.documented(), start=1):
        label = "documented figure (numbered below)" if number == 1 else None
        out.plot(
            [figure.year],
            [figure.documented],
            marker="D",
            color="#D55E00",
            markersize=6,
            linestyle="none",
            label=label,
        )
        out.annotate(
            str(number),
            (figure.year, figure.documented),
            textcoords="offset points",
            xytext=(-4, 5 + 7 * (number % 2)),
            fontsize=9,
            color="#D55E00",
            fontweight="bold",
            ha="right",
        )
    north.set_title(
        "After arrival: what became of those who have left so far\n"
        f"(1 simulated person = {view.per_person:.0f} people; documented figures as "
        "published)",
        fontsize=10,
    )
    north.set_ylabel("people")
    out.set_ylabel("people in all")
    out.set_xlim(1960, 2025)
    north.legend(fontsize=8, loc="best")
    out.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def aftermath_text(view: AftermathView) -> str:
    """The chart's words: the run's 2025 values, then the documented figures beside this run."""
    if view.left == 0:
        return (
            "*Nobody has left yet: this chart follows those who leave, year by year to 2025, "
            "from the first ship (December 1959).*"
        )
    last = int(view.table["year"].iloc[-1])
    lines = [
        f"Of the **{view.left:,.0f}** people who have left so far, by {last}: "
        f"**{view.at('in_north', last):,.0f}** in the North with their descendants, "
        f"{view.at('escaped', last):,.0f} escaped, {view.at('resettled_japan', last):,.0f} "
        f"resettled in Japan, {view.at('resettled_south_korea', last):,.0f} in South Korea "
        "(this run, one random path).",
        "",
    ]
    for number, (figure, simulated) in enumerate(view.documented(), start=1):
        lines.append(
            f"{number}. {figure.label}: documented {figure.qualifier} "
            f"{figure.documented:,.0f} (document {figure.source}); this run, from those "
            f"who have left so far: {simulated:,.0f}"
        )
    return "\n".join(lines)


@solara.component
def AftermathChart(model: DemoModel, tick: int = 0):
    view = aftermath_view(model)
    version = None if view is None else view.version
    fig = solara.use_memo(lambda: None if view is None else aftermath_figure(view), [version])
    with solara.Column(classes=["aftermath-view"], gap="2px"):
        if view is None:
            solara.Markdown(f"Scenario {model.spec.name} has no after-arrival stage.")
            return
        solara.FigureMatplotlib(fig, dependencies=[version], format="png", bbox_inches="tight")
        solara.Markdown(aftermath_text(view), style={"font-size": "0.9em", "line-height": "1.3"})
