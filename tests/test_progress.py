"""Progress of long commands: step k of n, and an estimate of the time left from the steps done."""

import contextlib
import io

from conftest import Terminal

from analysis.progress import Progress


def test_progress_says_the_step_and_estimates_what_is_left_from_the_steps_done():
    now = iter([0.0, 0.0, 30.0, 60.0, 600.0])
    out = io.StringIO()
    progress = Progress(4, stream=out, clock=lambda: next(now))
    for name in ("baseline", "no_welfare_cuts", "letters_published", "the after-arrival stage"):
        progress(name)
    assert out.getvalue().splitlines() == [
        "  [1/4] baseline",
        "  [2/4] no_welfare_cuts, 30 s in, about 90 s left",
        "  [3/4] letters_published, 60 s in, about 60 s left",
        "  [4/4] the after-arrival stage, 10 min in, about 3 min left",
    ]


def test_nothing_is_printed_off_a_terminal(capsys):
    assert Progress.on_terminal(3) is None  # pytest captures stderr: not a terminal
    assert capsys.readouterr().err == ""


def test_a_cap_is_said_as_such_until_the_number_of_steps_is_known():
    now = iter([0.0, 0.0, 60.0, 120.0])
    out = io.StringIO()
    progress = Progress(12, stream=out, clock=lambda: next(now), at_most=True)
    progress("wave 1")
    progress("wave 2")
    progress.settle(4)  # the waves stopped after two: the posterior's runs and the point are left
    progress("the posterior's runs")
    assert out.getvalue().splitlines() == [
        "  [1/12 at most] wave 1",
        "  [2/12 at most] wave 2, 60 s in, up to about 11 min left",
        "  [3/4] the posterior's runs, 2 min in, about 2 min left",
    ]


def test_many_short_steps_share_one_line_that_each_step_rewrites():
    now = iter([0.0, 0.0, 2.0, 4.0])
    out = io.StringIO()
    progress = Progress(3, stream=out, clock=lambda: next(now), one_line=True)
    for draw in range(1, 4):
        progress(f"posterior draw {draw}")
    progress.end()
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    shown = [part.removesuffix("\033[K") for part in text.rstrip("\n").split("\r")[1:]]
    assert shown == [
        "  [1/3] posterior draw 1",
        "  [2/3] posterior draw 2, 2 s in, about 4 s left",
        "  [3/3] posterior draw 3, 4 s in, about 2 s left",
    ]


def test_on_a_terminal_the_progress_goes_to_stderr():
    terminal = Terminal()
    with contextlib.redirect_stderr(terminal):
        progress = Progress.on_terminal(2)
        progress("baseline")
    assert terminal.getvalue() == "  [1/2] baseline\n"
