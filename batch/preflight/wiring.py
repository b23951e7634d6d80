"""The components' settings from a run's `Settings`: the loader's, the client's, the scheduler's.

One place turns the flat settings into the small frozen objects each part takes, with the
same validation for a run and for `batch check`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from batch.errors import ConfigError
from batch.i18n import _
from batch.intake import InputOptions
from batch.intake.columns import load_mapping
from batch.service.client import ClientSettings
from batch.service.keys import Secret
from batch.service.signing import SigningSettings
from batch.service.tls import TlsSettings
from batch.submit import SubmitSettings

if TYPE_CHECKING:
    from batch.config import Settings

__all__ = [
    "check_settings",
    "check_system_id",
    "client_settings",
    "input_options",
    "submit_settings",
]


def input_options(settings: Settings, sheet: str | int | None) -> InputOptions:
    """The loader's options from the run's settings."""
    mapping = load_mapping(settings.mapping) if settings.mapping is not None else {}
    return InputOptions(
        system_id=settings.system_id,
        institution=settings.institution,
        sheet=sheet,
        mapping=mapping,
        date_only_time=settings.date_only_time,
        header_row=settings.header_row,
        hidden_rows=settings.hidden_rows,
    )


def client_settings(settings: Settings, wsdl: str | None = None) -> ClientSettings:
    """The SOAP client's settings; certificate paths and secrets come from file or environment.

    A certificate file without its key setting holds the key too (PEM, both blocks).
    """
    tls = TlsSettings(
        verify=settings.tls_verify,
        ca_bundle=settings.tls_ca_bundle,
        client_cert=settings.tls_client_cert,
        client_key=settings.tls_client_key,
        pkcs12=settings.tls_pkcs12,
        pkcs12_password=_secret(settings.tls_pkcs12_password),
    )
    signing = None
    if any(
        path is not None for path in (settings.sign_pkcs12, settings.sign_key, settings.sign_cert)
    ):
        signing = SigningSettings(
            key=settings.sign_key,
            cert=settings.sign_cert,
            key_password=_secret(settings.sign_key_password),
            pkcs12=settings.sign_pkcs12,
            pkcs12_password=_secret(settings.sign_pkcs12_password),
        )
    return ClientSettings(
        wsdl=wsdl or settings.wsdl,
        endpoint=settings.endpoint,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        pool_size=max(settings.concurrency, 1),
        tls=tls,
        signing=signing,
        proxy=settings.proxy,
    )


def check_system_id(settings: Settings) -> None:
    """The real platform needs our SystemName: the demo's placeholder is a ConfigError."""
    if not settings.uses_simulator and settings.system_id == "BATCH-DEMO":
        raise ConfigError(
            _(
                "system_id is not set: set it to your system's SystemName on IPL with "
                "--system-id, BATCH_SYSTEM_ID or system_id in the config file "
                "([service] system_id = ...)"
            )
        )


def _secret(value: str | None) -> Secret | None:
    return None if value is None else Secret(value)


def submit_settings(settings: Settings) -> SubmitSettings:
    """The scheduler's settings (`SubmitSettings.from_settings`: `--until` counts from now)."""
    return SubmitSettings.from_settings(settings)


def check_settings(settings: Settings) -> None:
    """Find a setting mistake before any file is read, so a run that cannot send never starts.

    Raises `ConfigError` (exit 2); nothing is written to the journal.
    """
    check_system_id(settings)
    since, before = settings.registered_since, settings.registered_before
    if since is not None and before is not None and since >= before:
        raise ConfigError(
            _(
                "--registered-since {since} is not before --registered-before {before}: "
                "no row could be sent"
            ).format(since=since, before=before)
        )
    client_settings(settings)  # certificate pairs and the like
    submit_settings(settings)  # rate, concurrency, attempts
