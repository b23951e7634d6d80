"""The key two headers share when a case worker would call them the same column.

Matching ignores case, spaces, punctuation, accents and how Danish letters are spelled (`ø`, `o`
and `oe` are one letter here, as are `æ`/`ae` and `å`/`aa`), because the same column is written
a dozen ways in municipal exports and hand-made spreadsheets.
"""

from __future__ import annotations

import re
import unicodedata

from batch.records import CANONICAL_FIELDS

__all__ = ["ALIASES", "CANONICAL_BY_KEY", "header_key"]

# The built-in spellings of each field besides its own name, as municipal exports write them.
ALIASES: dict[str, tuple[str, ...]] = {
    "CPRNr": ("cpr", "cprnr", "cpr-nr.", "cprnummer", "cpr nummer", "personnummer"),
    "KommuneInstitutionNummer": (
        "institutionsnummer",
        "institutionnummer",
        "instnr",
        "inst.nr.",
        "kommuneinstitutionsnummer",
    ),
    "KontaktNavn": ("kontaktperson", "kontakt navn", "kontaktpersonens navn"),
    "KontaktMail": ("kontakt e-mail", "kontaktemail", "kontakt mail", "e-mail", "email", "mail"),
    "KontaktTelefon": (
        "mobil",
        "mobilnummer",
        "mobilnr",
        "telefon",
        "telefonnummer",
        "tlf",
        "tlf.nr.",
        "kontakt telefon",
        "kontakt mobil",
    ),
    "KontaktRegistreringstid": ("kontakt registreret", "kontakt registreringstid"),
    "JobOnsker": ("jobønske", "jobønsker"),
    "JobRegistreringstid": (
        "jobønske registreret",
        "jobønsker registreret",
        "jobønske registreringstid",
    ),
    "UddannelsesOnsker": ("uddannelsesønske", "uddannelsesønsker"),
    "UddannelsesRegistreringstid": (
        "uddannelsesønske registreret",
        "uddannelsesønsker registreret",
        "uddannelsesønske registreringstid",
    ),
    "ModtagerSystemID": ("systemid", "modtagersystem"),
}

_NOT_WORD = re.compile(r"[\W_]+")
_DANISH = str.maketrans({"æ": "ae", "ø": "o", "å": "aa"})


def header_key(text: str) -> str:
    """The form two headers share when a case worker would call them the same column."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_DANISH)
    bare = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    return _NOT_WORD.sub("", bare).replace("oe", "o")


CANONICAL_BY_KEY = {header_key(name): name for name in CANONICAL_FIELDS}
