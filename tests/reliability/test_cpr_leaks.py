"""Personal data: no unmasked CPR number in any log line, console output or error text.

An end-to-end run with every kind of fault (503, 500, UDB's 101, dropped connections, read
timeouts) and every outcome, CPR numbers written three ways, then `batch status` and runs that
fail on files whose rows hold CPR numbers, with the console log format. Every byte printed is
scanned for each CPR of the input, with and without hyphen, and for anything
that looks like one.
"""

from __future__ import annotations

import re

import pytest

from batch.simulator import FaultConfig
from tests.e2e.helpers import UNMASKED_CPR, run_cli
from tests.reliability.kit import HEADER, Book, good_rows, service_args, write_csv

pytestmark = pytest.mark.slow

UNKNOWN = "0101084123"  # not in the registry: UDB answers 14
OTHER_KUI = "1212074715"  # lives in KUI 101001: UDB answers 86
TOO_OLD = "2708913389"  # born 1991: the local age check (15), never sent
BAD_DATE = "3102084123"  # 31 February: invalid, to Fix
LOST_ZERO = "603114290"  # 0603114290 as Excel shows it without its leading zero


def _forms(cpr: str) -> set[str]:
    digits = cpr.zfill(10)
    return {digits, f"{digits[:6]}-{digits[6:]}", f"{digits[:6]} {digits[6:]}", digits.lstrip("0")}


def _input_rows() -> list[list[str]]:
    rows = good_rows(24)
    for n, row in enumerate(rows):
        if n % 3 == 1:
            row[0] = f"{row[0][:6]}-{row[0][6:]}"
        elif n % 3 == 2:
            row[0] = f"{row[0][:6]} {row[0][6:]}"
    extra = good_rows(5, first=100)
    for row, cpr in zip(extra, (UNKNOWN, OTHER_KUI, TOO_OLD, BAD_DATE, LOST_ZERO), strict=True):
        row[0] = cpr
    return rows + extra


def test_no_cpr_in_any_output_of_a_run_with_faults(tmp_path, fresh_simulator):
    """Logs, console and error lines of runs with faults and bad files hold no unmasked CPR."""
    faults = FaultConfig(
        error_503_rate=0.1,
        error_500_rate=0.1,
        udb_101_rate=0.1,
        drop_rate=0.1,
        slow_rate=0.1,
        slow_seconds=2.0,
        seed=42,
    )
    sim = fresh_simulator(faults=faults)
    state, reports = tmp_path / "state", tmp_path / "reports"
    rows = _input_rows()
    source = write_csv(tmp_path / "export.csv", rows)
    service = service_args(sim, "--rate", "1000", "--max-attempts", "2")
    dirs = {"state_dir": state, "report_dir": reports}
    timeout = {"BATCH_READ_TIMEOUT": "0.5"}
    runs = [run_cli("run", source, *service, **dirs, env=timeout)]
    book = Book.newest(reports)
    assert runs[0].code == 3, runs[0].output  # some rows kept failing: every kind of outcome
    for sheet in ("Accepted", "Fix", "Drop", "Retry"):
        assert book.rows(sheet), f"no row in {sheet}"
    assert any(not r.ok for r in sim.received())

    runs.append(run_cli("status", **dirs))
    no_header = write_csv(tmp_path / "no-header.csv", rows[:3], header=rows[3])
    runs.append(run_cli("run", no_header, *service, **dirs))
    missing = write_csv(tmp_path / "missing.csv", [r[:2] for r in rows], header=HEADER[:2])
    console = {"BATCH_LOG_FORMAT": "console"}
    runs.append(run_cli("run", missing, *service, **dirs, env=console))
    assert [run.code for run in runs[2:4]] == [2, 2]
    assert "XXXX" in runs[2].stderr  # the first row was shown, masked

    printed = "\n".join(run.output for run in runs)
    assert "run finished" in printed
    assert UNMASKED_CPR.findall(printed) == []
    for row in rows:
        for form in _forms(re.sub(r"[^0-9]", "", row[0])):
            assert form not in printed, f"{form[:6]}... printed unmasked"
