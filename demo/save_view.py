"""The "Save as a scenario" tab: the page's settings as a scenario file for ``repatriation run``."""

from __future__ import annotations

import solara

from demo.export import file_name, save_scenario, scenario_text
from sim.scenario import bundled_dir


@solara.component
def SaveView(model):
    name = solara.use_reactive("my_lesson")
    saved = solara.use_reactive(None)
    failed = solara.use_reactive(None)
    text = scenario_text(model.settings, name.value, bundled_dir())

    def save():
        try:
            saved.set(str(save_scenario(model.settings, name.value)))
            failed.set(None)
        except OSError as error:  # a name taken by a scenario, or a folder one may not write
            failed.set(f"Not saved: {error}. Pick another name, or download the file.")
            saved.set(None)

    solara.Markdown(
        "Save the settings of this run (as they were at *Start again*) as a scenario file. "
        "It goes with the tool's scenarios, so `repatriation run NAME` and `repatriation "
        "compare` accept it, and it appears in the Scenario list here."
    )
    solara.InputText("Name of the scenario", value=name, continuous_update=True)
    with solara.Row():
        solara.Button("Save these settings as a scenario", color="primary", on_click=save)
        solara.FileDownload(text, filename=f"{file_name(name.value)}.toml", label="Download it")
    if failed.value:
        solara.Error(failed.value)
    if saved.value:
        solara.Success(
            f"Saved: {saved.value}. Run it with: repatriation run {file_name(name.value)}"
        )
    solara.Markdown(f"```toml\n{text}```")
