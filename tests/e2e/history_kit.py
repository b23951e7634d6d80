"""A generated migration history, and readers for the simulator's request log and progress.

Several registrations per person, shuffled, with people aged 25 or more and CPR numbers UDB
does not know. All CPR numbers are fictitious: the known people come from the simulator's
bundled registry, the unknown ones are valid dates that the registry does not hold.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from batch.records import CANONICAL_FIELDS
from tests.reliability.kit import KUI, accepted_people, write_csv

if TYPE_CHECKING:
    from pathlib import Path

HEADER = CANONICAL_FIELDS[:8]  # CPR, institution, contact, job wish: what the history has
OLD_PEOPLE = ("1503901234", "2207921234", "0101951234")  # born in the 1990s: 25 or more
UNKNOWN_PEOPLE = ("0202104321", "1712114321")  # born 2010/2011, not in the registry
START = datetime.now().replace(microsecond=0) - timedelta(days=400)


@dataclass(frozen=True)
class History:
    """The file and what UDB should end with: per (CPR, group) the newest registration."""

    path: Path
    rows: int
    newest: dict[tuple[str, str], str]  # (cpr, "contact"|"job") -> registration time text
    sendable_people: tuple[str, ...]  # known and unknown people (the old are not sent)
    old_rows: int  # rows of people aged 25 or more: dropped before sending


def write_history(path: Path, *, people: int = 8, seed: int = 7) -> History:
    """Write a shuffled history: each person 3-5 rows; a row has a contact, a job wish or both."""
    rnd = random.Random(seed)
    everyone = [*accepted_people()[:people], *OLD_PEOPLE, *UNKNOWN_PEOPLE]
    records: list[list[str]] = []
    newest: dict[tuple[str, str], str] = {}
    for index, cpr in enumerate(everyone):
        for n in range(rnd.randint(3, 5)):
            when = (START + timedelta(days=30 * n + index, minutes=n)).strftime("%Y-%m-%dT%H:%M")
            kind = ("contact", "job", "both")[(index + n) % 3]
            contact = kind in ("contact", "both")
            job = kind in ("job", "both")
            records.append(
                [
                    cpr,
                    KUI,
                    f"Kontakt {n}" if contact else "",
                    f"kontakt{n}@kui.example-kommune.dk" if contact else "",
                    "20 12 34 56" if contact else "",
                    when if contact else "",
                    f"Tømrer {n}" if job else "",
                    when if job else "",
                ]
            )
            for group, present in (("contact", contact), ("job", job)):
                if present and cpr not in OLD_PEOPLE:
                    newest[(cpr, group)] = max(newest.get((cpr, group), ""), when)
    rnd.shuffle(records)
    write_csv(path, records, header=HEADER)
    sendable = tuple(cpr for cpr in everyone if cpr not in OLD_PEOPLE)
    old_rows = sum(record[0] in OLD_PEOPLE for record in records)
    return History(path, len(records), newest, sendable, old_rows)


def logged_requests(path: Path) -> list[dict[str, object]]:
    """The simulator's `--log-requests` file, one dict per request."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


def groups_of(request: dict[str, object]) -> dict[str, str]:
    """The groups a logged request carried, with their registration time (minutes, local)."""
    fields = request["fields"]
    assert isinstance(fields, dict)
    found = {}
    for group, key in (("contact", "KontaktRegistreringstid"), ("job", "JobRegistreringstid")):
        value = fields.get(key)
        if value:
            found[group] = str(value)[:16]
    return found


def progress_events(stderr: str) -> list[dict[str, object]]:
    """The `progress` events among a run's JSON log lines."""
    events = []
    for line in stderr.splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry.get("event") == "progress":
            events.append(entry)
    return events
