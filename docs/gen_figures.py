"""Write the page reference/documented-figures.md from the documented record (mkdocs-gen-files).

Every row is read from ``sim/data/targets.toml`` through ``sim.record``: the figure, how the
documents state it, its tolerance band and why, its documents, its period and whether the
calibration fits it. Nothing about a figure is typed here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.record import stated, targets  # noqa: E402

PAGE = "reference/documented-figures.md"


def _number(value: float, unit: str) -> str:
    return (
        f"{value:.0%}"
        if unit == "share"
        else f"{value:,.1f}"
        if unit == "ratio"
        else f"{value:,.0f}"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def page() -> str:
    lines = [
        "# Documented figures",
        "",
        "Every figure the documents give that the model produces, as `sim/data/targets.toml` "
        "holds it (this page is generated from that file). A band is the tolerance the "
        "calibration and the reports use; *fitted* says whether the calibration fits the figure "
        "(after-arrival figures never are). A figure the documents give with no count "
        '("some") is a constraint: it is met anywhere in its band.',
    ]
    for stage, title in (("repatriation", "Japan, 1955-1984"), ("aftermath", "After arrival")):
        lines += [
            "",
            f"## {title}",
            "",
            "| figure | documented | band | source | period | fitted | why this band |",
            "|---|---|---|---|---|---|---|",
        ]
        for f in (t for t in targets() if t.stage == stage):
            fmt = "{:.0%}" if f.unit == "share" else "{:,.1f}" if f.unit == "ratio" else "{:,.0f}"
            when = f"{f.period[0]} - {f.period[1]}" if f.stage == "repatriation" else str(f.year)
            lines.append(
                f"| {_cell(f.label)} | {stated(f.qualifier, f.documented, fmt)} | "
                f"{_number(f.low, f.unit)} - {_number(f.high, f.unit)} | {f.source} | {when} | "
                f"{'yes' if f.fit else 'no'} | {_cell(f.tolerance_reason)} |"
            )
    return "\n".join(lines) + "\n"


with mkdocs_gen_files.open(PAGE, "w") as handle:
    handle.write(page())
