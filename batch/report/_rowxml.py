"""A plain row of a row sheet written as one piece of XML: the bytes xlsxwriter would write.

In constant-memory mode xlsxwriter stores each cell in a per-row table, then writes the row
out cell by cell when the next row begins: a dozen Python calls and a regex or two per cell,
about two thirds of the workbook's time (issue 18: the workbook after the last answer was what
kept a run's wall time above 1.1x its sending). Most rows of a workbook are plain: no cell to
highlight, no comment, only texts, whole numbers and moments. `PlainRows` writes such a row
to the sheet's row file in one call, exactly as xlsxwriter 3.3.1 does:

- it first lets xlsxwriter write out the row before (as xlsxwriter does when a row begins);
- the `<row>` element carries the height as `set_row` would give it;
- each cell carries the style xlsxwriter picks (the cell's format, else its column's) and
  xlsxwriter's own escapes (control characters as `_xHHHH_`, `&`, `<`, `>`, and
  `xml:space="preserve"` for edge whitespace);
- styles are numbered when first used, in the same order as xlsxwriter numbers them;
- the sheet's dimensions grow as `_check_dimensions` grows them.

A row it cannot write the same way (a text past half of Excel's limit, a text xlsxwriter would
take for rich text, a float, a CPR number held as a number, a row without cells) is left to
xlsxwriter: `write` returns False before writing any of it. `tests/report/test_rowxml.py`
holds every part of the workbook byte for byte equal to xlsxwriter's own, over generated
texts, so an xlsxwriter upgrade that changes its output fails there, not in a user's Excel.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.xmlwriter import XMLwriter

from batch.report._cells import EXCEL_EXACT, excel_serial

if TYPE_CHECKING:
    from collections.abc import Sequence

    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

    from batch.records import CellValue

__all__ = ["PlainRows"]

# What makes xlsxwriter change a text: a control character, a literal `_xHHHH_` or one of the
# two non-characters (`_escape_control_characters`), and `&`, `<`, `>` (`_escape_data`).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_SPECIAL = re.compile(f"{_CONTROL.pattern}|[&<>]")
_HALF_LIMIT = 32_767 // 2  # longer texts may be cut by xlsxwriter: left to it
_PLAIN_TEXT = ' t="inlineStr"><is><t>'
_KEPT_TEXT = ' t="inlineStr"><is><t xml:space="preserve">'


def _text(value: str) -> str | None:
    """A text cell's type and content as xlsxwriter writes them; None where it does more."""
    if len(value) > _HALF_LIMIT:
        return None  # may be cut to Excel's limit
    if _SPECIAL.search(value):
        if _CONTROL.search(value):
            value = XMLwriter._escape_control_characters(value)  # noqa: SLF001 - its own escapes
        if value.startswith("<r>") and value.endswith("</r>"):
            return None  # xlsxwriter writes this as rich text, unescaped
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # `^\s` and `\s$` in xlsxwriter: str.isspace is the same Unicode test.
    if value and (value[0].isspace() or value[-1].isspace()):
        return f"{_KEPT_TEXT}{value}</t></is></c>"
    return f"{_PLAIN_TEXT}{value}</t></is></c>"


