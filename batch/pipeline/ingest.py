"""Reading inputs into the journal: what the pipeline reads (`InputSource`) and how.

An opened file (`batch.intake.InputFile`) is one kind of input; the web app's checked and
edited rows of an upload are another. Both stream `Row`s in chunks and say what they read;
the journal records each with its source file and row numbers as the user knows them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

import structlog

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Iterator, Sequence

    from batch.intake.notes import ReadNotes
    from batch.journal import Journal
    from batch.records import Row

__all__ = ["InputSource", "ingest"]

log = structlog.get_logger("batch.pipeline")  # the name log readers filter on


class InputSource(Protocol):
    """What the pipeline reads rows from: an opened file (`InputFile`) or the web app's rows."""

    source_file: str
    sheet: str | None
    headers: tuple[str, ...]
    fields: dict[str, str]
    notes: ReadNotes

    @property
    def rows(self) -> int:
        """Rows read so far; final once `chunks()` is exhausted."""
        ...

    @property
    def blank(self) -> int:
        """Blank rows skipped so far."""
        ...

    def chunks(self, now: datetime) -> Iterator[Sequence[Row]]:
        """Stream the rows, validated; `rows` and `blank` are final once this is exhausted.

        A file's chunks are `RowBatch`es (columns, which the journal inserts as they are);
        the web app's edited rows are lists of `Row`s.
        """
        ...


def ingest(
    journal: Journal,
    run_id: str,
    files: Sequence[InputSource],
    stop: threading.Event,
    notice: Callable[[str], None],
) -> bool:
    """Read every file into the journal; False when a signal cut the reading short.

    A file cut short is recorded with the rows read so far, so that the run's counts still add
    up to its inputs and its workbook can be written (the report writer checks exactly that).
    """
    now = datetime.now(UTC)
    for input_file in files:
        complete = False
        try:
            complete = _read_into(journal, run_id, input_file, now, stop)
        finally:
            journal.record_input(
                run_id,
                source_file=input_file.source_file,
                sheet=input_file.sheet,
                headers=input_file.headers,
                rows=input_file.rows,
                blank=input_file.blank,
                fields=input_file.fields,
                notes=input_file.notes.to_json(),
            )
        if not complete:
            return False
        for line in input_file.notes.shape_lines():
            notice(f"{input_file.source_file}: {line}")
        log.info("file read", file=input_file.source_file, rows=input_file.rows)
    return True


def _read_into(
    journal: Journal, run_id: str, input_file: InputSource, now: datetime, stop: threading.Event
) -> bool:
    for chunk in input_file.chunks(now):
        journal.add_rows(run_id, chunk, getattr(input_file, "fix_of", None))  # a Fix sheet's run
        if stop.is_set():
            return False
    return True
