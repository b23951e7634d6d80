from __future__ import annotations

import os
import sqlite3
import stat
import threading
from datetime import UTC, datetime

import pytest

from batch.errors import JournalLockedError, StateError
from batch.journal import JOURNAL_NAME, AttemptRecord, Journal
from batch.records import Issue, Outcome, Row
from batch.submit import SubmitSettings, plan_dry_run
from tests.rows_kit import report, row


def mode(path) -> int:
    """Permission bits of a path."""
    return stat.S_IMODE(path.stat().st_mode)


def test_state_dir_and_files_are_owner_only(tmp_path):
    """The state directory is 0700 and the journal with its WAL files 0600."""
    state = tmp_path / "deep" / "state"
    with Journal.open(state) as journal:
        journal.start_run(inputs=["a.csv"], settings={})
        assert mode(state) == 0o700
        for path in state.iterdir():
            assert mode(path) == 0o600, path.name


def test_second_open_is_refused_with_pid(tmp_path):
    """A second journal on the same state directory is refused, naming the directory and pid."""
    with Journal.open(tmp_path), pytest.raises(JournalLockedError) as caught:
        Journal.open(tmp_path)
    message = str(caught.value)
    assert str(tmp_path) in message
    assert f"pid {os.getpid()}" in message
    assert caught.value.exit_code == 2
    with Journal.open(tmp_path):  # released on close
        pass


def test_unusable_journal_is_a_state_error(tmp_path):
    """A file that is not a journal stops the run with a clear StateError."""
    (tmp_path / JOURNAL_NAME).write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError, match="not usable"):
        Journal.open(tmp_path)
    with Journal.open(tmp_path / "other"):  # and the lock was released
        pass


def test_newer_schema_is_refused(tmp_path):
    """A journal written by a newer version is not touched."""
    with Journal.open(tmp_path):
        pass
    with sqlite3.connect(tmp_path / JOURNAL_NAME) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StateError, match="newer version") as refused:
        Journal.open(tmp_path)
    assert "restore the backup" in str(refused.value)  # not "move it aside": that resends all


def test_invalid_rows_are_final_at_once(journal):
    """Rows with issues go to Fix (or Drop when an issue is hard) with codes and messages."""
    run_id = journal.start_run(inputs=["in.csv"], settings={})
    soft = Issue("cpr_format", "CPR must be 10 digits.", column="CPR")
    late = Issue("future", "Registered in the future.", code="280")
    old = Issue("age", "Aged 25 or more.", code="15", hard=True)
    journal.add_rows(
        run_id,
        [
            Row("in.csv", 2, {"CPR": "x"}, None, (soft, late)),
            Row("in.csv", 3, {"CPR": "y"}, None, (soft, old)),
            row(4, report()),
        ],
    )
    fixes = list(journal.results(run_id, Outcome.FIX))
    drops = list(journal.results(run_id, Outcome.DROP))
    assert [(r.source_row, r.code, r.text) for r in fixes] == [
        (2, "cpr_format, 280", "CPR must be 10 digits. Registered in the future.")
    ]
    assert [(r.source_row, r.code) for r in drops] == [(3, "cpr_format, 15")]
    counts = journal.counts(run_id)
    assert counts == {
        **dict.fromkeys(Outcome, 0),
        Outcome.FIX: 1,
        Outcome.DROP: 1,
        Outcome.RETRY: 1,
    }


def test_the_cells_to_fix_come_back_with_their_messages(journal):
    """A Fix row remembers which columns its issues name and what is wrong in each."""
    run_id = journal.start_run(inputs=["in.csv"], settings={})
    short = Issue("cpr-invalid", "Too short.", column="CPR")
    empty = Issue("cpr-missing", "Fill it in.", column="CPR")
    mail = Issue("mail-invalid", "Not an address.", column="Mail")
    nothing = Issue("nothing-to-report", "No group.")
    journal.add_rows(
        run_id,
        [
            Row("in.csv", 2, {"CPR": "1", "Mail": "x"}, None, (short, empty, mail)),
            Row("in.csv", 3, {"CPR": "y"}, None, (nothing,)),
        ],
    )
    fixes = list(journal.results(run_id, Outcome.FIX))
    assert [r.fix_cells for r in fixes] == [
        {"CPR": "Too short. Fill it in.", "Mail": "Not an address."},
        {},
    ]
    assert [r.answer_text for r in fixes] == [None, None]  # UDB never saw them


