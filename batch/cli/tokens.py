"""`batch token create|list|revoke`: bearer tokens of the web app's HTTP API."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING, Any

import click

from batch.cli.helptext import LanguageGroup
from batch.cli.options import _common_options, _fail, _start
from batch.errors import BatchError
from batch.i18n import _

if TYPE_CHECKING:
    from pathlib import Path

    from batch.web.tokens import Tokens

__all__ = ["token"]


@click.group(cls=LanguageGroup)
def token() -> None:
    """Bearer tokens for the HTTP API (/api) of `batch serve`; only their hashes are kept."""


def _tokens(config_file: Path | None, flags: dict[str, Any]) -> Tokens:
    from batch.web.tokens import Tokens  # noqa: PLC0415 - the web package only when asked

    settings, _console = _start(config_file, flags)
    return Tokens(settings.state_dir)


def _audit(tokens: Tokens, name: str, change: str) -> None:
    """A token change in the audit log, by the account at the terminal (`cli:<login>`)."""
    from batch.web.audit import record  # noqa: PLC0415 - the web package only when asked

    try:
        login = getpass.getuser()
    except (OSError, KeyError):  # no login name known to the system
        login = "?"
    record(tokens.state_dir, f"cli:{login}", "token", name, detail=change)


@token.command("create")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["viewer", "sender"]),
    default="sender",
    show_default=True,
    help="viewer: reads runs, rows, workbooks; sender: also sends files.",
)
@_common_options
def token_create(name: str, role: str, config_file: Path | None, **flags: Any) -> None:
    """Make a token for the system NAME and print it: it is shown this once only."""
    tokens = _tokens(config_file, flags)
    try:
        made = tokens.create(name, role)
    except BatchError as error:
        _fail_plain(error)
    _audit(tokens, name, f"created ({role})")
    click.echo(made)
    click.echo(
        _("token {name} made: keep it now, it is not shown again").format(name=name), err=True
    )


@token.command("list")
@_common_options
def token_list(config_file: Path | None, **flags: Any) -> None:
    """List the tokens by name, with their role and when each was made (never the token)."""
    for info in _tokens(config_file, flags).list():
        click.echo(f"{info.name}\t{info.role}\t{info.created}")


@token.command("revoke")
@click.argument("name")
@_common_options
def token_revoke(name: str, config_file: Path | None, **flags: Any) -> None:
    """Revoke the token NAME: the next API call with it is refused."""
    tokens = _tokens(config_file, flags)
    try:
        tokens.revoke(name)
    except BatchError as error:
        _fail_plain(error)
    _audit(tokens, name, "revoked")
    click.echo(_("token {name} revoked").format(name=name))


def _fail_plain(error: BatchError) -> None:
    from batch.console import Console  # noqa: PLC0415

    _fail(Console(quiet=False), error)
