"""Side by side: the historical course and the class's settings, the same families, the same seed.

Both runs go to 1984 at once with the numpy engine, which gives the Mesa engine's results month
by month for the same seed (``tests/test_engine_mesa.py``): the class's run is the very run the
page plays, and the historical one differs from it only by the settings.
"""

from __future__ import annotations

import io

import numpy as np
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from demo.model import DOCUMENTED_CUMULATIVE, DemoModel, demo_scenario
from sim.engine_numpy import simulate
from sim.schedules import month_index

HISTORICAL = "the historical course"
CLASS = "your settings"


def both_runs(model: DemoModel) -> dict[str, dict[str, np.ndarray]]:
    """Departures and registrations per month (persons, whole community) of the historical
    course and of the model's settings, each a run of the model's families and seed."""
    runs = {}
    for label, spec in ((HISTORICAL, demo_scenario("historical")), (CLASS, model.spec)):
        result = simulate(spec, model.run_seed, [model.replication], model.scale)
        runs[label] = {
            name: result.metrics[name][0] * model.people_per_person
            for name in ("departures", "registrations", "cancellations")
        }
    runs["months"] = {"index": model.months}
    return runs


def side_by_side_chart(runs) -> bytes:
    """Departures in all, month by month, of both runs, with the documented figures."""
    figure = Figure(figsize=(7.6, 3.4), dpi=80)
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    x = runs["months"]["index"] / 12.0
    for label, colour, style in ((HISTORICAL, "#000000", "-"), (CLASS, "#0072B2", "--")):
        ax.plot(
            x,
            np.cumsum(runs[label]["departures"]),
            color=colour,
            ls=style,
            lw=2.2,
            label=f"this run: {label}",
        )
    for when, value, label, _ in DOCUMENTED_CUMULATIVE:
        ax.plot(
            [month_index(when) / 12.0],
            [value],
            "D",
            color="#D55E00",
            ms=8,
            label=f"documented: {label}",
        )
    ax.set_xlim(1955, 1985)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_ylabel("people who have left, in all", fontsize=11)
    ax.set_title("The same families, the same seed: only the settings differ", fontsize=12)
    ax.legend(fontsize=9, loc="upper left")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def side_by_side_table(runs) -> str:
    """Key numbers of both runs, in a Markdown table."""
    years = runs["months"]["index"] // 12

    def count(label, name, first, last):
        chosen = (years >= first) & (years <= last)
        return float(runs[label][name][chosen].sum())

    rows = [
        ("left in 1960", "departures", 1960, 1960, "over 49,000"),
        ("left in all, 1959-1984", "departures", 1959, 1984, "93,340"),
        ("left after 1961", "departures", 1962, 1984, "some (no count)"),
        ("registered, 1959-1967", "registrations", 1959, 1967, "141,892"),
    ]
    lines = [
        f"| | this run: {HISTORICAL} | this run: {CLASS} | difference | documented (002) |",
        "|---|---|---|---|---|",
    ]
    for words, name, first, last, documented in rows:
        a, b = count(HISTORICAL, name, first, last), count(CLASS, name, first, last)
        lines.append(f"| {words} | {a:,.0f} | {b:,.0f} | {b - a:+,.0f} | {documented} |")
    return "\n".join(lines)


@solara.component
def SideBySideView(model: DemoModel, tick: int = 0):
    runs = solara.use_memo(lambda: both_runs(model), [model])
    chart = solara.use_memo(lambda: side_by_side_chart(runs), [runs])
    with solara.Row(gap="16px", style={"align-items": "flex-start"}, classes=["side-by-side"]):
        solara.Image(chart, format="png")
        with solara.Column():
            solara.Markdown(side_by_side_table(runs))
            solara.Markdown(
                f"Both runs to 1984 with {model.settings['households']:,} families and seed "
                f"{model.run_seed}. Change the settings on the left and press *Start again* to "
                "compare another setting; change the seed to see how much is chance."
            )
