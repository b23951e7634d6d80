"""The lines a run ends with: how long sending would take (validate), what to do next (run)."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from batch.i18n import _, current_language, ngettext
from batch.records import Outcome

if TYPE_CHECKING:
    from batch.pipeline import RunResult

__all__ = ["next_steps", "send_estimate"]


def _number(count: int) -> str:
    """`1,240` in English, `1.240` in Danish."""
    text = f"{count:,}"
    return text.replace(",", ".") if current_language() == "da" else text


def _duration(seconds: float) -> str:
    if seconds < 60:  # noqa: PLR2004 - a minute
        return _("{seconds} s").format(seconds=max(1, round(seconds)))
    minutes = round(seconds / 60)
    if minutes < 60:  # noqa: PLR2004 - an hour
        return _("{minutes} min").format(minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    return _("{hours} h {minutes:02d} min").format(hours=hours, minutes=minutes)


def send_estimate(rows: int, rate: float) -> str:
    """`1,240 rows to send, about 4 min at 5/s` (at most: rows UDB has already are skipped)."""
    if rows == 0:
        return _("no rows to send")
    rate_text = f"{rate:g}".replace(".", ",") if current_language() == "da" else f"{rate:g}"
    return ngettext(
        "{count} row to send, about {duration} at {rate}/s",
        "{count} rows to send, about {duration} at {rate}/s",
        rows,
    ).format(count=_number(rows), duration=_duration(rows / rate), rate=rate_text)


def next_steps(result: RunResult, *, dry_run: bool) -> list[str]:
    """After a real run: the command for the Fix sheet; rows fixed but wrong at the source."""
    lines = []
    fix = result.counts.get(Outcome.FIX, 0)
    if fix and not dry_run:
        command = shlex.join(["batch", "run", str(result.paths.workbook), "--sheet", "Fix"])
        lines.append(_("next: correct the Fix sheet, then: {command}").format(command=command))
    if result.still_wrong:
        lines.append(
            ngettext(
                "{count} row was fixed here earlier but is still wrong in the source system "
                "(in Unchanged): correct it there",
                "{count} rows were fixed here earlier but are still wrong in the source system "
                "(in Unchanged): correct them there",
                result.still_wrong,
            ).format(count=_number(result.still_wrong))
        )
    return lines
