"""WCAG 2.1 A/AA on the team pages (Runs, a run, accounts, tokens, audit log) with axe-core."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready

from batch.web.accounts import Accounts
from tests.web.test_web_a11y import _axe, _wait
from tests.web.test_web_runs import _cli_run
from tests.web.webkit import PASSWORD

pytestmark = pytest.mark.slow


def test_the_team_pages_have_no_wcag_a_or_aa_violation(served, browser, simulator, tmp_path):
    """axe-core finds nothing of level A or AA on each team page, filled with a real run."""
    run_id = str(_cli_run(simulator, tmp_path)["run_id"])
    Accounts(served.settings.state_dir).add("ada", PASSWORD, "admin")
    driver = browser
    driver.get(f"{served.url}/login")
    driver.find_element(By.ID, "name").send_keys("ada")
    driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
    _wait(driver).until(ready.presence_of_element_located((By.ID, "drop")))
    pages = {
        "runs": "/runs",
        "runs-bad-date": "/runs?from=31-01-2026",
        "run": f"/runs/{run_id}",
        "run-accepted": f"/runs/{run_id}?outcome=accepted",
        "accounts": "/admin/users",
        "tokens": "/admin/tokens",
        "audit": "/admin/audit",
    }
    for name, path in pages.items():
        driver.get(f"{served.url}{path}")
        _axe(driver, name)
