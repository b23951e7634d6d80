"""`batch --help` and every command's help speak the language the command line asks for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from batch.cli import main
from batch.cli.helptext import LanguageGroup, help_language

_COMMAND = Path(sys.executable).with_name("batch")  # the command `make run` leaves
_NO_LANGUAGE = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", "BATCH_LANGUAGE", "BATCH_CONFIG")


def _help(*args: str, **env: str) -> str:
    """What a person sees typing `batch ARGS` in a shell with `env` (the real command)."""
    clean = {k: v for k, v in os.environ.items() if k not in _NO_LANGUAGE}
    done = subprocess.run(
        [str(_COMMAND), *args],
        capture_output=True,
        text=True,
        env={**clean, **env},
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _words(page: str) -> str:
    """The page with click's line wrapping undone, to find a sentence wherever it wraps."""
    return " ".join(page.split())


def test_the_group_help_is_danish_on_a_danish_machine():
    """LANG=da_DK.UTF-8: headings, the command list, the group's text and exit codes in Danish."""
    shown = _words(_help("--help", LANG="da_DK.UTF-8"))

    assert shown.startswith("Brug: batch ")
    for heading in ("Tilvalg:", "Kommandoer:", "Slutkoder:"):
        assert heading in shown
    assert "Indberet KUI-kontaktpersoner" in shown
    assert "Vis denne hjælp og afslut." in shown
    assert "Prøvekørsel: læs og kontroller FILER" in shown  # validate's line in the list
    assert "Options:" not in shown
    assert "Dry run" not in shown


def test_a_command_help_follows_the_language_flag():
    """`batch run --help --language da` on an English machine: Danish text and options."""
    shown = _words(_help("run", "--help", "--language", "da", LANG="en_GB.UTF-8"))

    assert "Send rækkerne i FILER" in shown
    assert "Højst så mange forespørgsler pr. sekund (standard 5)." in shown
    assert "Skjulte rækker i en projektmappe" in shown
    assert "Requests per second" not in shown


def test_the_variable_and_the_config_file_decide_too(tmp_path: Path):
    """BATCH_LANGUAGE=da, or `language = "da"` in the config file: the help page is Danish."""
    config = tmp_path / "batch.toml"
    config.write_text('[output]\nlanguage = "da"\n', encoding="utf-8")

    by_variable = _words(_help("simulator", "--help", BATCH_LANGUAGE="da"))
    by_file = _words(_help("validate", "-h", BATCH_CONFIG=str(config)))

    assert "Kør UDB-simulatoren i forgrunden" in by_variable
    assert "[standard: 8080]" in by_variable  # click's own "default:" through the catalog
    assert "Prøvekørsel" in by_file


def test_english_stays_english():
    """No language asked for and an English locale: the help page is as written in the code."""
    shown = _words(_help("--help", LANG="C"))

    assert shown.startswith("Usage: batch ")
    assert "Commands:" in shown
    assert "Dry run: read and validate FILES" in shown


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["run", "--language", "da", "-h"], {"BATCH_LANGUAGE": "en"}, "da"),
        (["run", "--language=en", "-h"], {"LANG": "da_DK.UTF-8"}, "en"),
        (["-h"], {"BATCH_LANGUAGE": "da", "LANG": "C"}, "da"),
        (["-h"], {"LC_ALL": "da_DK.UTF-8"}, "da"),
        (["-h"], {}, "en"),
    ],
)
def test_the_language_is_decided_as_for_the_command(args, env, expected):
    """The flag wins over BATCH_LANGUAGE, which wins over the locale; English otherwise."""
    assert help_language(args, env) == expected


def _groups(group: click.Group) -> list[click.Group]:
    nested = [c for c in group.commands.values() if isinstance(c, click.Group)]
    return [group, *(g for sub in nested for g in _groups(sub))]


def test_every_group_lists_its_commands_in_the_language():
    """Each group (user, token, ...) shortens its commands' translated help, as `batch` does."""
    plain = [g.name for g in _groups(main) if not isinstance(g, LanguageGroup)]
    assert not plain, f"groups whose command list stays English: {plain}"
    shown = _words(_help("token", "--help", BATCH_LANGUAGE="da"))
    assert "Tilbagekald tokenet NAVN" in shown
    assert "Lav et token til systemet NAVN" in shown
