"""`make run`: the main job on the bundled examples, against the embedded simulator.

Two runs, as a municipality would see them on two nights: first the historical migration file,
then the municipal export and a hand-made spreadsheet. The second run's workbook shows every
outcome: accepted rows, rows to fix, rows to drop, a row UDB kept failing on (Retry) and rows
already reported the night before (Unchanged). The demo keeps its journal in a temporary
directory so that every `make run` shows the same thing; real runs keep theirs in --state-dir.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from batch.config import resolve_settings
from batch.console import Console
from batch.logging import configure_logging
from batch.pipeline import RunResult, run_job
from batch.records import Outcome

__all__ = ["main"]

EXAMPLES = Path(__file__).resolve().parent.parent / "input_examples"
FIRST_NIGHT = ("historik-migrering.csv",)
SECOND_NIGHT = ("kommune-export.csv", "ungeliste-haandlavet.xlsx")
SHOWN = (Outcome.ACCEPTED, Outcome.FIX, Outcome.DROP, Outcome.RETRY, Outcome.UNCHANGED)


def _run(names: tuple[str, ...], state_dir: Path, console: Console) -> RunResult:
    settings = resolve_settings(
        {
            "state_dir": state_dir,
            "report_dir": Path("reports"),
            "institution": 751001,  # the spreadsheet has no institution column
            "max_attempts": 3,  # the demo's failing row gives up sooner
            "concurrency": 4,
            "rate": 50.0,
        }
    )
    with console.progress() as progress:
        result = run_job(
            [EXAMPLES / name for name in names],
            settings,
            notice=console.notice,
            on_total=progress.total,
            on_progress=progress.advance,
        )
    console.summary(result)
    return result


def main() -> int:
    """Run both nights; 0 when the second workbook shows every outcome, as intended."""
    configure_logging(log_format="console", quiet=True)
    console = Console()
    with tempfile.TemporaryDirectory(prefix="batch-demo-") as state:
        console.notice(f"night 1: {', '.join(FIRST_NIGHT)}")
        _run(FIRST_NIGHT, Path(state), console)
        console.notice(f"\nnight 2: {', '.join(SECOND_NIGHT)}")
        result = _run(SECOND_NIGHT, Path(state), console)
    missing = [outcome.value for outcome in SHOWN if not result.counts.get(outcome)]
    if missing:
        console.error(f"the demo should show every outcome, but these sheets are empty: {missing}")
        return 1
    console.notice(
        "\nThe demo ran as intended: open the workbook above. (`batch run` itself exits "
        f"{3 if result.counts[Outcome.RETRY] else 1} here, because of the rows to fix, drop "
        "and retry.)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
