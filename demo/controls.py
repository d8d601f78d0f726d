"""The page's controls for a classroom: run, jump to a year, and the settings with their meaning.

No developer controls (play and render intervals, threads): Play shows the months as fast as the
page can draw them, and a jump runs the model on without drawing. Every slider shows its value
and what it means; settings take effect when the class presses "Start again".
"""

from __future__ import annotations

import solara

from demo.model import scenario_names
from sim.scenario import bundled_dir, load_scenario

# Moments of the history a class jumps to: (button, month run up to and including, what it is).
MOMENTS = [
    ("1958 campaign", "1958-08", "Kim Il-sung welcomes the returnees; the campaign begins"),
    ("First ship", "1959-12", "the first ship leaves Niigata, 14 December 1959"),
    ("Letters", "1960-07", "letters of hardship from the North begin to arrive"),
    ("1967 lapse", "1967-12", "the agreement lapses; no ships"),
    ("1971 resumption", "1971-05", "the ships sail again, fewer"),
    ("1984", "1984-12", "the last ship, July 1984, and the end of the run"),
]

DEFAULTS = {
    "scenario_name": "historical",
    "households": 2500,
    "welfare_cuts": 1.0,
    "enforcement": 1.0,
    "propaganda": 1.0,
    "south_korea_takes_deportees": False,
    "private_confirmation": False,
    "publish_letters": False,
    "right_of_return": False,
    "rng": 1959,
}

# (setting, label, what its value means): the page prints the meaning under each control.
SLIDERS = [
    ("welfare_cuts", "Welfare cuts", "{:.0%} of the 1956 cuts to welfare payments"),
    ("enforcement", "Deportation threat", "{:.0%} of the scenario's deportation threat"),
    ("propaganda", "Propaganda", "{:.0%} of the 'paradise on earth' campaign"),
]
SWITCHES = [
    (
        "south_korea_takes_deportees",
        "South Korea takes deportees",
        ("Seoul refuses deportees: they wait in Ōmura", "Seoul takes those Japan deports"),
    ),
    (
        "private_confirmation",
        "Private confirmation of free will",
        ("confirmation in doorless rooms, Sōren nearby", "each family confirms in private"),
    ),
    (
        "publish_letters",
        "Japan publishes the letters (Oct 1960)",
        ("Japan keeps the hardship secret", "Japan publishes what it knows"),
    ),
    (
        "right_of_return",
        "Right to come back to Japan",
        ("a one-way journey", "those who leave may come back"),
    ),
]


def scenario_meaning(name: str) -> str:
    """The picked scenario's own description, first sentence."""
    description = load_scenario(bundled_dir() / f"{name}.toml").description or name
    return description.split(". ")[0].rstrip(".") + "."


@solara.component
def Hint(text: str):
    solara.Text(text, style={"font-size": "0.85em", "color": "#444", "margin-top": "-6px"})


@solara.component
def Settings(settings: solara.Reactive[dict], people_per_family: float):
    """The settings, each with its value and meaning."""
    values = settings.value

    def set_(key):
        return lambda value: settings.set({**settings.value, key: value})

    meaning = solara.use_memo(
        lambda: scenario_meaning(values["scenario_name"]), [values["scenario_name"]]
    )
    solara.Select(
        "Scenario",
        value=values["scenario_name"],
        values=scenario_names(),
        on_value=set_("scenario_name"),
    )
    Hint(meaning)
    solara.SliderInt(
        f"Families shown: {values['households']:,}",
        value=values["households"],
        min=500,
        max=5000,
        step=500,
        on_value=set_("households"),
    )
    Hint(
        f"one square per family; fewer run faster (about {people_per_family:.0f} real "
        "people per simulated person now)"
    )
    for key, label, meaning_of in SLIDERS:
        solara.SliderFloat(
            f"{label}: {values[key]:.1f}",
            value=values[key],
            min=0.0,
            max=1.0,
            step=0.1,
            on_value=set_(key),
        )
        Hint(meaning_of.format(values[key]) + " (1 = as in the scenario, 0 = none)")
    for key, label, (off, on) in SWITCHES:
        solara.Checkbox(label=label, value=values[key], on_value=set_(key))
        Hint(on if values[key] else off)
    solara.InputInt("Random seed", value=int(values["rng"]), on_value=set_("rng"))
    Hint("the same seed and settings give the same run")
