"""Logging: JSON lines or console text, the run id on every event, and never an unmasked CPR."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
import structlog

from batch.logging import configure_logging, get_logger, mask_processor, mask_value

# Any ten digits, or DDMMYY-SSSS, or nine digits (a CPR without its leading zero).
UNMASKED = re.compile(r"(?<![0-9])(?:[0-9]{6}-?[0-9]{4}|[0-9]{9})(?![0-9])")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Leave the global logging set-up as it was found."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def _look_up(cpr: str) -> None:
    msg = f"no such young person {cpr}"
    raise LookupError(msg)


def _log_everything() -> None:
    """Log a CPR in every place one could hide, with and without the hyphen."""
    structlog.contextvars.bind_contextvars(run_id="run-42")
    log = get_logger("batch.test")
    log.info("sending 0101084123 now", cpr="010108-4123")
    log.warning("row rejected", row={"cells": {"CPR": 101084123, "note": ["ring 0202085678"]}})
    log.info("by key", mapping={"0303086789": "value"}, as_tuple=("040408 4444",))
    try:
        _look_up("0505085555")
    except LookupError:
        log.exception("request failed")
        logging.getLogger("zeep").warning("... 0101084123 ... %s", "0606086666", exc_info=True)
    logging.getLogger("urllib3.connectionpool").warning("POST /udb?cpr=010108-4123 HTTP/1.1")


def _captured(log_format: str) -> str:
    stream = io.StringIO()
    configure_logging(log_format=log_format, stream=stream)  # type: ignore[arg-type]
    _log_everything()
    return stream.getvalue()


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_no_unmasked_cpr_anywhere(log_format):
    """Event text, kwargs, nested values, keys, exceptions and library logs are all masked."""
    output = _captured(log_format)
    assert not UNMASKED.findall(output)
    assert output.count("010108-XXXX") >= 5
    for masked in ("020208-XXXX", "030308-XXXX", "040408-XXXX", "050508-XXXX", "060608-XXXX"):
        assert masked in output


def test_json_lines_carry_run_id_level_and_utc_time():
    """Every JSON line parses and carries the run id, the level, the logger and a UTC time."""
    lines = [json.loads(line) for line in _captured("json").splitlines()]
    assert len(lines) == 6
    for line in lines:
        assert line["run_id"] == "run-42"
        assert line["level"] in {"info", "warning", "error"}
        assert line["timestamp"].endswith("Z")
    assert [line["logger"] for line in lines[-2:]] == ["zeep", "urllib3.connectionpool"]
    assert "LookupError: no such young person 050508-XXXX" in lines[3]["exception"]


def test_console_is_readable_text():
    """Console mode writes plain lines (no JSON, no colour codes on a non-terminal)."""
    output = _captured("console")
    assert "sending 010108-XXXX now" in output
    assert "run_id=run-42" in output
    assert not output.lstrip().startswith("{")
    assert "\x1b[" not in output


def test_auto_is_json_when_not_a_terminal():
    """`auto` writes JSON lines to a stream that is not a terminal (a scheduler's log file)."""
    stream = io.StringIO()
    configure_logging(stream=stream)
    get_logger("batch.test").info("hello")
    assert json.loads(stream.getvalue())["event"] == "hello"


def test_quiet_keeps_warnings_only():
    """With quiet, info events are dropped and warnings still written."""
    stream = io.StringIO()
    configure_logging(log_format="json", quiet=True, stream=stream)
    log = get_logger("batch.test")
    log.info("progress")
    log.warning("trouble")
    events = [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
    assert events == ["trouble"]


def test_configuring_again_replaces_the_handler():
    """A second configure sends to the new stream only, never to both."""
    first, second = io.StringIO(), io.StringIO()
    configure_logging(log_format="json", stream=first)
    configure_logging(log_format="json", stream=second)
    get_logger("batch.test").info("once")
    assert first.getvalue() == ""
    assert len(second.getvalue().splitlines()) == 1


def test_mask_value_keeps_non_cpr_values():
    """Ordinary numbers and text stay as they are; only CPR-like numbers are masked."""
    assert mask_value(42) == 42
    assert mask_value(3.5) == 3.5
    assert mask_value(value=True) is True
    assert mask_value(None) is None
    assert mask_value("row 12 of 300") == "row 12 of 300"
    assert mask_value(101084123) == "010108-XXXX"
    assert mask_value(b"cpr=0101084123") == "cpr=010108-XXXX"
    assert mask_value(ValueError("x 0101084123")) == "ValueError: x 010108-XXXX"


def test_mask_processor_walks_nested_values():
    """The processor masks inside dicts, lists, tuples and sets, and dictionary keys."""
    event = {"event": "e", "data": {"0101084123": [("0202085678",), {"0303086789"}]}}
    assert mask_processor(None, "info", event) == {
        "event": "e",
        "data": {"010108-XXXX": [["020208-XXXX"], ["030308-XXXX"]]},
    }


def test_unconfigured_logger_still_masks(capsys):
    """A logger taken before anyone configured logging masks too, writing to stderr."""
    structlog.reset_defaults()
    get_logger("batch.early").warning("early 0101084123")
    err = capsys.readouterr().err
    assert "early 010108-XXXX" in err
    assert not UNMASKED.findall(err)
