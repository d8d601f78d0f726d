"""The package as users get it: a wheel that runs outside the checkout, a public API, a quick
command line, and modules that read no file when imported."""

import runpy
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import sim

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    # No build isolation: the setuptools of this environment builds it, without a download.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(folder),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = folder.glob("repatriation_sim-*.whl")
    return path


def test_the_wheel_holds_the_data_the_model_needs(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "sim/data/targets.toml" in names
    assert "sim/scenarios/historical.toml" in names
    assert "sim/scenarios/calibration/historical/posterior.json" in names
    assert "analysis/calibration/priors.toml" in names
    assert not any(name.startswith(("tests/", "docs/", "results/")) for name in names)


def test_a_wheel_installed_elsewhere_runs_the_baseline(wheel, tmp_path):
    """A fresh environment outside the checkout: the wheel, plus this environment's third-party
    packages (so that nothing is downloaded), but not the checkout's own editable install."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # A plain path line: the editable install's own .pth hook in that folder is not run.
    (site / "third_party.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--quiet",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import sim; print(sim.__file__)"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), where
    run = subprocess.run(
        [
            str(venv / "bin" / "repatriation"),
            "run",
            "historical",
            "--reps",
            "2",
            "--scale",
            "0.01",
            "--seed",
            "3",
            "--point",
            "--out",
            "baseline",
        ],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "departures, Dec 1959 - Jul 1984" in run.stdout
    annual = pd.read_parquet(work / "baseline" / "annual.parquet")
    assert annual["departures_persons_mean"].sum() > 0
    # The same numbers as from the checkout.
    here = sim.annual_table(sim.simulate(sim.load_scenario("historical"), 3, 2, scale=0.01), 0.01)
    assert annual.equals(here)


def test_the_public_api_is_what_all_says():
    for name in sim.__all__:
        assert hasattr(sim, name), name
    assert sim.load_scenario("historical").name == "historical"


def test_the_quickstart_example_runs(capsys):
    runpy.run_path(str(ROOT / "docs" / "examples" / "quickstart.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert "departures_persons_mean" in printed and "difference_persons_median" in printed


def _python(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()


def test_the_command_line_parses_without_importing_the_model():
    loaded = _python(
        "import sys\nfrom analysis.cli import build_parser\nbuild_parser()\n"
        "print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'mesa', 'pyabc', 'sim', "
        "'distributed', 'matplotlib') if m in sys.modules))"
    )
    assert loaded == "[]"


MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for folder in ("sim", "analysis", "demo")
    for path in (ROOT / folder).rglob("*.py")
    if path.name != "__init__.py" and path.stem != "app"
)


def test_no_module_reads_a_file_when_imported():
    """Every module imports with file reads forbidden (third-party packages imported first, as
    they may read their own settings). demo/app.py is the Solara page, which builds its model
    when Solara loads it, and is left out."""
    code = f"""
import builtins, io, pathlib, importlib
for name in ("numpy", "pandas", "scipy.stats", "scipy.sparse", "matplotlib.pyplot", "mesa",
             "pydantic", "jinja2", "tqdm", "pyarrow.parquet", "networkx", "solara", "SALib",
             "distributed", "pyabc", "numba"):
    importlib.import_module(name)
import pydantic
class Warm(pydantic.BaseModel):  # pydantic reads its plugins' entry points on a first model
    x: int = 0
def refuse(*args, **kwargs):
    raise AssertionError(f"a file read at import: {{args[:1]}}")
builtins.open = io.open = refuse
pathlib.Path.read_text = pathlib.Path.read_bytes = pathlib.Path.open = refuse
for module in {MODULES!r}:
    importlib.import_module(module)
print("ok")
"""
    assert _python(code) == "ok"
    assert "sim.record" in MODULES and "analysis.calibration.smc" in MODULES
