"""The demo page: run with ``repatriation demo`` (or ``solara run demo.app``)."""

from __future__ import annotations

import numpy as np
import solara
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import StrMethodFormatter
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.utils import update_counter

from demo.model import (
    AFTERMATH_VIEW_SERIES,
    DOCUMENTED_CUMULATIVE,
    STATE_STYLE,
    AftermathView,
    DemoModel,
    aftermath_view,
    describe_policy,
    household_grid,
    scenario_names,
)
from sim.schedules import month_index


def _months(model: DemoModel, count: int) -> np.ndarray:
    """Decimal years of the first ``count`` simulated months (1960.0 = January 1960)."""
    return model.months[:count] / 12.0


@solara.component
def MonthAndPolicies(model: DemoModel):
    update_counter.get()
    shown = model.month_label if model.t else "1955-01 (press Step or ▶ to start)"
    departed = model.datacollector.get_model_vars_dataframe()
    total = 0 if departed.empty else departed["departed_stock"].iloc[-1] * model.people_per_person
    lines = [
        f"### Month: {shown}",
        f"Scenario: **{model.spec.name.replace('_', ' ')}**. People who have left so far: "
        f"**{total:,.0f}** (one simulated person stands for {model.people_per_person:.0f} "
        "real people).",
        "",
        "**This month:**",
        "",
    ]
    lines += [f"- {text}" for text in describe_policy(model.policy)]
    lines += [
        "",
        "*Change the settings on the left, then press RESET. Sliders: 1 = as in the "
        "scenario, 0 = switched off.*",
    ]
    solara.Markdown("\n".join(lines), style={"font-size": "0.82em", "line-height": "1.3"})


@solara.component
def HouseholdView(model: DemoModel):
    update_counter.get()
    grid = household_grid(model)
    states = sorted(STATE_STYLE)
    colours = ListedColormap(["#FFFFFF"] + [STATE_STYLE[s][1] for s in states])
    fig = Figure(figsize=(8, 5.4))
    ax = fig.subplots()
    ax.imshow(grid + 1, cmap=colours, vmin=0, vmax=len(states), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("Families, neighbours side by side", fontsize=11)
    counts = {s: int((grid == s).sum()) for s in states}
    ax.legend(
        handles=[
            Patch(color=STATE_STYLE[s][1], label=f"{STATE_STYLE[s][0]} ({counts[s]})")
            for s in states
        ],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=9,
        frameon=False,
    )
    fig.tight_layout()
    solara.FigureMatplotlib(fig, format="png", bbox_inches="tight")


@solara.component
def DeparturesChart(model: DemoModel):
    update_counter.get()
    table = model.datacollector.get_model_vars_dataframe()
    fig = Figure(figsize=(7, 3.6))
    ax = fig.subplots()
    scale = model.people_per_person
    x = _months(model, len(table))
    ax.bar(
        x,
        table["departures"] * scale if len(table) else [],
        width=1 / 12,
        color="#0072B2",
        label="left this month",
    )
    ax.set_ylabel("people a month")
    ax.set_ylim(bottom=0)
    total = ax.twinx()
    total.plot(
        x,
        table["departed_stock"] * scale if len(table) else [],
        color="#000000",
        linewidth=1.8,
        label="left in all",
    )
    for month, value, label, source in DOCUMENTED_CUMULATIVE:
        when = month_index(month) / 12.0
        total.plot([when], [value], marker="D", color="#D55E00", markersize=7, linestyle="none")
        total.annotate(
            f"{label} (document {source})",
            (when, value),
            textcoords="offset points",
            xytext=(6, -12),
            fontsize=8,
            color="#D55E00",
        )
    total.set_ylabel("people in all")
    total.set_ylim(0, 130_000)
    ax.set_xlim(1955, 1985)
    ax.set_title("Departures to North Korea (scaled to the whole community)", fontsize=11)
    handles = ax.get_legend_handles_labels()[0] + total.get_legend_handles_labels()[0]
    ax.legend(
        handles=handles + [Patch(color="#D55E00", label="documented figure")],
        fontsize=8,
        loc="upper right",
    )
    fig.tight_layout()
    solara.FigureMatplotlib(fig, format="png", bbox_inches="tight")


@solara.component
def RegistrationsChart(model: DemoModel):
    update_counter.get()
    table = model.datacollector.get_model_vars_dataframe()
    fig = Figure(figsize=(7, 3.0))
    ax = fig.subplots()
    scale = model.people_per_person
    x = _months(model, len(table))
    for column, colour, style, label in (
        ("registrations", "#E69F00", "-", "registered to leave"),
        ("cancellations", "#009E73", "--", "changed their mind"),
    ):
        ax.plot(
            x,
            table[column] * scale if len(table) else [],
            color=colour,
            linestyle=style,
            linewidth=1.6,
            label=label,
        )
    ax.set_xlim(1955, 1985)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("people a month")
    ax.set_title("Registrations and cancellations", fontsize=11)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    solara.FigureMatplotlib(fig, format="png", bbox_inches="tight")


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
            f"{figure.documented:,.0f} (document {figure.source}); this run "
            f"{simulated:,.0f}"
        )
    return "\n".join(lines)


@solara.component
def AftermathChart(model: DemoModel):
    update_counter.get()
    view = aftermath_view(model)
    version = None if view is None else view.version
    fig = solara.use_memo(lambda: None if view is None else aftermath_figure(view), [version])
    with solara.Column(classes=["aftermath-view"], gap="2px"):
        if view is None:
            solara.Markdown(f"Scenario {model.spec.name} has no after-arrival stage.")
            return
        solara.FigureMatplotlib(fig, dependencies=[version], format="png", bbox_inches="tight")
        solara.Markdown(aftermath_text(view), style={"font-size": "0.78em", "line-height": "1.25"})


model_params = {
    "scenario_name": {
        "type": "Select",
        "value": "historical",
        "values": scenario_names(),
        "label": "Scenario",
    },
    "households": Slider("Families shown", 2500, 500, 5000, 500),
    "welfare_cuts": Slider("Welfare cuts", 1.0, 0.0, 1.0, 0.1),
    "enforcement": Slider("Deportation threat", 1.0, 0.0, 1.0, 0.1),
    "propaganda": Slider("Propaganda", 1.0, 0.0, 1.0, 0.1),
    "south_korea_takes_deportees": {
        "type": "Checkbox",
        "value": False,
        "label": "South Korea takes deportees",
    },
    "private_confirmation": {
        "type": "Checkbox",
        "value": False,
        "label": "Private confirmation of free will",
    },
    "publish_letters": {
        "type": "Checkbox",
        "value": False,
        "label": "Japan publishes the letters (from Oct 1960)",
    },
    "right_of_return": {"type": "Checkbox", "value": False, "label": "Right to come back to Japan"},
    "rng": {"type": "InputText", "value": "1959", "label": "Random seed"},
}

page = SolaraViz(
    DemoModel(),
    # The after-arrival view beside the departures it follows (the grid fills row by row).
    components=[
        MonthAndPolicies,
        HouseholdView,
        DeparturesChart,
        AftermathChart,
        RegistrationsChart,
    ],
    model_params=model_params,
    name="Leaving for North Korea, 1955-1984",
    play_interval=150,
)
page  # noqa: B018
