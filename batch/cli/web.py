"""`batch serve` (the web app) and `batch user add|list|remove` (its local accounts)."""

from __future__ import annotations

import getpass
import ipaddress
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from batch.cli.helptext import LanguageGroup
from batch.cli.options import _common_options, _fail, _start
from batch.config import header_name, proxy_addresses
from batch.errors import BatchError
from batch.i18n import _

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["ROLE_CHOICES", "serve", "user"]

# The web app's roles (`batch.web.accounts.ROLES`, which a test holds this to), named here so
# that `batch --help` does not import the web app.
ROLE_CHOICES = ("viewer", "sender", "admin")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option("--upload-max-mb", type=int, help="Largest file the web app takes, in MB (50).")
@click.option(
    "--session-idle-minutes", type=int, help="Sign-in ends after this idle time (default 30)."
)
@click.option(
    "--trusted-proxies",
    callback=lambda _ctx, _param, value: _parsed(proxy_addresses, value),
    help="Addresses or networks of the reverse proxies in front, comma-separated: only their "
    "X-Forwarded-For/-Proto and --sso-header are believed.",
)
@click.option(
    "--sso-header",
    callback=lambda _ctx, _param, value: _parsed(header_name, value),
    help="Header in which a trusted proxy's single sign-on names the account (X-Remote-User).",
)
@_common_options
def serve(host: str, port: int, config_file: Path | None, **flags: Any) -> None:
    """Serve the web app: upload, check, fix and send from the browser.

    Sends through the same journal, rate limit and retry as `batch run`. Binds to 127.0.0.1;
    put a TLS proxy (nginx, Caddy) in front to serve others.
    """
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from batch.web import create_app  # noqa: PLC0415

    settings, console = _start(config_file, flags)
    if not _is_loopback(host):
        console.notice(
            _(
                "listening on {host}, not only this machine: put TLS in front "
                "(nginx or Caddy, see the README); the app itself speaks plain HTTP"
            ).format(host=host)
        )
    app = create_app(settings)
    console.notice(_("the web app is at http://{host}:{port}/").format(host=host, port=port))
    # Forwarded headers are believed by the app, from `trusted_proxies` only (web/proxies.py).
    uvicorn.run(
        app, host=host, port=port, log_level="warning", proxy_headers=False, server_header=False
    )


def _parsed(parse: Any, value: str | None) -> Any:
    """A flag's text read as the config file's would be; a wrong one is a usage error."""
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.group(cls=LanguageGroup)
def user() -> None:
    """Local accounts of the web app (names and Argon2 hashes in the state directory)."""


def _accounts(config_file: Path | None, flags: dict[str, Any]) -> tuple[Any, Path]:
    from batch.web.accounts import Accounts  # noqa: PLC0415

    settings, _console = _start(config_file, flags)
    return Accounts(settings.state_dir), settings.state_dir


def _audit(state_dir: Path, name: str, detail: str) -> None:
    """The account change in the audit log, by the operating-system user at the terminal."""
    from batch.web.audit import record  # noqa: PLC0415

    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        who = str(os.getuid())
    record(state_dir, f"command line ({who})", "user", name, detail=detail)


def _password() -> str:
    """From a prompt (asked twice), or the first line of stdin when it is not a terminal."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt(_("Password"), hide_input=True, confirmation_prompt=True))


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(ROLE_CHOICES),
    help="viewer (runs and workbooks), sender (also uploads and sends; a new account's role), "
    "admin (also accounts, tokens, audit log). Without it an existing account keeps its role.",
)
@_common_options
def user_add(name: str, role: str | None, config_file: Path | None, **flags: Any) -> None:
    """Add the account NAME (or give it a new password); the password is asked for."""
    accounts, state_dir = _accounts(config_file, flags)
    try:
        accounts.add(name, _password(), role)
        _audit(state_dir, name, f"added or password set, role {accounts.role(name)}")
    except BatchError as error:
        _fail_plain(error)
    click.echo(_("account {name} saved ({role})").format(name=name, role=accounts.role(name)))


@user.command("list")
@_common_options
def user_list(config_file: Path | None, **flags: Any) -> None:
    """List the accounts with their roles."""
    accounts, _state_dir = _accounts(config_file, flags)
    for name, role in accounts.roles().items():
        click.echo(f"{name}\t{role}")


@user.command("remove")
@click.argument("name")
@_common_options
def user_remove(name: str, config_file: Path | None, **flags: Any) -> None:
    """Remove the account NAME."""
    accounts, state_dir = _accounts(config_file, flags)
    try:
        accounts.remove(name)
        _audit(state_dir, name, "removed")
    except BatchError as error:
        _fail_plain(error)
    click.echo(_("account {name} removed").format(name=name))


def _fail_plain(error: BatchError) -> None:
    from batch.console import Console  # noqa: PLC0415

    _fail(Console(quiet=False), error)
