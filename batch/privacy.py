"""CPR masking in one place: every log line, console message and exception text passes here."""

from __future__ import annotations

import re

__all__ = ["CPR_LIKE", "mask_cpr", "mask_url_password"]

# Ten digits (optionally DDMMYY-SSSS) or nine digits (a CPR that Excel stripped of its leading
# zero), not part of a longer number. Deliberately broad: masking a number that was not a CPR
# costs nothing; printing one that was is a breach.
CPR_LIKE = re.compile(r"(?<![0-9])(?:[0-9]{6}[- ]?[0-9]{4}|[0-9]{9,10})(?![0-9])")

# The password of a URL's `user:password@` (a proxy URL): everything between the first colon
# after `//` and the last `@` before the host. The user name stays: it says whose it is.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):[^\s/]*@")


def _mask(match: re.Match[str]) -> str:
    digits = re.sub(r"[^0-9]", "", match.group(0))
    if len(digits) == 9:  # noqa: PLR2004 - a CPR that lost its leading zero
        digits = "0" + digits
    return f"{digits[:6]}-XXXX"


def mask_url_password(text: str) -> str:
    """Return `text` with the password of every `scheme://user:password@` shown as `***`."""
    if "@" not in text:
        return text
    return _URL_PASSWORD.sub(r"\g<head>:***@", text)


def mask_cpr(text: str) -> str:
    """Return `text` with every CPR-like number shown as `DDMMYY-XXXX`, and URL passwords hidden.

    The birth date stays visible so a case worker can still tell rows apart in a log. Every
    log line and console message passes here, so a proxy URL's password is masked here too.
    """
    return CPR_LIKE.sub(_mask, mask_url_password(text))
