"""Settings from flags, `BATCH_*` environment variables and a TOML file, in that precedence.

One table (`OPTIONS`) names every setting once: its type, default, environment variable and
whether it may come from the command line at all. Secrets (passwords) and certificate paths may
not: they come from the config file or the environment only, so they never show in a process
list or a shell history.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batch.errors import ConfigError
from batch.i18n import LANGUAGES, N_, _
from batch.privacy import mask_url_password
from batch.service.keys import fill_passwords
from batch.service.proxy import check_proxy_url

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "DEFAULT_REPORT_DIR",
    "DEFAULT_STATE_DIR",
    "HIDDEN_ROWS",
    "OPTIONS",
    "RETENTION_HINT",
    "Option",
    "Settings",
    "parse_time",
    "resolve_settings",
    "retention_days",
]


def _default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "batch"


def _default_report_dir() -> Path:
    """Per user, like the journal: a service started from `/` must not write into `/reports`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "batch" / "reports"


DEFAULT_STATE_DIR = _default_state_dir()
DEFAULT_REPORT_DIR = _default_report_dir()


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(_("expected true or false, got {text}").format(text=repr(text)))


def _parse_time(text: str) -> time:
    """`12:00`, `8:00` or `12:00:00`: a time of day."""
    text = text.strip()
    return time.fromisoformat(f"0{text}" if len(text.split(":")[0]) == 1 else text)


def _parse_until(text: str) -> str:
    """`HH:MM` (the next such Danish local time) or `YYYY-MM-DD HH:MM` (that moment)."""
    cleaned = text.strip()
    try:
        if len(cleaned) <= len("HH:MM"):
            time.fromisoformat(cleaned)
        else:
            datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            _("must be HH:MM or YYYY-MM-DD HH:MM, not {text}").format(text=repr(text))
        ) from None
    return cleaned


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            _("must be a date as YYYY-MM-DD, not {text}").format(text=repr(text))
        ) from None


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError(_("must be greater than 0"))
    return value


def _not_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(_("must be 0 or more"))
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(_("must be greater than 0"))
    return value


RETENTION_HINT = N_("`batch purge --older-than 0` removes everything settled now")


def retention_days(text: str) -> int:
    """Whole days, 1 or more: a person's data kept in clear for less than a day is a mistake."""
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(
            _("must be a whole number of days (1 or more), not {text}").format(text=repr(text))
        ) from None
    if value < 1:
        raise ValueError(
            _("must be 1 day or more, not {value}; {hint}").format(
                value=value, hint=_(RETENTION_HINT)
            )
        )
    return value


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(_("must be one of {choices}").format(choices=", ".join(choices)))
        return text

    return parse


HIDDEN_ROWS = ("send", "skip")


def proxy_addresses(text: str) -> tuple[str, ...]:
    """Addresses or networks (`10.0.0.0/8`), by commas or spaces, or a TOML list of them."""
    found = tuple(part for part in re.split(r"[\s,\[\]'\"]+", text) if part)
    for part in found:
        ipaddress.ip_network(part, strict=False)  # ValueError names the bad one
    return found


def header_name(text: str) -> str:
    """An HTTP header's name, lower case."""
    if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", text):
        raise ValueError(f"must be an HTTP header name (letters, digits, -), not {text!r}")
    return text.lower()


