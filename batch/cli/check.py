"""`batch check`: the preflight, a line per check (OK, WARN, FAIL and what to do), or JSON."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from batch.cli.exit_codes import EXIT_SETUP, EXIT_USAGE
from batch.cli.options import _common_options
from batch.config import resolve_settings
from batch.errors import BatchError
from batch.i18n import N_, _, ngettext, resolve_language, use_language
from batch.logging import configure_logging
from batch.preflight.checks import Check, Status, run_checks
from batch.privacy import mask_cpr

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["check"]

_STYLE = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.SKIP: "dim"}
ALL_GOOD = N_("nothing failed: ready to run")


@click.command()
@click.option("--wsdl", help="WSDL path or URL of the service (default: built-in simulator).")
@click.option("--endpoint", help="Service address, overriding the one in the WSDL.")
@click.option("--system-id", help="ModtagerSystemID: your system's SystemName on IPL.")
@click.option("--proxy", help="Proxy URL for the service, or none (no password here).")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON, for monitoring.")
@_common_options
def check(config_file: Path | None, as_json: bool, **flags: Any) -> None:
    """Check the set-up before a run: settings, certificates, WSDL, network, clock, disk, lock.

    Sends no row. Exit 0 when nothing failed (warnings allowed), 4 when a check failed,
    2 when the settings cannot be read at all.
    """
    try:
        settings = resolve_settings(flags, config_file=config_file)
    except BatchError as error:
        _print([Check("settings", Status.FAIL, mask_cpr(str(error)))], as_json=as_json)
        sys.exit(EXIT_USAGE)
    configure_logging(log_format=settings.log_format, quiet=True)  # type: ignore[arg-type]
    use_language(resolve_language(settings.language))
    checks = run_checks(settings)
    _print(checks, as_json=as_json)
    sys.exit(EXIT_SETUP if any(c.status is Status.FAIL for c in checks) else 0)


def _print(checks: Sequence[Check], *, as_json: bool) -> None:
    failed = sum(c.status is Status.FAIL for c in checks)
    if as_json:
        lines = [
            {"check": c.name, "status": c.status.value, "text": mask_cpr(c.text),
             "advice": c.advice, **c.data}
            for c in checks
        ]  # fmt: skip
        sys.stdout.write(json.dumps({"ok": failed == 0, "checks": lines}, ensure_ascii=False))
        sys.stdout.write("\n")
        return
    from rich.console import Console  # noqa: PLC0415 - only for the human form

    console = Console(highlight=False, soft_wrap=True)
    for item in checks:
        console.print(f"{item.status.value:<4}", style=_STYLE[item.status], end=" ")
        console.print(f"{item.name}: {mask_cpr(item.text)}", markup=False)
        if item.advice and item.status is not Status.OK:
            console.print(f"     -> {item.advice}", markup=False)
    summary = (
        ngettext(
            "{failed} check failed: fix it before the next run",
            "{failed} checks failed: fix them before the next run",
            failed,
        ).format(failed=failed)
        if failed
        else _(ALL_GOOD)
    )
    console.print(summary, style="bold red" if failed else "bold", markup=False)
