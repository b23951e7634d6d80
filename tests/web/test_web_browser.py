"""The whole flow in a real headless Chromium against the UDB simulator, with screenshots."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select, WebDriverWait

from batch.i18n import every_translation
from batch.outcomes import sheet_names_for
from batch.records import Outcome
from batch.report import AGED_SHEET
from tests.web.webkit import PASSWORD, USER

_REAL_RUN = (Outcome.ACCEPTED, Outcome.FIX, Outcome.DROP, Outcome.RETRY, Outcome.UNCHANGED)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "input_examples" / "ungeliste-haandlavet.xlsx"
SHOTS = ROOT / "reports" / "screenshots"
WAIT = 60  # seconds: a generous bound for a shared, noisy machine, never a timing assertion

pytestmark = pytest.mark.slow


def _shot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def _wait(driver):
    return WebDriverWait(driver, WAIT)


def _sign_in(driver, url: str) -> None:
    driver.get(f"{url}/login")
    _shot(driver, "01-sign-in")
    driver.find_element(By.ID, "name").send_keys(USER)
    driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
    _wait(driver).until(ready.presence_of_element_located((By.ID, "drop")))


def _grid_cell(driver, row_number: int, column: str):
    """The grid cell of file row `row_number` in column `c<i>`."""
    rows = driver.find_elements(By.CSS_SELECTOR, "#grid .tabulator-row")
    for row in rows:
        first = row.find_element(By.CSS_SELECTOR, '.tabulator-cell[tabulator-field="n"]')
        if first.text.strip() == str(row_number):
            return row.find_element(By.CSS_SELECTOR, f'.tabulator-cell[tabulator-field="{column}"]')
    raise AssertionError(f"row {row_number} is not in the grid")


def _edit(driver, row_number: int, column: str, text: str) -> None:
    cell = _grid_cell(driver, row_number, column)
    cell.click()
    editor = _wait(driver).until(lambda _driver: cell.find_element(By.TAG_NAME, "input"))
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(text + Keys.ENTER)


def _ready_sentence(driver) -> str:
    """The Check page's "N rows are ready to send." as it stands."""
    return driver.find_element(By.ID, "ready-text").text.strip()


def _status_of(driver, row_number: int) -> str:
    """The row's status badge; empty while the grid redraws the row."""
    try:
        return _grid_cell(driver, row_number, "label").text.strip()
    except (AssertionError, StaleElementReferenceException):
        return ""


def test_the_whole_flow_in_a_browser(served, browser):
    """Sign in, upload the example workbook, change a mapping, fix a cell, send, download."""
    driver = browser
    _sign_in(driver, served.url)
    assert "Upload en fil" in driver.page_source  # Danish for a Danish browser
    driver.find_element(By.ID, "file").send_keys(str(EXAMPLE))
    _shot(driver, "02-upload")
    driver.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()

    _wait(driver).until(ready.presence_of_element_located((By.ID, "columns-form")))
    phone = Select(driver.find_element(By.ID, "field-3"))
    assert phone.first_selected_option.get_attribute("value") == "KontaktTelefon"
    driver.find_element(By.ID, "mapping-name").send_keys("Ungeliste")
    driver.find_element(By.CSS_SELECTOR, "#mapping-name ~ button, form[hx-post] button").click()
    _wait(driver).until(
        lambda d: "Gemt som Ungeliste" in d.find_element(By.ID, "mapping-saved").text
    )
    phone = Select(driver.find_element(By.ID, "field-3"))
    phone.select_by_value("ignore")  # the phone column is left out of the reports
    _shot(driver, "03-columns")
    driver.find_element(By.CSS_SELECTOR, "button[value=check]").click()

    _wait(driver).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, "#grid .tabulator-row"))
    )
    assert _status_of(driver, 4) == "Klar"
    _edit(driver, 4, "c2", "ikke-en-mail")
    _wait(driver).until(lambda d: _status_of(d, 4) == "Ret")
    assert "has-problem" in _grid_cell(driver, 4, "c2").get_attribute("class")
    _wait(driver).until(lambda d: _ready_sentence(d).startswith("4 rækker"))  # was 5
    _shot(driver, "04-check-with-a-problem")
    _edit(driver, 4, "c2", "anne.friis@kui.example-kommune.dk")
    _wait(driver).until(lambda d: _status_of(d, 4) == "Klar")
    _wait(driver).until(lambda d: _ready_sentence(d).startswith("5 rækker"))
    _shot(driver, "05-check-fixed")

    driver.find_element(By.ID, "send").click()
    _wait(driver).until(ready.presence_of_element_located((By.ID, "progress")))
    assert "simulator" in driver.find_element(By.CSS_SELECTOR, ".alert.warn").text.lower()
    _shot(driver, "06-send")
    _wait(driver).until(ready.url_contains("/result"))
    _wait(driver).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, "#grid .tabulator-row"))
    )
    _shot(driver, "07-result")

    link = driver.find_element(By.ID, "download").get_attribute("href")
    client = requests.Session()
    for cookie in driver.get_cookies():
        client.cookies.set(cookie["name"], cookie["value"])
    answer = client.get(link, timeout=30)
    assert answer.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    # The workbook speaks the browser's language (Danish here: "Godkendt", "Ret", ...).
    sheets = {name for outcome in _REAL_RUN for name in sheet_names_for(outcome)}
    sheets |= set(every_translation(AGED_SHEET))
    present = [name for name in workbook.sheetnames if name in sheets]
    rows = sum(workbook[name].max_row - 1 for name in present)
    assert rows == 5  # every row of the example sheet, each in exactly one sheet


def test_cell_text_is_shown_as_text_in_the_browser(served, browser, tmp_path):
    """A cell holding <script> or <img onerror> is shown as written and runs nothing."""
    hostile = tmp_path / "fjendtlig.csv"
    hostile.write_text(
        "CPRNr;KontaktNavn;KontaktMail;KontaktRegistreringstid\n"
        '0101085123;<img src=x onerror="window.hacked=1">;a@b.dk;2025-08-18 09:00\n'
        "0101085123;<script>window.hacked=2</script>;ikke-mail;2025-08-18 09:00\n",
        encoding="utf-8",
    )
    driver = browser
    _sign_in(driver, served.url)
    driver.find_element(By.ID, "file").send_keys(str(hostile))
    driver.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
    _wait(driver).until(ready.presence_of_element_located((By.ID, "columns-form")))
    driver.find_element(By.CSS_SELECTOR, "button[value=check]").click()
    _wait(driver).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, "#grid .tabulator-row"))
    )
    assert driver.execute_script("return window.hacked === undefined")
    assert "<script>window.hacked=2</script>" in driver.find_element(By.ID, "grid").text
