"""A dry run's Ready sheet: each row's request, one column per request field, as it would go.

The values come from the row's normalized payload in the journal through the one function that
builds the request (`batch.service.request`), so the sheet shows exactly what a real run would
send: the CPR number without its hyphen, the phone as eight digits, times with their offset.
The column titles start with "Sent: " (Danish "Sendes: ") so that no title can be read as an
input field if the sheet is ever fed back; the field's name after it is the service's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from batch.i18n import N_, _
from batch.records import Report
from batch.service.request import REQUEST_FIELDS, request_values

if TYPE_CHECKING:
    from batch.records import CellValue, RowResult

__all__ = ["SENT_TITLE", "sent_columns", "sent_values"]

SENT_TITLE = N_("Sent: {field}")


def sent_columns() -> tuple[str, ...]:
    """The titles of the request's columns, in the workbook's language."""
    return tuple(_(SENT_TITLE).format(field=name) for name in REQUEST_FIELDS)


def sent_values(result: RowResult) -> list[CellValue]:
    """The request's values of a Ready row; nothing for a row of any other sheet."""
    payload = result.extra.get("payload")
    if not payload:
        return []
    values = request_values(Report.from_json(payload))
    return [values[name] for name in REQUEST_FIELDS]
