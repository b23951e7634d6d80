"""The simulator's request log (`batch simulator --log-requests FILE`): JSON lines, owner-only."""

import io
import json
import stat
import threading

from soapkit import ALFRED, UNKNOWN, send

from batch.cli.simulator import simulator as simulator_command
from batch.simulator import SimulatorConfig, serve_forever


def test_every_request_is_a_json_line_in_an_owner_only_file(tmp_path, fresh_simulator):
    """Each request received becomes one JSON line with CPR, fields and answer; mode 0600."""
    path = tmp_path / "requests.jsonl"
    path.write_text("", encoding="utf-8")
    path.chmod(0o644)  # an existing file is made owner-only before it is appended to
    sim = fresh_simulator(log_requests=path)
    send(sim.endpoint_url, cpr=ALFRED)
    send(sim.endpoint_url, cpr=UNKNOWN)
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert [(line["cpr"], line["ok"], line["code"]) for line in lines] == [
        (ALFRED, True, None),
        (UNKNOWN, False, 14),
    ]
    assert lines[0]["http_status"] == 200
    assert "T" in lines[0]["fields"]["KontaktRegistreringstid"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_serve_forever_logs_requests_until_stopped(tmp_path):
    """The foreground simulator writes the log and closes it when it stops."""
    path = tmp_path / "log" / "requests.jsonl"
    path.parent.mkdir()
    done = threading.Event()

    def ready(running):
        send(running.endpoint_url, cpr=ALFRED)
        running.stop()
        done.set()

    serve_forever(SimulatorConfig(log_requests=path), out=io.StringIO(), ready=ready)
    assert done.is_set()
    assert len(path.read_text("utf-8").splitlines()) == 1


def test_the_flag_reaches_the_simulator():
    """`batch simulator --log-requests FILE` is an option of the command."""
    names = {param.name for param in simulator_command.params}
    assert "log_requests" in names
