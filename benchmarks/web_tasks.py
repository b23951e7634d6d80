"""Measurement 7's child task: the web app, from an upload to the first page of the grid.

Runs `batch serve`'s app (uvicorn in a thread, loopback) over a fresh state directory, signs
in with `requests`, uploads the workbook, confirms the Columns page as it stands (which starts
checking every row into the upload's rows.sqlite3, the rest in the background once the first
chunk is stored) and asks for the first grid page: that whole path is the "upload to first
page" figure; "all checked" is when the background check has stored the last row. Then it asks
for grid pages spread over the table and reports their median.
"""

from __future__ import annotations

import re
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
import uvicorn

from batch.config import Settings
from batch.web import create_app
from batch.web.accounts import Accounts

__all__ = ["web_grid"]

PASSWORD = "benchmark password"  # noqa: S105 - a throwaway account in a temporary state
PAGES = 30


def _serve(settings: Settings) -> tuple[str, uvicorn.Server, threading.Thread]:
    # IPPROTO_TCP, not socket()'s protocol 0: asyncio turns Nagle off only on sockets that say
    # they are TCP, and with it on every keep-alive request waited 40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread


def _token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _columns_form(html: str, token: str) -> dict[str, str]:
    form = {"csrf": token, "action": "check"}
    for name in ("shown_sheet", "shown_row", "sheet", "header_row"):
        found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
        if found:
            form[name] = found.group(1)
    for index, header in re.findall(r'name="header-(\d+)" value="([^"]*)"', html):
        form[f"header-{index}"] = header
        options = re.search(rf'name="field-{index}">(.*?)</select>', html, re.DOTALL)
        chosen = re.search(r'<option value="([^"]+)" selected', options.group(1) if options else "")
        form[f"field-{index}"] = chosen.group(1) if chosen else "ignore"
    return form


def _until_checked(client: requests.Session, checking: str) -> None:
    """Poll the Check page's "still checking" line until the background check has ended."""
    while 'hx-trigger="every' in client.get(checking, timeout=60).text:
        time.sleep(0.05)


def first_total(client: requests.Session, url: str, upload_id: str) -> int:
    """How many rows the grid holds now."""
    answer = client.get(f"{url}/uploads/{upload_id}/rows?page=1&size=1", timeout=60).json()
    count: int = answer["last_row"]
    return count


def web_grid(path: str) -> dict[str, Any]:
    """Upload `path`, reach the first grid page; then the median time of one grid page."""
    with tempfile.TemporaryDirectory(prefix="bench-web-") as scratch:
        state = Path(scratch)
        settings = Settings(state_dir=state / "state", report_dir=state / "reports")
        Accounts(settings.state_dir).add("bench", PASSWORD)
        url, server, thread = _serve(settings)
        client = requests.Session()
        token = _token(client.get(f"{url}/login", timeout=30).text)
        page = client.post(
            f"{url}/login", data={"csrf": token, "name": "bench", "password": PASSWORD}, timeout=30
        )
        token = _token(page.text)
        data = Path(path).read_bytes()
        start, cpu_start = time.perf_counter(), time.process_time()
        columns = client.post(
            f"{url}/uploads",
            data={"csrf": token},
            files={"file": ("export.xlsx", data)},
            timeout=300,
        )
        checked = client.post(columns.url, data=_columns_form(columns.text, token), timeout=300)
        upload_id = checked.url.split("/")[-2]
        first = client.get(f"{url}/uploads/{upload_id}/rows?page=1&size=50", timeout=60).json()
        to_first_page = time.perf_counter() - start
        cpu_to_first_page = time.process_time() - cpu_start
        assert first["data"], "the first grid page came back empty"
        _until_checked(client, f"{url}/uploads/{upload_id}/checking")
        all_checked = time.perf_counter() - start
        rows = first_total(client, url, upload_id)
        total = -(-rows // 50)
        timings, cpu_timings = [], []
        for number in range(PAGES):
            wanted = 1 + (number * (total - 1)) // (PAGES - 1)
            began, cpu_began = time.perf_counter(), time.process_time()
            client.get(f"{url}/uploads/{upload_id}/rows?page={wanted}&size=50", timeout=60).json()
            timings.append(time.perf_counter() - began)
            cpu_timings.append(time.process_time() - cpu_began)
        server.should_exit = True
        thread.join(30)
    return {
        "rows": rows,
        "seconds": to_first_page,
        "all_checked": all_checked,
        "page_ms": 1000 * statistics.median(timings),
        "page_ms_max": 1000 * max(timings),
        "cpu_to_first_page": cpu_to_first_page,
        "page_cpu_ms": 1000 * statistics.median(cpu_timings),
    }