def parse_time(text: str) -> time:
    """A time of day from a flag or a file; `ValueError` if it is none."""
    return _parse_time(text)


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: how to parse it and where it may come from (defaults live on `Settings`)."""

    name: str
    parse: Callable[[str], Any]
    cli: bool = True  # False: config file or environment only (secrets, certificates)
    help: str = ""

    @property
    def env(self) -> str:
        """The environment variable that sets it."""
        return f"BATCH_{self.name.upper()}"


OPTIONS: tuple[Option, ...] = (
    Option("wsdl", str, help="WSDL path or URL of the service (default: the simulator)"),
    Option("endpoint", str, help="service address, overriding the WSDL's"),
    Option("system_id", str, help="ModtagerSystemID: your system's name on IPL"),
    Option("institution", int, help="KommuneInstitutionNummer for rows that have none"),
    Option("rate", _positive_float, help="requests per second at most"),
    Option("concurrency", _positive_int, help="requests in flight at most"),
    Option("max_attempts", _positive_int, help="attempts per row before it goes to Retry"),
    Option("connect_timeout", _positive_float, help="seconds to connect"),
    Option("read_timeout", _positive_float, help="seconds to wait for an answer"),
    Option("report_dir", Path, help="where result workbooks are written"),
    Option("state_dir", Path, help="where the journal lives"),
    Option("mapping", Path, help="TOML file mapping your headers to the spec's fields"),
    Option("resend_all", _parse_bool, help="send every valid row"),
    Option("newest_only", _parse_bool, help="per person and group, send only the newest row"),
    Option("resend_dropped", _parse_bool, help="send again what UDB rejected for good"),
    Option("drop_recheck_days", _positive_int, help="days before a rejected payload is resent"),
    Option("max_rows", _positive_int, help="send at most this many rows, then stop"),
    Option("until", _parse_until, help="stop sending at this Danish local time (HH:MM)"),
    Option("registered_since", _parse_date, help="send only rows registered on or after"),
    Option("registered_before", _parse_date, help="send only rows registered before"),
    Option("progress_interval", _positive_float, help="seconds between progress log events"),
    Option("log_format", _choice("auto", "console", "json"), help="log format"),
    Option("quiet", _parse_bool, help="only warnings and errors"),
    Option("date_only_time", _parse_time, help="time of day for dates given without one"),
    Option("header_row", _positive_int, help="row of the header, as Excel numbers it"),
    Option("hidden_rows", _choice(*HIDDEN_ROWS), help="rows hidden in a workbook: send or skip"),
    Option("language", _choice(*LANGUAGES), help="language of what a person reads: da or en"),
    Option("require_file", _parse_bool, help="an inbox without an export is an error"),
    Option("metrics_file", Path, help="Prometheus textfile written after each run"),
    Option("upload_max_mb", _positive_int, help="largest file the web app takes, in MB"),
    Option("session_idle_minutes", _positive_int, help="web sign-in ends after this idle time"),
    Option("trusted_proxies", proxy_addresses, help="web: proxies whose X-Forwarded-* count"),
    Option("sso_header", header_name, help="web: header a trusted proxy names the user in"),
    Option(
        "retention_days",
        retention_days,
        help="days a person's data is kept in clear: journal rows, workbooks, inbox files",
    ),
    Option("proxy", check_proxy_url, help="proxy URL for the service, or none (wins over env)"),
    Option("max_run_minutes", _positive_float, help="stop the run after this many minutes"),
    Option("retry_after_max", _positive_float, help="longest Retry-After honoured, seconds"),
    Option("cert_warn_days", _not_negative_int, help="warn this many days before expiry"),
    Option("tls_verify", _parse_bool, cli=False),
    Option("tls_ca_bundle", Path, cli=False),
    Option("tls_client_cert", Path, cli=False),
    Option("tls_client_key", Path, cli=False),
    Option("tls_pkcs12", Path, cli=False),
    Option("tls_pkcs12_password", str, cli=False),
    Option("tls_pkcs12_password_file", Path, cli=False),
    Option("sign_key", Path, cli=False),
    Option("sign_cert", Path, cli=False),
    Option("sign_key_password", str, cli=False),
    Option("sign_key_password_file", Path, cli=False),
    Option("sign_pkcs12", Path, cli=False),
    Option("sign_pkcs12_password", str, cli=False),
    Option("sign_pkcs12_password_file", Path, cli=False),
)

_BY_NAME = {option.name: option for option in OPTIONS}
_SECRETS = frozenset(name for name in _BY_NAME if name.endswith("password"))


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one command; frozen and passed down, never global."""

    wsdl: str | None = None
    endpoint: str | None = None
    system_id: str = "BATCH-DEMO"
    institution: int | None = None
    rate: float = 5.0
    concurrency: int = 4
    max_attempts: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    report_dir: Path = DEFAULT_REPORT_DIR
    state_dir: Path = DEFAULT_STATE_DIR
    mapping: Path | None = None
    resend_all: bool = False
    newest_only: bool = False
    resend_dropped: bool = False
    drop_recheck_days: int = 30
    max_rows: int | None = None
    until: str | None = None  # checked by _parse_until; the deadline is computed at start
    registered_since: date | None = None
    registered_before: date | None = None
    progress_interval: float = 60.0
    log_format: str = "auto"
    quiet: bool = False
    date_only_time: time | None = None
    header_row: int | None = None  # None: the first row naming two known columns
    hidden_rows: str = "send"  # rows hidden in a workbook (filter or by hand): send | skip
    language: str | None = None  # None: the locale's (LANGUAGE, LC_ALL, LC_MESSAGES, LANG)
    require_file: bool = False
    metrics_file: Path | None = None
    upload_max_mb: int = 50
    session_idle_minutes: int = 30
    trusted_proxies: tuple[str, ...] = ()  # none: X-Forwarded-* and `sso_header` never honoured
    sso_header: str | None = None
    retention_days: int = 30
    proxy: str | None = field(default=None, repr=False)  # None: HTTPS_PROXY etc.; "none": direct
    max_run_minutes: float | None = None  # None: no limit
    retry_after_max: float = 120.0  # a longer Retry-After counts as a failed attempt
    cert_warn_days: int = 30  # warn when a certificate expires within this many days
    tls_verify: bool = True
    tls_ca_bundle: Path | None = None
    tls_client_cert: Path | None = None
    tls_client_key: Path | None = None
    tls_pkcs12: Path | None = None
    tls_pkcs12_password: str | None = field(default=None, repr=False)
    tls_pkcs12_password_file: Path | None = None
    sign_key: Path | None = None
    sign_cert: Path | None = None
    sign_key_password: str | None = field(default=None, repr=False)
    sign_key_password_file: Path | None = None
    sign_pkcs12: Path | None = None
    sign_pkcs12_password: str | None = field(default=None, repr=False)
    sign_pkcs12_password_file: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def uses_simulator(self) -> bool:
        """No WSDL and no endpoint: the embedded simulator; nothing leaves the machine."""
        return self.wsdl is None and self.endpoint is None

    def printable(self) -> dict[str, str]:
        """Settings safe to show in a workbook or a log: secrets replaced by `***`."""
        values = asdict(self)
        values.pop("sources")
        return {
            name: (
                "***" if name in _SECRETS and value is not None else mask_url_password(str(value))
            )
            for name, value in values.items()
        }


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(_("config file {path} does not exist").format(path=path)) from None
    except tomllib.TOMLDecodeError as error:
        message = _("config file {path} is not valid TOML: {error}")
        raise ConfigError(message.format(path=path, error=error)) from None
    # Sections are only for readability: [service] rate = 5 is the same as rate = 5.
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    unknown = sorted(set(flat) - set(_BY_NAME))
    if unknown:
        message = _("config file {path}: unknown setting(s) {unknown}; known settings are {known}")
        raise ConfigError(
            message.format(path=path, unknown=", ".join(unknown), known=", ".join(_BY_NAME))
        )
    return flat


