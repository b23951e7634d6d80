"""Top frames of a profile, as data: pyinstrument sessions and py-spy's collapsed stacks.

Both give a list of `{function, where, self_pct, total_pct}`, ordered by self time:
self time says where the CPU goes, total time which call path costs most. A function that
calls itself is counted once per stack in `total_pct`. py-spy's samples are also sorted by
part of the run (thread and phase).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pyinstrument.frame import Frame
    from pyinstrument.session import Session

__all__ = ["PYSPY", "attach_pyspy", "pyinstrument_top", "pyspy_top"]

_BESIDE_PYTHON = Path(sys.executable).parent / "py-spy"  # the venv's, when PATH lacks it
PYSPY = str(_BESIDE_PYTHON) if _BESIDE_PYTHON.exists() else shutil.which("py-spy")
Top = list[dict[str, Any]]
Sums = tuple[defaultdict[str, float], defaultdict[str, float]]  # self and total time by key


def _top(
    self_time: Mapping[str, float],
    total_time: Mapping[str, float],
    whole: float,
    count: int,
    rank: Mapping[str, float] | None = None,
) -> Top:
    """The `count` keys ranked by `rank` (default: self time), as table rows."""
    ranked = sorted((rank or self_time).items(), key=lambda item: item[1], reverse=True)[:count]
    return [
        {
            "function": key.split(" @ ")[0],
            "where": key.split(" @ ")[1] if " @ " in key else "",
            "self_pct": round(100 * self_time.get(key, 0) / whole, 1),
            "total_pct": round(100 * total_time[key] / whole, 1),
        }
        for key, _ in ranked
    ]


def _walk(frame: Frame, stack: frozenset[str], sums: Sums) -> None:
    self_time, total_time = sums
    key = f"{frame.function} @ {frame.file_path_short}:{frame.line_no}"
    if frame.is_synthetic:  # pyinstrument's "[self]" and "[await]" leaves: the parent's time
        return
    children = list(frame.children)
    self_time[key] += frame.time - sum(c.time for c in children if not c.is_synthetic)
    if key not in stack:
        total_time[key] += frame.time
    for child in children:
        _walk(child, stack | {key}, sums)


def pyinstrument_top(session: Session, count: int = 12) -> Top:
    """The `count` functions with the most self time in a pyinstrument session."""
    root = session.root_frame()
    if root is None:
        return []
    sums: Sums = (defaultdict(float), defaultdict(float))
    _walk(root, frozenset(), sums)
    return _top(*sums, whole=root.time, count=count)


# (function, file) on a stack -> the part of the run it belongs to; the first match wins.
ROLES = (
    ("_work", "_run.py", "sending: worker threads (plan, build, post, read)"),
    ("_dispatch", "_run.py", "sending: dispatcher thread (pending rows from the journal)"),
    ("JournalWriter._loop", "_writer.py", "sending: journal writer thread (group commits)"),
    ("_ingest", "pipeline.py", "main thread: read, check and journal the rows"),
    ("_write", "pipeline.py", "main thread: write the workbook from the journal"),
    ("_supervise", "_run.py", "main thread: supervise the sending"),
)


def _role(frames: list[tuple[str, str]]) -> str:
    for function, file, role in ROLES:
        if (function, file) in frames:
            return role
    return "other (start-up, imports, set-up)"


def pyspy_top(raw: Path, count: int = 15) -> dict[str, Any]:
    """py-spy's raw (collapsed) output: samples by part of the run, and the top functions."""
    self_time: defaultdict[str, float] = defaultdict(float)
    total_time: defaultdict[str, float] = defaultdict(float)
    roles: Counter[str] = Counter()
    whole = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, text = line.rpartition(" ")
        if not stack or not text.isdigit():
            continue
        samples = int(text)
        frames = [_pyspy_frame(frame) for frame in stack.split(";")]
        keys = [f"{name} @ {where}" for name, where in frames]
        whole += samples
        self_time[keys[-1]] += samples
        for key in set(keys):
            total_time[key] += samples
        roles[
            _role([(name, where.split(":")[0].rsplit("/", 1)[-1]) for name, where in frames])
        ] += samples
    ours = {
        key: n
        for key, n in total_time.items()
        if _PROJECT in key and not any(wrapper in key for wrapper in _WRAPPERS)
    }
    return {
        "samples": whole,
        "roles": {role: round(100 * n / max(whole, 1), 1) for role, n in roles.most_common()},
        "top": _top(self_time, total_time, whole=max(whole, 1), count=count),
        "top_ours": _top(self_time, total_time, whole=max(whole, 1), count=count, rank=ours),
    }


_PROJECT = " @ batch/"
# The command's entry points: on nearly every main-thread stack, they say nothing.
_WRAPPERS = ("batch/__main__.py", "batch/cli/", "run_job @ batch/pipeline/__init__.py")


def _pyspy_frame(frame: str) -> tuple[str, str]:
    """`function (/path/pkg/file.py:12)` -> (`function`, `pkg/file.py:12`)."""
    name, _, where = frame.partition(" (")
    return name, "/".join(where.rstrip(")").rsplit("/", 2)[-2:])


def attach_pyspy(pid: int, out: Path, rate: int) -> subprocess.Popen[bytes] | None:
    """Sample the thread holding the GIL in `pid` until it exits; None without py-spy.

    `--gil` samples only the thread running Python, so a thread blocked on a lock or a socket
    never counts (py-spy's idle detection counts lock waits as busy; `--native`, which would
    show them, pauses the run at every sample and slowed it several-fold here). Samples / rate
    is then the time the GIL was held; the rest of the process's CPU ran without it (SQLite,
    socket and TLS calls). `--nonblocking` never pauses the run.
    """
    if PYSPY is None:
        return None
    command = [PYSPY, "record", "--pid", str(pid), "--rate", str(rate), "--nonblocking", "--gil"]
    command += ["--function", "--format", "raw", "--output", str(out)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
