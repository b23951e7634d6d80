"""`batch check`: the operator's preflight, one `Check` per line, OK, WARN or FAIL with advice.

Run before the first night and after every change. Nothing is sent: the WSDL is read as a run
reads it, the address gets one GET (`batch.service.reach`), the directories get a file
written and removed, the lock is tried and let go. The checks after a failed one that needs it
are skipped (a SKIP line says why), so the first FAIL is the one to fix.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from batch.errors import BatchError
from batch.i18n import _
from batch.preflight import checks_text as T  # noqa: N812 - the texts, short
from batch.preflight.startup import (
    address_warning,
    certificate_warnings,
    expiry_date,
    risk_warnings,
)
from batch.preflight.wiring import check_system_id, client_settings, input_options
from batch.service.certs import configured_certificates
from batch.service.client import UdbClient
from batch.service.reach import Reach, probe
from batch.service.tls import LazySslContext

if TYPE_CHECKING:
    from pathlib import Path

    from batch.config import Settings
    from batch.service.client import ClientSettings

__all__ = ["Check", "Status", "run_checks"]

LOCK_NAME = "journal.lock"  # as batch.journal names it
DISK_FAIL_BYTES = 100 << 20
DISK_WARN_BYTES = 1 << 30
CLOCK_FAIL_SECONDS = 300  # the WS-Security Timestamp's lifetime
CLOCK_WARN_SECONDS = 60


class Status(StrEnum):
    """A check's verdict; only FAIL makes `batch check` exit non-zero."""

    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of `batch check`: a stable `name`, the verdict, what was found, what to do."""

    name: str
    status: Status
    text: str
    advice: str = ""
    data: dict[str, object] = field(default_factory=dict)


def _settings_checks(settings: Settings) -> tuple[list[Check], ClientSettings | None]:
    try:
        check_system_id(settings)
        input_options(settings, None)  # reads the mapping file, as a run does
        client = client_settings(settings)
    except BatchError as error:
        return [Check("settings", Status.FAIL, str(error), _(T.FIX_SETTINGS))], None
    return [Check("settings", Status.OK, _(T.SETTINGS_OK))], client


def _certificate_checks(settings: Settings, client: ClientSettings) -> list[Check]:
    try:
        found = configured_certificates(client.tls, client.signing)
    except BatchError as error:
        return [Check("certificates", Status.FAIL, str(error), _(T.FIX_CERTIFICATE))]
    checks = []
    now = datetime.now(UTC)
    for info in found:
        name, data = f"certificate_{info.role}", info.as_json(now)
        try:
            soon = certificate_warnings([info], settings.cert_warn_days, now)
        except BatchError as error:
            checks.append(Check(name, Status.FAIL, str(error), _(T.FIX_CERTIFICATE), data))
            continue
        status = Status.WARN if soon else Status.OK
        text = (
            soon[0]
            if soon
            else _(T.CERTIFICATE_OK).format(
                file=info.file, date=expiry_date(info), days=info.days_left(now)
            )
        )
        checks.append(Check(name, status, text, _(T.RENEW) if soon else "", data))
    if not found:
        checks.append(Check("certificates", Status.OK, _(T.NO_CERTIFICATES)))
    return checks


def _wsdl_check(client: ClientSettings) -> tuple[Check, str | None]:
    try:
        with UdbClient(client) as udb:
            endpoint = udb.endpoint
    except BatchError as error:
        return Check("wsdl", Status.FAIL, str(error), _(T.FIX_WSDL)), client.endpoint
    plain = address_warning(endpoint) if client.endpoint is None else None
    if plain is not None:  # the settings named only the WSDL; its address is plain http
        return Check("wsdl", Status.WARN, _(T.WSDL_OK).format(endpoint=endpoint), plain), endpoint
    return Check("wsdl", Status.OK, _(T.WSDL_OK).format(endpoint=endpoint)), endpoint


def _reach_checks(
    settings: Settings, client: ClientSettings, url: str
) -> tuple[list[Check], Reach | None]:
    try:
        context = LazySslContext(client.tls).context_for(url)
        reach = probe(
            url,
            ssl_context=context,
            proxy_setting=settings.proxy,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
        )
    except BatchError as error:
        return [Check("reach", Status.FAIL, str(error), _(T.FIX_SETTINGS))], None
    checks = []
    for step in reach.steps:
        if step.ok:
            checks.append(Check(step.name, Status.OK, step.detail))
            continue
        words = step.cause.text(_) if step.cause is not None else step.detail
        data: dict[str, object] = {"cause": step.cause.slug} if step.cause is not None else {}
        advice = _(T.ADVICE.get(step.name, T.FIX_NETWORK))
        checks.append(Check(step.name, Status.FAIL, f"{words} ({step.detail})", advice, data))
    return checks, reach


def _clock_check(reach: Reach) -> Check:
    if reach.offset is None:
        return Check("clock", Status.WARN, _(T.NO_DATE), _(T.SYNC_CLOCK))
    seconds = reach.offset.total_seconds()
    data: dict[str, object] = {"offset_seconds": round(seconds, 1)}
    text = _(T.CLOCK).format(seconds=f"{seconds:+.0f}")
    if abs(seconds) > CLOCK_FAIL_SECONDS:
        return Check("clock", Status.FAIL, text, _(T.SYNC_CLOCK), data)
    if abs(seconds) > CLOCK_WARN_SECONDS:
        return Check("clock", Status.WARN, text, _(T.SYNC_CLOCK), data)
    return Check("clock", Status.OK, text, data=data)


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _directory_check(name: str, path: Path) -> Check:
    """Writable: a file is made and removed inside it (or its nearest existing parent)."""
    where = _existing(path.resolve())
    try:
        with tempfile.NamedTemporaryFile(dir=where, prefix=".batch-check-"):
            pass
    except OSError as error:
        text = _(T.NOT_WRITABLE).format(path=path, error=error.strerror or error)
        return Check(name, Status.FAIL, text, _(T.FIX_DIRECTORY))
    text = _(T.WRITABLE if where == path.resolve() else T.WILL_CREATE).format(path=path)
    return Check(name, Status.OK, text)


def _disk_check(name: str, path: Path) -> Check:
    free = shutil.disk_usage(_existing(path.resolve())).free
    text = _(T.DISK).format(path=path, free=f"{free / (1 << 30):.1f}")
    data: dict[str, object] = {"free_bytes": free}
    if free < DISK_FAIL_BYTES:
        return Check(name, Status.FAIL, text, _(T.FREE_SPACE), data)
    if free < DISK_WARN_BYTES:
        return Check(name, Status.WARN, text, _(T.FREE_SPACE), data)
    return Check(name, Status.OK, text, data=data)


def _lock_check(state_dir: Path) -> Check:
    """Try the journal's lock and let go at once; never write to it."""
    path = state_dir / LOCK_NAME
    if not path.exists():
        return Check("lock", Status.OK, _(T.LOCK_FREE))
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip()
        return Check("lock", Status.FAIL, _(T.LOCK_TAKEN).format(pid=holder or "?"), _(T.WAIT_RUN))
    finally:
        os.close(fd)
    return Check("lock", Status.OK, _(T.LOCK_FREE))


