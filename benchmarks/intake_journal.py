"""Reading a CSV into the journal, as `batch run` does before sending: CPU seconds by phase.

    .venv/bin/python -m benchmarks.intake_journal [--rows 200000] [--keep FILE] [--tree DIR]

Prints the CPU time of the intake alone (chunks built), of the intake with every row built as a
`Row`, and of the intake with `Journal.add_rows` of every chunk (its own share given), each in
a fresh child process, on a `benchmarks.data` export. `--tree` runs the children on another
checkout's `batch` (e.g. an export of main), to compare two versions on the same file.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.data import Layout, write_csv

__all__ = ["main"]

MODES = ("intake", "rows", "journal")
ROOT = Path(__file__).resolve().parent.parent


def _child(path: Path, mode: str) -> str:
    """One mode in this process; its figures as one line."""
    from batch.intake import InputOptions, open_input  # noqa: PLC0415 - outside the parent
    from batch.journal import Journal  # noqa: PLC0415

    source = open_input(path, InputOptions(system_id="BENCH"))
    rows, inserting = 0, 0.0
    with tempfile.TemporaryDirectory() as state, Journal.open(Path(state)) as journal:
        run_id = journal.start_run(inputs=[str(path)], settings={})
        began = time.process_time()
        for chunk in source.chunks(datetime.now(UTC)):
            if mode == "rows":
                rows += sum(1 for _row in chunk)  # each one built as a `Row`
            else:
                rows += len(chunk)
            if mode == "journal":
                start = time.process_time()
                journal.add_rows(run_id, chunk)
                inserting += time.process_time() - start
        total = time.process_time() - began
    return f"{mode:8} rows={rows:,} cpu={total:.2f} s (add_rows {inserting:.2f} s)"


def main() -> None:
    """Generate the file if needed, then run each mode in a child process."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--keep", type=Path, help="the CSV to use (made if missing)")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose batch runs")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(_child(Path(args.child[0]), args.child[1]))
        return
    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep or Path(scratch) / "export.csv"
        if not path.exists():
            write_csv(path, Layout(args.rows, max(1, args.rows // 4)))
        env = {**os.environ, "PYTHONPATH": f"{args.tree.resolve()}{os.pathsep}{ROOT}"}
        for mode in MODES:
            command = [sys.executable, __file__, "--child", str(path), mode]
            done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
            print(done.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
