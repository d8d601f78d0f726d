#!/usr/bin/env bash
# Regenerate every file the docs include from a run (docs/generated/) and the README's excerpt
# of the baseline. Nothing there is typed in: this script is the one way to change them.
#
#   bash scripts/regenerate-docs.sh            # all of it: about 45 minutes on 2 cores
#   bash scripts/regenerate-docs.sh reports    # the baseline and the example reports only
#
# Run it on an otherwise idle machine: the benchmarks time the code.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
R=.venv/bin/repatriation
PY=.venv/bin/python
export PATH="$PWD/.venv/bin:$PATH"

# The README's main command; its printed summary is both a docs include and the README excerpt.
$R run historical --reps 20 --seed 1959 --out results/historical > docs/generated/baseline.txt
$PY - <<'PYTHON'
import re
from pathlib import Path

readme = Path("README.md")
printed = Path("docs/generated/baseline.txt").read_text().strip()
block = f"<!-- baseline:start -->\n```text\n{printed}\n```\n<!-- baseline:end -->"
text = re.sub(r"<!-- baseline:start -->.*?<!-- baseline:end -->", lambda _: block,
              readme.read_text(), flags=re.S)
readme.write_text(text)
PYTHON

# The example reports: the adopted calibration, the counterfactual scenarios, after arrival.
$R calibration-report --calibration scenarios/calibration/historical \
    --out docs/generated/calibration
# The tables in the docs are CSV (--format csv), readable in a diff; the default is Parquet.
$R compare --reps 20 --scale 0.25 --format csv --out docs/generated/comparison
$R run historical --reps 20 --seed 1959 --aftermath --quiet --out results/historical-aftermath
$R aftermath-report results/historical-aftermath --out docs/generated/aftermath
$PY -m analysis.agreement > /dev/null
[[ $what == reports ]] && exit 0

# Sensitivity: the Sobol analyses of sweeps/sobol_8.toml (parameters, about 15 minutes) and
# sweeps/policy_levers.toml (levers, about 5 minutes).
$R sweep sweeps/sobol_8.toml --out results/sweeps/sobol_8 --quiet
$R sensitivity results/sweeps/sobol_8 --format csv --out docs/generated/sensitivity > /dev/null
$R sweep sweeps/policy_levers.toml --out results/sweeps/policy_levers --quiet
$R sensitivity results/sweeps/policy_levers --format csv \
    --out docs/generated/sensitivity/policy_levers > /dev/null

# Benchmarks, last and one at a time.
$PY -m analysis.benchmarks.cli
$PY -m analysis.benchmarks.engine
$PY -m analysis.benchmarks.calibration --runs 160
$PY -m analysis.benchmarks.batch
$PY -m analysis.benchmarks.engines
$PY -m analysis.benchmarks.aftermath
$PY -m analysis.benchmarks.sweep throughput overhead
$PY scripts/benchmark_demo.py --browser
