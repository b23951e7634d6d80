"""A result workbook fed back to a run: its Fix sheet, read with the context of its own run.

`batch run result.xlsx` (no `--sheet`) reads the Fix sheet and says so in one line. The
workbook names the run that wrote it (`batch.intake.result_book`); when the journal holds that
run, what it was read with is used again unless given anew: the header mapping (the fields
each header fed, taken from the run's record of its inputs, so a moved or edited mapping file
does not matter), the institution number, the system id and the time for bare dates. So a Fix
sheet fed back needs no options. Each fixed row is linked to its original in that run (see
`batch.journal._fixes`), for its Origin column and for recognising the original row later.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from batch.config import parse_time
from batch.errors import StateError
from batch.i18n import _
from batch.intake import InputFile, InputOptions, open_input
from batch.intake.result_book import FIX_SHEET, is_result_workbook, workbook_run_id
from batch.journal import open_read_only

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from batch.config import Settings
    from batch.intake.mapping import FieldMapping
    from batch.journal import RunInfo

__all__ = ["FedBack", "fed_back", "lent_settings", "open_all"]


@dataclass(frozen=True, slots=True)
class FedBack:
    """A result workbook given as input, and what its run was read with (when known)."""

    run_id: str | None
    known: bool  # the journal holds the run
    settings: dict[str, str]
    mapping: FieldMapping


def fed_back(path: Path, state_dir: Path) -> FedBack | None:
    """What `path` is if it is a result workbook; None for any other input."""
    if not is_result_workbook(path):
        return None
    run_id = workbook_run_id(path)
    if run_id is None:
        return FedBack(None, known=False, settings={}, mapping={})
    try:
        with open_read_only(state_dir) as journal:
            info = journal.run_info(run_id)
    except StateError:
        return FedBack(run_id, known=False, settings={}, mapping={})
    settings = {key: str(value) for key, value in info.settings.items()}
    return FedBack(run_id, known=True, settings=settings, mapping=_run_mapping(info))


def _run_mapping(info: RunInfo) -> FieldMapping:
    """Header -> field(s), as the run read each of its inputs."""
    mapping: FieldMapping = {}
    for item in info.inputs:
        columns = item.notes.get("columns", [])
        for _letter, header, fields, *_rest in columns:
            if fields:
                mapping[header] = fields[0] if len(fields) == 1 else tuple(fields)
        if not columns:  # journals from before the notes: one field per header
            mapping.update(item.fields)
    return mapping


def _remembered(settings: Settings, fed: FedBack) -> dict[str, object]:
    """The settings of the fed-back workbook's run that this command did not give anew."""
    old = fed.settings
    remembered: dict[str, object] = {}
    if old.get("institution", "None") != "None":
        remembered["institution"] = int(old["institution"])
    if old.get("system_id"):
        remembered["system_id"] = old["system_id"]
    if old.get("date_only_time", "None") != "None":
        remembered["date_only_time"] = parse_time(old["date_only_time"])
    return {
        name: value
        for name, value in remembered.items()
        if settings.sources.get(name, "default") == "default"  # given anew: that wins
    }


def lent_settings(
    paths: Sequence[Path], settings: Settings, found: dict[Path, FedBack | None] | None = None
) -> Settings:
    """The settings to run with: a fed-back workbook's run lends what this command lacks.

    Its institution, system id and time for bare dates (the first such workbook's, when
    several are given); they show as coming from "run" in `settings.sources`.
    """
    if found is None:
        found = {path: fed_back(path, settings.state_dir) for path in paths}
    runs = [fed for fed in found.values() if fed is not None and fed.known]
    if not runs:
        return settings
    lent = _remembered(settings, runs[0])
    sources = {**settings.sources, **dict.fromkeys(lent, "run")}
    return dataclasses.replace(settings, **lent, sources=sources)  # type: ignore[arg-type]


def open_all(
    paths: Sequence[Path],
    settings: Settings,
    make_options: Callable[[Settings], InputOptions],
    *,
    sheet_given: bool,
    notice: Callable[[str], None],
) -> tuple[Settings, list[InputFile]]:
    """Open every input (a bad one stops the run before anything is sent), Fix sheets in context.

    Returns the settings to run with: a fed-back workbook's run lends its institution, system
    id and time for bare dates (the first such workbook's, when several are given).
    """
    found = {path: fed_back(path, settings.state_dir) for path in paths}
    settings = lent_settings(paths, settings, found)
    used = [name for name, source in settings.sources.items() if source == "run"]
    options = make_options(settings)
    files = []
    for path, fed in found.items():
        if fed is None:
            files.append(open_input(path, options))
            continue
        wanted = options if sheet_given else dataclasses.replace(options, sheet=FIX_SHEET)
        mine = list(used)
        if fed.mapping and settings.sources.get("mapping", "default") == "default":
            wanted = dataclasses.replace(wanted, mapping=dict(fed.mapping))
            mine.insert(0, "mapping")
        if not sheet_given:
            notice(_("{file} is a result workbook: reading its Fix sheet").format(file=path))
        if mine and fed.known:
            line = _("read with what run {run} used: {settings}")
            notice(line.format(run=fed.run_id, settings=", ".join(mine)))
        opened = open_input(path, wanted)
        opened.fix_of = fed.run_id if fed.known else None
        files.append(opened)
    return settings, files
