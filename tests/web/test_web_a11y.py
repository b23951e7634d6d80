"""WCAG 2.1 A/AA in a real browser: axe-core on every page, keyboard-only use, the language switch.

axe-core is vendored beside the app's other assets but never served by it: the test reads the
file and injects it into each page (`_axe`), so a municipality's users never download it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from batch.web.accounts import Accounts
from tests.web.webkit import PASSWORD, USER, columns_form, csrf_of, signed_in, upload

ROOT = Path(__file__).resolve().parents[2]
AXE = next((ROOT / "batch" / "web" / "static" / "vendor").glob("axe-core-*/axe.min.js"))
EXAMPLE = ROOT / "input_examples" / "ungeliste-haandlavet.xlsx"
SHOTS = ROOT / "reports" / "screenshots"
WAIT = 60  # seconds: a generous bound for a shared, noisy machine, never a timing assertion
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MAX_TABS = 80  # more Tab presses than any page needs to reach its last control
RUN_AXE = """
var done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: "tag", values: arguments[0]}}).then(function (result) {
  done(result.violations.map(function (v) {
    var where = v.nodes.map(function (n) {
      return n.target.join(" ") + " [" + n.failureSummary + "]";
    });
    return v.id + " (" + v.impact + "): " + v.help + " at " + where.join(", ");
  }));
}).catch(function (error) { done(["axe failed: " + error]); });
"""
CELL_TEXT = """
var rows = document.querySelectorAll("#grid .tabulator-row");
for (var i = 0; i < rows.length; i++) {
  var n = rows[i].querySelector("[tabulator-field=n]");
  if (n && n.textContent.trim() === String(arguments[0])) {
    return rows[i].querySelector("[tabulator-field=" + arguments[1] + "]").textContent;
  }
}
return "";
"""

pytestmark = pytest.mark.slow


def _wait(driver):
    # An element can be drawn again while it is read (a row after an edit): read it anew.
    return WebDriverWait(driver, WAIT, ignored_exceptions=[StaleElementReferenceException])


def _shot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"a11y-{name}.png"))


def _axe(driver, page: str) -> None:
    """Run axe-core on the page as it stands; fail with each WCAG A/AA violation it reports."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(RUN_AXE, WCAG_TAGS)
    _shot(driver, page)
    assert found == [], f"{page}: " + "; ".join(found)


def _keys(driver, *keys: str) -> None:
    ActionChains(driver).send_keys(*keys).perform()


def _active(driver):
    return driver.switch_to.active_element


def _tab_to(driver, css: str) -> None:
    """Press Tab until the focus is on the element `css` names (a keyboard user's way there)."""
    for _press in range(MAX_TABS):
        if driver.execute_script("return document.activeElement.matches(arguments[0])", css):
            return
        _keys(driver, Keys.TAB)
    raise AssertionError(f"{css} cannot be reached with Tab")


def _sign_in_by_keyboard(driver, url: str) -> None:
    driver.get(f"{url}/login")
    _tab_to(driver, "#name")
    _keys(driver, USER, Keys.TAB, PASSWORD, Keys.ENTER)
    _wait(driver).until(ready.presence_of_element_located((By.ID, "drop")))


def _grid_loaded(driver) -> None:
    _wait(driver).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, "#grid .tabulator-row"))
    )


def _cell_text(driver, row_number: int, field: str) -> str:
    return driver.execute_script(CELL_TEXT, row_number, field)


def test_every_page_has_no_wcag_a_or_aa_violation(served, browser):
    """axe-core finds no WCAG 2.1 A/AA violation on any page, from sign-in to the error page."""
    driver = browser
    driver.get(f"{served.url}/login")
    _axe(driver, "login")
    driver.find_element(By.ID, "name").send_keys(USER)
    driver.find_element(By.ID, "password").send_keys("wrong password" + Keys.ENTER)
    _wait(driver).until(ready.presence_of_element_located((By.CSS_SELECTOR, ".alert.error")))
    _axe(driver, "login-refused")
    driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
    _wait(driver).until(ready.presence_of_element_located((By.ID, "drop")))
    _axe(driver, "upload")
    driver.find_element(By.ID, "file").send_keys(str(EXAMPLE))
    driver.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
    _wait(driver).until(ready.presence_of_element_located((By.ID, "columns-form")))
    _axe(driver, "columns")
    driver.find_element(By.CSS_SELECTOR, "button[value=check]").click()
    _grid_loaded(driver)
    _axe(driver, "check")
    upload_path = driver.current_url.rsplit("/", 1)[0]
    driver.find_element(By.ID, "send").click()
    _wait(driver).until(ready.url_contains("/result"))
    _grid_loaded(driver)
    _axe(driver, "result")
    driver.get(f"{upload_path}/send")  # the send page of a finished send
    _axe(driver, "send")
    driver.get(f"{served.url}/uploads/nosuchuploadnosuchupload/columns")
    _axe(driver, "error")


