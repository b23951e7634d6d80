"""The child process of every measurement: `python -m benchmarks.child TASK JSON-ARGS`.

Runs one task in a fresh interpreter and prints its figures as one JSON line (the last line
of stdout), so that the parent can read this process's own peak RSS and CPU time from
`os.wait4` without the simulator's or another task's mixed in.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["TASKS", "main", "task"]


def report_writer(writer: str, rows: int) -> dict[str, Any]:
    """One writer of `benchmarks/report_bench.py` (its own child mode), figures as JSON."""
    from benchmarks import report_bench  # noqa: PLC0415 - only this task needs it

    argv, sys.argv = sys.argv, ["report_bench", "--child", writer, "--rows", str(rows)]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            report_bench.main()
    finally:
        sys.argv = argv
    figures: dict[str, Any] = json.loads(out.getvalue().strip().splitlines()[-1])
    figures["rows"] = rows
    return figures


# Task name -> "module:function". Only the task's own module is imported: a child's peak RSS
# is its own figure, and importing every task module (the web app's stack is ~230 MiB) would
# set every child's peak before its work began.
TASKS: dict[str, str] = {
    "xlsx-loader": "intake_tasks:xlsx_loader",
    "xlsx-intake": "intake_tasks:xlsx_intake",
    "xlsx-pandas": "intake_tasks:xlsx_pandas",
    "csv-intake": "intake_tasks:csv_intake",
    "csv-pandas": "intake_tasks:csv_pandas",
    "csv-rowwise": "intake_tasks:csv_rowwise",
    "report-writer": "child:report_writer",
    "engine": "submit_tasks:engine",
    "zeep-loop": "submit_tasks:zeep_loop",
    "client-loop": "submit_tasks:client_loop",
    "client-profile": "submit_tasks:client_profile",
    "client-breakdown": "submit_tasks:client_breakdown",
    "signed-breakdown": "signed_tasks:signed_breakdown",
    "engine-pool-signed": "pool_signing:pool_signed_engine",
    "engine-zeep-signed": "signed_tasks:zeep_signed_engine",
    "web-grid": "web_tasks:web_grid",
}


def task(name: str) -> Callable[..., dict[str, Any]]:
    """The function of task `name`, its module imported now."""
    module, function = TASKS[name].split(":")
    found: Callable[..., dict[str, Any]] = getattr(
        importlib.import_module(f"benchmarks.{module}"), function
    )
    return found


def main() -> int:
    """Run the task named on the command line; print its figures."""
    name, args = sys.argv[1], json.loads(sys.argv[2])
    result = task(name)(**args)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
