"""CPR masking in one place: every log line, console message and exception text passes here."""

from __future__ import annotations

import re

__all__ = ["CPR_LIKE", "mask_cpr"]

# Ten digits (optionally DDMMYY-SSSS) or nine digits (a CPR that Excel stripped of its leading
# zero), not part of a longer number. Deliberately broad: masking a number that was not a CPR
# costs nothing; printing one that was is a breach.
CPR_LIKE = re.compile(r"(?<![0-9])(?:[0-9]{6}[- ]?[0-9]{4}|[0-9]{9,10})(?![0-9])")


def _mask(match: re.Match[str]) -> str:
    digits = re.sub(r"[^0-9]", "", match.group(0))
    if len(digits) == 9:  # noqa: PLR2004 - a CPR that lost its leading zero
        digits = "0" + digits
    return f"{digits[:6]}-XXXX"


def mask_cpr(text: str) -> str:
    """Return `text` with every CPR-like number shown as `DDMMYY-XXXX`.

    The birth date stays visible so a case worker can still tell rows apart in a log.
    """
    return CPR_LIKE.sub(_mask, text)
