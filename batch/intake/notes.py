"""What a person should know about how a file was read, beyond its rows: the notes of a read.

Which header fed which field (the short form of `batch columns`), which rows and columns were
hidden in the sheet, and which rows were taken for a totals row and left out. The pipeline
shows them on the console and keeps them in the journal; the workbook's Summary lists them.

Hidden rows follow the `hidden_rows` setting: "send" (the default: a filter hides rows to
look at others, not to withhold them, and the source system holds them as data; the run says
which rows were hidden, so nothing happens unseen) or "skip": the row gets an issue and goes to
Fix unsent, where a person decides (unhide and send it, or delete it from the export).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from batch.i18n import _, ngettext
from batch.intake.columns import column_letter, unique_headers
from batch.records import Issue

if TYPE_CHECKING:
    from collections.abc import Sequence

    from batch.intake.columns import ColumnMap
    from batch.intake.table import Table

__all__ = ["HeaderNote", "ReadNotes", "row_list"]

_SHOWN_ROWS = 20  # row numbers listed on the console; the Summary lists them all


@dataclass(frozen=True, slots=True)
class HeaderNote:
    """One header and what became of it (the journal's and the Summary's form of `HeaderUse`)."""

    column: str
    header: str
    fields: tuple[str, ...]
    rule: str
    score: float | None = None
    suggestion: str | None = None


@dataclass(slots=True)
class ReadNotes:
    """The notes of one input; the row lists grow while the file is read."""

    columns: tuple[HeaderNote, ...] = ()
    hidden_checked: bool = False
    filtered: bool = False
    hidden_columns: tuple[str, ...] = ()  # `D "Note"`: letter and header
    hidden_rows: list[int] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    skipped_hidden: bool = False
    _hidden: frozenset[int] = frozenset()

    @classmethod
    def start(cls, table: Table, columns: ColumnMap) -> ReadNotes:
        """The notes known from the header alone: the columns and what is hidden in the sheet."""
        headers = unique_headers(table.header, table.first_column)
        notes = tuple(
            HeaderNote(
                column_letter(table.first_column + position),
                name,
                match.fields,
                match.rule,
                match.score,
                match.suggestion,
            )
            for position, (name, match) in enumerate(zip(headers, columns.matches, strict=True))
        )
        hidden = table.hidden
        if hidden is None:
            return cls(columns=notes)
        shown = [
            f'{note.column} "{note.header}"'
            for position, note in enumerate(notes)
            if table.first_column + position in hidden.columns
        ]
        return cls(
            notes,
            hidden_checked=True,
            filtered=hidden.filtered,
            hidden_columns=tuple(shown),
            _hidden=hidden.rows,
        )

    def note_hidden(
        self, rows: Sequence[int], issues: list[tuple[Issue, ...]], *, skip: bool
    ) -> list[tuple[Issue, ...]]:
        """Record which of `rows` are hidden; with `skip`, give each an issue (it goes to Fix)."""
        if not self._hidden:
            return issues
        hidden = np.flatnonzero(np.isin(np.asarray(rows), np.fromiter(self._hidden, int)))
        if not hidden.size:
            return issues
        self.hidden_rows.extend(rows[i] for i in hidden.tolist())
        if not skip:
            return issues
        self.skipped_hidden = True
        issue = Issue(slug="hidden-row", message=_hidden_issue())
        for index in hidden.tolist():
            issues[index] = (*issues[index], issue)
        return issues

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form for the journal."""
        return {
            "columns": [
                [n.column, n.header, list(n.fields), n.rule, n.score, n.suggestion]
                for n in self.columns
            ],
            "hidden_checked": self.hidden_checked,
            "filtered": self.filtered,
            "hidden_columns": list(self.hidden_columns),
            "hidden_rows": self.hidden_rows,
            "totals": self.totals,
            "skipped_hidden": self.skipped_hidden,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReadNotes:
        """Inverse of `to_json` (an empty dict gives empty notes: journals from before)."""
        return cls(
            columns=tuple(
                HeaderNote(c[0], c[1], tuple(c[2]), c[3], c[4], c[5])
                for c in data.get("columns", [])
            ),
            hidden_checked=bool(data.get("hidden_checked")),
            filtered=bool(data.get("filtered")),
            hidden_columns=tuple(data.get("hidden_columns", [])),
            hidden_rows=list(data.get("hidden_rows", [])),
            totals=list(data.get("totals", [])),
            skipped_hidden=bool(data.get("skipped_hidden")),
        )

    def column_lines(self) -> list[str]:
        """The short form of `batch columns`: what is read, what is ignored, what was guessed."""
        read = [
            f"{n.column} {n.header} → {'+'.join(n.fields)}{_guessed(n)}"
            for n in self.columns
            if n.fields
        ]
        lines = [_("columns read: {columns}").format(columns=", ".join(read) or _("none"))]
        ignored = [self._ignored(n) for n in self.columns if not n.fields and n.rule != "result"]
        if ignored:
            lines.append(_("columns ignored: {columns}").format(columns=", ".join(ignored)))
        return lines

    @staticmethod
    def _ignored(note: HeaderNote) -> str:
        text = f"{note.column} {note.header}"
        if note.rule == "duplicate":
            return text + " " + _("(a second column for {field})").format(field=note.suggestion)
        if note.suggestion:
            return text + " " + _("(like {field}?)").format(field=note.suggestion)
        return text

    def shape_lines(self) -> list[str]:
        """Hidden rows and columns and totals rows, one line each, with row numbers."""
        lines = []
        if self.hidden_rows:
            count = len(self.hidden_rows)
            how = _("by a filter") if self.filtered else _("by hand or by a filter")
            what = ngettext(
                "{count} row was hidden {how}", "{count} rows were hidden {how}", count
            ).format(count=count, how=how)
            done = _("not sent, in Fix") if self.skipped_hidden else _("sent as any other")
            lines.append(f"{what} ({row_list(self.hidden_rows, _SHOWN_ROWS)}): {done}")
        if self.hidden_columns:
            lines.append(
                _("hidden columns (read as any other): {columns}").format(
                    columns=", ".join(self.hidden_columns)
                )
            )
        if self.totals:
            lines.append(
                ngettext(
                    "row {rows} is a totals row: left out",
                    "rows {rows} are totals rows: left out",
                    len(self.totals),
                ).format(rows=row_list(self.totals, _SHOWN_ROWS))
            )
        return lines


def _guessed(note: HeaderNote) -> str:
    if note.rule != "fuzzy" or note.score is None:
        return ""
    return " " + _("(near match {score})").format(score=f"{note.score:.2f}")


def row_list(rows: Sequence[int], most: int | None = None) -> str:
    """Row numbers as a person reads them: `4, 7-9, 12`, cut after `most` ranges with `…`."""
    ranges: list[str] = []
    ordered = sorted(rows)
    start = previous = ordered[0] if ordered else 0
    for number in [*ordered[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        ranges.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    if most is not None and len(ranges) > most:
        return ", ".join(ranges[:most]) + ", …"
    return ", ".join(ranges) if ordered else ""


def _hidden_issue() -> str:
    """Translated when the row is read, in the run's language."""
    return _(
        "The row was hidden in its sheet and hidden_rows is skip, so it was not sent. To send "
        "it, feed this Fix sheet back to batch run; if it should not be sent, delete it."
    )
