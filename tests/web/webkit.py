"""The web tests' kit: the app served by uvicorn on loopback in a thread, and a signed-in client."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import uvicorn

from batch.config import Settings
from batch.web import create_app
from batch.web.accounts import Accounts

PASSWORD = "a long enough password"
USER = "anna"


@dataclass
class Served:
    """A running app: its address and settings."""

    url: str
    settings: Settings
    server: uvicorn.Server


@contextmanager
def serve(settings: Settings) -> Iterator[Served]:
    """Serve `create_app(settings)` on 127.0.0.1 and an ephemeral port until the block ends."""
    accounts = Accounts(settings.state_dir)
    if not accounts.verify(USER, PASSWORD):  # made again, its sessions would end (a new salt)
        accounts.add(USER, PASSWORD)
    app = create_app(settings)
    # IPPROTO_TCP: asyncio turns Nagle off only on sockets that say they are TCP (with socket()'s
    # protocol 0 each keep-alive request waits 40 ms for a delayed ACK, as `batch serve` never does)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # As `batch serve`: uvicorn trusts no proxy; the app decides (`trusted_proxies`).
    config = uvicorn.Config(app, log_level="warning", lifespan="off", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield Served(f"http://127.0.0.1:{port}", settings, server)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def settings_for(tmp_path: Path, **values: Any) -> Settings:
    """Settings with a state and report directory of the test's own."""
    values.setdefault("institution", 751001)
    return Settings(state_dir=tmp_path / "state", report_dir=tmp_path / "reports", **values)


def csrf_of(html: str) -> str:
    """The CSRF token a page carries."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def signed_in(url: str, name: str = USER) -> tuple[requests.Session, str]:
    """A client signed in as `name` (the test user), and its CSRF token."""
    client = requests.Session()
    client.headers["Accept-Language"] = "en"
    token = csrf_of(client.get(f"{url}/login", timeout=10).text)
    answer = client.post(
        f"{url}/login",
        data={"csrf": token, "name": name, "password": PASSWORD},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return client, csrf_of(answer.text)


def sign_in_browser(driver: Any, url: str, name: str = USER, wait: float = 60) -> None:
    """Sign in through the page, as a person does; back once the upload page shows."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{url}/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
    WebDriverWait(driver, wait).until(ready.presence_of_element_located((By.ID, "drop")))


def upload(
    client: requests.Session, url: str, token: str, name: str, data: bytes
) -> requests.Response:
    """POST one file to /uploads."""
    return client.post(
        f"{url}/uploads", data={"csrf": token}, files={"file": (name, data)}, timeout=30
    )


def columns_form(html: str, token: str, action: str = "check") -> dict[str, str]:
    """The Columns page's form as it stands (every select at its selected option)."""
    form = {"csrf": token, "action": action}
    for name in ("shown_sheet", "shown_row", "sheet", "header_row"):
        found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
        if found:
            form[name] = found.group(1)
    sheets = re.search(r'<select id="sheet" name="sheet"[^>]*>(.*?)</select>', html, re.DOTALL)
    if sheets:
        chosen_sheet = re.search(r'<option value="([^"]*)" selected', sheets.group(1))
        form["sheet"] = chosen_sheet.group(1) if chosen_sheet else ""
    for index, header in re.findall(r'name="header-(\d+)" value="([^"]*)"', html):
        form[f"header-{index}"] = header
        options = re.search(rf'name="field-{index}">(.*?)</select>', html, re.DOTALL)
        assert options
        chosen = re.search(r'<option value="([^"]+)" selected', options.group(1))
        form[f"field-{index}"] = chosen.group(1) if chosen else "ignore"
    return form
