"""The benchmark scripts import the model inside their functions (so that a fresh process times
its own imports), where an import that a change broke shows only when the benchmark runs: here
every name they import from the project must exist."""

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "analysis" / "benchmarks").glob("*.py")) + [
    ROOT / "scripts" / "benchmark_demo.py"
]
PROJECT = ("sim", "analysis", "demo")


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module):
            continue
        if node.module.split(".")[0] in PROJECT:
            yield node.module, [alias.name for alias in node.names]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_every_name_a_benchmark_imports_exists(path):
    for module, names in _imports(path):
        imported = importlib.import_module(module)
        for name in names:
            submodule = hasattr(imported, "__path__") and importlib.util.find_spec(
                f"{module}.{name}"
            )
            assert hasattr(imported, name) or submodule, (
                f"{path.relative_to(ROOT)} imports {name} from {module}, which has no such name"
            )
