"""The memory per service, its key, the schema-1 migration and the purge, on real SQLite files."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from batch.errors import StateError
from batch.journal import JOURNAL_NAME, KEY_NAME, SIMULATOR, Journal, Service, record_acceptance
from batch.journal._schema import SCHEMA_VERSION
from batch.journal._services import normalise_address
from batch.records import Outcome
from tests.rows_kit import report, row

FIXTURE = Path(__file__).parent / "fixtures" / "journal-v1.sqlite3"


def later() -> datetime:
    """A cutoff after everything the test has made."""
    return datetime.now(UTC) + timedelta(seconds=5)


def _accept(journal: Journal, run_id: str, rows: list) -> None:
    """Ingest `rows` and record each as accepted by the run's service, as the workers do."""
    journal.add_rows(run_id, rows)
    with journal.writer(run_id) as writer:
        for batch in journal.pending(run_id):
            for pending in batch.rows:
                accepted = record_acceptance(
                    batch.history,
                    pending.report,
                    at=datetime.now(UTC),
                    run_id=run_id,
                    payload_hash=pending.payload_hash,
                )
                writer.finish(
                    pending.row_id, Outcome.ACCEPTED, code="0", text="ok", accepted=accepted
                )
    journal.finish_run(run_id, status="finished")


def test_schema_1_fixture_opens_migrated_and_keeps_its_memory(tmp_path):
    """The journal written by schema 1 migrates on open: same runs, memory under the simulator."""
    state = tmp_path / "state"
    state.mkdir()
    shutil.copyfile(FIXTURE, state / JOURNAL_NAME)
    with Journal.open(state) as journal:
        (memory,) = journal.memories()
        assert memory.service.endpoint == SIMULATOR
        assert memory.remembered == 4  # both nights' accepted payloads
        assert [info.status for info in journal.runs()] == ["finished", "finished"]
        last = journal.runs()[-1].run_id
        assert journal.counts(last)[Outcome.UNCHANGED] == 3
    with sqlite3.connect(state / JOURNAL_NAME) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        columns = {name for _, name, *_ in conn.execute("PRAGMA table_info(rows)")}
        assert "cpr" not in columns
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
        assert {"accepted", "rows_v1", "latest_v1", "rows_v2", "latest_v2"}.isdisjoint(tables)


def test_memory_is_kept_per_service(tmp_path):
    """What one service accepted is not known to another: the other gets the row sent."""
    with Journal.open(tmp_path) as journal:
        first = journal.start_run(inputs=[], settings={}, service=Service(SIMULATOR, "S"))
        _accept(journal, first, [row(2, report())])
        other = Service.at("https://udb.example.dk/svc", "S")
        second = journal.start_run(inputs=[], settings={}, service=other)
        journal.add_rows(second, [row(2, report())])
        (batch,) = journal.pending(second)
        assert batch.history.accepted == {}
        third = journal.start_run(inputs=[], settings={}, service=Service(SIMULATOR, "S"))
        journal.add_rows(third, [row(2, report())])
        (batch,) = journal.pending(third)
        assert batch.rows[0].payload_hash in batch.history.accepted


def test_addresses_are_normalised():
    """Scheme and host in lower case, default port and trailing slash dropped; path kept."""
    assert normalise_address("HTTPS://UDB.Example.dk:443/Svc/") == "https://udb.example.dk/Svc"
    assert normalise_address("http://127.0.0.1:80/a?wsdl") == "http://127.0.0.1/a?wsdl"
    assert normalise_address("http://u:pw@host:8080/a#x") == "http://host:8080/a"
    assert normalise_address("https://host/a") != normalise_address("http://host/a")


def test_key_is_owner_only_and_never_holds_a_cpr(tmp_path):
    """The key is created on first use, 32 bytes, mode 0600."""
    with Journal.open(tmp_path):
        pass
    key = tmp_path / KEY_NAME
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(key.read_bytes()) == 32


def test_lost_key_with_a_memory_is_refused_until_forgotten_on_purpose(tmp_path):
    """A missing key while a memory exists stops with advice; --memory forgets it; a new key."""
    with Journal.open(tmp_path) as journal:
        _accept(journal, journal.start_run(inputs=[], settings={}), [row(2, report())])
    old_key = (tmp_path / KEY_NAME).read_bytes()
    (tmp_path / KEY_NAME).unlink()
    with pytest.raises(StateError, match="batch purge --memory") as caught:
        Journal.open(tmp_path)
    assert caught.value.exit_code == 2
    assert not (tmp_path / KEY_NAME).exists()  # never a silent new key
    with Journal.open(tmp_path, forget_memory=True) as journal:
        assert [m.remembered for m in journal.memories()] == [0]
    assert (tmp_path / KEY_NAME).read_bytes() != old_key


