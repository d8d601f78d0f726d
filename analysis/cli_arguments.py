"""The ``repatriation`` command's argument types and helpers: each type refuses a bad value
with a message that says what is allowed, before any work is done."""

from __future__ import annotations

import argparse
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

# Below this share the population has fewer than about 150 households: too few for any figure.
MIN_SCALE = 0.001


def scale(text: str) -> float:
    value = float(text)
    if not MIN_SCALE <= value <= 1:
        raise argparse.ArgumentTypeError(
            f"--scale must be in [{MIN_SCALE}, 1] (below {MIN_SCALE}, fewer than 150 households), "
            f"got {text}"
        )
    return value


def seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a whole number 0 or more, got {text}")
    return value


def folder(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path: name a folder")
    return Path(text)


def port(text: str) -> int:
    value = int(text)
    if not 1024 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number in 1024..65535, got {text}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def nonnegative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def nonnegative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text}")
    return value


def package_version() -> str:
    try:
        return version("repatriation-sim")
    except PackageNotFoundError:
        return "unknown"


def add_format(parser: argparse.ArgumentParser) -> None:
    # sim.table_files.FORMATS, written out: importing it would load pandas for --help.
    parser.add_argument(
        "--format",
        choices=("parquet", "csv", "netcdf"),
        default="parquet",
        help="file format of the tables (default parquet; netcdf through xarray, with units)",
    )


def add_command(commands, name: str, handler: str, **kwargs) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, **kwargs)
    parser.set_defaults(handler=handler)
    return parser
