"""`batch run --inbox` as the night runs it: real processes on a real folder, the simulator."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from batch.simulator import FaultConfig
from tests.e2e.helpers import run_cli, summary_of, workbook_of
from tests.e2e.nightly_kit import events, export, json_lines, settle, tmpfs
from tests.reliability.kit import Background, service_args, wait_for_requests

pytestmark = pytest.mark.slow
# A slow export job: a row every 50 ms, until it is killed.
WRITER = """
import sys, time
with open(sys.argv[1], "a") as out:
    while True:
        out.write("0101080000;751001\\r\\n")
        out.flush()
        time.sleep(0.05)
"""


@pytest.fixture
def night(tmp_path):
    """An inbox, a state and a report folder of one municipality."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return inbox, tmp_path / "state", tmp_path / "reports"


def _inbox_run(sim, night, *extra):
    inbox, state, reports = night
    return run_cli(
        "run", "--inbox", inbox, *extra, *service_args(sim), state_dir=state, report_dir=reports
    )


def test_a_second_inbox_run_is_refused_and_touches_nothing(tmp_path, fresh_simulator, night):
    """Two processes on one inbox: the second exits 2 and moves nothing; the first goes on.

    The first is slow (two seconds an answer) and is stopped with SIGTERM once the second has
    been refused: it ends as any stopped run does (143, its file still in the inbox), and the
    next night finishes the file.
    """
    inbox, state, reports = night
    sim = fresh_simulator(faults=FaultConfig(latency_ms=2000))
    export(inbox / "kui-export.csv", 60)
    command = ["run", "--inbox", inbox, *service_args(sim, "--concurrency", "1")]
    first = Background.start(*command, state_dir=state, report_dir=reports, logs=tmp_path / "1")
    wait_for_requests(sim, 1, first)
    second = run_cli(*command, state_dir=state, report_dir=reports)
    assert second.code == 2, second.output
    assert "another batch run is working on the inbox" in second.stderr
    assert [path.name for path in inbox.iterdir()] == ["kui-export.csv"]  # nothing moved
    assert first.process.poll() is None, "the first run should still be sending"
    first.process.send_signal(signal.SIGTERM)
    stopped = first.wait()
    assert stopped.code == 143, stopped.output
    assert "Traceback" not in stopped.output
    assert [path.name for path in inbox.iterdir()] == ["kui-export.csv"]  # rows left to send
    fast = fresh_simulator()
    last = run_cli(
        "run", "--inbox", inbox, *service_args(fast), state_dir=state, report_dir=reports
    )
    assert last.code == 0, last.output
    assert [path.name[:11] for path in (inbox / "done").iterdir()] == ["kui-export-"]
    summary = summary_of(workbook_of(reports))
    assert summary["accepted"] + summary["unchanged"] == 60


def test_office_locks_notes_and_hidden_files_are_left_alone(simulator, night):
    """Files open in LibreOffice or Excel, their lock files, a README and a note stay; exit 0."""
    inbox, _state, _reports = night
    export(inbox / "open-in-calc.csv")
    export(inbox / "open-in-excel.csv")
    export(inbox / "tonight.csv")
    extras = {
        ".~lock.open-in-calc.csv#": ",Mette Holm,kui-pc,02.12.2026 08:01,file:///home/mh;",
        "~$open-in-excel.csv": "Mette Holm",
        "README": "Læg kun KUI-eksporten her.",
        "husk.txt": "Husk at ringe til STIL om certifikatet.",
        ".partial-upload.csv": "CPRNr;",
    }
    for name, text in extras.items():
        (inbox / name).write_text(text, encoding="utf-8")
        settle(inbox / name)
    result = _inbox_run(simulator, night)
    assert result.code == 0, result.output
    assert not (inbox / "failed").exists()
    assert [path.name[:8] for path in (inbox / "done").iterdir()] == ["tonight-"]
    left = {path.name for path in inbox.iterdir() if path.is_file()}
    assert left == {"open-in-calc.csv", "open-in-excel.csv", *extras}
    reasons = {
        event["file"].rsplit("/", 1)[-1]: event["reason"]
        for event in events(result.stderr, "inbox file left alone")
    }
    assert (
        reasons["open-in-calc.csv"] == reasons["open-in-excel.csv"] == "open in an office program"
    )
    assert reasons["husk.txt"] == "a note, not an export"
    assert reasons["README"] == "not an export"


