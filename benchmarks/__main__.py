"""`make bench`: eight measurements, each beside its baseline in the same run, as a table and JSON.

    python -m benchmarks [--quick] [--only 1,4] [--runs 3] [--out reports]

Speed is reported as ratios measured side by side (medians of `--runs` rounds, alternatives
taking turns), never against a fixed clock: the machine is shared and noisy. Every measured
thing runs in a child process of its own; the simulator in yet another. The figures are
printed as tables and written to `reports/bench-<date>.json` (readable by the owner only).
`--quick` divides every size by 20 for a smoke run; its figures are not the benchmark's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.common import ROOT, Context, Section, environment_note
from benchmarks.measure_e2e import measure_e2e
from benchmarks.measure_intake import measure_csv, measure_xlsx
from benchmarks.measure_journal import measure_journal
from benchmarks.measure_submit import measure_rate, measure_submit
from benchmarks.measure_web import measure_web
from benchmarks.measure_write import measure_write
from benchmarks.table import print_section, print_verdicts

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["main"]

MEASUREMENTS: dict[int, Callable[[Context], Section]] = {
    1: measure_xlsx,
    2: measure_csv,
    3: measure_write,
    4: measure_submit,
    5: measure_rate,
    6: measure_e2e,
    7: measure_journal,
    8: measure_web,
}


def _selection(text: str) -> list[int]:
    try:
        chosen = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError("--only takes numbers 1-8, e.g. 1,4") from None
    if not chosen or not set(chosen) <= set(MEASUREMENTS):
        raise argparse.ArgumentTypeError("--only takes numbers 1-8, e.g. 1,4")
    return chosen


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="every size / 20: a smoke run")
    parser.add_argument("--only", type=_selection, default=list(MEASUREMENTS), help="e.g. 1,4")
    parser.add_argument("--runs", type=int, default=3, help="rounds per measurement (median)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="folder for the JSON")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def _write_json(out: Path, document: dict[str, Any]) -> Path:
    """`bench-<date>.json`, created readable and writable by its owner only (like reports)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{datetime.now(UTC).astimezone():%Y-%m-%d}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode on open: set it anyway
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(document, file, indent=2, ensure_ascii=False, default=str)
        file.write("\n")
    return path


def _run(args: argparse.Namespace, scratch: Path) -> list[Section]:
    ctx = Context(runs=args.runs, quick=args.quick, scratch=scratch)
    sections = []
    for number in args.only:
        print(f"\n== measurement {number} ==", flush=True)
        began = time.perf_counter()
        section = MEASUREMENTS[number](ctx)
        section.extra["measurement_seconds"] = round(time.perf_counter() - began, 1)
        print_section(section)
        sections.append(section)
    return sections


def main(argv: list[str] | None = None) -> int:
    """Run the selected measurements; print the tables; write the JSON report."""
    args = _arguments(argv)
    command = "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])
    machine = list(environment_note())
    print(f"{command.strip()}\n" + "\n".join(machine), flush=True)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="batch-bench-") as scratch:
        sections = _run(args, Path(scratch))
    total = time.perf_counter() - began
    print_verdicts(sections)
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command.strip(),
        "quick": args.quick,
        "runs": args.runs,
        "machine": [*machine, platform.platform()],
        "total_seconds": round(total, 1),
        "sections": [section.as_json() for section in sections],
    }
    path = _write_json(args.out, document)
    print(f"\ntotal {total / 60:.1f} min; figures written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
