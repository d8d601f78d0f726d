"""Every input door refuses bad input cleanly: a non-zero exit, one message naming the file or
argument, the key and what is allowed, no traceback, nothing written and nothing changed.

Each case runs the ``repatriation`` command in a folder holding the files it names, and compares
every file of that folder before and after.
"""

from pathlib import Path

import pytest
from conftest import HISTORICAL

from analysis.cli import main

SWEEP = (
    f'name = "s"\nscenario = "{HISTORICAL}"\nseed = 1\nreplications = 1\nscale = 0.01\n'
    'outputs = ["departures_total"]\n[design]\nmethod = "latin"\nsamples = 2\n'
    '[parameters]\n"decision.peers" = { min = 0.5, max = 1.0 }\n'
)
PRIOR = (
    '[[parameter]]\nkey = "decision.peers"\ndist = "uniform"\nlow = 0.5\nhigh = 2.0\nstart = 1.0\n'
)
TARGET = (
    '[[target]]\nkey = "a"\nlabel = "a"\ndocumented = 10\nqualifier = "exactly"\n'
    'unit = "persons"\nperiod = ["1960-01", "1960-12"]\nmeasure = "total"\n'
    'metric = "departures"\nlow = 5\nhigh = 15\nsources = ["002"]\n'
)
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"


def scenario(text: str) -> str:
    """A scenario file that extends the baseline and changes what ``text`` says."""
    return f'extends = "{HISTORICAL}"\n{text}'


def named(name: str) -> str:
    return scenario(f"name = {name}\n")


