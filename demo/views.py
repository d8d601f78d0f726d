"""The main view of the page: the month and its policies, the families, and two charts.

Laid out to fit a 1366x768 projector without scrolling: the words and the families side by side
above, the two charts side by side below. In large text (``large``) the words take the whole
width and the charts are stacked, each as wide as the page, so their lettering grows too. Each
takes the model and a ``tick`` that changes whenever the model has moved, so it is redrawn then
(the model itself is changed in place).
"""

from __future__ import annotations

import base64

import solara

from demo.charts import RunCharts, household_picture
from demo.model import STATE_STYLE, DemoModel, describe_policy, household_grid

DOCUMENTED_TOTAL = 93_340  # departures Dec 1959 - Jul 1984, document 002


@solara.component
def MonthAndPolicies(model: DemoModel, tick: int = 0, large: bool = False):
    started = model.t > 0
    shown = model.month_label if started else "1955-01 (press ▶ Play or One month)"
    stock = model.datacollector.model_vars.get("departed_stock") or [0]
    total = stock[-1] * model.people_per_person
    lines = [
        f"### Month: {shown}",
        f"**{model.spec.name.replace('_', ' ')}**: left so far **{total:,.0f}** people (this "
        f"run); documented in all, 1959-1984: {DOCUMENTED_TOTAL:,} (002). **This month:**",
        "",
    ]
    lines += [f"- {text}" for text in describe_policy(model.policy)]
    size = "1em" if large else "0.85em"  # small print only where the view must fit 768 px
    solara.Markdown("\n".join(lines), style={"font-size": size, "line-height": "1.2"})


def clicked_family(x: float, y: float, pixels: int, side: int, families: int) -> int | None:
    """The family under a click at (x, y) pixels on the grid's picture, or None (no family)."""
    row, col = int(y // pixels), int(x // pixels)
    index = row * side + col
    return index if 0 <= col < side and 0 <= index < families else None


@solara.component
def HouseholdView(model: DemoModel, tick: int = 0, chosen: int | None = None, on_pick=None):
    """The families as coloured squares; a click on one picks it (``on_pick(index)``)."""
    grid = household_grid(model)
    pixels = max(3, 240 // grid.shape[0])
    image = household_picture(grid, pixels=pixels, chosen=chosen)
    counts = {state: int((grid == state).sum()) for state in STATE_STYLE}

    def click(widget, event, data):
        index = clicked_family(
            data.get("offsetX", -1),
            data.get("offsetY", -1),
            pixels,
            grid.shape[1],
            len(model.households),
        )
        if index is not None and on_pick is not None:
            on_pick(index)

    with solara.Row(gap="12px", classes=["household-view"]):
        picture = solara.v.Html(
            tag="img",
            attributes={
                "src": "data:image/png;base64," + base64.b64encode(image).decode(),
                "title": "Click a family to see why it left, or stayed",
            },
            style_="cursor: pointer; image-rendering: pixelated",
        )
        solara.v.use_event(picture, "click", click)
        with solara.Column(gap="2px"):
            solara.Markdown("**Families, neighbours side by side** (click one)")
            for state, (label, colour) in sorted(STATE_STYLE.items()):
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=(
                        f'<span style="display:inline-block;width:14px;height:14px;'
                        f'background:{colour};border:1px solid #888;margin-right:6px"></span>'
                        f"{label}: {counts[state]:,}"
                    ),
                    style={"font-size": "0.95em"},
                )
            if chosen is not None:
                solara.Text(f"ringed in black: family {chosen}", style={"font-size": "0.85em"})


@solara.component
def Charts(model: DemoModel, charts: RunCharts, tick: int = 0, large: bool = False):
    departures, registrations = charts.update(model.months, model.datacollector.model_vars)
    wrap, share = ("wrap", "100%") if large else ("nowrap", "50%")
    with solara.Row(gap="8px", classes=["run-charts"], style={"flex-wrap": wrap}):
        for png in (departures, registrations):
            with solara.Column(style={"flex": f"1 1 {share}", "min-width": "0"}):
                solara.Image(png, format="png", width="100%")


@solara.component
def WatchView(
    model: DemoModel,
    charts: RunCharts,
    tick: int = 0,
    chosen: int | None = None,
    on_pick=None,
    large: bool = False,
):
    # In large text the words need the whole width: the families go below them.
    wrap, share = ("wrap", "100%") if large else ("nowrap", "50%")
    with solara.Row(gap="16px", style={"align-items": "flex-start", "flex-wrap": wrap}):
        with solara.Column(style={"flex": f"1 1 {share}", "min-width": "380px"}):
            MonthAndPolicies(model, tick, large)
        with solara.Column(style={"flex": f"1 1 {share}"}):
            HouseholdView(model, tick, chosen, on_pick)
    Charts(model, charts, tick, large)
