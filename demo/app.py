"""The demo page: run with ``repatriation demo`` (or ``solara run demo.app``).

A page for a classroom, built from Solara components the way Mesa's ``SolaraViz`` builds its
page, without its developer controls: the run's controls and the settings on the left, and tabs
on the right: what happens (fits 1366x768), why a family left, the historical course beside the
class's settings, what became of those who left, and saving the settings as a scenario.
"""

from __future__ import annotations

import solara
import solara.lab
from solara.server import settings as server_settings

from demo.aftermath_chart import AftermathChart
from demo.charts import RunCharts
from demo.controls import DEFAULTS, MOMENTS, Settings
from demo.model import DemoModel
from demo.runner import FRAME, run_on
from demo.save_view import SaveView
from demo.side_by_side import SideBySideView
from demo.style import page_style
from demo.views import WatchView
from demo.why_view import WhyView
from sim.schedules import month_index

# No "This website runs on Solara" banner over the charts' axes on a projector.
server_settings.theme.show_banner = False


@solara.component
def RunControls(model, playing, target, tick):
    """Play, one month, and the moments of the history (or the end of a year) to jump to."""
    m = model.value
    year = solara.use_reactive(1961)
    busy = target.value is not None
    moving = playing.value or busy

    def step():
        m.step()
        tick.set(tick.value + 1)

    def jump(month: str):
        playing.set(False)
        if m.t > 0 and m.months[m.t - 1] >= month_index(month):  # already past: start again
            model.set(DemoModel(**m.settings))
        target.set(month_index(month))

    with solara.Row(gap="4px"):
        solara.Button(
            "❚❚ Pause" if playing.value else "▶ Play",
            color="primary",
            on_click=lambda: playing.set(not playing.value),
            disabled=busy or not m.running,
        )
        solara.Button("One month", on_click=step, disabled=moving or not m.running)
    solara.Markdown("**Jump to** (runs the model on):")
    with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
        for label, month, meaning in MOMENTS:
            solara.Button(
                label,
                on_click=lambda month=month: jump(month),
                disabled=moving,
                small=True,
                outlined=True,
                attributes={"title": f"{month}: {meaning}"},
            )
    with solara.Row(gap="4px", style={"align-items": "center"}):
        solara.SliderInt(f"or to the end of {year.value}", value=year, min=1955, max=1984)
        solara.Button("Go", on_click=lambda: jump(f"{year.value}-12"), disabled=moving, small=True)
    if busy:
        goal = f"{target.value // 12}-{target.value % 12 + 1:02d}"
        solara.Text(f"Running on to {goal} ...", style={"color": "#0072B2"})


@solara.component
def Page():
    settings = solara.use_reactive(dict(DEFAULTS))
    first = solara.use_memo(lambda: DemoModel(**DEFAULTS), [])
    model = solara.use_reactive(first)
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    target = solara.use_reactive(None)  # the month a jump runs to
    chosen = solara.use_reactive(None)  # the family picked on the "why" tab
    tab = solara.use_reactive(0)
    large = solara.use_reactive(False)  # large text, for a projector
    m = model.value
    # Drawn at twice the pixels in large text, where they are shown twice as wide: sharp.
    charts = solara.use_memo(
        lambda: RunCharts(m.people_per_person, dpi=160 if large.value else 80), [m, large.value]
    )

    def run():
        """Play (until paused, drawing now and then) or jump (to the target month at once)."""
        goal = target.value
        if goal is None and not playing.value:
            return
        current = model.value
        if goal is not None:  # the months run in the numpy engine, then one drawing
            current.run_until(goal)
            tick.set(tick.value + 1)
            target.set(None)
        else:
            run_on(
                current,
                keep_going=lambda: playing.value,
                draw=lambda: tick.set(tick.value + 1),
                frame=FRAME,
            )
        if not current.running:
            playing.set(False)

    solara.lab.use_task(run, dependencies=[playing.value, target.value], prefer_threaded=True)

    def start_again():
        playing.set(False)
        chosen.set(None)
        model.set(DemoModel(**settings.value))
        tick.set(tick.value + 1)

    solara.Style(page_style(large.value))
    solara.Title("Leaving for North Korea, 1955-1984")
    with solara.AppBar():
        solara.AppBarTitle("Leaving for North Korea, 1955-1984: a simulation")
        solara.Switch(label="Large text (projector)", value=large, classes=["large-text"])
    with solara.Sidebar(), solara.Column(gap="6px", style={"padding": "4px 8px"}):
        RunControls(model, playing, target, tick)
        changed = settings.value != m.settings
        solara.Button(
            "Start again" + (" with the new settings" if changed else " from 1955"),
            color="primary" if changed else None,
            on_click=start_again,
            disabled=target.value is not None,
        )
        solara.Markdown("---\n**Settings** (then press *Start again*, above)")
        Settings(settings, m.people_per_person)

    def pick(index: int):  # a click on a family in the grid: its story
        chosen.set(index)
        tab.set(1)

    with solara.lab.Tabs(value=tab, lazy=True):
        with solara.lab.Tab("What happens"):
            WatchView(m, charts, tick.value, chosen.value, pick, large.value)
        with solara.lab.Tab("Why did this family leave?"):
            WhyView(m, tick.value, chosen)
        with solara.lab.Tab("Side by side"):
            SideBySideView(m, tick.value)
        with solara.lab.Tab("After arrival"):
            AftermathChart(m, tick.value)
        with solara.lab.Tab("Save as a scenario"):
            SaveView(m)
