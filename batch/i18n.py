"""The one catalog of what a person reads (console, workbook, pages), in English and Danish.

GNU gettext: English texts are the message ids in the code, `batch/locale/da/LC_MESSAGES/
batch.po` holds their Danish translations. The `.po` file is the only source in git: Babel
compiles it in memory on first use (a few milliseconds), so no binary `.mo` can fall out of
step with it. Code, log event names and exception classes stay English; a text a person reads
goes through `_()` (or `N_()` where it is defined before the language is known, translated
where it is shown).

The language is chosen per context, not per process, so the web app can answer each browser in
its own language while the CLI sets it once: `use_language()` binds it for the current thread or
task (a `ContextVar`). UDB's own Danish texts never pass through here: they are kept as sent.
"""

from __future__ import annotations

import functools
import gettext
import io
import os
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "N_",
    "_",
    "current_language",
    "every_translation",
    "language_from_env",
    "ngettext",
    "resolve_language",
    "use_language",
]

DOMAIN = "batch"
LOCALE_DIR = Path(__file__).with_name("locale")
DEFAULT_LANGUAGE = "en"
LANGUAGES = ("da", "en")  # English is the source; every other language has a .po file
_ENV_ORDER = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")  # as gettext itself reads them

_current: ContextVar[str] = ContextVar("batch_language", default=DEFAULT_LANGUAGE)


@functools.cache
def _translations(language: str) -> gettext.NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo  # noqa: PLC0415 - only when Danish is read
    from babel.messages.pofile import read_po  # noqa: PLC0415

    po_path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(message: str) -> str:
    """The message in the current context's language (English when it has no translation)."""
    return _translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for `count`, in the current context's language."""
    return _translations(_current.get()).ngettext(singular, plural, count)


def every_translation(message: str) -> tuple[str, ...]:
    """`message` in every language, English first: for reading back what any language wrote.

    A Danish workbook's `Ret` sheet and `Resultatkode` column must be recognised when the
    workbook comes back as input, whatever language the reading run speaks.
    """
    found = [_translations(language).gettext(message) for language in LANGUAGES]
    return tuple(dict.fromkeys([message, *found]))


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for a marker, known to extractors
    """Mark a text for the catalog where it is defined; `_()` translates it where it is shown."""
    return message


def current_language() -> str:
    """The language texts are given in here and now (`da` or `en`)."""
    return _current.get()


def use_language(language: str) -> None:
    """Give texts in `language` from now on, in this thread or task and those it starts."""
    if language not in LANGUAGES:
        raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
    _current.set(language)


def _from_locale_name(name: str) -> str | None:
    # "da_DK.UTF-8", "da", "en_GB:da" (LANGUAGE may list several); C and POSIX mean English.
    for part in name.split(":"):
        code = part.split(".")[0].split("@")[0].split("_")[0].lower()
        if code in {"c", "posix"}:
            return DEFAULT_LANGUAGE
        if code in LANGUAGES:
            return code
    return None


def language_from_env(env: Mapping[str, str] | None = None) -> str:
    """The language the locale asks for, read as gettext reads it; English when it names none."""
    env = os.environ if env is None else env
    for variable in _ENV_ORDER:
        value = env.get(variable, "")
        if value:
            return _from_locale_name(value) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def resolve_language(setting: str | None, env: Mapping[str, str] | None = None) -> str:
    """The `language` setting when given, else the locale's, else English."""
    return setting or language_from_env(env)
