"""The catalog: every text a person reads has a Danish translation; the language is chosen well."""

from __future__ import annotations

import re
import string
import threading
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from batch import i18n
from batch.cli import main
from batch.cli.helptext import help_texts
from batch.i18n import _, current_language, language_from_env, resolve_language, use_language
from batch.pipeline import SIMULATOR_NOTICE

PACKAGE = Path(i18n.__file__).parent
PO = i18n.LOCALE_DIR / "da" / "LC_MESSAGES" / "batch.po"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def _code_messages() -> dict[str, tuple[str, ...]]:
    """Every literal passed to _(), N_() or ngettext() in the package (and its templates).

    And every help text of the `batch` command's help pages, read from click's commands.
    """
    found: dict[str, tuple[str, ...]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map=METHODS, keywords=KEYWORDS
    ):
        messages = message if isinstance(message, tuple) else (message,)
        found[messages[0]] = messages
        assert all(messages), f"{filename}:{lineno}: an empty text in the catalog"
    for text in help_texts(main):  # click's help texts: `--help` speaks the language too
        found.setdefault(text, (text,))
    return found


def _catalog():
    with PO.open("rb") as handle:
        return read_po(handle, locale="da")


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_every_text_in_the_code_has_a_danish_translation():
    """A text given to _()/N_()/ngettext() has a non-empty, non-fuzzy Danish msgstr."""
    catalog = _catalog()
    missing = []
    for msgid, forms in _code_messages().items():
        key = forms if len(forms) > 1 else msgid
        entry = catalog.get(key if isinstance(key, str) else key[0])
        translated = entry is not None and not entry.fuzzy and entry.string
        if isinstance(translated, (tuple, list)):
            translated = all(translated)
        if not translated:
            missing.append(msgid)
    assert not missing, "no Danish translation for:\n" + "\n".join(missing)


def _key(msgid: str | tuple[str, ...]) -> str:
    return msgid[0] if isinstance(msgid, tuple) else msgid


def test_translations_keep_their_placeholders():
    """A Danish text names the {placeholders} of its English original (a plural form may omit)."""
    wrong = []
    for message in _catalog():
        if not message.id:
            continue
        plural = isinstance(message.id, tuple)
        ids = message.id if plural else (message.id,)
        strings = message.string if plural else (message.string,)
        wanted = set().union(*(_fields(text) for text in ids))
        for text in strings:
            names = _fields(text)
            if text and (names - wanted or (not plural and names != wanted)):
                wrong.append(ids[0])
    assert not wrong, "placeholders differ in:\n" + "\n".join(wrong)


def test_no_translation_is_left_without_a_use():
    """The catalog holds no text the code no longer uses (it would be translated in vain)."""
    used = set(_code_messages())
    unused = [_key(m.id) for m in _catalog() if m.id and _key(m.id) not in used]
    assert not unused, "translated but not used:\n" + "\n".join(unused)


def test_no_text_is_translated_twice():
    """Each English text has one entry: a second (from two branches merged) would hide one."""
    ids = re.findall(r'^msgid ((?:".*"\n)+)', PO.read_text(encoding="utf-8"), re.MULTILINE)
    texts = ["".join(re.findall(r'"(.*)"', lines)) for lines in ids]
    twice = sorted({text for text in texts if texts.count(text) > 1})
    assert not twice, "translated twice:\n" + "\n".join(twice)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "en"),
        ({"LANG": "da_DK.UTF-8"}, "da"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LC_ALL": "C", "LANG": "da_DK.UTF-8"}, "en"),
        ({"LANGUAGE": "fr:da", "LANG": "en_US.UTF-8"}, "da"),
        ({"LC_MESSAGES": "da_DK", "LANG": "en_US"}, "da"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
    ],
)
def test_language_is_read_from_the_locale_as_gettext_reads_it(env, expected):
    """LANGUAGE, LC_ALL, LC_MESSAGES, LANG: the first one set decides; English otherwise."""
    assert language_from_env(env) == expected


def test_the_setting_wins_over_the_locale():
    """`language = en` keeps English on a Danish machine."""
    assert resolve_language("en", {"LANG": "da_DK.UTF-8"}) == "en"
    assert resolve_language(None, {"LANG": "da_DK.UTF-8"}) == "da"


def test_language_is_per_thread_of_work():
    """One thread in Danish does not turn another one's texts Danish (the web app's case)."""
    seen: list[str] = []

    def danish() -> None:
        use_language("da")
        seen.append(_(SIMULATOR_NOTICE))

    worker = threading.Thread(target=danish)
    worker.start()
    worker.join()
    assert seen[0].startswith("ingen adresse sat op")
    assert _(SIMULATOR_NOTICE) == SIMULATOR_NOTICE
    assert current_language() == "en"


def test_an_unknown_language_is_refused():
    """Only the catalog's languages can be chosen."""
    with pytest.raises(ValueError, match="da, en"):
        use_language("fr")
