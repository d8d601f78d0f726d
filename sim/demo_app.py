"""The demo page: run with ``repatriation demo`` (or ``solara run sim.demo_app``)."""

from __future__ import annotations

import numpy as np
import solara
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.utils import update_counter

from .demo import (
    DOCUMENTED_CUMULATIVE,
    STATE_STYLE,
    DemoModel,
    describe_policy,
    household_grid,
    scenario_names,
)
from .scenario import month_index


def _months(model: DemoModel, count: int) -> np.ndarray:
    """Decimal years of the first ``count`` simulated months (1960.0 = January 1960)."""
    return model.months[:count] / 12.0


@solara.component
def MonthAndPolicies(model: DemoModel):
    update_counter.get()
    shown = model.month_label if model.t else "1955-01 (press Step or ▶ to start)"
    departed = model.datacollector.get_model_vars_dataframe()
    total = 0 if departed.empty else departed["departed_stock"].iloc[-1] * model.people_per_person
    lines = [f"### Month: {shown}",
             f"Scenario: **{model.spec.name.replace('_', ' ')}**. People who have left so far: "
             f"**{total:,.0f}** (one simulated person stands for {model.people_per_person:.0f} "
             "real people).",
             "", "**This month:**", ""]
    lines += [f"- {text}" for text in describe_policy(model.policy)]
    lines += ["", "*Change the settings on the left, then press RESET. Sliders: 1 = as in the "
              "scenario, 0 = switched off.*"]
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
    ax.legend(handles=[Patch(color=STATE_STYLE[s][1], label=f"{STATE_STYLE[s][0]} ({counts[s]})")
                       for s in states],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
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
    ax.bar(x, table["departures"] * scale if len(table) else [], width=1 / 12, color="#0072B2",
           label="left this month")
    ax.set_ylabel("people a month")
    ax.set_ylim(bottom=0)
    total = ax.twinx()
    total.plot(x, table["departed_stock"] * scale if len(table) else [], color="#000000",
               linewidth=1.8, label="left in all")
    for month, value, label, source in DOCUMENTED_CUMULATIVE:
        when = month_index(month) / 12.0
        total.plot([when], [value], marker="D", color="#D55E00", markersize=7, linestyle="none")
        total.annotate(f"{label} (document {source})", (when, value), textcoords="offset points",
                       xytext=(6, -12), fontsize=8, color="#D55E00")
    total.set_ylabel("people in all")
    total.set_ylim(0, 130_000)
    ax.set_xlim(1955, 1985)
    ax.set_title("Departures to North Korea (scaled to the whole community)", fontsize=11)
    handles = ax.get_legend_handles_labels()[0] + total.get_legend_handles_labels()[0]
    ax.legend(handles=handles + [Patch(color="#D55E00", label="documented figure")], fontsize=8,
              loc="upper right")
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
    for column, colour, style, label in (("registrations", "#E69F00", "-", "registered to leave"),
                                         ("cancellations", "#009E73", "--", "changed their mind")):
        ax.plot(x, table[column] * scale if len(table) else [], color=colour, linestyle=style,
                linewidth=1.6, label=label)
    ax.set_xlim(1955, 1985)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("people a month")
    ax.set_title("Registrations and cancellations", fontsize=11)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    solara.FigureMatplotlib(fig, format="png", bbox_inches="tight")


model_params = {
    "scenario_name": {"type": "Select", "value": "historical", "values": scenario_names(),
                      "label": "Scenario"},
    "households": Slider("Families shown", 2500, 500, 5000, 500),
    "welfare_cuts": Slider("Welfare cuts", 1.0, 0.0, 1.0, 0.1),
    "enforcement": Slider("Deportation threat", 1.0, 0.0, 1.0, 0.1),
    "propaganda": Slider("Propaganda", 1.0, 0.0, 1.0, 0.1),
    "south_korea_takes_deportees": {"type": "Checkbox", "value": False,
                                    "label": "South Korea takes deportees"},
    "private_confirmation": {"type": "Checkbox", "value": False,
                             "label": "Private confirmation of free will"},
    "publish_letters": {"type": "Checkbox", "value": False,
                        "label": "Japan publishes the letters (from Oct 1960)"},
    "right_of_return": {"type": "Checkbox", "value": False,
                        "label": "Right to come back to Japan"},
    "rng": {"type": "InputText", "value": "1959", "label": "Random seed"},
}

page = SolaraViz(
    DemoModel(),
    components=[MonthAndPolicies, HouseholdView, DeparturesChart, RegistrationsChart],
    model_params=model_params,
    name="Leaving for North Korea, 1955-1984",
    play_interval=150,
)
page  # noqa: B018
