"""Take the README's screenshot of the teaching demo (docs/demo.png).

Starts the demo server, plays the historical scenario in headless Chromium until the given month,
and saves a full-page screenshot.

    .venv/bin/python analysis/screenshot_demo.py [--until 1961-06] [--out docs/demo.png]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

from analysis.serve_demo import solara_command

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--until", default="1961-06")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "demo.png")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        solara_command("127.0.0.1", port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=args.chromium,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],
            )
            # Tall enough for the third row of the grid (the after-arrival view, row two, runs
            # over into it) and the registrations chart.
            page = browser.new_page(viewport={"width": 1500, "height": 1400})
            page.goto(url, timeout=120_000)
            page.get_by_text("Month: 1955-01").wait_for(timeout=120_000)
            page.get_by_role("button", name="▶").click()
            page.get_by_text(f"Month: {args.until}").wait_for(timeout=600_000)
            page.get_by_role("button", name="❚❚").click()
            time.sleep(3)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=True)
            browser.close()
    finally:
        server.terminate()
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
