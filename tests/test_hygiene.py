"""The project's house rules, checked with every test run (and so in CI): lint and format, the
direction of imports, a docs site that builds strictly, and a README that stays short and true."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


@pytest.mark.parametrize("command", [("ruff", "check", "."), ("ruff", "format", "--check", ".")])
def test_the_code_is_ruff_clean(command):
    result = _run(str(BIN / command[0]), *command[1:])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_import_contracts_hold():
    """sim imports nothing of analysis or demo; demo imports sim only; the engines are
    independent; the model's layers point one way (contracts in pyproject.toml)."""
    result = _run(str(BIN / "lint-imports"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_docs_site_builds_strictly(tmp_path):
    result = _run(str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(tmp_path / "site"))
    assert result.returncode == 0, result.stdout + result.stderr
    reference = (tmp_path / "site" / "reference" / "scenario-file" / "index.html").read_text()
    assert "ship_capacity" in reference and "persons per month" in reference


def test_the_readme_is_short_and_its_two_commands_are_the_ci_ones():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    assert "bash scripts/bootstrap.sh && .venv/bin/python -m pytest" in readme
    assert "bash scripts/bootstrap.sh && .venv/bin/repatriation run" in readme
    assert ".venv/bin/python -m pytest" in (ROOT / ".ci" / "run").read_text()


def test_the_readme_shows_what_the_baseline_printed():
    """The README's excerpt and the docs' generated file come from the same run
    (scripts/regenerate-docs.sh), so neither is typed in."""
    readme = (ROOT / "README.md").read_text()
    excerpt = re.search(
        r"<!-- baseline:start -->\n```text\n(.*?)```\n<!-- baseline:end -->", readme, re.S
    )
    assert excerpt, "README lacks the baseline block"
    generated = (ROOT / "docs" / "generated" / "baseline.txt").read_text()
    assert excerpt.group(1).strip() == generated.strip()


def test_the_repository_cites_nothing_outside_itself():
    tracked = _run("git", "ls-files").stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    pattern = re.compile(r"\.\./shared|DESIGN\.md|DESIGN section|DESIGN \d")
    offenders = [
        name
        for name in tracked
        if Path(name).suffix in (".py", ".toml", ".md", ".yml", ".sh", ".cff", ".j2")
        and name != Path(__file__).relative_to(ROOT).as_posix()
        and pattern.search((ROOT / name).read_text(errors="replace"))
    ]
    assert offenders == []


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_no_large_or_generated_file_is_tracked():
    tracked = _run("git", "ls-files", "-z").stdout.split("\0")
    sizes = {name: (ROOT / name).stat().st_size for name in tracked if (ROOT / name).is_file()}
    assert not [name for name in sizes if name.endswith(".db") or name.startswith("results/")]
    assert max(sizes.values()) < 1_000_000, max(sizes, key=sizes.get)
