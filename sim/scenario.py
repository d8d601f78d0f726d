"""Loading scenario files: ``extends``, the calibrated point, and errors that name file and key.

``load_scenario`` reads a TOML file and the files it ``extends`` (tables merge key by key, a
lever's schedule is replaced as a whole), sets the calibrated values from the posterior named by
``[calibration] posterior``, and validates the result against the schema (``schema.py``). Any
problem raises ``ScenarioError`` naming the file and the key at fault: an unknown key, a value
out of range, dates out of order, a missing base file. ``with_parameters`` gives a copy of a
scenario with some keys replaced, validated the same way. ``bundled`` finds the scenario files
that ship with the package.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .fields import KeyPathError
from .schema import Scenario, dotted_get, key_text, model_at, parameter_range


class ScenarioError(ValueError):
    """A scenario file is invalid; the message names the file and the key."""


def read_toml(path: Path, error: type[Exception] = ScenarioError, kind: str = "scenario") -> dict:
    """Read a TOML input file; a missing file, a folder, a file that is not UTF-8 text or bad
    syntax raises ``error`` naming the file."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise error(f"{path}: no such {kind} file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a {kind} file (a .toml file)") from None
    except PermissionError:
        raise error(f"{path}: the {kind} file cannot be read (permission denied)") from None
    except UnicodeDecodeError as exc:
        raise error(
            f"{path}: not a {kind} file: byte {exc.start} is not UTF-8 text (TOML files are UTF-8)"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


def _merge(base: dict, override: dict, origin: dict, file: Path, prefix: tuple = ()) -> dict:
    """Merge override into base (tables key by key, anything else replaced); record origins."""
    merged = dict(base)
    for key, value in override.items():
        path = prefix + (key,)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value, origin, file, path)
        else:
            merged[key] = value
            for known in [p for p in origin if p[: len(path)] == path]:
                del origin[known]
            origin[path] = file
    return merged


def _resolve(path: Path, chain: tuple[Path, ...], calibration: bool = True) -> tuple[dict, dict]:
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(str(p) for p in chain + (path,))
        raise ScenarioError(f"{path}: key 'extends' makes a cycle: {cycle}")
    raw = read_toml(path)
    base_name = raw.pop("extends", None)
    origin: dict[tuple, Path] = {}
    if base_name is None:
        data = {}
    else:
        if not isinstance(base_name, str):
            raise ScenarioError(f"{path}: key 'extends' must be a file name, got {base_name!r}")
        base_path = path.parent / base_name
        if base_path.is_dir():
            raise ScenarioError(
                f"{path}: key 'extends' names {base_name!r}, but {base_path} is a folder, not a "
                "scenario file"
            )
        if not base_path.is_file():
            raise ScenarioError(
                f"{path}: key 'extends' names {base_name!r}, but {base_path} does not exist"
            )
        data, origin = _resolve(base_path, chain + (path,), calibration)
    if "calibration" in raw:
        table = raw.pop("calibration")
        data.pop("calibration", None)  # a file's own posterior replaces its base's record
        if calibration:
            raw = _apply_calibration(path, table, raw)
    elif not calibration:
        data.pop("calibration", None)
    return _merge(data, raw, origin, path), origin


def _apply_calibration(path: Path, table: Any, raw: dict) -> dict:
    """Set the posterior's point in this file's own values; refuse a key written twice."""
    if (
        not isinstance(table, dict)
        or set(table) != {"posterior"}
        or not isinstance(table["posterior"], str)
    ):
        raise ScenarioError(
            f"{path}: key 'calibration': write only "
            f'posterior = "file" (a posterior written by `repatriation calibrate`)'
        )
    file = path.parent / table["posterior"]
    try:
        content = file.read_bytes()
        posterior = json.loads(content)
        point, rule = posterior["point"], posterior["point_rule"]
        if posterior.get("format") != "repatriation-posterior/1" or not isinstance(point, dict):
            raise ValueError("format")
    except FileNotFoundError:
        raise ScenarioError(
            f"{path}: key 'calibration.posterior': {file} does not exist "
            "(run `repatriation calibrate` to write it)"
        ) from None
    except IsADirectoryError:
        raise ScenarioError(
            f"{path}: key 'calibration.posterior': {file} is a folder; name its posterior.json"
        ) from None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ScenarioError(
            f"{path}: key 'calibration.posterior': {file} is not a posterior "
            "file written by `repatriation calibrate`"
        ) from None
    _check_point(file, point)
    raw = json.loads(json.dumps(raw))  # a deep copy, to set keys in
    for dotted, value in point.items():
        if dotted_get(raw, dotted) is not None:
            raise ScenarioError(
                f"{path}: key '{dotted}': set both here and by calibration.posterior "
                f"({file.name}); remove one (the calibrated value is the one source of truth)"
            )
        node = raw
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    raw["calibration"] = {
        "posterior": table["posterior"],
        "sha256": hashlib.sha256(content).hexdigest(),
        "point_rule": rule,
        "values": dict(point),
    }
    return raw


