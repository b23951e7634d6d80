"""Start `tests/proxy_server.py` as a process of its own and read what went through it."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SERVER = Path(__file__).with_name("proxy_server.py")


@dataclass
class RunningProxy:
    """A proxy process: its URL and the request lines it has seen so far."""

    port: int
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT, without credentials."""
        return f"http://127.0.0.1:{self.port}"

    def url_with(self, user: str, password: str) -> str:
        """The proxy's URL with a user and password in it."""
        return f"http://{user}:{password}@127.0.0.1:{self.port}"

    def connects(self) -> list[str]:
        """The CONNECT targets it was asked for."""
        return [line.split()[1] for line in self.lines if line.startswith("CONNECT ")]


@contextlib.contextmanager
def proxy_process(*args: str) -> Iterator[RunningProxy]:
    """Run the test proxy with `args` (`--auth u:p`, `--refuse 502`, `--host name=ip`)."""
    process = subprocess.Popen(
        [sys.executable, str(SERVER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline().split()
    assert first, "the proxy did not start"
    assert first[0] == "PORT", first
    running = RunningProxy(int(first[1]), process)

    def collect() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            running.lines.append(line.strip())

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    try:
        yield running
    finally:
        process.terminate()
        process.wait(timeout=10)
        reader.join(timeout=5)
        process.stdout.close()
