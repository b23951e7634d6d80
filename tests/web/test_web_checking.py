"""Rows checked in the background: the Check page opens on the first chunk, the rest follow."""

from __future__ import annotations

import threading
import time

from batch.web.checking import CHUNK_ROWS, Checks
from tests.web.webkit import PASSWORD, USER, columns_form, signed_in, upload

WAIT = 120  # seconds: a generous bound for a shared, noisy machine, never a timing assertion


def test_a_check_tells_its_first_rows_and_the_next_waits_for_it():
    """The first stored chunk sets `first`; a second check of the upload waits for the first."""
    checks = Checks()
    release = threading.Event()
    order: list[str] = []

    def slow(stored):
        stored(CHUNK_ROWS)
        release.wait(WAIT)
        order.append("first")

    def quick(stored):
        order.append("second")
        stored(1)

    one = checks.start("upload", slow)
    assert one.first.wait(WAIT)
    assert checks.running("upload") is one
    two = checks.start("upload", quick)
    assert not two.first.is_set()  # still behind the first check
    release.set()
    assert two.done.wait(WAIT)
    assert order == ["first", "second"]
    assert checks.running("upload") is None
    assert checks.failure("upload") is None


def test_an_error_ends_the_check_and_is_kept():
    """A check that fails sets `first` and `done` and keeps its error for the page."""
    checks = Checks()

    def broken(_stored):
        raise ValueError("unreadable")

    check = checks.start("upload", broken)
    assert check.done.wait(WAIT)
    assert check.first.is_set()
    assert isinstance(checks.failure("upload"), ValueError)


def test_a_large_file_opens_on_its_first_rows_and_ends_with_all_of_them(served):
    """Check opens while rows are still read; polling the line ends with every row counted."""
    client, token = signed_in(served.url)
    rows = 3 * CHUNK_ROWS + 7
    lines = ["CPRNr;KontaktNavn;KontaktMail;KontaktRegistreringstid"]
    lines += [f"0303064561;Bo Berg {n};bo{n}@example.dk;2025-08-18 09:00" for n in range(rows)]
    page = upload(client, served.url, token, "stor.csv", "\n".join(lines).encode())
    check = client.post(page.url, data=columns_form(page.text, token), timeout=60)
    assert check.url.endswith("/check")
    base = check.url.removesuffix("/check")
    deadline = time.monotonic() + WAIT
    line = client.get(f"{base}/checking", timeout=30)
    while 'hx-trigger="every' in line.text and time.monotonic() < deadline:
        assert "Checking the rows" in line.text
        time.sleep(0.2)
        line = client.get(f"{base}/checking", timeout=30)
    assert line.headers.get("hx-trigger-after-settle") == "rows-checked"
    assert 'id="ready-text" hx-swap-oob="true"' in line.text
    assert client.get(f"{base}/rows", timeout=30).json()["last_row"] == rows
    assert f'id="count-all">{rows}<' in client.get(check.url, timeout=30).text


def test_the_page_follows_the_check_to_its_end_in_a_browser(served, browser, tmp_path):
    """In Chromium: once every row is checked the counts, Send and the grid's last page follow."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    rows = 3 * CHUNK_ROWS + 7
    big = tmp_path / "stor.csv"
    lines = ["CPRNr;KontaktNavn;KontaktMail;KontaktRegistreringstid"]
    lines += [f"0303064561;Bo Berg {n};bo{n}@example.dk;2025-08-18 09:00" for n in range(rows)]
    big.write_text("\n".join(lines), encoding="utf-8")
    # The counts are drawn again when the check ends: an element read then is read anew.
    driver = browser
    wait = WebDriverWait(driver, WAIT, ignored_exceptions=[StaleElementReferenceException])
    driver.get(f"{served.url}/login")
    driver.find_element(By.ID, "name").send_keys(USER)
    driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
    wait.until(ready.presence_of_element_located((By.ID, "drop")))
    driver.find_element(By.ID, "file").send_keys(str(big))
    driver.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
    wait.until(ready.presence_of_element_located((By.ID, "columns-form")))
    driver.find_element(By.CSS_SELECTOR, "button[value=check]").click()
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "#grid .tabulator-row")))
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '[data-count="all"]').text == str(rows))
    assert not driver.find_element(By.ID, "checking").is_displayed()
    assert driver.find_element(By.ID, "ready-text").text.startswith(f"{rows} rækker")
    wait.until(lambda d: d.find_element(By.ID, "send").is_enabled())
    pages = "return Tabulator.findTable('#grid')[0].getPageMax();"
    wait.until(lambda d: d.execute_script(pages) == -(-rows // 50))  # loaded again at the end
