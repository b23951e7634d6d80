"""The API tests' kit: a token, calls with it, a run followed to its end, the CLI beside it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests

from batch.web.api_jobs import ACTIVE
from batch.web.tokens import Tokens
from tests.e2e.helpers import Run, run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "input_examples"
EXPORT = EXAMPLES / "kommune-export.csv"
COUNTED = ("rows", "accepted", "ready", "fix", "drop", "retry", "unchanged")
PATIENCE = 120.0  # seconds a run may take on a busy machine before the test gives up


def token_for(state_dir: Path, name: str = "sagssystem") -> str:
    """A fresh token of `name` in `state_dir`."""
    return Tokens(state_dir).create(name)


def api(token: str) -> requests.Session:
    """A client that sends `token` as its bearer token, asking for English."""
    client = requests.Session()
    client.headers["Authorization"] = f"Bearer {token}"
    client.headers["Accept-Language"] = "en"
    return client


def submit(
    client: requests.Session, url: str, path: Path = EXPORT, **fields: str
) -> requests.Response:
    """POST a file to /api/runs with the form `fields`."""
    with path.open("rb") as handle:
        return client.post(
            f"{url}/api/runs", files={"file": (path.name, handle)}, data=fields, timeout=60
        )


def finished(client: requests.Session, url: str, run: str) -> dict[str, Any]:
    """GET /api/runs/{run} until the run has ended; its last answer."""
    deadline = time.monotonic() + PATIENCE
    while True:
        answer = client.get(f"{url}/api/runs/{run}", timeout=30)
        assert answer.status_code == 200, answer.text
        shown: dict[str, Any] = answer.json()
        if shown["status"] not in ACTIVE:
            return shown
        assert time.monotonic() < deadline, f"the run did not end: {shown}"
        time.sleep(0.2)


def cli(command: str, tmp_path: Path, *args: str | Path) -> Run:
    """`batch COMMAND ARGS` with the state and report folders of the test's served app."""
    return run_cli(
        command,
        *args,
        "--institution",
        "751001",
        state_dir=tmp_path / "state",
        report_dir=tmp_path / "reports",
    )


def counts(facts: dict[str, Any]) -> dict[str, int]:
    """The rows per outcome of a JSON summary or an API run."""
    return {key: int(facts.get(key, 0)) for key in COUNTED}
