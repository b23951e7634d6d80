"""The Prometheus textfile (`--metrics-file`): the night in numbers for node_exporter.

node_exporter's textfile collector reads every `*.prom` file in its folder; a file it reads
half-written would be dropped for that scrape, so the file is written under a temporary name
beside the target and renamed over it. It holds counts only, never a row, so it is readable by
others (0644): the collector usually runs as another user.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

__all__ = ["NightTally", "write_metrics"]

OUTCOMES = ("accepted", "fix", "drop", "retry", "unchanged")


@dataclass(slots=True)
class NightTally:
    """The runs of one command (an inbox runs one per file), added up for the metrics."""

    runs: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    new: dict[str, int] = field(default_factory=lambda: {"fix": 0, "drop": 0})
    version: str = ""
    certificates: dict[tuple[str, str], int] = field(default_factory=dict)  # (role, file)

    def add(self, facts: Mapping[str, object]) -> None:
        """Count one run's `run finished` facts."""
        self.runs += 1
        for outcome in OUTCOMES:
            self.rows[outcome] += _int(facts.get(outcome))
        for kind in self.new:
            self.new[kind] += _int(facts.get(f"new_{kind}"))
        self.version = str(facts.get("version") or self.version)
        certificates = facts.get("certificates")
        for certificate in certificates if isinstance(certificates, list) else []:
            key = (str(certificate["role"]), str(certificate["file"]))
            self.certificates[key] = _int(certificate["days_left"])


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(tally: NightTally, exit_code: int, now: float) -> str:
    """The textfile's content in Prometheus' exposition format."""
    lines = [
        "# HELP batch_exit_code Exit code of the last batch run (0 all done, 1 Fix/Drop, ...).",
        "# TYPE batch_exit_code gauge",
        f"batch_exit_code {exit_code}",
        "# HELP batch_last_run_timestamp_seconds When the last batch run ended.",
        "# TYPE batch_last_run_timestamp_seconds gauge",
        f"batch_last_run_timestamp_seconds {now:.3f}",
        "# HELP batch_runs Runs in the last command (one per inbox file).",
        "# TYPE batch_runs gauge",
        f"batch_runs {tally.runs}",
        "# HELP batch_rows Rows of the last command per outcome.",
        "# TYPE batch_rows gauge",
        *(f'batch_rows{{outcome="{o}"}} {n}' for o, n in tally.rows.items()),
        "# HELP batch_new_rows Rows in Fix or Drop not reported on an earlier night.",
        "# TYPE batch_new_rows gauge",
        *(f'batch_new_rows{{outcome="{o}"}} {n}' for o, n in tally.new.items()),
    ]
    if tally.version:
        lines += [
            "# HELP batch_info The version of batch that ran.",
            "# TYPE batch_info gauge",
            f'batch_info{{version="{_label(tally.version)}"}} 1',
        ]
    if tally.certificates:
        lines += [
            "# HELP batch_certificate_days_left Days until a configured certificate expires.",
            "# TYPE batch_certificate_days_left gauge",
            *(
                f'batch_certificate_days_left{{role="{_label(role)}",file="{_label(file)}"}} {days}'
                for (role, file), days in tally.certificates.items()
            ),
        ]
    return "\n".join(lines) + "\n"


def write_metrics(path: Path, tally: NightTally, exit_code: int) -> None:
    """Replace the textfile at `path` in one step (raises OSError when it cannot)."""
    work = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(work, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(render(tally, exit_code, time.time()))
        work.replace(path)
    except BaseException:
        work.unlink(missing_ok=True)
        raise
