"""`--help` in the language of the command line, through the one catalog (batch/i18n.py).

click writes its help at import time in English and translates only its own few words, with
its own gettext domain. Here the texts are looked up in our catalog as they are written: the
help formatter translates section headings, paragraphs (a command's help and epilog) and the
help column of the option and command lists; a group shortens a command's *translated* help
for its list. The English texts stay the msgids, where they are written in the code; every one
of them must have a Danish translation (`help_texts` lists them for the catalog's test).

The language is known before click parses anything (`--help` is answered while parsing):
`--language` anywhere on the command line, else `BATCH_LANGUAGE`, else the `language` key of
the config file (`--config` or `BATCH_CONFIG`), else the locale, as for the command itself.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from batch.i18n import LANGUAGES, N_, _, resolve_language

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

__all__ = ["LanguageGroup", "help_language", "help_texts"]

# click's own words in a help page: in our catalog too, since click reads another one.
_CLICK_WORDS = (
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Positional arguments"),
    N_("Show this message and exit."),
    N_("Show the version and exit."),
)
_DEFAULT = N_("default: {default}")


_VERBATIM = "\b\n"  # click's mark of a paragraph not to rewrap; not part of the msgid


def _translated(text: str) -> str:
    """`text` from the catalog when it has it; anything else (a metavar, a name) as it is."""
    if text.startswith(_VERBATIM):
        return _VERBATIM + _translated(text.removeprefix(_VERBATIM))
    return _(text)


def _cleaned(text: str) -> str:
    """A help text as click writes it, and as its msgid is: dedented, cut at a form feed."""
    return inspect.cleandoc(text).partition("\f")[0].removeprefix(_VERBATIM)


def _with_extras(text: str) -> str:
    """An option's help, its `[default: 8080]` translated apart from the text before it."""
    head, found, extras = text.rpartition("  [")
    if not found or not extras.endswith("]"):
        return _translated(text)
    items = []
    for item in extras[:-1].split("; "):
        name, colon, value = item.partition(": ")
        items.append(_(_DEFAULT).format(default=value) if colon and name == "default" else item)
    return f"{_translated(head)}  [{'; '.join(items)}]" if head else f"[{'; '.join(items)}]"


class HelpFormatter(click.HelpFormatter):
    """click's formatter, writing every text through the catalog."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        """The usage line, its `Usage:` in the language."""
        super().write_usage(prog, args, prefix or f"{_translated('Usage:')} ")

    def write_heading(self, heading: str) -> None:
        """A section heading (`Options`, `Commands`) in the language."""
        super().write_heading(_translated(heading))

    def write_text(self, text: str) -> None:
        """A command's help or epilog, translated whole (a msgid is the cleaned docstring)."""
        super().write_text(_translated(text))

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        """The option or command list, the help column translated."""
        shown = [(term, _with_extras(text) if text else text) for term, text in rows]
        super().write_dl(shown, col_max, col_spacing)


class HelpContext(click.Context):
    """A context whose help pages are written by `HelpFormatter`."""

    formatter_class = HelpFormatter


class LanguageGroup(click.Group):
    """A group whose help pages, and those of its commands, speak the chosen language."""

    context_class = HelpContext

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Add `cmd`, its help pages written through the catalog too."""
        if cmd.context_class is click.Context:
            cmd.context_class = HelpContext
        super().add_command(cmd, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, each shortened from its translated help (not translated short)."""
        shown = click.Group(name=self.name)
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None:
                view = copy.copy(command)
                view.help = _(_cleaned(command.help)) if command.help else command.help
                view.short_help = _(command.short_help) if command.short_help else None
                shown.add_command(view, name)
        click.Group.format_commands(shown, ctx, formatter)


def help_language(args: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """The language of a help page, decided as the command decides it, before parsing."""
    env = os.environ if env is None else env
    given = _flag(args, "--language")
    if given in LANGUAGES:
        return given
    if env.get("BATCH_LANGUAGE") in LANGUAGES:
        return env["BATCH_LANGUAGE"]
    config = _flag(args, "--config") or env.get("BATCH_CONFIG")
    return resolve_language(_config_language(Path(config)) if config else None, env)


def _flag(args: Sequence[str], name: str) -> str | None:
    """The last value of `name` (`--name X` or `--name=X`) on the command line."""
    found = None
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            found = args[index + 1]
        elif arg.startswith(f"{name}="):
            found = arg.partition("=")[2]
    return found


def _config_language(path: Path) -> str | None:
    """The config file's `language`; a file that cannot be read is the command's to report."""
    with contextlib.suppress(OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        data: dict[str, Any] = tomllib.loads(path.read_text("utf-8"))
        sections = [data, *(value for value in data.values() if isinstance(value, dict))]
        for section in sections:
            if section.get("language") in LANGUAGES:
                return str(section["language"])
    return None


def help_texts(group: click.Group) -> Iterator[str]:
    """Every text of every help page under `group`, as the catalog must hold it."""
    yield from _CLICK_WORDS
    yield _DEFAULT
    yield from _command_texts(group)


def _command_texts(command: click.Command) -> Iterator[str]:
    for text in (command.help, command.short_help, command.epilog):
        if text:
            yield _cleaned(text)
    for param in command.params:
        help_text = getattr(param, "help", None)
        if help_text:
            yield help_text
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            yield from _command_texts(sub)
