"""The "Why did this family leave?" tab: pick a family, read its story month by month.

The family's attributes, what it did and when, and its log-odds of leaving split into causes
(``demo/why.py``) as a chart over the months and as a table of the months that matter: when it
changed its mind or its state, and each January.
"""

from __future__ import annotations

import io

import numpy as np
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from demo import why
from sim.decision import sigmoid
from sim.result import CANCELLED, DEPARTED, DEPORTED, REGISTERED, SETTLED

# Okabe-Ito: one colour per cause (the starting point is a constant, written, not drawn).
COLOURS = {
    "welfare": "#E69F00",
    "deportation": "#D55E00",
    "propaganda": "#0072B2",
    "letters": "#56B4E9",
    "soren": "#CC79A7",
    "neighbours": "#009E73",
    "ties": "#999999",
}
SHORT = {
    "welfare": "welfare",
    "deportation": "deport.",
    "propaganda": "propag.",
    "letters": "letters",
    "soren": "Sōren",
    "neighbours": "neighb.",
    "ties": "ties",
    "baseline": "start",
}
PICKS = [
    ("a family that sailed", DEPARTED),
    ("one that changed its mind", CANCELLED),
    ("one waiting for a ship", REGISTERED),
    ("one that stayed", SETTLED),
    ("one deported", DEPORTED),
]


def ended(told: why.Story) -> int:
    """How many months of the story matter: up to the month it sailed or was deported."""
    for t, state in enumerate(told.states):
        if state in (DEPARTED, DEPORTED):
            return t + 1
    return len(told.states)


def story_chart(told: why.Story) -> bytes:
    """The causes' log-odds month by month, with the total, as a PNG."""
    figure = Figure(figsize=(7.0, 3.2), dpi=80)
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    count = ended(told)
    x = [int(m[:4]) + (int(m[5:]) - 1) / 12 for m in told.months[:count]]
    for name, colour in COLOURS.items():
        ax.plot(x, [p[name] for p in told.parts[:count]], color=colour, lw=1.8, label=SHORT[name])
    ax.plot(x, told.logits[:count], color="#000000", lw=2.5, label="total")
    for t, _ in told.changes():
        if t < count:
            ax.axvline(x[t], color="#000000", lw=0.6, ls=":")
    ax.axhline(0, color="#666666", lw=0.6)
    ax.set_xlim(1955, max(x[-1] + 1, 1961))  # its months only: the story ends when it sails
    ax.set_ylabel("log-odds of leaving", fontsize=11)
    ax.set_title("Its reasons, month by month (dotted: it changed state)", fontsize=11)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def story_table(told: why.Story) -> str:
    """A Markdown table of the months that matter: changes of state and each January."""
    count = ended(told)
    changes = dict(told.changes())
    rows = [t for t in range(count) if t in changes or told.months[t].endswith("-01")]
    if count and count - 1 not in rows:
        rows.append(count - 1)
    head = "| month | what it did | " + " | ".join(SHORT.values()) + " | total | chance a month |"
    lines = [head, "|" + "---|" * (len(SHORT) + 4)]
    for t in rows:
        parts = " | ".join(f"{told.parts[t][name]:+.2f}" for name in SHORT)
        chance = float(sigmoid(np.float64(told.logits[t])))
        lines.append(
            f"| {told.months[t]} | {changes.get(t, '')} | {parts} | "
            f"**{told.logits[t]:+.2f}** | {chance:.1%} |"
        )
    return "\n".join(lines)


@solara.component
def WhyView(model, tick: int, chosen: solara.Reactive):
    turn = solara.use_reactive(0)
    index, count = chosen.value, model.trace.count
    # (hooks first: none may follow the early return below)
    told = solara.use_memo(
        lambda: None if index is None else why.story(model, index), [model, index, count]
    )
    chart = solara.use_memo(lambda: story_chart(told) if told and count else None, [told])

    missing = solara.use_reactive("")

    def pick(state: int, label: str):
        found = why.pick(model, state, turn.value)
        missing.set("" if found is not None else f"None yet in this run: {label}.")
        if found is not None:
            chosen.set(found)
        turn.set(turn.value + 1)

    solara.Markdown(
        "Pick a family: the page shows who it is, what it did, and its **reasons** each month, "
        "in log-odds: above 0 pushes it to leave, below 0 holds it in Japan. The reasons add up "
        "to the total the model used (the chance a month that a family staying in Japan "
        "decides to leave)."
    )
    with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
        for label, state in PICKS:
            solara.Button(
                label,
                on_click=lambda state=state, label=label: pick(state, label),
                small=True,
                outlined=True,
            )
        solara.InputInt(
            "or its number",
            value=chosen.value if chosen.value is not None else 0,
            on_value=lambda i: chosen.set(min(max(int(i), 0), len(model.households) - 1)),
            style={"max-width": "140px"},
        )
    if missing.value:
        solara.Markdown(f"*{missing.value}*")
    if told is None:
        if model.trace.count == 0:
            solara.Markdown("*Run the model first (▶ Play, or Jump to a year).*")
        return
    with solara.Row(gap="16px", style={"align-items": "flex-start"}, classes=["why-view"]):
        with solara.Column(style={"min-width": "300px", "flex": "1 1 35%"}):
            lines = [f"### Family {index}"] + [
                f"- {line}" for line in why.describe_household(model, index)
            ]
            moves = told.changes()
            lines += ["", "**What it did:**", ""]
            lines += [f"- {told.months[t]}: {words}." for t, words in moves] or [
                "- Nothing yet: it has stayed in Japan."
            ]
            if count:
                last = moves[-1][0] if moves else count - 1
                lines += [
                    "",
                    f"**In {told.months[last]}:** "
                    + why.month_in_words(told.parts[last], told.logits[last]),
                ]
            solara.Markdown("\n".join(lines))
        with solara.Column(style={"flex": "1 1 65%"}):
            if chart is not None:
                solara.Image(chart, format="png")
    if count:
        solara.Markdown(story_table(told), style={"font-size": "0.85em"})
