"""The SQLite journal: runs, rows and attempts, the single source of truth for resume and changes.

One file (`journal.sqlite3`) in the state directory, which is created readable by its owner
only (the rows hold CPR numbers). Every stage writes here and the workbook is read from here,
so a crash at any instant leaves a journal that says which rows are done, which are not and
which were in flight.

Row states: `pending` (ingested, not yet sent), `in_flight` (its intent is durable: a request
may be on the wire), `final` (an outcome is recorded). A row becomes `in_flight` in a committed
transaction *before* its first request, and its answer is committed before its worker takes
another request, so at most one row per worker is `in_flight` at any instant: after a kill the
next run resends at most `concurrency` rows that UDB may already have. That is harmless: a
report states the current data with its registration time, so receiving it twice changes
nothing.

Durability: WAL with `synchronous=NORMAL`. A commit survives the process being killed (the WAL
is in the OS's cache); only a power loss or OS crash may roll back the last commits, which
means at worst rows already accepted by UDB are sent again on the next run (harmless, as
above). `synchronous=FULL` would cost an fsync per group commit for no benefit to the data.

Writes from the submit workers go through one writer thread (`JournalWriter`) that commits
whatever all workers handed it in one transaction (group commit). A worker waits only for the
commit that makes its next intent durable; its previous answer is handed over just before and
rides in the same commit (the writer lingers up to 5 ms for that), so a row costs one shared
commit, and a stream of unchanged rows is committed in large groups. Measured on the 2-core
machine: about 0.3-0.6 ms of CPU per sent row for the whole engine (journal, dispatcher,
scheduling; the SOAP client's own ~0.6-0.8 ms comes on top), and over 2,000 rows/s with 8
workers and an instant sender, far above any rate the real service should see. Ingest is
about 12,000 rows/s (JSON payload and cells, hashes, two indexes).

Resume: opening the journal closes runs a killed process left `running` (their unfinished rows
go to Retry). Each new run ingests its files again; changed-only then skips what was accepted,
so rerunning after a crash sends only the unfinished rows.

History for changed-only and never-older-over-newer, per service and by pseudonym: `payloads`
holds the keyed hash of every payload UDB accepted (per CPR), `latest` the newest registration
time (and the content's keyed hash) UDB accepted per CPR and group (contact, job, education).
Both only ever move forward.

Pieces: `_base` (lock, codecs, types), `_schema` (the tables, and the migrations in
`_migrate_v1` and `_migrate_v2`), `_journal` (the `Journal`), `_ingest` (a chunk of rows into
the journal), `_writer` (the group-commit writer thread), `_changes` (changed-only and
never-older-over-newer), `_issues` (which Fix/Drop rows are new tonight), `_purge` and
`retention` (what expires), `_backup` (`batch backup`), `_audit` (the web app's audit log).
"""

from __future__ import annotations

from batch.journal._across import (
    MemoryReader,
    RowVerdict,
    fixed_originals,
    service_for,
    verdicts,
)
from batch.journal._audit import AuditEntry, audit_connection
from batch.journal._audit import append as append_audit
from batch.journal._audit import entries as audit_entries
from batch.journal._backup import backup_journal
from batch.journal._base import (
    GROUPS,
    JOURNAL_NAME,
    LOCK_NAME,
    CprBatch,
    CprHistory,
    GroupState,
    InputInfo,
    PendingRow,
    RunInfo,
    default_state_dir,
    dump_cells,
    format_local,
    load_cells,
    utc_key,
)
from batch.journal._changes import Send, Skip, plan_row, record_acceptance
from batch.journal._journal import Journal
from batch.journal._keys import KEY_NAME, Pseudonyms
from batch.journal._memory import PersonRow, Remembered, ServiceMemory
from batch.journal._peek import peek_answers, peek_counts, peek_unchanged
from batch.journal._reader import open_read_only, snapshot, unrecorded_inputs
from batch.journal._services import SIMULATOR, Service
from batch.journal._writer import Accepted, AttemptRecord, JournalWriter, Rejected

__all__ = [
    "GROUPS",
    "JOURNAL_NAME",
    "KEY_NAME",
    "LOCK_NAME",
    "SIMULATOR",
    "Accepted",
    "AttemptRecord",
    "AuditEntry",
    "CprBatch",
    "CprHistory",
    "GroupState",
    "InputInfo",
    "Journal",
    "JournalWriter",
    "MemoryReader",
    "PendingRow",
    "PersonRow",
    "Pseudonyms",
    "Rejected",
    "Remembered",
    "RowVerdict",
    "RunInfo",
    "Send",
    "Service",
    "ServiceMemory",
    "Skip",
    "append_audit",
    "audit_connection",
    "audit_entries",
    "backup_journal",
    "default_state_dir",
    "dump_cells",
    "fixed_originals",
    "format_local",
    "load_cells",
    "open_read_only",
    "peek_answers",
    "peek_counts",
    "peek_unchanged",
    "plan_row",
    "record_acceptance",
    "service_for",
    "snapshot",
    "unrecorded_inputs",
    "utc_key",
    "verdicts",
]
