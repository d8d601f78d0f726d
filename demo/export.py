"""Save the page's settings as a scenario file that ``repatriation run`` and ``compare`` accept.

The file ``extends`` the scenario picked on the page (by a path relative to where it is saved,
so the calibrated point and every other setting come from that file) and writes only the levers
the sliders and switches change (``page_changes``). The number of families and the seed are run
options, not part of a scenario: the file's first lines give the command that repeats the run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from demo.model import page_changes
from sim.scenario import bundled_dir, load_scenario
from sim.staging import atomic_write_text

MARK = "# Saved from the teaching demo"  # the first line of a saved file: it may be saved again
SETTINGS = (
    "welfare_cuts",
    "enforcement",
    "south_korea_takes_deportees",
    "propaganda",
    "private_confirmation",
    "publish_letters",
    "right_of_return",
)


def _month(index: int) -> str:
    return f"{index // 12}-{index % 12 + 1:02d}"


def _number(value: float) -> str:
    return repr(float(value))


def file_name(name: str) -> str:
    """A safe file stem from what the teacher typed ("My lesson 1" -> "my_lesson_1")."""
    stem = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    return stem or "my_settings"


def scenario_text(settings: dict, name: str, folder: Path) -> str:
    """The TOML text of the page's ``settings`` (``scenario_name``, ``households``, ``rng`` and
    the ``SETTINGS``) as a scenario named ``name``, to be saved in ``folder``."""
    picked = settings.get("scenario_name", "historical")
    base_file = bundled_dir() / f"{picked}.toml"
    base = load_scenario(base_file)
    changes = page_changes(base, **{key: settings[key] for key in SETTINGS if key in settings})
    families = int(settings.get("households", 2500))
    full = base.population.people / base.population.mean_household_size
    chosen = ", ".join(f"{key} = {settings[key]}" for key in SETTINGS if key in settings)
    lines = [
        f"{MARK}: scenario {picked} with {chosen}.",
        f"# The page ran {families:,} families (--scale {families / full:.4g}) with seed "
        f"{settings.get('rng', 1959)}; to repeat it at full scale:",
        f"#   repatriation run {file_name(name)}.toml --seed {settings.get('rng', 1959)}",
        f'extends = "{Path(os.path.relpath(base_file, folder)).as_posix()}"',
        f'name = "{file_name(name)}"',
        f'description = "Saved from the teaching demo: {picked} with {chosen}."',
        "",
        "[levers]",
    ]
    for dotted, schedule in changes.items():
        steps = ", ".join(
            f'{{ from = "{_month(step["from"])}", value = {_number(step["value"])} }}'
            for step in schedule
        )
        lines.append(f"{dotted.split('.', 1)[1]} = [{steps}]")
    return "\n".join(lines) + "\n"


def save_scenario(settings: dict, name: str, folder: Path | None = None) -> Path:
    """Write the settings as ``folder/<name>.toml`` (by default among the bundled scenarios, so
    ``repatriation run <name>`` finds it and the page lists it) and return its path. A file of
    that name not saved from the page (``historical.toml``, say) is never replaced:
    FileExistsError."""
    folder = Path(folder) if folder is not None else bundled_dir()
    path = folder / f"{file_name(name)}.toml"
    if path.exists() and not path.read_text().startswith(MARK):
        raise FileExistsError(f"{path.name} is a scenario of its own: pick another name")
    atomic_write_text(path, scenario_text(settings, name, folder))
    try:
        load_scenario(path)  # never leave behind a file the tool would refuse
    except Exception:
        path.unlink()
        raise
    return path
