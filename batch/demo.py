"""`make run`: the main job on the bundled examples, against the embedded simulator.

Two runs, as a municipality would see them on two nights: first the historical migration file,
then the municipal export and a hand-made spreadsheet. The second run's workbook shows every
outcome: accepted rows, rows to fix, rows to drop, a row UDB kept failing on (Retry) and rows
already reported the night before (Unchanged). The demo keeps its journal in a temporary
directory so that every `make run` shows the same thing; real runs keep theirs in --state-dir.

It says what `batch run --quiet` says, in the same words and the same language (`BATCH_LANGUAGE`,
else the locale): the notices, the table, the next step. The log's machine lines are left out,
and the example files are named as a person in the project folder would type them.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from batch.cli.estimate import next_steps
from batch.config import resolve_settings
from batch.console import Console
from batch.i18n import N_, _, resolve_language, use_language
from batch.logging import configure_logging
from batch.outcomes import sheet_title
from batch.pipeline import RunResult, run_job
from batch.records import Outcome

__all__ = ["main"]

EXAMPLES = Path(__file__).resolve().parent.parent / "input_examples"
FIRST_NIGHT = ("historik-migrering.csv",)
SECOND_NIGHT = ("kommune-export.csv", "ungeliste-haandlavet.xlsx")
SHOWN = (Outcome.ACCEPTED, Outcome.FIX, Outcome.DROP, Outcome.RETRY, Outcome.UNCHANGED)
NIGHT = N_("night {number}: {files}")
AS_INTENDED = N_(
    "the demo ran as intended: open the workbooks above; `batch run` would exit {code} here "
    "(rows to fix, to drop and to retry)"
)
SHEETS_EMPTY = N_("the demo should show every outcome, but these sheets are empty: {sheets}")


def _shown(path: Path) -> Path:
    """The file as typed in the folder `make run` runs in (the project's), else in full."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _files(names: tuple[str, ...]) -> str:
    return ", ".join(str(_shown(EXAMPLES / name)) for name in names)


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
    use_language(resolve_language(settings.language))
    with console.progress() as progress:
        result = run_job(
            [_shown(EXAMPLES / name) for name in names],
            settings,
            notice=console.notice,
            on_total=progress.total,
            on_progress=progress.advance,
        )
    console.summary(result)
    for line in next_steps(result, dry_run=False):
        console.notice(line)
    return result


def main() -> int:
    """Run both nights; 0 when the second workbook shows every outcome, as intended."""
    configure_logging(log_format="console", quiet=True)
    console = Console()
    use_language(resolve_language(resolve_settings({}).language))  # before the first line
    with tempfile.TemporaryDirectory(prefix="batch-demo-") as state:
        console.notice(_(NIGHT).format(number=1, files=_files(FIRST_NIGHT)))
        _run(FIRST_NIGHT, Path(state), console)
        console.notice("\n" + _(NIGHT).format(number=2, files=_files(SECOND_NIGHT)))
        result = _run(SECOND_NIGHT, Path(state), console)
    missing = [sheet_title(outcome) for outcome in SHOWN if not result.counts.get(outcome)]
    if missing:
        console.error(_(SHEETS_EMPTY).format(sheets=", ".join(missing)))
        return 1
    console.notice("\n" + _(AS_INTENDED).format(code=result.exit_code))
    return 0


if __name__ == "__main__":
    sys.exit(main())