def test_the_team_pages_have_no_wcag_a_or_aa_violation(served, browser):
    """axe-core finds no WCAG 2.1 A/AA violation on Runs, a run, audit log, accounts, API help."""
    Accounts(served.settings.state_dir).add(USER, PASSWORD, role="admin")
    driver = browser
    _sign_in_by_keyboard(driver, served.url)
    driver.find_element(By.ID, "file").send_keys(str(EXAMPLE))
    driver.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
    _wait(driver).until(ready.presence_of_element_located((By.ID, "columns-form")))
    driver.find_element(By.CSS_SELECTOR, "button[value=check]").click()
    _grid_loaded(driver)
    driver.find_element(By.ID, "send").click()
    _wait(driver).until(ready.url_contains("/result"))
    driver.get(f"{served.url}/runs")
    _axe(driver, "runs")
    driver.find_element(By.CSS_SELECTOR, "#runs tr[data-run] a").click()
    _wait(driver).until(ready.url_matches(r"/runs/[^/]+$"))
    _axe(driver, "run")
    for page in ("admin/audit", "admin/users", "help/api"):
        driver.get(f"{served.url}/{page}")
        _axe(driver, page.replace("/", "-"))


def test_the_whole_flow_by_keyboard_alone(served, browser):
    """Tab, Enter, Space and arrow keys only: sign in, upload, columns, check and edit, send."""
    driver = browser
    _sign_in_by_keyboard(driver, served.url)
    _tab_to(driver, "#file")
    _active(driver).send_keys(str(EXAMPLE))  # a file chooser is the system's own dialog
    _tab_to(driver, "#upload-form button[type=submit]")
    _keys(driver, Keys.ENTER)

    _wait(driver).until(ready.presence_of_element_located((By.ID, "columns-form")))
    _tab_to(driver, "#field-3")  # the phone column: leave it out, by arrow keys on the select
    _keys(driver, Keys.HOME)
    assert driver.find_element(By.ID, "field-3").get_attribute("value") == "ignore"
    _tab_to(driver, "button[value=check]")
    _keys(driver, Keys.SPACE)

    _grid_loaded(driver)
    _tab_to(driver, "#filter input:checked")  # the filter: one stop, arrows choose
    _keys(driver, Keys.ARROW_RIGHT)
    assert _active(driver).get_attribute("value") == "ready"
    _keys(driver, Keys.ARROW_LEFT)
    assert _active(driver).get_attribute("value") == ""
    _grid_loaded(driver)
    _tab_to(driver, "#grid .tabulator-cell[tabindex='0']")  # the grid is one Tab stop
    _keys(driver, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)  # row 4: CPR number -> name -> e-mail
    assert _active(driver).get_attribute("tabulator-field") == "c2"
    assert _cell_text(driver, 4, "c2").startswith("anne.friis@")
    _keys(driver, Keys.ENTER)  # edit
    _active(driver).send_keys(Keys.CONTROL, "a")  # the editor's own text, all of it
    _keys(driver, "ikke-en-mail", Keys.ENTER)  # save
    _wait(driver).until(lambda d: _active(d).get_attribute("tabulator-field") == "c2")
    _wait(driver).until(lambda d: "ikke-en-mail" in _cell_text(d, 4, "c2"))
    _wait(driver).until(lambda d: "4 " in d.find_element(By.ID, "ready-text").text)
    _tab_to(driver, "#send")
    _keys(driver, Keys.ENTER)

    _wait(driver).until(ready.url_contains("/result"))
    _grid_loaded(driver)
    _tab_to(driver, "#download")
    assert driver.find_element(By.CSS_SELECTOR, ".stats .status-fix dd").text == "1"


