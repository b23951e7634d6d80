"""Reading the memory: per service, per person (by pseudonym), and a person's rows for `history`.

Plain functions on a connection: the `Journal` calls them under its mutex.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from batch.journal._base import GROUPS, CprHistory, GroupState, micros_iso
from batch.journal._services import Service

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Sequence

    from batch.journal._keys import Pseudonyms

__all__ = [
    "PersonRow",
    "Remembered",
    "ServiceMemory",
    "histories",
    "memories",
    "person_memory",
    "person_rows",
    "service_id",
]


@dataclass(frozen=True, slots=True)
class ServiceMemory:
    """What is remembered as accepted by one service."""

    service: Service
    remembered: int  # payloads remembered as accepted
    people: int
    last_accepted: str | None  # ISO UTC


@dataclass(frozen=True, slots=True)
class PersonRow:
    """One row of a person still in the journal; `sent` and `text` are gone past retention."""

    run_id: str
    at: str  # the row's last attempt, else its run's start (ISO UTC)
    source_file: str
    sheet: str | None
    source_row: int
    outcome: str | None
    code: str | None
    text: str | None
    sent: str | None  # the payload (canonical JSON) within retention


@dataclass(frozen=True, slots=True)
class Remembered:
    """Something the memory holds for a person: a payload or a group accepted on a date."""

    service: Service
    what: str  # "accepted" (a payload), or the group: contact, job, education
    at: str  # ISO UTC
    run_id: str


def service_id(conn: sqlite3.Connection, service: Service) -> int:
    """The id of `service`, recorded on first use."""
    conn.execute(
        "INSERT OR IGNORE INTO services (endpoint, system_id) VALUES (?, ?)",
        (service.endpoint, service.system_id),
    )
    (found,) = conn.execute(
        "SELECT id FROM services WHERE endpoint = ? AND system_id = ?",
        (service.endpoint, service.system_id),
    ).fetchone()
    return int(found)


def histories(
    conn: sqlite3.Connection, service: int, persons: Sequence[bytes], keys: Pseudonyms
) -> dict[bytes, CprHistory]:
    """What `service` accepted for each of `persons`."""
    found: dict[bytes, CprHistory] = {}
    marks = ", ".join("?" * len(persons))
    for person, digest, at, run_id in conn.execute(
        "SELECT p.person, p.payload_hash, p.at, COALESCE(u.run_id, '') FROM payloads p "  # noqa: S608
        "LEFT JOIN runs u ON u.n = p.run "
        f"WHERE p.service = ? AND p.kind = 'accepted' AND p.person IN ({marks})",
        [service, *persons],
    ):
        history = found.setdefault(person, CprHistory(keys, person))
        history.accepted[digest] = (micros_iso(at), run_id)
    for person, grp, registered, content, institution, at, run_id in conn.execute(
        "SELECT l.person, l.grp, l.registered, l.content_hash, l.institution, "  # noqa: S608
        "l.accepted_at, COALESCE(u.run_id, '') FROM latest l LEFT JOIN runs u ON u.n = l.run "
        f"WHERE l.service = ? AND l.person IN ({marks})",
        [service, *persons],
    ):
        found.setdefault(person, CprHistory(keys, person)).latest[GROUPS[grp]] = GroupState(
            micros_iso(registered), content, institution, micros_iso(at), run_id
        )
    for person, digest, kind, at, run_id in conn.execute(
        "SELECT p.person, p.payload_hash, p.kind, p.at, COALESCE(u.run_id, '') "  # noqa: S608
        "FROM payloads p LEFT JOIN runs u ON u.n = p.run "
        f"WHERE p.service = ? AND p.kind LIKE 'rejected:%' AND p.person IN ({marks})",
        [service, *persons],
    ):
        history = found.setdefault(person, CprHistory(keys, person))
        history.rejected[digest] = (micros_iso(at), run_id, kind.removeprefix("rejected:"))
    return found


def memories(conn: sqlite3.Connection) -> list[ServiceMemory]:
    """Every service used, with what is remembered as accepted there (maybe nothing)."""
    rows = conn.execute(
        "SELECT s.endpoint, s.system_id, COUNT(p.person), COUNT(DISTINCT p.person), MAX(p.at) "
        "FROM services s LEFT JOIN payloads p ON p.service = s.id AND p.kind = 'accepted' "
        "GROUP BY s.id ORDER BY s.id"
    ).fetchall()
    return [
        ServiceMemory(
            Service(endpoint, system_id), count, people, None if last is None else micros_iso(last)
        )
        for endpoint, system_id, count, people, last in rows
    ]


def person_rows(conn: sqlite3.Connection, person: bytes) -> list[PersonRow]:
    """Every row of one person still in the journal, oldest first (a scan: it is rare)."""
    found = conn.execute(
        "SELECT r.run_id, COALESCE(r.last_attempt, u.started), r.source_file, r.sheet, "
        "r.source_row, r.outcome, r.code, d.text, d.payload FROM rows r "
        "JOIN runs u ON u.run_id = r.run_id LEFT JOIN row_data d ON d.row_id = r.id "
        "WHERE r.person = ? ORDER BY r.id",
        (person,),
    ).fetchall()
    return [PersonRow(*row) for row in found]


def _what(what: str | int) -> str:
    """`accepted` (a payload), or the group a `latest` entry names by its place in GROUPS."""
    return what if isinstance(what, str) else GROUPS[what]


def person_memory(conn: sqlite3.Connection, person: bytes) -> list[Remembered]:
    """What the memory holds for one person, in every service, oldest first."""
    found = conn.execute(
        "SELECT s.endpoint, s.system_id, 'accepted', p.at, COALESCE(u.run_id, '') "
        "FROM payloads p JOIN services s ON s.id = p.service LEFT JOIN runs u ON u.n = p.run "
        "WHERE p.person = ? AND p.kind = 'accepted' "
        "UNION ALL SELECT s.endpoint, s.system_id, l.grp, l.accepted_at, COALESCE(u.run_id, '') "
        "FROM latest l JOIN services s ON s.id = l.service LEFT JOIN runs u ON u.n = l.run "
        "WHERE l.person = ? ORDER BY 4",
        (person, person),
    ).fetchall()
    return [
        Remembered(Service(endpoint, system_id), _what(what), micros_iso(at), run_id)
        for endpoint, system_id, what, at, run_id in found
    ]
