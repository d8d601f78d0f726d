"""Take the screenshots of the teaching demo (docs/demo.png, demo-why.png and demo-large.png).

Starts the demo server, opens the page in headless Chromium at 1366x768 (a projector), jumps to
the first letters of hardship (July 1960), steps month by month to the given month, and saves the
screen; then the story of a family that sailed; then the main view in large text (for a
projector), scrolled to the departures chart.

    .venv/bin/python scripts/screenshot_demo.py [--until 1961-06] [--out docs/demo.png]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from analysis.serve_demo import CHROMIUM_ARGS, served_quietly

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--until", default="1961-06")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "demo.png")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    with served_quietly() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=args.chromium, args=list(CHROMIUM_ARGS)
        )
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(url, timeout=120_000)
        page.get_by_text("Month: 1955-01").wait_for(timeout=120_000)
        page.get_by_role("button", name="Letters").click()
        page.get_by_text("Month: 1960-07").wait_for(timeout=600_000)
        while not page.get_by_text(f"Month: {args.until}").is_visible():
            page.get_by_role("button", name="One month").click()
            time.sleep(0.5)
        time.sleep(2)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out))
        page.get_by_role("tab", name="Why did this family leave?").click()
        page.get_by_role("button", name="a family that sailed").click()
        page.get_by_text("sailed for North Korea").first.wait_for(timeout=60_000)
        time.sleep(2)
        why = args.out.with_name(args.out.stem + "-why.png")
        page.screenshot(path=str(why))
        page.get_by_role("tab", name="What happens").click()
        page.get_by_text("Large text (projector)").click()
        time.sleep(2)
        page.locator(".run-charts img").first.scroll_into_view_if_needed()
        time.sleep(1)
        large = args.out.with_name(args.out.stem + "-large.png")
        page.screenshot(path=str(large))
        browser.close()
    print(f"saved {args.out}, {why} and {large}")


if __name__ == "__main__":
    main()
