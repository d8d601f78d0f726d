"""Output folders: a rerun replaces only what the tool wrote, a swap cut short by a kill is
finished by the next run, and nothing half-written is ever left looking complete."""

import json
import os
import stat
from pathlib import Path

import pytest

from sim import staging
from sim.staging import JOURNAL, staged_directory


def write_output(out, files: dict[str, str], **manifest) -> None:
    """A tool's output folder: some files, then its manifest (written last)."""
    with staged_directory(out) as folder:
        for name, text in files.items():
            (folder / name).write_text(text)
        (folder / "manifest.json").write_text(json.dumps(manifest))


def contents(folder) -> dict[str, str]:
    return {p.name: p.read_text() for p in folder.iterdir() if p.is_file()}


def test_the_manifest_lists_what_was_written(tmp_path):
    write_output(tmp_path / "run", {"a.csv": "1", "b.csv": "2"}, seed=1)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest == {"seed": 1, "files": ["a.csv", "b.csv", "manifest.json"]}


def test_a_rerun_replaces_its_own_files_and_keeps_everyone_elses(tmp_path):
    out = tmp_path / "run"
    write_output(out, {"a.csv": "old", "aftermath.csv": "old"}, seed=1)
    (out / "notes.txt").write_text("mine")
    (out / "aftermath-report").mkdir()  # what another command writes there by default
    write_output(out, {"a.csv": "new"}, seed=2)
    assert contents(out) == {
        "a.csv": "new",
        "notes.txt": "mine",
        "manifest.json": json.dumps({"seed": 2, "files": ["a.csv", "manifest.json"]}, indent=2),
    }
    assert (out / "aftermath-report").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no leftovers beside it


RENAMES = 3  # moving a.csv and b.csv in, then the manifest


@pytest.mark.parametrize("killed_at", range(1, RENAMES + 1))
def test_a_swap_killed_at_any_step_is_finished_by_the_next_run(tmp_path, monkeypatch, killed_at):
    out = tmp_path / "run"
    write_output(out, {"a.csv": "old", "stale.csv": "old"}, seed=1)
    (out / "notes.txt").write_text("mine")
    rename, calls = os.rename, []

    def killed(source, target):
        calls.append(source)
        if len(calls) == killed_at:
            raise KeyboardInterrupt  # as a kill -9 between two steps: nothing after it runs
        rename(source, target)

    monkeypatch.setattr(staging.os, "rename", killed)
    with pytest.raises(KeyboardInterrupt):
        write_output(out, {"a.csv": "new", "b.csv": "new"}, seed=2)
    monkeypatch.setattr(staging.os, "rename", rename)
    # Cut short, the folder never looks like a complete run of either kind...
    assert (out / JOURNAL).is_file() and not (out / "manifest.json").exists()
    # ... and the next run for the same folder first finishes the interrupted swap.
    with staged_directory(out) as folder:
        assert contents(out)["a.csv"] == "new" and contents(out)["b.csv"] == "new"
        assert json.loads((out / "manifest.json").read_text())["seed"] == 2
        assert not (out / "stale.csv").exists() and (out / "notes.txt").read_text() == "mine"
        (folder / "manifest.json").write_text(json.dumps({"seed": 3}))
    assert json.loads((out / "manifest.json").read_text())["seed"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_leftovers_of_a_killed_run_are_removed_and_those_of_a_live_one_kept(tmp_path):
    out = tmp_path / "run"
    dead = tmp_path / ".run.partial-999999999-abc"  # no such process
    live = tmp_path / f".run.partial-{os.getpid()}-xyz"
    for folder in (dead, live):
        folder.mkdir()
        (folder / "annual.csv").write_text("half")
    write_output(out, {"a.csv": "1"})
    assert not dead.exists() and live.exists()


def test_an_output_folder_is_as_readable_as_any_folder_the_user_makes(tmp_path):
    previous = os.umask(0o022)
    try:
        write_output(tmp_path / "run", {"a.csv": "1"})
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "run").stat().st_mode) == 0o755


def test_a_folder_that_is_not_an_output_folder_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not an output directory"):
        staging.check_output_folder(tmp_path)
    with pytest.raises(FileExistsError), staged_directory(tmp_path):
        pytest.fail("never reached")
    assert contents(tmp_path) == {"notes.txt": "mine"}


