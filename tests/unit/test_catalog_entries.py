"""The catalog holds each English text once: two helpers' blocks must not both translate it."""

from __future__ import annotations

import re
from collections import Counter

from batch import i18n

PO = i18n.LOCALE_DIR / "da" / "LC_MESSAGES" / "batch.po"
_MSGID = re.compile(r'^msgid ((?:".*"\n?)+)', re.MULTILINE)


def test_no_text_is_translated_twice():
    """A msgid stands once (babel would keep one of two translations without a word)."""
    entries = PO.read_text("utf-8").split("\n\n")
    ids = [
        "".join(re.findall(r'"(.*)"', found[1]))
        for entry in entries
        if (found := _MSGID.search(entry)) is not None
    ]
    twice = [text for text, count in Counter(ids).items() if count > 1]
    assert not twice, "translated more than once:\n" + "\n".join(twice)