def _plan(journal, run_id) -> int:
    """Decide a dry run's rows as `batch validate` does (no memory, no selection)."""
    return plan_dry_run(journal, run_id, SubmitSettings(), stop=threading.Event())


def test_cells_come_back_as_written(journal):
    """Original cell values, datetimes included, come back with their types."""
    moment = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    cells = {"CPR": "0101084123", "n": 7, "x": 1.5, "b": True, "d": moment, "e": None, "æ": "ø"}
    run_id = journal.start_run(inputs=[], settings={}, dry_run=True)
    journal.add_rows(run_id, [Row("f.xlsx", 5, cells, report(), sheet="Ark1")])
    _plan(journal, run_id)
    (result,) = journal.results(run_id, Outcome.READY)
    assert result.cells == cells
    assert type(result.cells["b"]) is bool
    assert result.sheet == "Ark1"


def test_dry_run_marks_valid_rows_ready(journal):
    """In a dry run valid rows wait for the plan, which makes them READY; nothing is sent."""
    run_id = journal.start_run(inputs=[], settings={}, dry_run=True)
    journal.add_rows(run_id, [row(2, report()), row(3, None)])
    assert len(list(journal.pending(run_id))) == 1
    assert _plan(journal, run_id) == 1
    counts = journal.counts(run_id)
    assert counts[Outcome.READY] == 1
    assert counts[Outcome.FIX] == 1
    assert counts[Outcome.RETRY] == 0
    assert list(journal.pending(run_id)) == []


def test_results_stream_in_input_order_across_pages(journal):
    """More rows than a page come back complete and in input order."""
    run_id = journal.start_run(inputs=[], settings={}, dry_run=True)
    rows = [row(n, report(f"01010{n:05d}")) for n in range(2, 2502)]
    for start in range(0, len(rows), 700):
        journal.add_rows(run_id, rows[start : start + 700])
    _plan(journal, run_id)
    assert [r.source_row for r in journal.results(run_id, Outcome.READY)] == list(range(2, 2502))


def test_run_info_and_inputs(journal):
    """A run's settings, inputs, status and times are kept."""
    run_id = journal.start_run(inputs=["a.csv", "b.xlsx"], settings={"rate": 5.0, "x": None})
    journal.record_input(run_id, source_file="a.csv", sheet=None, headers=["CPR"], rows=3, blank=1)
    journal.record_input(
        run_id, source_file="b.xlsx", sheet="S", headers=["A", "B"], rows=2, blank=0
    )
    journal.finish_run(run_id, status="broken", message="the service kept failing")
    info = journal.run_info(run_id)
    assert info.settings == {"rate": 5.0, "x": None}
    assert [(i.source_file, i.sheet, i.headers, i.rows, i.blank) for i in info.inputs] == [
        ("a.csv", None, ["CPR"], 3, 1),
        ("b.xlsx", "S", ["A", "B"], 2, 0),
    ]
    assert info.files == ["a.csv", "b.xlsx"]
    assert (info.status, info.message, info.dry_run) == (
        "broken",
        "the service kept failing",
        False,
    )
    assert info.started.tzinfo is not None
    assert info.finished is not None
    assert info.finished >= info.started
    assert journal.last_run_id() == run_id
    assert [r.run_id for r in journal.runs()] == [run_id]


def test_run_ids_are_sortable_and_distinct(journal):
    """Run ids sort by start time and never repeat."""
    ids = [journal.start_run(inputs=[], settings={}) for _ in range(5)]
    assert len(set(ids)) == 5
    assert all(len(run_id) == len("20261127T091500-abcd") for run_id in ids)
    assert journal.last_run_id() == ids[-1]


def test_unknown_run_is_a_state_error(journal):
    """Asking for a run the journal lacks says so."""
    with pytest.raises(StateError, match="no run"):
        journal.run_info("nope")
    assert journal.last_run_id() is None


def test_mark_unsent_as_retry_is_idempotent(journal):
    """Unsent rows go to Retry with the reason, once."""
    run_id = journal.start_run(inputs=[], settings={})
    journal.add_rows(run_id, [row(2, report("0101084123")), row(3, report("0202084123"))])
    with journal.writer(run_id) as writer:
        writer.begin(1, ["contact"])
    assert journal.mark_unsent_as_retry(run_id, "interrupted") == 2
    assert journal.mark_unsent_as_retry(run_id, "again") == 0
    texts = {r.source_row: r.text for r in journal.results(run_id, Outcome.RETRY)}
    assert texts[2] == "Interrupted; its request may have reached UDB: sent again next run."
    assert texts[3] == "Not sent: interrupted; sent next run."


