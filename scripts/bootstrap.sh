#!/usr/bin/env bash
# Set up the project on a fresh machine: find Python >= 3.12, make .venv, install the package
# with every extra (sweeps, calibration, demo, docs, test), and fetch the demo page's browser
# assets. Safe to run again: it reinstalls only when pyproject.toml has changed.
set -euo pipefail
cd "$(dirname "$0")/.."

is_312_or_newer() {
    "$@" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
    if [[ -n "${PYTHON:-}" ]] && is_312_or_newer "$PYTHON"; then echo "$PYTHON"; return; fi
    for candidate in python3.12 python3.13 python3; do
        if command -v "$candidate" >/dev/null && is_312_or_newer "$candidate"; then
            command -v "$candidate"; return
        fi
    done
    # pyenv keeps non-default versions off PATH; ask it for the newest 3.12+ it has.
    if command -v pyenv >/dev/null; then
        for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9])' | sort -V); do
            path=$(PYENV_VERSION="$version" pyenv which python3 2>/dev/null || true)
            if [[ -n "$path" ]] && is_312_or_newer "$path"; then echo "$path"; return; fi
        done
    fi
    echo "error: Python 3.12 or newer is needed (set PYTHON=/path/to/python3.12)" >&2
    exit 1
}

stamp=.venv/.installed-from
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if ! [[ -x .venv/bin/python && -f $stamp && "$(cat $stamp)" == "$wanted" ]]; then
    python=$(find_python)
    echo "bootstrap: using $python ($("$python" --version))" >&2
    rm -rf .venv
    "$python" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[all]'
    echo "$wanted" > "$stamp"
fi
# The browser demo's JavaScript, from the npm registry (skips what is already there).
.venv/bin/python scripts/fetch_demo_assets.py || echo "bootstrap: the demo page will lack its assets" >&2