class PlainRows:
    """Writes plain rows of one constant-memory row sheet straight to its row file."""

    def __init__(self, sheet: Worksheet, moment: Format, cpr: frozenset[int]) -> None:
        self._sheet = sheet
        self._moment = moment
        self._cpr = cpr
        columns = sheet.col_info
        self._column_formats = {
            col: info.column_format for col, info in columns.items() if info.column_format
        }
        self._names: list[str] = []  # column letters, as far as rows reach
        self._styles: dict[int, str] = {}  # id(format) -> ` s="N"`, once numbered
        self._plain: dict[int, str] = {}  # column -> the `s` of a cell without a format

    @classmethod
    def of(cls, sheet: Worksheet, moment: Format, cpr: frozenset[int]) -> PlainRows | None:
        """For a sheet whose xlsxwriter keeps the internals this relies on, else None."""
        needed = ("_write_single_row", "previous_row", "col_info", "dim_rowmin", "dim_colmax")
        if not getattr(sheet, "constant_memory", False) or any(
            not hasattr(sheet, name) for name in needed
        ):
            return None
        if getattr(sheet, "excel_version", None) != 2007:  # noqa: PLR2004 - no dyDescent
            return None
        if getattr(sheet, "fh", None) is not getattr(sheet, "row_data_fh", False):
            return None
        return cls(sheet, moment, cpr)

    def _style(self, cell_format: Format | None, col: int) -> str:
        """The `s` attribute xlsxwriter's `_write_cell` gives a cell (no row formats here)."""
        chosen = cell_format or self._column_formats.get(col)
        if chosen is None:
            return ""
        key = id(chosen)
        found = self._styles.get(key)
        if found is None:
            found = self._styles[key] = f' s="{chosen._get_xf_index()}"'  # noqa: SLF001
        return found

    def write(self, line: int, values: Sequence[CellValue], pixels: int | None) -> bool:
        """Write row `line` (0-based) with `pixels` of height; False: left to xlsxwriter.

        The row before goes out first, as when xlsxwriter's first cell of this row arrives:
        its styles are numbered before this row's, in xlsxwriter's order, whoever writes this
        one. Nothing else is touched before the row is known to be plain.
        """
        sheet = self._sheet
        if line > sheet.previous_row:
            sheet._write_single_row(line)  # noqa: SLF001 - the row before, as xlsxwriter does
        number = str(line + 1)
        cells = self._cells(number, values)
        if cells is None:
            return False
        body, first, last = cells
        if sheet.dim_rowmin is None or line < sheet.dim_rowmin:
            sheet.dim_rowmin = line
        if sheet.dim_rowmax is None or line > sheet.dim_rowmax:
            sheet.dim_rowmax = line
        if sheet.dim_colmin is None or first < sheet.dim_colmin:
            sheet.dim_colmin = first
        if sheet.dim_colmax is None or last > sheet.dim_colmax:
            sheet.dim_colmax = last
        height = sheet.default_row_height if pixels is None else pixels
        if height == sheet.original_row_height == sheet.default_row_height:
            head = f'<row r="{number}">'
        else:  # `_write_row`'s test, turned round
            head = f'<row r="{number}" ht="{height * 0.75:.16g}" customHeight="1">'
        sheet.fh.write(f"{head}{body}</row>")
        return True

    def _cells(self, number: str, values: Sequence[CellValue]) -> tuple[str, int, int] | None:
        """The row's cells as XML with its first and last column; None if one is not plain."""
        names, plain, cpr = self._names, self._plain, self._cpr
        while len(names) < len(values):
            names.append(xl_col_to_name(len(names)))
        parts: list[str] = []
        first = last = -1
        for col, value in enumerate(values):
            if value is None:
                continue
            # A cell's style is looked up only once the cell is known to be plain: a cell left
            # to xlsxwriter may take another style first, and the styles are numbered in order.
            if type(value) is str and (text := _text(value)) is not None:
                style = plain.get(col) or plain.setdefault(col, self._style(None, col))
                parts.append(f'<c r="{names[col]}{number}"{style}{text}')
            elif type(value) is int and col not in cpr and -EXCEL_EXACT < value < EXCEL_EXACT:
                style = plain.get(col) or plain.setdefault(col, self._style(None, col))
                parts.append(f'<c r="{names[col]}{number}"{style}><v>{value:.16G}</v></c>')
            elif type(value) is datetime and (serial := excel_serial(value)) is not None:
                moment = self._style(self._moment, col)
                parts.append(f'<c r="{names[col]}{number}"{moment}><v>{serial:.16G}</v></c>')
            else:
                return None
            if first < 0:
                first = col
            last = col
        return ("".join(parts), first, last) if parts else None