def test_intent_is_durable_before_begin_returns(journal):
    """Once `begin` returns, another connection already sees the row in flight."""
    run_id = journal.start_run(inputs=[], settings={})
    journal.add_rows(run_id, [row(2, report())])
    with journal.writer(run_id) as writer:
        writer.begin(1, ["contact"])
        with sqlite3.connect(journal.path) as other:
            status = other.execute("SELECT status, sent_groups FROM rows WHERE id = 1").fetchone()
        assert status == ("in_flight", "contact")


def test_dead_run_is_closed_on_next_open(tmp_path):
    """A run left 'running' by a killed process is closed when the journal is next opened."""
    with Journal.open(tmp_path) as journal:
        run_id = journal.start_run(inputs=[], settings={})
        journal.add_rows(run_id, [row(2, report("0101084123")), row(3, report("0202084123"))])
        with journal.writer(run_id) as writer:
            writer.begin(1, ["contact"])
    with Journal.open(tmp_path) as journal:
        info = journal.run_info(run_id)
        assert info.status == "interrupted"
        assert info.message is not None
        assert "killed" in info.message
        states = journal.row_states(run_id)
        assert [(s["status"], s["outcome"]) for s in states] == [("final", "retry")] * 2
        assert "may have reached UDB" in states[0]["text"]


def test_pending_groups_by_cpr_in_registration_order(journal, monkeypatch):
    """Pending rows come grouped per CPR, oldest first, file order breaking ties, across pages."""
    monkeypatch.setattr("batch.journal._journal.PAGE", 3)
    run_id = journal.start_run(inputs=[], settings={})
    a, b, c = "0101084123", "0202084123", "0303084123"
    rows = [
        row(2, report(a, contact=5)),
        row(3, report(b, contact=1)),
        row(4, report(a, contact=1, job=9)),  # latest time 9: last
        row(5, report(a, contact=2)),
        row(6, report(a, contact=2)),  # tie with row 5: file order
        row(7, report(c, contact=0)),
        row(8, report(a, contact=0)),
    ]
    journal.add_rows(run_id, rows)
    batches = list(journal.pending(run_id))
    names = {journal.keys.person(cpr): cpr for cpr in (a, b, c)}
    assert sorted(
        (names[batch.person], [r.source_row for r in batch.rows]) for batch in batches
    ) == [
        (a, [8, 5, 6, 2, 4]),
        (b, [3]),
        (c, [7]),
    ]


def test_writer_failure_raises_instead_of_hanging(journal):
    """A write that fails stops the worker with a StateError; nobody waits forever."""
    run_id = journal.start_run(inputs=[], settings={})
    journal.add_rows(run_id, [row(2, report())])
    with sqlite3.connect(journal.path) as other:
        other.execute("DROP TABLE attempts")
    writer = journal.writer(run_id)
    writer.attempt(1, AttemptRecord(1, datetime.now(UTC)))
    with pytest.raises(StateError, match="cannot be written"):
        writer.begin(1, [])
    with pytest.raises(StateError):
        writer.close()


def test_a_run_killed_while_reading_can_still_be_reported(tmp_path):
    """A file cut short by a kill gets an input record, so its run's workbook adds up."""
    from batch.pipeline import rebuild_report
    from batch.records import Outcome as Out

    state = tmp_path / "state"
    with Journal.open(state) as journal:
        run_id = journal.start_run(inputs=["a.csv", "b.csv"], settings={})
        journal.add_rows(run_id, [row(2, report("0101084123")), row(3, report("0202084123"))])
        journal.record_input(
            run_id, source_file="input.csv", sheet=None, headers=["CPR"], rows=2, blank=0
        )
        journal.add_rows(run_id, [row(2, report("0303084123"), source_file="b.csv")])
        # the process dies here: b.csv is never recorded, the run never finished
    result = rebuild_report(state, tmp_path / "reports", run_id)
    assert result.status == "interrupted"
    assert result.counts[Out.RETRY] == 3
    with Journal.open(state) as journal:
        files = [
            (item.source_file, item.rows, item.headers) for item in journal.run_info(run_id).inputs
        ]
    assert files == [("input.csv", 2, ["CPR"]), ("b.csv", 1, ["CPR"])]
