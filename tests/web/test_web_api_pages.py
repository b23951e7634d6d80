"""The API's reference pages in a real browser: axe-core finds no WCAG 2.1 A/AA violation."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.web.api_kit import token_for
from tests.web.test_web_a11y import AXE, RUN_AXE, WCAG_TAGS
from tests.web.webkit import sign_in_browser

pytestmark = pytest.mark.slow


def _violations(driver) -> list[str]:
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found: list[str] = driver.execute_async_script(RUN_AXE, WCAG_TAGS)
    return found


def test_the_api_reference_pages_pass_axe(served, browser):
    """/help/api among the pages and /api/docs (with the token sent) have no A/AA violation."""
    driver = browser
    sign_in_browser(driver, served.url)
    driver.get(f"{served.url}/help/api")
    assert driver.find_element(By.ID, "problem-token-missing").is_displayed()
    assert _violations(driver) == []
    token = token_for(served.settings.state_dir)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Bearer {token}"}}
    )
    driver.get(f"{served.url}/api/docs")
    assert driver.find_element(By.ID, "problem-token-missing").is_displayed()
    assert _violations(driver) == []
