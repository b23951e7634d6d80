"""Schema 4: the migration of a real schema-2 journal, cells stored once per source, retention."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from batch.config import Settings
from batch.errors import StateError
from batch.journal import (
    JOURNAL_NAME,
    KEY_NAME,
    Journal,
    MemoryReader,
    open_read_only,
    peek_counts,
    verdicts,
)
from batch.journal._audit import add_audit, append, entries
from batch.journal._base import take_lock
from batch.journal._schema import SCHEMA_VERSION
from batch.pipeline import run_job
from batch.records import Issue, Outcome, Row
from tests.journal.fixtures.make_v1_journal import HEADER, SECOND
from tests.journal.fixtures.make_v2_journal import BROKEN
from tests.rows_kit import report, row

FIXTURES = Path(__file__).parent / "fixtures"


def _v2_state(tmp_path: Path) -> Path:
    """A state directory holding the schema-2 fixture and its key, as a user's would."""
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    shutil.copyfile(FIXTURES / "journal-v2.sqlite3", state / JOURNAL_NAME)
    shutil.copyfile(FIXTURES / "journal-v2.key", state / KEY_NAME)
    (state / KEY_NAME).chmod(0o600)
    return state


def test_schema_2_fixture_migrates_with_its_memory_and_its_fix_rows(tmp_path):
    """A real schema-2 journal opens as schema 4: runs, rows, memory and Fix rows seen kept."""
    state = _v2_state(tmp_path)
    with Journal.open(state) as journal:
        first, second = (info.run_id for info in journal.runs())
        assert journal.memories()[0].remembered == 4
        assert [len(journal.row_states(run)) for run in (first, second)] == [4, 5]
        (fix,) = journal.results(first, Outcome.FIX)
        assert list(fix.fix_cells) == ["Kontakt e-mail"]
        assert fix.cells["Kontaktperson"] == "Ole Sko"
    with sqlite3.connect(state / JOURNAL_NAME) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("SELECT run_id, seen FROM issues_seen").fetchall() == [(first, 1)]
    source = tmp_path / "export.csv"  # the fixture's file name: its Fix row is known
    source.write_text(HEADER + SECOND + BROKEN, encoding="utf-8")
    settings = Settings(state_dir=state, report_dir=tmp_path / "reports", rate=100.0)
    run_job([source], settings)
    with Journal.open(state) as journal:
        third = journal.runs()[-1].run_id
        counts = journal.counts(third)
        assert (counts[Outcome.ACCEPTED], counts[Outcome.UNCHANGED]) == (0, 4)
        assert journal.new_issues(third)[Outcome.FIX] == 0  # known since the first night


def test_a_row_without_its_run_stops_the_migration_and_changes_nothing(tmp_path):
    """Never lose a row: the migration refuses to drop one and leaves schema 2 as it was."""
    state = _v2_state(tmp_path)
    path = state / JOURNAL_NAME
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM runs WHERE rowid = 1")  # orphans the first night's rows
    conn.close()
    with pytest.raises(StateError, match="4 of its 9 rows belong to no recorded run"):
        Journal.open(state)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (2,)
        assert conn.execute("SELECT COUNT(*) FROM rows").fetchone() == (9,)
    conn.close()


def test_cells_are_stored_as_values_under_their_sources_names(journal):
    """Rows with their source's columns store only values; others an object; both read back."""
    run_id = journal.start_run(inputs=["a.csv"], settings={})
    odd = row(4, None, Mail="x", Extra="only here")
    rows = [row(2, report("0101084123"), Mail="a"), row(3, None, Mail="b"), odd]
    journal.add_rows(run_id, rows)
    with sqlite3.connect(journal.path) as conn:
        stored = [cells for (cells,) in conn.execute("SELECT cells FROM row_data ORDER BY row_id")]
        names = conn.execute("SELECT headers FROM sources").fetchall()
    conn.close()
    assert stored[0] == '["0101084123", "a"]'
    assert stored[2].startswith("{")
    assert names == [('["CPR", "Mail"]',)]
    fixes = {result.source_row: result.cells for result in journal.results(run_id, Outcome.FIX)}
    assert fixes == {3: rows[1].cells, 4: odd.cells}


def _fix_night(journal: Journal, mails: list[str]) -> str:
    """A finished run of Fix rows (one per mail cell) whose new rows were counted."""
    run_id = journal.start_run(inputs=["kui.csv"], settings={})
    rows = [row(n, None, source_file="kui.csv", Mail=mail) for n, mail in enumerate(mails, 2)]
    journal.add_rows(run_id, rows)
    journal.finish_run(run_id, status="finished")
    journal.new_issues(run_id)
    return run_id