def _check_point(file: Path, point: dict) -> None:
    """Each value of a posterior's point: a parameter of the schema, a finite number in its
    range (a ScenarioError naming the posterior file and the key otherwise)."""
    for dotted, value in point.items():
        where = f"{file}: key 'point.{dotted}'"
        try:
            low, high = parameter_range(dotted)
        except KeyError:
            raise ScenarioError(f"{where}: not a parameter of the scenario schema") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise ScenarioError(f"{where}: {value!r} is not a number")
        if not low <= value <= high:
            raise ScenarioError(f"{where}: {value} is outside the allowed range {low}..{high}")


def posterior_file(scenario_path: str | Path) -> Path | None:
    """The posterior file a scenario file (or the nearest file it extends) points to.

    The scenario itself records the path as written and the file's hash, not an absolute path,
    so that its digest does not depend on where the project lives.
    """
    path: Path | None = scenario_file(scenario_path).resolve()
    seen = set()
    while path is not None and path not in seen:
        seen.add(path)
        raw = read_toml(path)
        table = raw.get("calibration")
        if isinstance(table, dict) and isinstance(table.get("posterior"), str):
            return (path.parent / table["posterior"]).resolve()
        base = raw.get("extends")
        path = (path.parent / base).resolve() if isinstance(base, str) else None
    return None


def _origin_of(loc: tuple, origin: dict, root: Path) -> Path:
    for length in range(len(loc), 0, -1):
        if loc[:length] in origin:
            return origin[loc[:length]]
    return root


def load_scenario(
    path: str | Path, *, calibration: bool = True, fill: dict[str, Any] | None = None
) -> Scenario:
    """Read and validate a scenario file (and the files it extends): a path, or the name of a
    bundled scenario (``load_scenario("historical")``).

    A ``[calibration] posterior = "file"`` table sets the posterior's point values. With
    ``calibration=False`` it is ignored, and ``fill`` gives dotted keys missing from the files
    (the calibration itself starts from the scenario this way, never from an earlier posterior).
    """
    root = scenario_file(path).resolve()
    data, origin = _resolve(root, (), calibration)
    for dotted, value in (fill or {}).items():
        if dotted_get(data, dotted) is None:
            node = data
            *parents, last = dotted.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = value
    return _validate(data, lambda loc: _origin_of(loc, origin, root))


def with_parameters(
    scenario: Scenario, values: dict[str, Any], source: str = "parameters"
) -> Scenario:
    """A copy of ``scenario`` with dotted keys replaced, validated like a file.

    ``with_parameters(s, {"decision.peers": 1.5, "process.cancel_rate": 0.05})``; a lever may be
    given a whole schedule: ``{"levers.propaganda": [{"from": "1955-01", "value": 0}]}``.
    Errors name ``source`` (e.g. a sweep file) and the key.
    """
    data = scenario.model_dump(mode="json", by_alias=True)
    for dotted, value in values.items():
        node, *path, last = [data] + dotted.split(".")
        for part in path:
            if not isinstance(node, dict) or part not in node:
                raise ScenarioError(f"{source}: key '{dotted}': unknown key")
            node = node[part]
        if not isinstance(node, dict) or last not in node:
            raise ScenarioError(
                f"{source}: key '{dotted}': unknown key" + _allowed_keys(tuple(dotted.split(".")))
            )
        node[last] = value
    return _validate(data, lambda loc: source)


def _validate(data: dict, origin_of: Any) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            cause = error.get("ctx", {}).get("error")
            if isinstance(cause, KeyPathError):
                loc, message = loc + cause.loc, cause.message
            elif error["type"] == "extra_forbidden":
                message = "unknown key" + _allowed_keys(loc)
            elif error["type"] == "missing":
                message = "missing key"
            elif isinstance(cause, ValueError):  # a validator's own words, not "Value error, ..."
                message = str(cause)
            else:
                message = error["msg"] + _allowed_range(loc)
            lines.append(f"{origin_of(loc)}: key '{key_text(loc)}': {message}")
        raise ScenarioError("invalid scenario\n  " + "\n  ".join(lines)) from None


def _allowed_keys(loc: tuple) -> str:
    names = [f.alias or n for n, f in model_at(loc).model_fields.items()]
    return f" (allowed here: {', '.join(names)})"


def _allowed_range(loc: tuple) -> str:
    try:
        field = model_at(loc).model_fields[loc[-1]]
    except (KeyError, IndexError, AttributeError, TypeError):
        return ""
    return f"; the key is: {field.description}" if field.description else ""


def bundled_dir() -> Path:
    """The folder of the scenario files that ship with the package: ``scenarios/`` of a checkout
    (an editable install), packaged as ``sim/scenarios/`` in a wheel."""
    here = Path(__file__).resolve().parent
    packaged = here / "scenarios"
    return packaged if packaged.is_dir() else here.parent / "scenarios"


def scenario_file(text: str | Path) -> Path:
    """A scenario file given as a path, or by the name of a bundled scenario (``historical``)."""
    path = Path(text)
    if path.suffix != ".toml" and not path.exists() and (bundled_dir() / f"{path}.toml").is_file():
        return bundled_dir() / f"{path}.toml"
    return path
