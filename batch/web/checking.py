"""Checking an upload's rows in the background, so the grid shows its first page at once.

Reading and checking 20,000 rows takes a second or more of CPU, several on a shared machine;
the first page of the grid needs only the first chunk of them. A check runs in a thread of
its own, storing the rows chunk by chunk (`CheckedRows.build`), and the Check page opens as
soon as the first chunk is stored (a file of fewer rows than a chunk opens when it is all
checked). Until the check is done, the page says so, cell edits wait and Send waits for it.
One check per upload at a time: a new one waits for the one before.
"""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["CHUNK_ROWS", "Check", "Checks"]

log = structlog.get_logger(__name__)
CHUNK_ROWS = (
    2_000  # rows per stored chunk: the first page waits for two (the intake holds one back)
)


@dataclass
class Check:
    """One running check: whether its first rows are stored, whether it ended, and how."""

    first: threading.Event = field(default_factory=threading.Event)  # first rows stored, or ended
    done: threading.Event = field(default_factory=threading.Event)
    rows: int = 0  # rows stored so far
    error: BaseException | None = None


class Checks:
    """The checks running in this server, by upload id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, Check] = {}
        self._ended: dict[str, Check] = {}  # the last check of each upload, for its error

    def running(self, upload_id: str) -> Check | None:
        """The upload's check while it runs; None when there is none."""
        with self._lock:
            return self._running.get(upload_id)

    def failure(self, upload_id: str) -> BaseException | None:
        """What stopped the upload's last check, when it ended with an error."""
        with self._lock:
            ended = self._ended.get(upload_id)
        return None if ended is None else ended.error

    def start(self, upload_id: str, work: Callable[[Callable[[int], None]], object]) -> Check:
        """Run `work(stored)` in a thread (in this request's context: its language).

        `work` calls `stored(rows so far)` after each chunk it stored. A check already running
        for the upload is waited for first: its rows and the new ones never mix.
        """
        check = Check()
        context = contextvars.copy_context()
        with self._lock:
            before = self._running.get(upload_id)
            self._running[upload_id] = check
        thread = threading.Thread(
            target=context.run,
            args=(self._run, upload_id, check, before, work),
            name=f"check-{upload_id}",
            daemon=True,
        )
        thread.start()
        return check

    def _run(
        self,
        upload_id: str,
        check: Check,
        before: Check | None,
        work: Callable[[Callable[[int], None]], object],
    ) -> None:
        def stored(rows: int) -> None:
            check.rows = rows
            if rows >= CHUNK_ROWS:  # a smaller file is checked whole before its page opens
                check.first.set()

        try:
            if before is not None:
                before.done.wait()
            work(stored)
        except BaseException as error:  # noqa: BLE001 - handed to the page that waits for it
            check.error = error
            log.info("web check failed", upload=upload_id, error=type(error).__name__)
        finally:
            with self._lock:
                if self._running.get(upload_id) is check:
                    del self._running[upload_id]
                self._ended[upload_id] = check
            check.first.set()
            check.done.set()