def test_damaged_key_is_a_clear_error(tmp_path):
    """A key of the wrong size is refused, saying how to restore or forget it."""
    with Journal.open(tmp_path):
        pass
    (tmp_path / KEY_NAME).write_bytes(b"short")
    with pytest.raises(StateError, match="damaged"):
        Journal.open(tmp_path)


def test_purge_keeps_unsettled_rows_and_counts(tmp_path):
    """Settled rows of closed runs go; an unsettled Retry row and an open run's rows stay."""
    with Journal.open(tmp_path) as journal:
        done = journal.start_run(inputs=[], settings={})
        _accept(journal, done, [row(2, report("0101084123"))])
        failed = journal.start_run(inputs=[], settings={})
        journal.add_rows(failed, [row(2, report("0202084123"))])
        journal.mark_unsent_as_retry(failed, "the service was down")
        journal.finish_run(failed, status="broken")
        still_open = journal.start_run(inputs=[], settings={})
        journal.add_rows(still_open, [row(2, report("0303084123"))])
        result = journal.purge(later())
        assert (result.rows, result.runs, result.kept) == (1, 1, 1)
        assert journal.row_states(done) == []
        assert journal.counts(done)[Outcome.ACCEPTED] == 1  # counts outlive the rows
        assert [s["outcome"] for s in journal.row_states(failed)] == ["retry"]
        assert len(journal.row_states(still_open)) == 1
        assert journal.memories()[0].remembered == 1  # the memory stays


def test_dry_purge_removes_nothing(tmp_path):
    """`--dry-run` counts what would go and leaves it in place."""
    with Journal.open(tmp_path) as journal:
        run_id = journal.start_run(inputs=[], settings={})
        _accept(journal, run_id, [row(2, report())])
        assert journal.purge(later(), dry_run=True).rows == 1
        assert len(journal.row_states(run_id)) == 1


def test_unchanged_rows_are_compacted(tmp_path):
    """After its workbook, an Unchanged row keeps place and digest, not cells or payload."""
    with Journal.open(tmp_path) as journal:
        run_id = journal.start_run(inputs=[], settings={})
        journal.add_rows(run_id, [row(2, report())])
        with journal.writer(run_id) as writer:
            writer.finish(1, Outcome.UNCHANGED, code=None, text="already accepted")
        assert journal.compact(run_id) == 1
    with sqlite3.connect(tmp_path / JOURNAL_NAME) as conn:
        found = conn.execute(
            "SELECT d.cells, d.payload, r.source_row, r.payload_hash FROM rows r "
            "LEFT JOIN row_data d ON d.row_id = r.id"
        ).fetchall()
    assert found[0][:3] == (None, None, 2)
    assert len(found[0][3]) == 16


def test_purge_keeps_a_retry_row_only_another_service_settled(tmp_path):
    """The simulator's acceptance of a payload does not settle the real service's Retry of it."""
    with Journal.open(tmp_path) as journal:
        rehearsal = journal.start_run(inputs=[], settings={}, service=Service(SIMULATOR, "S"))
        _accept(journal, rehearsal, [row(2, report("0101084123"))])
        real = Service.at("https://udb.example.dk/svc", "S")
        failed = journal.start_run(inputs=[], settings={}, service=real)
        journal.add_rows(failed, [row(2, report("0101084123"))])
        journal.mark_unsent_as_retry(failed, "the service was down")
        journal.finish_run(failed, status="broken")
        result = journal.purge(later())
        assert (result.rows, result.kept) == (1, 1)
        assert [state["outcome"] for state in journal.row_states(failed)] == ["retry"]


def test_purge_gives_every_freed_page_back(tmp_path):
    """After a purge the journal keeps no free page: incremental vacuum ran to the end."""
    with Journal.open(tmp_path) as journal:
        old = journal.start_run(inputs=[], settings={})
        note = "x" * 400  # enough bytes per row for the rows to fill hundreds of pages
        journal.add_rows(old, [row(n, None, Note=f"{n} {note}") for n in range(2, 1002)])
        journal.finish_run(old, status="finished")
        result = journal.purge(later())
        assert result.rows == 1000
        with sqlite3.connect(journal.path) as conn:
            assert conn.execute("PRAGMA auto_vacuum").fetchone() == (2,)  # INCREMENTAL
            assert conn.execute("PRAGMA freelist_count").fetchone() == (0,)
        conn.close()
    assert result.bytes_after < result.bytes_before / 4
