"""Progress of long commands: step k of n, and an estimate of the time left from the steps done."""

import io

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