def _parse(option: Option, raw: object, where: str) -> object:
    # TOML gives ints, floats, booleans and times already typed; their text form parses the same.
    try:
        return option.parse(str(raw))
    except ValueError as error:
        raise ConfigError(
            _("{where}: {name} {error}").format(where=where, name=option.name, error=error)
        ) from None


def _check_flag(option: Option, flag: object) -> None:
    """Parse a flag's text as the file's would be; a password never comes from a flag.

    A proxy URL with a password on the command line would show in every process list: it is
    refused (exit 2), pointing to the config file or BATCH_PROXY instead.
    """
    if option.name != "proxy":
        return
    try:
        check_proxy_url(str(flag))
    except ValueError as error:
        raise ConfigError(_("--proxy {error}").format(error=error)) from None
    if mask_url_password(str(flag)) != str(flag):
        raise ConfigError(
            _(
                "--proxy: a proxy URL with a password may not be given on the command line "
                "(others can read it in the process list); put it in the config file "
                "(proxy = ...) or in BATCH_PROXY"
            )
        )


def resolve_settings(
    flags: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Resolve every setting: a flag wins over the environment, the environment over the file.

    `flags` holds what the command line gave (None for an option not given); a flag naming a
    setting that may not come from the command line is a programming error.
    """
    env = os.environ if env is None else env
    file_values = _read_file(config_file) if config_file is not None else {}
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    for option in OPTIONS:
        flag = flags.get(option.name)
        if flag is not None:
            assert option.cli, option.name
            _check_flag(option, flag)
            values[option.name], sources[option.name] = flag, "flag"
        elif option.env in env:
            values[option.name] = _parse(option, env[option.env], option.env)
            sources[option.name] = "env"
        elif option.name in file_values:
            where = _("config file {path}").format(path=config_file)
            values[option.name] = _parse(option, file_values[option.name], where)
            sources[option.name] = "file"
        else:
            sources[option.name] = "default"
    fill_passwords(values, sources, env, sorted(_SECRETS))
    return Settings(**values, sources=sources)  # type: ignore[arg-type]
