"""Put the browser assets Solara loads from a CDN into its local cache, from the npm registry.

Solara serves its page's JavaScript and CSS from cdn.jsdelivr.net, which mirrors npm packages.
Where only package registries are reachable, the demo page would stay blank; this script reads
which packages (name@version) the installed Solara asks for, fetches each with ``npm pack`` and
unpacks it where Solara's CDN proxy looks first (``<sys.prefix>/share/solara/cdn``). Run by
scripts/bootstrap.sh; safe to run again (it skips what is there).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import solara
from solara.server import settings

CDN_REFERENCE = re.compile(r"(?:\{\{cdn\}\}|getCdn\(\)\})/((?:@[\w.-]+/)?[\w.-]+@[\w.-]+)/")
# The files of Solara that name what the demo page loads: the page template, the grid layout of
# Mesa's SolaraViz, and the Markdown component (which loads requirejs).
SOURCES = [
    "server/templates/solara.html.j2",
    "widgets/vue/gridlayout.vue",
    "widgets/vue/gridlayout_v3.vue",
    "components/markdown.py",
]


def wanted() -> list[str]:
    root = Path(solara.__file__).parent
    specs = {settings.assets.fontawesome_path.strip("/").split("/")[0]}
    for source in SOURCES:
        if (root / source).is_file():
            specs.update(CDN_REFERENCE.findall((root / source).read_text()))
    return sorted(specs)


def fetch(spec: str, cache: Path) -> None:
    target = cache / spec
    if (target / "package.json").is_file():
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", spec, "--silent", "--pack-destination", tmp],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (tarball,) = Path(tmp).glob("*.tgz")
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarball) as archive:
            archive.extractall(unpacked, filter="data")
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(unpacked / "package", staging)
        staging.rename(target)


def main() -> int:
    if shutil.which("npm") is None:
        print(
            "fetch_demo_assets: npm not found; the browser demo needs Solara's assets "
            "(install Node.js/npm, or allow access to cdn.jsdelivr.net)",
            file=sys.stderr,
        )
        return 1
    cache = Path(settings.assets.proxy_cache_dir)
    for spec in wanted():
        fetch(spec, cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