# (case id, command line, files in the folder {name: text, bytes, or None for a folder},
#  fragments the message must hold)
CASES = [
    # -- run: arguments --------------------------------------------------------------------
    ("run-reps-0", ["run", "historical", "--reps", "0"], {}, ["--reps", "at least 1"]),
    ("run-reps-negative", ["run", "historical", "--reps", "-3"], {}, ["--reps", "at least 1"]),
    ("run-reps-text", ["run", "historical", "--reps", "x"], {}, ["--reps", "invalid"]),
    ("run-seed-negative", ["run", "historical", "--seed", "-1"], {}, ["--seed", "0 or more"]),
    ("run-seed-text", ["run", "historical", "--seed", "1.5"], {}, ["--seed", "invalid"]),
    ("run-scale-0", ["run", "historical", "--scale", "0"], {}, ["--scale", "[0.001, 1]"]),
    ("run-scale-5", ["run", "historical", "--scale", "5"], {}, ["--scale", "[0.001, 1]"]),
    ("run-scale-tiny", ["run", "historical", "--scale", "1e-9"], {}, ["--scale", "150"]),
    ("run-scale-nan", ["run", "historical", "--scale", "nan"], {}, ["--scale", "[0.001, 1]"]),
    ("run-out-empty", ["run", "historical", "--out", ""], {}, ["--out", "empty path"]),
    ("run-engine", ["run", "historical", "--engine", "gpu"], {}, ["--engine", "numpy"]),
    (
        "run-too-many-reps",
        ["run", "historical", "--reps", "1000000000", "--out", "r"],
        {},
        ["1,000,000,000 replications", "GiB", "--reps"],
    ),
    (
        "run-out-not-a-run",
        ["run", "historical", "--out", "mine"],
        {"mine/notes.txt": "mine"},
        ["mine", "not an output directory"],
    ),
    (
        "run-out-is-a-file",
        ["run", "historical", "--out", "notes.txt"],
        {"notes.txt": "mine"},
        ["notes.txt", "is a file"],
    ),
    (
        "run-out-under-a-file",
        ["run", "historical", "--out", "notes.txt/run"],
        {"notes.txt": "mine"},
        ["notes.txt", "is a file"],
    ),
    ("run-missing-scenario", ["run", "nothere.toml"], {}, ["nothere.toml", "no such scenario"]),
    ("run-folder-scenario", ["run", "folder"], {"folder": None}, ["folder", "is a folder"]),
    ("run-binary-scenario", ["run", "b.toml"], {"b.toml": BINARY}, ["b.toml", "not UTF-8"]),
    # -- scenario files, through validate -------------------------------------------------
    ("latin1-comment", ["validate", "s.toml"], {"s.toml": b"# caf\xe9\n"}, ["s.toml", "UTF-8"]),
    ("bad-toml", ["validate", "s.toml"], {"s.toml": "name = \n"}, ["s.toml", "not valid TOML"]),
    ("name-empty", ["validate", "s.toml"], {"s.toml": named('""')}, ["'name'", "folder name"]),
    ("name-dot", ["validate", "s.toml"], {"s.toml": named('"."')}, ["'name'", "folder name"]),
    ("name-dotdot", ["validate", "s.toml"], {"s.toml": named('".."')}, ["'name'", "folder"]),
    ("name-up", ["validate", "s.toml"], {"s.toml": named('"../../x"')}, ["'name'", "letters"]),
    ("name-abs", ["validate", "s.toml"], {"s.toml": named('"/tmp/x"')}, ["'name'", "letters"]),
    ("name-slash", ["validate", "s.toml"], {"s.toml": named('"a/b"')}, ["'name'", "letters"]),
    ("name-number", ["validate", "s.toml"], {"s.toml": named("5")}, ["'name'", "string"]),
    (
        "unknown-key",
        ["validate", "s.toml"],
        {"s.toml": scenario("[decision]\npeerz = 1\n")},
        ["s.toml", "decision.peerz", "allowed here", "peers"],
    ),
    (
        "unknown-section",
        ["validate", "s.toml"],
        {"s.toml": scenario("[decisions]\npeers = 1\n")},
        ["s.toml", "decisions", "allowed here"],
    ),
    (
        "out-of-range",
        ["validate", "s.toml"],
        {"s.toml": scenario("[decision]\npeers = 99\n")},
        ["s.toml", "decision.peers", "0..20"],
    ),
    (
        "text-for-number",
        ["validate", "s.toml"],
        {"s.toml": scenario('[decision]\npeers = "high"\n')},
        ["s.toml", "decision.peers", "number"],
    ),
    (
        "true-for-number",
        ["validate", "s.toml"],
        {"s.toml": scenario("[decision]\npeers = true\n")},
        ["s.toml", "decision.peers", "not a number"],
    ),
    (
        "lever-true",
        ["validate", "s.toml"],
        {"s.toml": scenario('[levers]\npropaganda = [{ from = "1955-01", value = true }]\n')},
        ["s.toml", "levers.propaganda[0].value", "not a number"],
    ),
    (
        "lever-out-of-range",
        ["validate", "s.toml"],
        {"s.toml": scenario('[levers]\npropaganda = [{ from = "1955-01", value = 3 }]\n')},
        ["s.toml", "levers.propaganda[0].value", "allowed range"],
    ),
    (
        "lever-bad-month",
        ["validate", "s.toml"],
        {"s.toml": scenario('[levers]\npropaganda = [{ from = "1955-13", value = 1 }]\n')},
        ["s.toml", "levers.propaganda[0].from", "1955-13"],
    ),
    (
        "lever-steps-out-of-order",
        ["validate", "s.toml"],
        {
            "s.toml": scenario(
                '[levers]\npropaganda = [{ from = "1955-01", value = 1 },'
                ' { from = "1954-01", value = 0 }]\n'
            )
        },
        ["s.toml", "levers.propaganda[1].from", "date order"],
    ),
    (
        "lever-starts-late",
        ["validate", "s.toml"],
        {"s.toml": scenario('[levers]\npropaganda = [{ from = "1960-01", value = 1 }]\n')},
        ["s.toml", "levers.propaganda[0].from", "on or before the simulated start"],
    ),
    (
        "lever-empty",
        ["validate", "s.toml"],
        {"s.toml": scenario("[levers]\npropaganda = []\n")},
        ["s.toml", "levers.propaganda", "at least 1"],
    ),
    (
        "end-before-start",
        ["validate", "s.toml"],
        {"s.toml": scenario('[simulation]\nend = "1950-01"\n')},
        ["s.toml", "simulation.end", "before the start"],
    ),
    (
        "odd-degree",
        ["validate", "s.toml"],
        {"s.toml": scenario("[population]\nnetwork_degree = 7\n")},
        ["s.toml", "population.network_degree", "even"],
    ),
    (
        "register-plus-revert",
        ["validate", "s.toml"],
        {"s.toml": scenario("[process]\nregister_rate = 0.8\nrevert_rate = 0.8\n")},
        ["s.toml", "process.revert_rate"],
    ),
    (
        "extends-missing",
        ["validate", "s.toml"],
        {"s.toml": 'extends = "nothere.toml"\n'},
        ["s.toml", "extends", "nothere.toml"],
    ),
    (
        "extends-folder",
        ["validate", "s.toml"],
        {"s.toml": 'extends = "folder"\n', "folder": None},
        ["folder", "is a folder"],
    ),
    (
        "extends-png",
        ["validate", "s.toml"],
        {"s.toml": 'extends = "p.png"\n', "p.png": BINARY},
        ["p.png", "not UTF-8"],
    ),
    (
        "calibration-not-a-table",
        ["validate", "s.toml"],
        {"s.toml": scenario('calibration = "x"\n')},
        ["s.toml", "calibration", "posterior ="],
    ),
    (
        "posterior-missing",
        ["validate", "s.toml"],
        {"s.toml": scenario('[calibration]\nposterior = "none.json"\n')},
        ["s.toml", "calibration.posterior", "does not exist"],
    ),
    (
        "posterior-folder",
        ["validate", "s.toml"],
        {"s.toml": scenario('[calibration]\nposterior = "folder"\n'), "folder": None},
        ["s.toml", "calibration.posterior", "is a folder"],
    ),
    (
        "posterior-binary",
        ["validate", "s.toml"],
        {"s.toml": scenario('[calibration]\nposterior = "p.json"\n'), "p.json": BINARY},
        ["s.toml", "calibration.posterior", "not a posterior"],
    ),
    (
        "posterior-nan",
        ["validate", "s.toml"],
        {
            "s.toml": scenario('name = "x"\n[calibration]\nposterior = "p.json"\n'),
            "p.json": '{"format": "repatriation-posterior/1", "point_rule": "r", '
            '"point": {"decision.peers": NaN}}',
        },
        ["p.json", "point.decision.peers", "not a number"],
    ),
    (
        "posterior-unknown-key",
        ["validate", "s.toml"],
        {
            "s.toml": scenario('name = "x"\n[calibration]\nposterior = "p.json"\n'),
            "p.json": '{"format": "repatriation-posterior/1", "point_rule": "r", '
            '"point": {"decision.nonsense": 1.0}}',
        },
        ["p.json", "point.decision.nonsense", "not a parameter"],
    ),
    # -- compare ---------------------------------------------------------------------------
    ("compare-reps-0", ["compare", "--reps", "0"], {}, ["--reps", "at least 1"]),
    ("compare-reps-1", ["compare", "--reps", "1", "--out", "c"], {}, ["--reps", "at least 2"]),
    ("compare-scale-0", ["compare", "--scale", "0"], {}, ["--scale", "[0.001, 1]"]),
    ("compare-seed", ["compare", "--seed", "-5"], {}, ["--seed", "0 or more"]),
    (
        "compare-out-not-a-run",
        ["compare", "--out", "mine", "--reps", "2", "--scale", "0.01"],
        {"mine/notes.txt": "mine"},
        ["mine", "not an output directory"],
    ),
    (
        "compare-bad-scenario",
        ["compare", "s.toml", "--out", "c"],
        {"s.toml": scenario("[decision]\npeerz = 1\n")},
        ["s.toml", "decision.peerz"],
    ),
    # -- run-posterior -------------------------------------------------------------------------
    ("posterior-draws-0", ["run-posterior", "historical", "--draws", "0"], {}, ["--draws"]),
    ("posterior-draws-neg", ["run-posterior", "historical", "--draws", "-2"], {}, ["--draws"]),
    ("posterior-scale-0", ["run-posterior", "historical", "--scale", "0"], {}, ["--scale"]),
    ("posterior-scale-5", ["run-posterior", "historical", "--scale", "5"], {}, ["--scale"]),
    (
        "posterior-reps-0",
        ["run-posterior", "historical", "--reps-per-draw", "0"],
        {},
        ["--reps-per-draw"],
    ),
    (
        "posterior-out-file",
        ["run-posterior", "historical", "--out", "notes.txt"],
        {"notes.txt": "mine"},
        ["notes.txt", "is a file"],
    ),
    # -- sweeps -----------------------------------------------------------------------------
    ("sweep-missing", ["sweep", "none.toml"], {}, ["none.toml", "no such sweep file"]),
    ("sweep-folder", ["sweep", "folder"], {"folder": None}, ["folder", "is a folder"]),
    ("sweep-binary", ["sweep", "w.toml"], {"w.toml": BINARY}, ["w.toml", "not UTF-8"]),
    ("sweep-chunk-neg", ["sweep", "w.toml", "--chunk-size", "-1"], {}, ["--chunk-size"]),
    ("sweep-chunk-0", ["sweep", "w.toml", "--chunk-size", "0"], {}, ["--chunk-size"]),
    ("sweep-workers-0", ["sweep", "w.toml", "--workers", "0"], {}, ["--workers"]),
    ("sweep-out-empty", ["sweep", "w.toml", "--out", ""], {}, ["--out", "empty"]),
    (
        "sweep-huge",
        ["sweep", "w.toml"],
        {"w.toml": SWEEP.replace("samples = 2", "samples = 1e12")},
        ["w.toml", "design", "1,000,000,000,000 points"],
    ),
    (
        "sweep-unknown-key",
        ["sweep", "w.toml"],
        {"w.toml": "colour = 1\n" + SWEEP},
        ["w.toml", "colour", "allowed here", "replications"],
    ),
    (
        "sweep-name-up",
        ["sweep", "w.toml"],
        {"w.toml": SWEEP.replace('name = "s"', 'name = "../../x"')},
        ["w.toml", "'name'", "folder name"],
    ),
    (
        "sweep-name-empty",
        ["sweep", "w.toml"],
        {"w.toml": SWEEP.replace('name = "s"', 'name = ""')},
        ["w.toml", "'name'", "folder name"],
    ),
    (
        "sweep-unknown-parameter",
        ["sweep", "w.toml"],
        {"w.toml": SWEEP.replace('"decision.peers"', '"decision.peerz"')},
        ["w.toml", "decision.peerz"],
    ),
    (
        "sweep-min-above-max",
        ["sweep", "w.toml"],
        {"w.toml": SWEEP.replace("min = 0.5, max = 1.0", "min = 1.0, max = 0.5")},
        ["w.toml", "decision.peers"],
    ),
    (
        "sweep-integer-key-between-whole-numbers",
        ["sweep", "w.toml"],
        {
            "w.toml": SWEEP.replace(
                '"decision.peers" = { min = 0.5, max = 1.0 }',
                '"population.community_size" = { min = 7.0, max = 7.4 }',
            )
        },
        ["w.toml", "population.community_size", "whole number"],
    ),
    (
        "sweep-unknown-output",
        ["sweep", "w.toml"],
        {"w.toml": SWEEP.replace('"departures_total"', '"happiness"')},
        ["w.toml", "outputs", "happiness"],
    ),
    (
        "sweep-unknown-method",
        ["sweep", "w.toml"],
        {"w.toml": SWEEP.replace('"latin"', '"random"')},
        ["w.toml", "design.method", "latin"],
    ),
    (
        "sweep-scale-0",
        ["sweep", "w.toml"],
        {"w.toml": SWEEP.replace("scale = 0.01", "scale = 0")},
        ["w.toml", "scale"],
    ),
    (
        "sweep-out-not-a-sweep",
        ["sweep", "w.toml", "--out", "mine"],
        {"w.toml": SWEEP, "mine/notes.txt": "mine"},
        ["mine", "not a sweep folder"],
    ),
    ("sensitivity-missing", ["sensitivity", "nothere"], {}, ["nothere"]),
    ("sensitivity-resamples", ["sensitivity", "x", "--resamples", "0"], {}, ["--resamples"]),
    # -- calibrate: arguments, priors, targets, and an existing calibration ---------------
    ("cal-scale-0", ["calibrate", "--scale", "0"], {}, ["--scale", "[0.001, 1]"]),
    ("cal-population-0", ["calibrate", "--population-size", "0"], {}, ["--population-size"]),
    ("cal-generations-0", ["calibrate", "--generations", "0"], {}, ["--generations"]),
    ("cal-minutes-0", ["calibrate", "--max-minutes", "0"], {}, ["--max-minutes"]),
    ("cal-workers-0", ["calibrate", "--workers", "0"], {}, ["--workers"]),
    ("cal-kernel-0", ["calibrate", "--kernel-scaling", "0"], {}, ["--kernel-scaling"]),
    ("cal-transition", ["calibrate", "--transition", "wide"], {}, ["--transition", "normal"]),
    (
        "cal-existing",
        ["calibrate", "--out", "cal"],
        {"cal/abc.db": b"not mine to delete", "cal/posterior.json": "{}"},
        ["cal", "holds a calibration", "--resume", "--overwrite"],
    ),
    (
        "cal-resume-history-matching",
        ["calibrate", "--out", "cal", "--resume", "--method", "history-matching"],
        {"cal/abc.db": b"", "cal/calibration_run.json": "{}"},
        ["--resume continues an ABC-SMC calibration only"],
    ),
    (
        "cal-resume-damaged-record",
        ["calibrate", "--out", "cal", "--resume"],
        {"cal/abc.db": b"", "cal/calibration_run.json": "{not json"},
        ["cal/calibration_run.json", "cannot resume"],
    ),
    (
        "run-out-manifest-garbage",
        ["run", "historical", "--out", "r"],
        {"r/manifest.json": "garbage", "r/notes.txt": "mine"},
        ["r/manifest.json", "not a manifest"],
    ),
    (
        "run-out-journal-outside",
        ["run", "historical", "--out", "r"],
        {"r/.replacing.json": '{"staging": "../../x", "remove": [], "written": []}'},
        ["r/.replacing.json", "not a staging folder"],
    ),
    (
        "sweep-index-is-a-folder",
        ["sweep", "w.toml", "--out", "sw"],
        {"sw/sweep.json": "{}", "sw/index.jsonl": None},
        ["sw/index.jsonl", "should be a file"],
    ),
    (
        "sweep-orphans-is-a-file",
        ["sweep", "w.toml", "--out", "sw"],
        {"sw/sweep.json": "{}", "sw/orphans": "mine"},
        ["sw/orphans", "should be a folder"],
    ),
    (
        "cal-out-file",
        ["calibrate", "--out", "notes.txt"],
        {"notes.txt": "mine"},
        ["notes.txt", "is a file"],
    ),
    ("priors-missing", ["calibrate", "--priors", "p.toml"], {}, ["p.toml", "no such priors"]),
    ("priors-folder", ["calibrate", "--priors", "f"], {"f": None}, ["f", "is a folder"]),
    (
        "priors-number",
        ["calibrate", "--priors", "p.toml"],
        {"p.toml": "parameter = 5\n"},
        ["p.toml", "'parameter'", "[[parameter]]"],
    ),
    (
        "priors-strings",
        ["calibrate", "--priors", "p.toml"],
        {"p.toml": 'parameter = ["a", "b"]\n'},
        ["p.toml", "'parameter'", "[[parameter]]"],
    ),
    (
        "priors-text-low",
        ["calibrate", "--priors", "p.toml"],
        {"p.toml": PRIOR.replace("low = 0.5", 'low = "abc"')},
        ["p.toml", "decision.peers", "'low' must be a number"],
    ),
    (
        "priors-missing-dist",
        ["calibrate", "--priors", "p.toml"],
        {"p.toml": PRIOR.replace('dist = "uniform"\n', "")},
        ["p.toml", "decision.peers", "missing 'dist'"],
    ),
    (
        "priors-unknown-key",
        ["calibrate", "--priors", "p.toml"],
        {"p.toml": PRIOR + "colour = 1\n"},
        ["p.toml", "decision.peers", "colour", "allowed"],
    ),
    (
        "priors-outside-schema",
        ["calibrate", "--priors", "p.toml"],
        {"p.toml": PRIOR.replace("high = 2.0", "high = 99.0")},
        ["p.toml", "decision.peers", "allowed 0..20"],
    ),
    (
        "priors-not-a-parameter",
        ["calibrate", "--priors", "p.toml"],
        {"p.toml": PRIOR.replace("decision.peers", "decision.peerz")},
        ["p.toml", "decision.peerz", "not a parameter"],
    ),
    ("targets-folder", ["calibrate", "--targets", "f"], {"f": None}, ["f", "is a folder"]),
    (
        "targets-binary",
        ["calibrate", "--targets", "t.toml"],
        {"t.toml": BINARY},
        ["t.toml", "not UTF-8"],
    ),
    (
        "targets-string",
        ["calibrate", "--targets", "t.toml"],
        {"t.toml": 'target = "x"\n'},
        ["t.toml", "'target'", "[[target]]"],
    ),
    (
        "targets-no-unit",
        ["calibrate", "--targets", "t.toml"],
        {"t.toml": TARGET.replace('unit = "persons"\n', "")},
        ["t.toml", "target[0] (a)", "missing key 'unit'"],
    ),
    (
        "targets-one-month-period",
        ["calibrate", "--targets", "t.toml"],
        {"t.toml": TARGET.replace('["1960-01", "1960-12"]', '["1960-01"]')},
        ["t.toml", "target[0] (a)", "period must be [first month, last month]"],
    ),
    (
        "targets-unknown-table",
        ["calibrate", "--targets", "t.toml"],
        {"t.toml": TARGET.replace("[[target]]", "[[targets]]")},
        ["t.toml", "targets", "allowed"],
    ),
    # -- reports and the demo ------------------------------------------------------------------
    ("aftermath-missing-run", ["aftermath-report", "nothere"], {}, ["nothere"]),
    (
        "aftermath-not-a-run",
        ["aftermath-report", "mine"],
        {"mine/notes.txt": "mine"},
        ["mine"],
    ),
    ("aftermath-out-empty", ["aftermath-report", "x", "--out", ""], {}, ["--out", "empty"]),
    ("calibration-report-missing", ["calibration-report", "--calibration", "no"], {}, ["no"]),
    ("demo-port-0", ["demo", "--port", "0"], {}, ["--port", "1024..65535"]),
    ("demo-port-high", ["demo", "--port", "70000"], {}, ["--port", "1024..65535"]),
]


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.parametrize(
    "argv, files, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_refused_cleanly(tmp_path, monkeypatch, capsys, argv, files, fragments):
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    if "w.toml" in argv and "w.toml" not in files:
        (tmp_path / "w.toml").write_text(SWEEP)
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse refuses an argument this way
        code = exit_.code
    captured = capsys.readouterr()
    message = captured.err + captured.out
    assert code not in (0, None), message
    assert "Traceback" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert snapshot(tmp_path) == before


def test_the_table_covers_every_door():
    doors = {argv[0] for _, argv, _, _ in CASES}
    assert doors >= {
        "run",
        "validate",
        "compare",
        "run-posterior",
        "sweep",
        "sensitivity",
        "calibrate",
        "aftermath-report",
        "calibration-report",
        "demo",
    }
    assert len(CASES) >= 80
