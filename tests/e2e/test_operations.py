"""What operations sees: a report folder that fails, JSON-only output, backup, metrics."""

from __future__ import annotations

import socket
import sqlite3
import stat
import subprocess

import pytest

from batch import __version__
from batch.simulator import FaultConfig
from tests.e2e.helpers import run_cli, summary_of, workbook_of
from tests.e2e.nightly_kit import events, export, json_lines, tmpfs
from tests.reliability.kit import Background, service_args, wait_for_requests

pytestmark = pytest.mark.slow


def _fill(folder):
    """Fill a small file system to the last byte."""
    with (folder / "filler").open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_report_folder_that_fails_is_exit_4_and_batch_report_writes_it_later(
    tmp_path, simulator, fault
):
    """Rows are sent and recorded; exit 4 with its message; `batch report` writes the workbook."""
    state, source = tmp_path / "state", export(tmp_path / "kui-export.csv", 5, broken=1)
    with tmpfs(tmp_path / "mnt", "size=256k") as mounted:
        reports = mounted / "reports"
        reports.mkdir()
        if fault == "full":
            _fill(mounted)
        else:
            subprocess.run(["mount", "-o", "remount,ro", mounted], check=True)
        run = run_cli("run", source, *service_args(simulator), state_dir=state, report_dir=reports)
        assert not list(reports.glob("*.xlsx"))
    assert run.code == 4, run.output
    assert "Traceback" not in run.output
    (stopped,) = events(run.stderr, "run stopped")
    assert "cannot be written" in str(stopped["message"])
    assert "batch report" in str(stopped["message"])
    (finished,) = events(run.stderr, "run finished")
    assert (finished["accepted"], finished["fix"], finished["exit_code"]) == (5, 1, 4)
    assert finished["workbook"] is None

    later = tmp_path / "reports-later"
    report = run_cli("report", finished["run_id"], state_dir=state, report_dir=later)
    assert report.code == 1, report.output  # the run's own code: a row in Fix
    summary = summary_of(workbook_of(later))
    assert (summary["accepted"], summary["fix"], summary["run_id"]) == (5, 1, finished["run_id"])


def test_json_logs_are_json_on_every_line_of_every_outcome(tmp_path, simulator):
    """--log-format json: a run, a refused config, an unreadable file, a usage error: only JSON."""
    state, reports = tmp_path / "state", tmp_path / "reports"
    good = export(tmp_path / "kui-export.csv", 3)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    bad_config = tmp_path / "batch.toml"
    bad_config.write_text("concurency = 3\n", encoding="utf-8")
    service = service_args(simulator)
    runs = {
        "run": run_cli("run", good, *service, state_dir=state, report_dir=reports),
        "quiet": run_cli("run", good, "--quiet", *service, state_dir=state, report_dir=reports),
        "config": run_cli("run", good, "--config", bad_config, state_dir=state, report_dir=reports),
        "input": run_cli("run", broken, *service, state_dir=state, report_dir=reports),
        "usage": run_cli("run", state_dir=state, report_dir=reports),
    }
    for name, run in runs.items():
        assert run.stdout == "", name  # the table is for a terminal only
        assert json_lines(run.stderr), name
    assert [run.code for run in runs.values()] == [0, 0, 2, 2, 2]
    (finished,) = events(runs["quiet"].stderr, "run finished")  # --quiet keeps it
    assert finished["unchanged"] == 3
    assert finished["version"] == __version__
    assert "concurency" in str(events(runs["config"].stderr, "command refused")[0]["message"])
    assert events(runs["input"].stderr, "run refused")[0]["error"] == "InputError"
    assert events(runs["usage"].stderr, "usage error")[0]["exit_code"] == 2


def test_json_logs_name_the_lock_holder_in_json(tmp_path, fresh_simulator):
    """A run refused by the journal's lock says so in one JSON line, exit 2."""
    state, reports = tmp_path / "state", tmp_path / "reports"
    sim = fresh_simulator(faults=FaultConfig(latency_ms=2000))
    source = export(tmp_path / "kui-export.csv", 30)
    command = ["run", source, *service_args(sim, "--concurrency", "1")]
    first = Background.start(*command, state_dir=state, report_dir=reports, logs=tmp_path / "1")
    wait_for_requests(sim, 1, first)
    try:
        second = run_cli(*command, state_dir=state, report_dir=reports)
        backup = tmp_path / "backup" / "journal.sqlite3"
        backup.parent.mkdir()
        copied = run_cli("backup", backup, state_dir=state, report_dir=reports)
    finally:
        first.process.terminate()
        first.wait()
    assert second.code == 2, second.output
    (refused,) = events(second.stderr, "run refused")
    assert refused["error"] == "JournalLockedError"
    assert copied.code == 0, copied.output  # a backup while a run holds the lock
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    with sqlite3.connect(backup) as conn:
        ((status, version),) = conn.execute("SELECT status, version FROM runs").fetchall()
    assert (status, version) == ("running", __version__)  # the snapshot of a run under way
    again = run_cli("backup", backup, state_dir=state, report_dir=reports)
    assert again.code == 2, again.output  # never overwrites


def test_metrics_file_holds_the_night_for_node_exporter(tmp_path, simulator):
    """--metrics-file: exit code, rows per outcome, new Fix rows, the version."""
    metrics = tmp_path / "batch.prom"
    source = export(tmp_path / "kui-export.csv", 3, broken=1)
    run = run_cli(
        "run",
        source,
        "--metrics-file",
        metrics,
        *service_args(simulator),
        state_dir=tmp_path / "state",
        report_dir=tmp_path / "reports",
    )
    assert run.code == 1, run.output
    lines = set(metrics.read_text(encoding="utf-8").splitlines())
    assert "batch_exit_code 1" in lines
    assert 'batch_rows{outcome="accepted"} 3' in lines
    assert 'batch_new_rows{outcome="fix"} 1' in lines
    assert f'batch_info{{version="{__version__}"}} 1' in lines
    assert stat.S_IMODE(metrics.stat().st_mode) == 0o644


def test_each_retry_and_the_breaker_name_the_endpoint_and_the_cause(tmp_path, fresh_simulator):
    """A service answering 503, one refusing connections: every retry line says where and why."""
    source = export(tmp_path / "kui-export.csv", 3)
    down = fresh_simulator(faults=FaultConfig(error_503_rate=1.0, retry_after_seconds=0))
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/nobody-here"
    for n, (sim, extra, expected) in enumerate(
        (
            (down, [], {"http_status": 503}),
            (fresh_simulator(), ["--endpoint", closed], {"kind": "connection"}),
        )
    ):
        run = run_cli(
            "run", source, *service_args(sim, "--max-attempts", "2", *extra),
            state_dir=tmp_path / f"state-{n}", report_dir=tmp_path / "reports",
        )  # fmt: skip
        assert run.code == 3, run.output
        retries = events(run.stderr, "retrying")
        assert retries, run.stderr
        for line in retries:
            assert line["endpoint"], line
            assert expected.items() <= line.items(), line
            assert line["cause"], line
    assert any("Errno" in str(line["cause"]) or "refused" in str(line["cause"]) for line in retries)