@pytest.mark.parametrize(
    "journal",
    [
        {"staging": "/somewhere/else", "remove": [], "written": []},
        {"staging": "../../else", "remove": [], "written": []},
        {"staging": ".run.partial-1-x", "remove": ["../victim.txt"], "written": []},
        {"staging": ".run.partial-1-x", "remove": ["."], "written": []},
        {"staging": ".run.partial-1-x", "remove": "abc", "written": []},
        {"staging": ".run.partial-1-x"},
        [1],
    ],
)
def test_a_damaged_or_hand_made_journal_is_refused_and_never_followed(tmp_path, journal):
    out = tmp_path / "run"
    write_output(out, {"a.csv": "1"})
    (tmp_path / "victim.txt").write_text("precious")
    (tmp_path / "else").mkdir()
    (out / JOURNAL).write_text(json.dumps(journal))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(staging.OutputFolderError, match=r"\.replacing\.json"):
        write_output(out, {"a.csv": "2"})
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert (tmp_path / "else").is_dir()


@pytest.mark.parametrize("files", [["../victim.txt"], ["."], ["a/b"], "annual.csv", None, "list"])
def test_a_manifest_whose_files_are_not_plain_names_is_refused(tmp_path, files):
    out = tmp_path / "run"
    write_output(out, {"a.csv": "1"})
    (tmp_path / "victim.txt").write_text("precious")
    (out / "notes.txt").write_text("mine")
    manifest = [] if files == "list" else {"files": files}  # a list is no manifest at all
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(staging.OutputFolderError, match=r"manifest\.json"):
        staging.check_output_folder(out)
    with pytest.raises(staging.OutputFolderError):
        write_output(out, {"a.csv": "2"})
    assert (tmp_path / "victim.txt").read_text() == "precious"
    assert (out / "notes.txt").read_text() == "mine" and (out / "a.csv").read_text() == "1"


def test_an_empty_folder_and_the_current_folder_are_written_in_place(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    write_output(tmp_path / "empty", {"a.csv": "1"})
    assert contents(tmp_path / "empty")["a.csv"] == "1"
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    write_output(Path("."), {"a.csv": "2"})
    assert contents(tmp_path / "here")["a.csv"] == "2"
    assert sorted(p.name for p in (tmp_path / "here").iterdir()) == ["a.csv", "manifest.json"]


def test_a_link_to_nothing_is_refused(tmp_path):
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(staging.OutputFolderError, match="link to nothing"):
        staging.check_output_folder(tmp_path / "dangling")


def test_another_outputs_staging_is_never_taken_for_ones_own(tmp_path):
    """A name with glob characters matches only itself; a staging folder that an unfinished
    update needs is kept even when its process is gone."""
    unfinished = tmp_path / "run1"
    write_output(unfinished, {"a.csv": "old"})
    needed = tmp_path / ".run1.partial-999999999-abc"
    needed.mkdir()
    (needed / "a.csv").write_text("new")
    (needed / "manifest.json").write_text(json.dumps({"files": ["a.csv", "manifest.json"]}))
    journal = {"staging": needed.name, "remove": [], "written": ["a.csv", "manifest.json"]}
    (unfinished / JOURNAL).write_text(json.dumps(journal))
    write_output(tmp_path / "run[1]", {"b.csv": "1"})
    assert needed.is_dir()
    write_output(unfinished, {"a.csv": "newer"})  # finishes the update, then makes its own
    assert contents(unfinished)["a.csv"] == "newer" and not needed.exists()


def test_an_update_whose_new_files_were_lost_leaves_a_folder_the_next_run_replaces(tmp_path):
    out = tmp_path / "run"
    write_output(out, {"a.csv": "old", "b.csv": "old"})
    (out / "notes.txt").write_text("mine")
    (out / "manifest.json").unlink()  # the state after a kill mid-update ...
    journal = {"staging": ".run.partial-999999999-gone", "remove": [], "written": ["a.csv"]}
    (out / JOURNAL).write_text(json.dumps(journal))  # ... whose staging folder then vanished
    (out / f".{JOURNAL}.tmp-123").write_text("{")  # and a journal half-written by a later kill
    write_output(out, {"c.csv": "new"})
    assert sorted(p.name for p in out.iterdir()) == ["b.csv", "c.csv", "manifest.json", "notes.txt"]


def test_an_output_from_before_manifests_listed_their_files_is_updated_in_place(tmp_path):
    out = tmp_path / "comparison"
    out.mkdir()
    (out / "report.md").write_text("old")
    (out / "old_figure.png").write_text("old")
    (out / "manifest.json").write_text(json.dumps({"seed": 1}))  # no "files": an older version
    write_output(out, {"report.md": "new"}, seed=2)
    assert contents(out)["report.md"] == "new" and contents(out)["old_figure.png"] == "old"
