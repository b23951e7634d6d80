"""The `simulator` command: serves the UDB simulator in the foreground for rehearsals."""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import Any

import click

from batch.console import Console
from batch.errors import BatchError
from batch.i18n import _
from batch.simulator import FaultConfig, SimulatorConfig, serve_forever

__all__ = ["simulator"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, help="Port (0: any free port).")
@click.option(
    "--registry",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="CSV of young people (cpr;home_kui;name); default: the bundled one.",
)
@click.option("--seed", default=0, show_default=True, help="Seed for every random fault.")
@click.option("--latency-ms", default=0.0, show_default=True, help="Added to every answer.")
@click.option(
    "--error-503-rate",
    default=0.0,
    show_default=True,
    help="Share of requests answered 503 (IPL000001).",
)
@click.option("--error-500-rate", default=0.0, show_default=True, help="Share answered HTTP 500.")
@click.option(
    "--udb-101-rate", default=0.0, show_default=True, help="Share answered with UDB's code 101."
)
@click.option(
    "--drop-rate",
    default=0.0,
    show_default=True,
    help="Share whose connection is closed without an answer.",
)
@click.option(
    "--slow-rate", default=0.0, show_default=True, help="Share answered only after --slow-seconds."
)
@click.option("--slow-seconds", default=5.0, show_default=True, help="Delay of slow answers.")
@click.option("--rate-limit", type=float, help="Requests/s above which it answers 429.")
@click.option(
    "--retry-after",
    "retry_after_seconds",
    default=1.0,
    show_default=True,
    help="Retry-After seconds sent with 429.",
)
@click.option("--outage", is_flag=True, help="Answer 503 to everything.")
@click.option("--tls-cert", type=click.Path(path_type=Path, exists=True), help="Serve HTTPS.")
@click.option("--tls-key", type=click.Path(path_type=Path, exists=True), help="Key of --tls-cert.")
@click.option(
    "--client-ca",
    type=click.Path(path_type=Path, exists=True),
    help="Require client certificates signed by this CA (mutual TLS).",
)
@click.option(
    "--require-signature",
    is_flag=True,
    help="Reject requests without a valid WS-Security signature.",
)
@click.option(
    "--log-requests",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Append every request received to FILE as JSON lines (owner-only: holds CPR numbers).",
)
def simulator(**options: Any) -> None:
    """Run the UDB simulator in the foreground, to rehearse before production.

    It serves the WSDL at <address>?wsdl, validates every request against the schema and
    answers as UDB does from its registry: 14 unknown CPR, 15 aged 25 or more, 86 not the
    young person's home KUI, 280 registration time in the future, otherwise Ok.
    """
    fault_names = [name for name in FaultConfig.__dataclass_fields__ if name in options]
    faults = FaultConfig(**{name: options.pop(name) for name in fault_names})
    config = SimulatorConfig(**options, faults=faults)
    try:
        serve_forever(config)
    except BatchError as error:  # the address cannot be bound, a certificate cannot be read
        cause = error.__cause__
        if isinstance(cause, OSError) and cause.errno in _CANNOT_LISTEN:
            Console().error(_listen_error(cause.errno, config.host, config.port))
        else:
            Console().error(str(error))
        sys.exit(error.exit_code)


_CANNOT_LISTEN = frozenset({errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL})


def _listen_error(code: int | None, host: str, port: int) -> str:
    """One line for an address the simulator cannot listen on: what, and what to do."""
    if code == errno.EADDRINUSE:
        message = _(
            "port {port} on {host} is already in use (another simulator or program listens "
            "there): choose another with --port, or --port 0 for any free port"
        )
    elif code == errno.EACCES:
        message = _(
            "port {port} on {host} may not be used by this user (ports below 1024 need root): "
            "choose another with --port"
        )
    else:
        message = _("{host} is not an address of this machine: check --host")
    return message.format(port=port, host=host)