def test_language_follows_the_browser_and_the_switch(served, browser):
    """A Danish browser gets Danish pages; the switch turns every page and the grid English."""
    driver = browser
    driver.get(f"{served.url}/login")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "da"
    assert "Log ind" in driver.find_element(By.TAG_NAME, "h1").text
    _tab_to(driver, "#language button")
    _keys(driver, Keys.ENTER)
    _wait(driver).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Sign in"
    driver.find_element(By.ID, "name").send_keys(USER)
    driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
    _wait(driver).until(ready.presence_of_element_located((By.ID, "drop")))
    assert "Upload a file" in driver.find_element(By.TAG_NAME, "h1").text  # kept after sign-in
    driver.find_element(By.ID, "file").send_keys(str(EXAMPLE))
    driver.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
    _wait(driver).until(ready.presence_of_element_located((By.ID, "columns-form")))
    driver.find_element(By.CSS_SELECTOR, "button[value=check]").click()
    _grid_loaded(driver)
    assert _cell_text(driver, 4, "label") == "Ready"
    assert (
        driver.find_element(By.CSS_SELECTOR, ".tabulator-page[data-page='1']")
        .get_attribute("aria-label")
        .startswith("Show page")
    )
    driver.find_element(By.CSS_SELECTOR, "#language button").click()
    _grid_loaded(driver)
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "da"
    assert "Tjek rækkerne" in driver.find_element(By.TAG_NAME, "h1").text  # the same page
    assert _cell_text(driver, 4, "label") == "Klar"


def test_the_switch_overrides_accept_language_over_http(served):
    """The chosen language wins over Accept-Language, and a foreign `next` is not followed."""
    client, token = signed_in(served.url)
    assert "Upload a file" in client.get(f"{served.url}/", timeout=10).text
    answer = client.post(
        f"{served.url}/language",
        data={"csrf": token, "language": "da", "next": "//evil.example/"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    page = client.get(f"{served.url}/", timeout=10).text
    assert "Upload en fil" in page
    assert csrf_of(page) == token
    refused = client.post(f"{served.url}/language", data={"language": "en"}, timeout=10)
    assert refused.status_code == 403


def test_axe_core_is_kept_for_the_tests_and_never_served(served):
    """The vendored axe-core is a 404 to a signed-in browser; the pages' own assets are not."""
    client, _token = signed_in(served.url)
    vendored = f"/static/vendor/{AXE.parent.name}/axe.min.js"
    assert client.get(f"{served.url}{vendored}", timeout=10).status_code == 404
    assert client.get(f"{served.url}/static/gridkeys.js", timeout=10).status_code == 200


def test_a_viewer_may_switch_the_language_too(served):
    """The switch is open to every role: a viewer's Runs page turns Danish."""
    Accounts(served.settings.state_dir).add("vera", PASSWORD, role="viewer")
    client, token = signed_in(served.url, "vera")
    answer = client.post(
        f"{served.url}/language",
        data={"csrf": token, "language": "da", "next": "/runs"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.url.endswith("/runs")
    assert '<html lang="da">' in answer.text


def test_the_rows_messages_follow_a_language_switch(served):
    """Rows checked in English are checked again in Danish when the switch is used before a send."""
    client, token = signed_in(served.url)
    data = (
        b"CPRNr;KontaktNavn;KontaktMail;KontaktRegistreringstid\n"
        b"0303064561;Bo Berg;ikke-en-mail;2025-08-18 09:00\n"
    )
    page = upload(client, served.url, token, "sprog.csv", data)
    checked = client.post(page.url, data=columns_form(page.text, token), timeout=30)
    rows = checked.url.removesuffix("/check") + "/rows?status=fix"
    english = client.get(rows, timeout=10).json()["data"][0]["p2"]
    assert "not a valid e-mail address" in english
    client.post(
        f"{served.url}/language",
        data={"csrf": token, "language": "da", "next": checked.url.removeprefix(served.url)},
        timeout=30,
    )
    danish = client.get(rows, timeout=10).json()["data"][0]["p2"]
    assert "ikke en gyldig e-mailadresse" in danish