def test_a_file_still_being_written_is_left_for_the_next_night(tmp_path, simulator, night):
    """An export another process is still writing is neither read nor moved."""
    inbox, _state, _reports = night
    growing = inbox / "kui-export.csv"
    growing.write_text("CPRNr;KommuneInstitutionNummer\r\n", encoding="utf-8")
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            WRITER,
            str(growing),
        ]
    )
    try:
        result = _inbox_run(simulator, night)
    finally:
        writer.kill()
        writer.wait()
    assert result.code == 0, result.output
    assert growing.exists()
    assert not (inbox / "done").exists()
    assert not (inbox / "failed").exists()
    (left,) = events(result.stderr, "inbox file left alone")
    assert left["reason"] == "still being written"
    (finished,) = events(result.stderr, "inbox finished")
    assert (finished["files"], finished["left_alone"]) == (0, 1)


def test_ten_nights_of_one_file_name_keep_ten_files_and_count_only_new_fix_rows(simulator, night):
    """done/ keeps every night's kui-export.csv; a Fix row counts as new on its first night only."""
    inbox, _state, reports = night
    new_fix = []
    for n in range(10):
        broken = 2 if n >= 4 else 1  # night 5 brings one more broken row
        export(inbox / "kui-export.csv", 20 + n, broken=broken)
        result = _inbox_run(simulator, night)
        assert result.code == 1, result.output  # rows in Fix: the policy says 1 every night
        (line,) = events(result.stderr, "run finished")
        assert line["exit_code"] == 1
        new_fix.append(line["new_fix"])
        assert summary_of(workbook_of(reports))["new_fix"] == line["new_fix"]
    assert new_fix == [1, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    done = sorted(path.name for path in (inbox / "done").iterdir())
    assert len(done) == 10
    assert all(name.startswith("kui-export-") and name.endswith(".csv") for name in done)


def test_an_empty_inbox_says_so_and_require_file_makes_it_an_error(simulator, night):
    """Empty: exit 0 with an `inbox finished` line; with --require-file: exit 2 and a message."""
    inbox, _state, _reports = night
    quiet = _inbox_run(simulator, night, "--quiet")
    assert quiet.code == 0, quiet.output
    (line,) = events(quiet.stderr, "inbox finished")
    assert (line["files"], line["exit_code"]) == (0, 0)

    required = _inbox_run(simulator, night, "--require-file")
    assert required.code == 2, required.output
    (error,) = [event for event in json_lines(required.stderr) if event["level"] == "error"]
    assert "no export in the inbox" in str(error["message"])
    (line,) = events(required.stderr, "inbox finished")
    assert line["exit_code"] == 2
    assert not list(inbox.iterdir())


def test_an_inbox_on_a_read_only_file_system_is_a_set_up_problem(tmp_path, simulator):
    """The rows are sent, the file cannot move to done/: exit 4 with a message, the file stays."""
    state, reports = tmp_path / "state", tmp_path / "reports"
    with tmpfs(tmp_path / "mnt", "size=1m") as inbox:
        export(inbox / "kui-export.csv", 3)
        subprocess.run(["mount", "-o", "remount,ro", inbox], check=True)
        run = run_cli(
            "run", "--inbox", inbox, *service_args(simulator), state_dir=state, report_dir=reports
        )
        assert [path.name for path in inbox.iterdir()] == ["kui-export.csv"]
    assert run.code == 4, run.output
    assert "Traceback" not in run.output
    (stopped,) = events(run.stderr, "run stopped")
    assert "cannot be moved to" in str(stopped["message"])
    assert summary_of(workbook_of(reports))["accepted"] == 3
