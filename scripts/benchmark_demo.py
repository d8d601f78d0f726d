"""Benchmark of the teaching demo: how long a month takes on the page, Play's pace, and jumps.

At 2,500 families (the page's default), on the server, as a teacher's click costs it: the
model's month alone; a month with the page's main view redrawn (the Solara components rendered
to their widgets, with ``solara.render``, as the server does for a browser); the same with the
two charts rebuilt from scratch every month, as the page did before; Play's months a second;
and the jumps to the first ship and to 1984, as the page jumps (the numpy engine's months loaded
into the households) and as it jumped before (stepping the households month by month). With
``--browser`` (Debian's Chromium, driven by Playwright) it also times a click on "One month"
until the page shows the new month, at 1366x768: the server, the websocket and the browser's
drawing together.

    .venv/bin/python scripts/benchmark_demo.py [--months 24] [--browser]

The table is also written to docs/generated/benchmarks/demo.md, which docs/demo.md includes.
(A script, not a module of ``analysis``: the analysis tools do not import the demo.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import solara

from analysis.benchmarks.publish import published
from analysis.serve_demo import CHROMIUM_ARGS, served_quietly
from demo.charts import RunCharts
from demo.model import DemoModel
from demo.runner import FRAME, run_on
from demo.views import WatchView

FAMILIES = 2500
PERIODS = [("1955", "1955-01"), ("1960, the ships", "1960-01"), ("1975", "1975-01")]


def page(model: DemoModel, rebuild: bool = False):
    """The main view rendered on its own; returns the function that redraws it."""
    tick = solara.reactive(0)
    charts = [RunCharts(model.people_per_person)]

    @solara.component
    def Harness():
        WatchView(model, charts[0], tick.value)

    solara.render(Harness(), handle_error=False)

    def redraw():
        if rebuild:  # new figures, drawn from scratch, as every month before
            charts[0] = RunCharts(model.people_per_person)
        tick.set(tick.value + 1)

    return redraw


def month_times(start: str, months: int, redraw=None, rebuild: bool = False) -> list[float]:
    model = DemoModel(households=FAMILIES)
    if start > "1955-01":
        model.run_until(f"{int(start[:4]) - 1}-12")
    draw = page(model, rebuild) if redraw else None
    times = []
    for _ in range(months):
        started = time.perf_counter()
        model.step()
        if draw:
            draw()
        times.append(time.perf_counter() - started)
    return times


def cell(times: list[float]) -> str:
    return f"{statistics.median(times):.3f} ({max(times):.3f})"


def play_rate(seconds: float = 5.0) -> float:
    model = DemoModel(households=FAMILIES)
    model.run_until("1959-11")
    draw = page(model)
    deadline = time.monotonic() + seconds
    started = time.perf_counter()
    months = run_on(model, lambda: time.monotonic() < deadline, draw, FRAME)
    return months / (time.perf_counter() - started)


def jump_time(month: str, stepping: bool = False) -> float:
    """Seconds of a jump from January 1955 to the end of ``month``, as the page jumps (the numpy
    engine's months loaded into the households, ``sim/fast_forward.py``) or, with ``stepping``,
    stepping the Mesa model month by month, as the page jumped before (the same state)."""
    model = DemoModel(households=FAMILIES)
    started = time.perf_counter()
    if stepping:
        while model.t == 0 or (model.running and model.month_label < month):
            model.step()
    else:
        model.run_until(month)
    assert model.month_label == month
    return time.perf_counter() - started


# In the page: click "One month", and the milliseconds until the page shows the new month and the
# browser has painted it (no polling from outside the page).
CLICK_TO_MONTH = """async (month) => {
  const button = [...document.querySelectorAll("button")]
    .find(b => b.textContent.trim().toLowerCase() === "one month");
  const started = performance.now();
  const shown = new Promise(resolve => {
    const observer = new MutationObserver(() => {
      if (document.body.textContent.includes("Month: " + month)) {
        observer.disconnect();
        const painted = () => resolve(performance.now() - started);
        requestAnimationFrame(() => requestAnimationFrame(painted));
      }
    });
    observer.observe(document.body, {subtree: true, childList: true, characterData: true});
  });
  button.click();
  return await shown;
}"""


def browser_times(months: int, chromium: str) -> tuple[list[float], float]:
    """Seconds from a click on "One month" to the new month on the page, in 1960; and Play's
    months a second over 5 s, from there."""
    from playwright.sync_api import sync_playwright

    times = []
    with served_quietly() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS))
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(url, timeout=120_000)
        page.get_by_text("Month: 1955-01").wait_for(timeout=120_000)
        page.get_by_role("button", name="First ship").click()
        page.get_by_text("Month: 1959-12").wait_for(timeout=600_000)
        time.sleep(1)
        for k in range(months):
            month = f"{1960 + k // 12}-{k % 12 + 1:02d}"
            times.append(page.evaluate(CLICK_TO_MONTH, month) / 1000)
            time.sleep(0.2)
        page.get_by_role("button", name="▶ Play").click()
        time.sleep(5)
        page.get_by_role("button", name="❚❚ Pause").click()
        time.sleep(1)
        shown = page.get_by_text("Month: ").first.inner_text().split("Month: ")[1][:7]
        played = (int(shown[:4]) - 1960) * 12 + int(shown[5:7]) - months
        browser.close()
    return times, played / 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--browser", action="store_true", help="also time clicks in Chromium")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    command = "python scripts/benchmark_demo.py" + (" --browser" if args.browser else "")
    with published("demo", command):
        print(
            f"The demo page at {FAMILIES:,} families: seconds for one month, median (slowest) "
            f"over {args.months} months from the start of each period; on the server, without "
            "the browser's drawing.\n"
        )
        print("| a month of | " + " | ".join(label for label, _ in PERIODS) + " |")
        print("|---|" + "---|" * len(PERIODS))
        rows = [
            ("the model alone", False, False),
            ("the model and the page, redrawn in place", True, False),
            ("the model and the page, charts built anew each month", True, True),
        ]
        for words, redraw, rebuild in rows:
            cells = [cell(month_times(start, args.months, redraw, rebuild)) for _, start in PERIODS]
            print(f"| {words} | " + " | ".join(cells) + " |")
        print(
            f"\nPlay, from November 1959: {play_rate():.1f} months a second (drawn at most "
            f"{1 / FRAME:.0f} times a second). Jumps from January 1955, without drawing "
            "(the numpy engine's months loaded into the households; stepping the households "
            "month by month to the same state, as the page did before, in brackets): "
            f"to the first ship (1959-12) {jump_time('1959-12'):.2f} s "
            f"({jump_time('1959-12', stepping=True):.1f} s), "
            f"to 1984 {jump_time('1984-12'):.2f} s ({jump_time('1984-12', stepping=True):.1f} s)."
        )
        if args.browser:
            times, rate = browser_times(args.months, args.chromium)
            median, slowest = statistics.median(times), max(times)
            print(
                f"\nIn Chromium at 1366x768, a click on One month until the page shows the new "
                f"month, over {len(times)} months of 1960-61: median {median:.2f} s, slowest "
                f"{slowest:.2f} s (timed in the page, to the next paint). Play there: about "
                f"{rate:.0f} months a second."
            )


if __name__ == "__main__":
    main()
