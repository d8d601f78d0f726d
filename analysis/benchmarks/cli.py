"""Benchmark of the command line's start-up: how long ``repatriation --help`` takes to answer.

Each command runs in a fresh process, ``--repeats`` times; the table gives the median and the
range. The command line parses without importing the model (numpy, pandas, Mesa, pyABC), so
every ``--help`` should answer in well under half a second.

    .venv/bin/python -m analysis.benchmarks.cli [--repeats 10]

The table is also written to docs/generated/benchmarks/cli.md, which the docs include.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

from .publish import published

COMMANDS = (
    ["--help"],
    ["run", "--help"],
    ["calibrate", "--help"],
    ["sweep", "--help"],
    ["--version"],
)


def timed(arguments: list[str]) -> float:
    executable = shutil.which("repatriation") or "repatriation"
    started = time.perf_counter()
    subprocess.run([executable, *arguments], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("repatriation") is None:
        sys.exit("error: `repatriation` is not on the PATH (activate the .venv)")
    with published("cli", "python -m analysis.benchmarks.cli"):
        print(f"Start-up of the command line, {args.repeats} runs each in a fresh process.\n")
        print("| command | median (s) | range (s) |\n|---|---|---|")
        for arguments in COMMANDS:
            times = [timed(arguments) for _ in range(args.repeats)]
            print(
                f"| `repatriation {' '.join(arguments)}` | {statistics.median(times):.3f} | "
                f"{min(times):.3f} - {max(times):.3f} |"
            )


if __name__ == "__main__":
    main()