def _local_checks(settings: Settings) -> list[Check]:
    checks = [
        _directory_check("state_dir", settings.state_dir),
        _directory_check("report_dir", settings.report_dir),
        _disk_check("disk_state_dir", settings.state_dir),
        _disk_check("disk_report_dir", settings.report_dir),
    ]
    return [*checks, _lock_check(settings.state_dir)]


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order a run meets them; nothing is sent."""
    checks, client = _settings_checks(settings)
    if client is None:
        return checks
    checks += [Check("warning", Status.WARN, text) for text in risk_warnings(settings, client)]
    checks += _certificate_checks(settings, client)
    if settings.uses_simulator:
        checks.append(Check("service", Status.WARN, _(T.SIMULATOR), _(T.SET_ENDPOINT)))
        return checks + _local_checks(settings)
    wsdl, endpoint = _wsdl_check(client)
    checks.append(wsdl)
    if endpoint is None and (settings.wsdl or "").lower().startswith(("http://", "https://")):
        endpoint = settings.wsdl  # the WSDL did not load: find the step that fails on its way
    if endpoint is None:
        checks.append(Check("reach", Status.SKIP, _(T.NO_ADDRESS)))
    else:
        reached, reach = _reach_checks(settings, client, endpoint)
        checks += reached
        if reach is not None and reach.ok:
            checks.append(_clock_check(reach))
    return checks + _local_checks(settings)
