"""How long sending would take at the configured rate: what `batch validate` ends with."""

from __future__ import annotations

from batch.i18n import _, current_language, ngettext

__all__ = ["send_estimate"]


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
