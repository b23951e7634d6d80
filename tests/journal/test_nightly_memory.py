"""The journal's part in the night: the version per run, new Fix rows, migration, backup."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from batch import __version__
from batch.errors import ConfigError
from batch.journal import JOURNAL_NAME, Journal, backup_journal
from batch.records import Outcome
from tests.rows_kit import row

FIXTURE = Path(__file__).with_name("fixtures") / "journal-v1.sqlite3"


def _night(journal: Journal, source_file: str, mails: list[str]) -> dict[Outcome, int]:
    """One run whose rows all failed validation (Fix), one per mail cell."""
    run_id = journal.start_run(inputs=[source_file], settings={})
    rows = [row(n, None, source_file=source_file, Mail=mail) for n, mail in enumerate(mails, 2)]
    journal.add_rows(run_id, rows)
    journal.finish_run(run_id, status="finished")
    return journal.new_issues(run_id)


def test_fix_rows_are_new_only_on_the_first_night_they_are_reported(journal):
    """Same file name and cells: known; a changed cell or another file name: new again."""
    assert _night(journal, "/srv/inbox/kui.csv", ["a", "b"])[Outcome.FIX] == 2
    assert _night(journal, "/srv/inbox/kui.csv", ["b", "a"])[Outcome.FIX] == 0
    assert _night(journal, "/other/folder/kui.csv", ["a", "c"])[Outcome.FIX] == 1
    assert _night(journal, "andet.csv", ["a"])[Outcome.FIX] == 1


def test_counting_again_gives_the_same_numbers(journal):
    """`batch report` counts a run's new rows again: it finds the same numbers."""
    run_id = journal.start_run(inputs=["kui.csv"], settings={})
    journal.add_rows(run_id, [row(2, None, source_file="kui.csv", Mail="x")])
    assert journal.new_issues(run_id)[Outcome.FIX] == 1
    assert journal.new_issues(run_id)[Outcome.FIX] == 1


def test_each_run_records_the_version_that_ran_it(journal):
    """runs.version holds batch's version, for upgrades and support."""
    run_id = journal.start_run(inputs=[], settings={})
    assert journal.run_info(run_id).version == __version__


def test_an_older_journal_gains_the_version_column_once(tmp_path):
    """A schema-1 journal (two real nights) migrates with runs.version; opening again is fine."""
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    shutil.copy(FIXTURE, state / JOURNAL_NAME)
    for _ in range(2):
        with Journal.open(state) as journal:
            old = journal.runs()[0]
            assert old.version is None
            new = journal.start_run(inputs=[], settings={})
            assert journal.run_info(new).version == __version__


def test_backup_is_owner_only_and_never_overwrites(tmp_path, journal):
    """`batch backup`'s copy is 0600, holds the runs, and an existing file is refused."""
    run_id = journal.start_run(inputs=["kui.csv"], settings={})
    target = tmp_path / "copy.sqlite3"
    backup_journal(journal.path.parent, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT run_id FROM runs").fetchall() == [(run_id,)]
    key = target.with_name("copy.sqlite3.key")  # the memory's key beside it
    assert key.read_bytes() == (journal.path.parent / "memory.key").read_bytes()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with pytest.raises(ConfigError, match="never overwrites"):
        backup_journal(journal.path.parent, target)