def test_purge_forgets_a_fix_row_seen_once_its_last_report_is_past_retention(journal):
    """A Fix row reported again stays remembered; one no run within retention reported goes."""
    old = _fix_night(journal, ["gone", "again"])
    between = datetime.now(UTC)
    recent = _fix_night(journal, ["again", "new"])
    journal.purge(between)  # the old run's rows are past retention, the recent run's are not
    with sqlite3.connect(journal.path) as conn:
        first_runs = sorted(run for (run,) in conn.execute("SELECT run_id FROM issues_seen"))
        assert first_runs == sorted([old, recent])  # "again" keeps its first run, "gone" went
        journal.purge(datetime.now(UTC) + timedelta(seconds=5))
        assert conn.execute("SELECT COUNT(*) FROM issues_seen").fetchone() == (0,)
    conn.close()


def test_a_schema_3_journal_keeps_its_audit_log(tmp_path):
    """Schema 3 (schema 2 and the web app's audit log, as its code left it) migrates alike."""
    state = _v2_state(tmp_path)
    with contextlib.closing(sqlite3.connect(state / JOURNAL_NAME)) as conn:
        add_audit(conn, 3)
        append(conn, "anna", "edit", "row 2", old_value="x", new_value="y")
        conn.commit()
    with Journal.open(state) as journal:
        assert journal.memories()[0].remembered == 4
    with contextlib.closing(sqlite3.connect(state / JOURNAL_NAME)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        (entry,) = entries(conn)
    assert (entry.actor, entry.old_value, entry.new_value) == ("anna", "x", "y")


def test_a_fix_rows_text_made_of_its_cells_messages_is_stored_once(journal):
    """The text that only joins the cells-to-fix messages is not stored twice, yet reads back."""
    run_id = journal.start_run(inputs=["in.csv"], settings={})
    mail = Issue("mail-invalid", "Not an address.", column="Mail")
    loose = Issue("nothing-to-report", "No group.")
    journal.add_rows(
        run_id,
        [
            Row("in.csv", 2, {"CPR": "1", "Mail": "x"}, None, (mail,)),
            Row("in.csv", 3, {"CPR": "1", "Mail": "x"}, None, (mail, loose)),
        ],
    )
    with sqlite3.connect(journal.path) as conn:
        stored = conn.execute("SELECT text FROM row_data ORDER BY row_id").fetchall()
    conn.close()
    assert stored == [(None,), ("Not an address. No group.",)]
    texts = [result.text for result in journal.results(run_id, Outcome.FIX)]
    assert texts == ["Not an address.", "Not an address. No group."]
    assert [state["text"] for state in journal.row_states(run_id)] == texts


_KILLED_IN_MIGRATION = """
import os, signal, sys
from pathlib import Path
import batch.journal._migrate_v2 as migration
from batch.journal import Journal

def killed(conn):  # every statement run, nothing committed yet
    os.kill(os.getpid(), signal.SIGKILL)

migration._check_every_row = killed
Journal.open(Path(sys.argv[1]))
"""


def test_a_migration_killed_before_its_commit_leaves_schema_2_and_the_next_open_does_it(tmp_path):
    """SIGKILL inside the migration's transaction: schema 2 as it was; the next open migrates."""
    state = _v2_state(tmp_path)
    child = subprocess.run(
        [sys.executable, "-c", _KILLED_IN_MIGRATION, str(state)], check=False, timeout=120
    )
    assert child.returncode == -signal.SIGKILL
    with contextlib.closing(sqlite3.connect(state / JOURNAL_NAME)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (2,)
        kind = conn.execute("SELECT type FROM sqlite_master WHERE name = 'rows'").fetchone()
        assert kind == ("table",)
        assert conn.execute("SELECT COUNT(*) FROM rows").fetchone() == (9,)
    with Journal.open(state) as journal:
        assert sum(len(journal.row_states(info.run_id)) for info in journal.runs()) == 9
        assert journal.memories()[0].remembered == 4


def test_a_new_journal_is_made_with_incremental_auto_vacuum(tmp_path):
    """A new journal gives freed pages back incrementally: its first purge needs no VACUUM."""
    Journal.open(tmp_path).close()
    with contextlib.closing(sqlite3.connect(tmp_path / JOURNAL_NAME)) as conn:
        assert conn.execute("PRAGMA auto_vacuum").fetchone() == (2,)  # INCREMENTAL


def test_a_reader_of_an_older_journal_migrates_it_first(tmp_path):
    """Read-only beside no run (the web app after an upgrade): schema 2 is migrated, then read."""
    state = _v2_state(tmp_path)
    with open_read_only(state) as journal:
        first = journal.runs()[0].run_id
        (fix,) = journal.results(first, Outcome.FIX)  # reads the view's `cell_names`
    assert fix.cells["Kontaktperson"] == "Ole Sko"
    with contextlib.closing(sqlite3.connect(state / JOURNAL_NAME)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_a_reader_of_an_older_journal_held_by_a_run_says_so(tmp_path):
    """A schema-2 journal whose lock is held (its run migrating it): a clear error, no query."""
    state = _v2_state(tmp_path)
    lock = take_lock(state)
    try:
        with pytest.raises(StateError, match="being upgraded by the run that holds it"):
            open_read_only(state)
    finally:
        os.close(lock)


def test_a_reader_refuses_a_journal_of_a_newer_schema(tmp_path):
    """A journal written by a newer batch is refused read-only too, saying so."""
    state = _v2_state(tmp_path)
    with contextlib.closing(sqlite3.connect(state / JOURNAL_NAME)) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StateError, match=f"newer version of batch \\(schema {SCHEMA_VERSION + 1};"):
        open_read_only(state)


def test_the_memory_batch_validate_reads_is_an_older_journals_too(tmp_path):
    """`batch validate` beside no run reads a schema-2 journal's memory, migrated first."""
    state = _v2_state(tmp_path)
    with contextlib.closing(sqlite3.connect(state / JOURNAL_NAME)) as conn:
        persons = [bytes(person) for (person,) in conn.execute("SELECT person FROM payloads")]
    with MemoryReader(state, None) as memory:
        known = memory(persons)
    assert sum(len(history.accepted) for history in known.values()) == 4


_INSERT_V2_ROW = (
    "INSERT INTO rows (id, run_id, source_file, sheet, source_row, payload_hash, person, "
    "sort_key, status, sent_groups, outcome, code, attempts, last_attempt) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_AT = "2026-12-02T11:00:01.000000+00:00"


def _killed_v2_run(state: Path) -> None:
    """A schema-2 run killed mid-send: a pending row, an in-flight one, an accepted one."""
    with contextlib.closing(sqlite3.connect(state / JOURNAL_NAME, isolation_level=None)) as conn:
        conn.execute(
            "INSERT INTO runs (run_id, started, status, dry_run, settings, files, pid, service) "
            "VALUES ('killed', ?, 'running', 0, '{}', '[]', 999999, 1)",
            (_AT,),
        )
        where = [("Ark1", 2, b"1"), ("Ark2", 2, b"2"), ("Ark1", 3, b"3")]
        states = [
            (1, "pending", None, None, None, 0, None),
            (2, "in_flight", "job", None, None, 1, _AT),
            (None, "final", None, "accepted", "0", 1, _AT),
        ]
        rows = [
            (n, "killed", "b.xlsx", sheet, line, b"p" + digit, b"P" + digit, *state)
            for n, (sheet, line, digit), state in zip((10, 11, 12), where, states, strict=True)
        ]
        conn.executemany(_INSERT_V2_ROW, rows)
        conn.executemany(
            "INSERT INTO row_data (row_id, cells, payload, text) VALUES (?, ?, '{}', ?)",
            [(10, '{"a": 1}', None), (11, '{"a": 2}', None), (12, '{"a": 3}', "Ok")],
        )
        conn.execute("INSERT INTO attempts VALUES (11, 1, ?, NULL, NULL, 'timeout', NULL)", (_AT,))


def test_a_schema_2_run_killed_mid_send_is_closed_after_the_upgrade_with_every_row(tmp_path):
    """Killed under schema 2, opened under 4: pending and in-flight rows are Retry, none lost."""
    state = _v2_state(tmp_path)
    _killed_v2_run(state)
    with Journal.open(state) as journal:
        states = journal.row_states("killed")
        assert journal.run_info("killed").status == "interrupted"
        sheets = [(item.sheet, item.rows) for item in journal.run_info("killed").inputs]
        assert journal.attempts(11)[0]["failure_kind"] == "timeout"
    assert [(s["id"], s["status"], s["outcome"]) for s in states] == [
        (10, "final", "retry"),
        (11, "final", "retry"),
        (12, "final", "accepted"),
    ]
    assert states[0]["text"].startswith("Not sent")
    assert "may have reached UDB" in states[1]["text"]
    assert states[1]["sent_groups"] == "job"
    assert sheets == [("Ark1", 2), ("Ark2", 1)]


def test_lock_free_readers_find_a_journal_whose_folder_name_has_uri_characters(tmp_path):
    """A state folder named with `#`, `?` or `%` is read by its path, not cut as a URI."""
    state = tmp_path / "kommune #2? 100%"
    with Journal.open(state) as journal:
        run_id = journal.start_run(inputs=["a.csv"], settings={})
        journal.add_rows(run_id, [Row("a.csv", 2, {"CPR": "1"}, None, ())])
        journal.finish_run(run_id, status="finished")
    assert peek_counts(state, run_id) == {"fix": 1}
    assert [verdict.outcome for verdict in verdicts(state, "a.csv")] == ["fix"]
