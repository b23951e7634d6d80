"""Retention of files by age and the retention_days setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from batch.config import resolve_settings
from batch.errors import ConfigError
from batch.journal import Journal
from batch.journal.retention import expired_files, purge

LONG_AGO = datetime.now(UTC) - timedelta(days=1)


def soon() -> datetime:
    """A cutoff after every file the test has made."""
    return datetime.now(UTC) + timedelta(seconds=5)


def _touch(path, text="x"):
    """A file with some bytes, its folders made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_expired_files_are_ours_only(tmp_path):
    """Reports by their name, every file of inbox done/ and failed/, uploads; nothing else."""
    reports, inbox, state = tmp_path / "reports", tmp_path / "inbox", tmp_path / "state"
    ours = [
        _touch(reports / "export-20261201-021500.xlsx"),
        _touch(reports / "export-20261201-021500-2.json"),
        _touch(inbox / "done" / "export.csv"),
        _touch(inbox / "failed" / "2026" / "broken.xlsx"),
        _touch(state / "uploads" / "u1" / "file.csv"),
    ]
    _touch(reports / "notes.xlsx")  # not a name batch writes
    _touch(inbox / "waiting.csv")  # still in the inbox: not processed yet
    found = expired_files([reports], [inbox], state, soon())
    assert sorted(found) == sorted(ours)
    assert expired_files([reports], [inbox], state, LONG_AGO) == []


def test_purge_removes_expired_files_and_counts_bytes(tmp_path, journal):
    """The purge deletes what expired, says how many bytes, and an empty upload folder goes."""
    reports, state = tmp_path / "reports", journal.path.parent
    _touch(reports / "export-20261201-021500.xlsx", "abc")
    _touch(state / "uploads" / "u1" / "file.csv", "defg")
    dry = purge(journal, state_dir=state, report_dir=reports, cutoff=soon(), dry_run=True)
    assert (len(dry.files), dry.file_bytes) == (2, 7)
    assert (reports / "export-20261201-021500.xlsx").exists()
    done = purge(journal, state_dir=state, report_dir=reports, cutoff=soon())
    assert (len(done.files), done.file_bytes) == (2, 7)
    assert not (reports / "export-20261201-021500.xlsx").exists()
    assert not (state / "uploads" / "u1").exists()


def test_a_recorded_inbox_is_purged_later(tmp_path):
    """An inbox named once (`--inbox`) is remembered: later purges clear its done/ too."""
    inbox = tmp_path / "inbox"
    old = _touch(inbox / "done" / "a.csv")
    with Journal.open(tmp_path / "state") as journal:
        purge(journal, state_dir=tmp_path / "state", report_dir=tmp_path / "r",
              cutoff=LONG_AGO, inboxes=(inbox,))  # fmt: skip
        assert old.exists()
        purge(journal, state_dir=tmp_path / "state", report_dir=tmp_path / "r", cutoff=soon())
    assert not old.exists()


@pytest.mark.parametrize("value", ["0", "-3", "thirty", "1.5"])
def test_retention_days_must_be_a_whole_number_of_days(value):
    """retention_days below 1 or not a whole number is refused, naming the setting."""
    with pytest.raises(ConfigError, match="retention_days"):
        resolve_settings({}, env={"BATCH_RETENTION_DAYS": value})


def test_retention_days_defaults_to_30():
    """Unset, a person's data is kept 30 days."""
    assert resolve_settings({}, env={}).retention_days == 30
