"""Which files of an inbox are exports to read, and which are left alone and why."""

from __future__ import annotations

import os
import time

from batch.cli.inbox import SETTLE_SECONDS, move_aside, scan_inbox


def _files(folder, *names, age=SETTLE_SECONDS * 2):
    when = time.time() - age
    for name in names:
        (folder / name).write_text("x", encoding="utf-8")
        os.utime(folder / name, (when, when))


def test_scan_sorts_exports_from_what_is_left_alone(tmp_path):
    """Office lock and owner files (full and cut names), hidden files and notes are left alone."""
    _files(
        tmp_path,
        "a.csv", "b.xlsx", ".~lock.b.xlsx#", "kommune-eksport.xlsx", "~$mmune-eksport.xlsx",
        "README", "notes.md", ".upload.csv.part", "c.txt",
    )  # fmt: skip
    (tmp_path / "done").mkdir()
    found = scan_inbox(tmp_path)
    assert [path.name for path in found.ready] == ["a.csv", "c.txt"]
    reasons = {path.name: why for path, why in found.left_alone}
    assert reasons == {
        "b.xlsx": "open in an office program",
        ".~lock.b.xlsx#": "office lock file",
        "kommune-eksport.xlsx": "open in an office program",
        "~$mmune-eksport.xlsx": "office lock file",
        "README": "not an export",
        "notes.md": "not an export",
        ".upload.csv.part": "hidden file",
    }


def test_a_file_changed_within_the_minute_waits(tmp_path):
    """A file written just now may still be growing: it waits for the next run."""
    _files(tmp_path, "new.csv", age=5)
    found = scan_inbox(tmp_path)
    assert found.ready == []
    assert found.left_alone == [(tmp_path / "new.csv", "still being written")]


def test_moving_never_overwrites(tmp_path):
    """The same name and stamp twice: the second gets -2; the first is kept as it was."""
    folder = tmp_path / "done"
    first, second = tmp_path / "kui.csv", tmp_path / "again" / "kui.csv"
    second.parent.mkdir()
    first.write_text("first", encoding="utf-8")
    second.write_text("second", encoding="utf-8")
    one = move_aside(first, folder, "20261202T021500-abcd")
    two = move_aside(second, folder, "20261202T021500-abcd")
    assert (one.name, two.name) == (
        "kui-20261202T021500-abcd.csv",
        "kui-20261202T021500-abcd-2.csv",
    )
    assert one.read_text(encoding="utf-8") == "first"
    assert move_aside(first, folder, "x") is None  # gone already: nothing to move, no crash
