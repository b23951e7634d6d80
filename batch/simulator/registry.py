"""The young people UDB knows, read from a `cpr;home_kui;name` file into a dict by CPR number."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from batch.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Person", "load_registry"]

_CPR = re.compile(r"[0-9]{10}")
_COLUMNS = ["cpr", "home_kui", "name"]


@dataclass(frozen=True, slots=True)
class Person:
    """One young person as UDB has them from the CPR register: where they live, by KUI."""

    cpr: str
    home_kui: int
    name: str


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
        raise ConfigError(f"cannot read the simulator registry {path}: {error}") from error
    return _parse(text, str(path or "registry.csv"))


def _parse(text: str, source: str) -> dict[str, Person]:
    reader = csv.reader(io.StringIO(text), delimiter=";")
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != _COLUMNS:
        raise ConfigError(f"{source}: the first line must be `cpr;home_kui;name`")
    people: dict[str, Person] = {}
    for line_number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        people_line = _person(cells, f"{source} line {line_number}")
        people[people_line.cpr] = people_line
    return people


def _person(cells: list[str], where: str) -> Person:
    if len(cells) != len(_COLUMNS):
        raise ConfigError(f"{where}: expected 3 fields `cpr;home_kui;name`")
    cpr, kui, name = (cell.strip() for cell in cells)
    if not _CPR.fullmatch(cpr):
        raise ConfigError(f"{where}: the cpr field is not a 10-digit CPR number")
    if not kui.isdigit():
        raise ConfigError(f"{where}: home_kui {kui!r} is not a number")
    return Person(cpr=cpr, home_kui=int(kui), name=name)
