"""Logging set-up: structlog for our events and the libraries', with CPR numbers masked last.

Every line, ours or a library's (zeep, urllib3, requests), goes through one stdlib handler and
structlog's `ProcessorFormatter`, so the same processors run on all of them: run id and other
context from `structlog.contextvars`, level, UTC timestamp, the exception rendered as text, and
then `mask_processor`, which masks CPR-like numbers in every value just before rendering.
Nothing reaches the stream without passing the mask, whatever a library decides to log.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Literal, TextIO, cast

import structlog

from batch.privacy import mask_cpr

if TYPE_CHECKING:
    from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = [
    "RESULT_LOGGER",
    "LogFormat",
    "configure_logging",
    "get_logger",
    "json_lines",
    "mask_processor",
    "mask_value",
]

LogFormat = Literal["console", "json", "auto"]

_HANDLER_NAME = "batch"  # our handler on the root logger, replaced on each configure
# The logger of the lines monitoring reads (`run finished`, `inbox finished`): kept at INFO under
# --quiet, which otherwise keeps warnings and errors only.
RESULT_LOGGER = "batch.result"


def mask_value(value: object) -> object:
    """A copy of `value` safe to render: CPR-like numbers masked, containers walked through.

    Numbers are checked too (a CPR read from Excel is an int), and any other object is turned
    into its masked text, since a renderer would print its text unmasked.
    """
    if isinstance(value, Mapping):
        return {_mask_key(key): mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(item) for item in value]
    return _mask_scalar(value)


def _mask_scalar(value: object) -> object:
    if isinstance(value, str):
        return mask_cpr(value)
    if value is None or isinstance(value, bool | timedelta):
        return value
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, int | float):
        return _mask_key(value)  # a number stays a number unless it looks like a CPR
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", "backslashreplace")
    elif isinstance(value, BaseException):
        value = f"{type(value).__name__}: {value}"
    return mask_cpr(str(value))


def _mask_key(key: object) -> object:
    """The masked text of `key` if it holds a CPR-like number, else `key` itself."""
    text = str(key)
    masked = mask_cpr(text)
    return key if masked == text else masked


def mask_processor(_logger: WrappedLogger, _method_name: str, event_dict: EventDict) -> EventDict:
    """Mask every CPR-like number in the event, keys and nested values included."""
    return {cast("str", _mask_key(key)): mask_value(value) for key, value in event_dict.items()}


class _MaskedRenderer:
    """The renderer, with a last net over the rendered line (a no-op when masking did its job)."""

    def __init__(self, renderer: Processor) -> None:
        self._renderer = renderer

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> str:
        rendered = self._renderer(logger, method_name, event_dict)
        assert isinstance(rendered, str)
        return mask_cpr(rendered)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is at the moment (it is replaced under test capture)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """Ignore: the stream is always the current `sys.stderr`."""


def _shared_processors() -> list[Processor]:
    """The processors run on our events and, before formatting, on the libraries' records."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def json_lines(log_format: str, stream: TextIO | None = None) -> bool:
    """Whether logs are JSON lines: `json`, or `auto` away from a terminal (cron, systemd)."""
    if log_format == "auto":
        return not _isatty(sys.stderr if stream is None else stream)
    return log_format == "json"


def _renderer(log_format: LogFormat, stream: TextIO) -> Processor:
    if not json_lines(log_format, stream):
        return structlog.dev.ConsoleRenderer(colors=_isatty(stream))
    return structlog.processors.JSONRenderer(ensure_ascii=False)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def configure_logging(
    *, log_format: LogFormat = "auto", quiet: bool = False, stream: TextIO | None = None
) -> None:
    """Send all logging, ours and the libraries', through the masking pipeline to `stream`.

    `auto` renders for people on a terminal and JSON lines otherwise; `quiet` keeps warnings
    and worse only. Safe to call again: the previous set-up is replaced.
    """
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            mask_processor,
            _MaskedRenderer(_renderer(log_format, sys.stderr if stream is None else stream)),
        ],
    )
    handler = _StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    logging.getLogger(RESULT_LOGGER).setLevel(logging.INFO)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a logger used before configuration must not keep an unmasked set-up.
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """A logger bound to `name`; configures the masking pipeline first if nobody has yet."""
    if not structlog.is_configured():
        configure_logging()
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
