"""Row heights of a row sheet, kept by xlsxwriter only as long as it will read them.

xlsxwriter's `set_row` keeps a `RowInfo` and a size for every row given a height until the
workbook closes: about 330 bytes a row, 250 MiB for a million wrapped rows (issue 18). In
constant-memory mode it reads a row's `RowInfo` only while writing that row out to disk, and
the sizes only when the workbook closes, to place comment boxes (a box's VML anchor adds up
the heights of every row above it and of the rows it spans). So a sheet's heights go exactly
where `set_row` puts them, one shared entry per distinct height, and are let go as soon as
nothing can read them again: a `RowInfo` once its row is on disk; a size on a sheet that will
get no more comments, once past the rows the last comment's box reaches. What the sheet's XML
and the VML say is the same as through `set_row` (tests/report/test_heights.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xlsxwriter.worksheet import RowInfo

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

__all__ = ["RowHeights", "row_pixels"]

# No row of a row sheet is shorter than xlsxwriter's default row (20 pixels) or hidden, so a
# comment box of `h` pixels, which starts on the row above its cell 10 pixels down, reaches
# at most (10 + h) / 20 rows further down.
_DEFAULT_PIXELS, _BOX_TOP, _BOX_PIXELS = 20, 10, 74


def _pixels(points: float) -> int:
    """The row height in pixels, rounded as `set_row` rounds it."""
    return int(points * 4.0 / 3.0 + 0.5)


def row_pixels(points: float | None) -> int | None:
    """`_pixels` of a height, None for the default row."""
    return None if points is None else _pixels(points)


@dataclass(slots=True)
class RowHeights:
    """Gives rows of one sheet their heights; `commented` while comments may still follow."""

    sheet: Worksheet
    commented: bool
    _kept_until: int = -1  # sizes are kept up to this row: the last comment box's reach
    _pending: list[int] = field(default_factory=list)  # rows whose RowInfo may still be read
    _infos: dict[int, RowInfo] = field(default_factory=dict)  # one per height in pixels
    _sizes: dict[int, list[int | bool]] = field(default_factory=dict)

    def set(self, line: int, points: float) -> None:
        """What `sheet.set_row(line, points)` does, without keeping what is never read again.

        Rows come in order and each gets its cells right after its height: a row two or more
        lines up is on disk already (xlsxwriter writes a row out when the next one begins).
        """
        sheet, pending, pixels = self.sheet, self._pending, _pixels(points)
        while pending and pending[0] < line - 1:
            del sheet.row_info[pending.pop(0)]
        pending.append(line)
        info = self._infos.get(pixels)
        if info is None:
            info = self._infos[pixels] = RowInfo(height=pixels)
            self._sizes[pixels] = [pixels, False]
        sheet.row_info[line] = info
        if self.commented or line <= self._kept_until:
            sheet.row_sizes[line] = self._sizes[pixels]

    def comment(self, line: int, y_scale: float) -> None:
        """A comment box on `line`: keep the sizes of the rows it may reach."""
        box = int(0.5 + _BOX_PIXELS * y_scale)
        reach = line + math.ceil((_BOX_TOP + box) / _DEFAULT_PIXELS) + 1
        self._kept_until = max(self._kept_until, reach)
