"""The young people UDB knows, read from a `cpr;home_kui;name` file into a dict by CPR number.

An optional fourth column `fails_with` holds a UDB code the simulator always answers for that
person (e.g. 101, UDB's internal error): a deterministic way to rehearse a row UDB keeps
failing on, which the demo uses to show the Retry sheet.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from batch.errors import ConfigError
from batch.i18n import _

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Person", "load_registry"]

_CPR = re.compile(r"[0-9]{10}")
_COLUMNS = ["cpr", "home_kui", "name"]
_OPTIONAL = ["fails_with"]


@dataclass(frozen=True, slots=True)
class Person:
    """One young person as UDB has them from the CPR register: where they live, by KUI."""

    cpr: str
    home_kui: int
    name: str
    fails_with: int | None = None


def load_registry(path: Path | None = None) -> dict[str, Person]:
    """Read the registry file (the bundled one when `path` is None).

    Raises:
        ConfigError: the file cannot be read, lacks the header, or has a bad line.
    """
    try:
        if path is None:
            text = resources.files("batch.simulator").joinpath("registry.csv").read_text("utf-8")
        else:
            text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        message = _("cannot read the simulator registry {path}: {error}")
        raise ConfigError(message.format(path=path, error=error)) from error
    return _parse(text, str(path or "registry.csv"))


def _parse(text: str, source: str) -> dict[str, Person]:
    reader = csv.reader(io.StringIO(text), delimiter=";")
    header = next(reader, None)
    names = [h.strip().lower() for h in header or []]
    if names not in (_COLUMNS, _COLUMNS + _OPTIONAL):
        raise ConfigError(
            _(
                "{source}: the first line must be `cpr;home_kui;name` (optionally `;fails_with`)"
            ).format(source=source)
        )
    people: dict[str, Person] = {}
    for line_number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        where = _("{source} line {line}").format(source=source, line=line_number)
        people_line = _person(cells, len(names), where)
        people[people_line.cpr] = people_line
    return people


def _person(cells: list[str], width: int, where: str) -> Person:
    if len(cells) != width:
        message = _("{where}: expected {width} fields, as the header line says")
        raise ConfigError(message.format(where=where, width=width))
    cpr, kui, name, *rest = (cell.strip() for cell in cells)
    fails_with = rest[0] if rest else ""
    if fails_with and not fails_with.isdigit():
        message = _("{where}: fails_with {value} is not a UDB code")
        raise ConfigError(message.format(where=where, value=repr(fails_with)))
    if not _CPR.fullmatch(cpr):
        message = _("{where}: the cpr field is not a 10-digit CPR number")
        raise ConfigError(message.format(where=where))
    if not kui.isdigit():
        message = _("{where}: home_kui {value} is not a number")
        raise ConfigError(message.format(where=where, value=repr(kui)))
    return Person(
        cpr=cpr, home_kui=int(kui), name=name, fails_with=int(fails_with) if fails_with else None
    )
