"""The Runs page: runs of every door (a CLI run against the simulator), filters, chart, a run."""

from __future__ import annotations

import os
import re
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from batch.journal import Journal
from batch.journal._base import LOCAL_ZONE
from batch.web import runs
from batch.web.runs_chart import chart_of
from batch.web.runs_data import RunLine
from tests.e2e.helpers import run_cli, summary_of, workbook_of
from tests.web.webkit import sign_in_browser, signed_in

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "input_examples" / "kommune-export.csv"
SHOTS = ROOT / "reports" / "screenshots"
WAIT = 60  # a generous bound for a shared machine, never a timing assertion

pytestmark = pytest.mark.slow


def _cli_run(simulator, tmp_path: Path) -> dict[str, object]:
    """`batch run` of the municipal export into the served state directory; its JSON summary."""
    done = run_cli(
        "run",
        EXPORT,
        "--wsdl",
        simulator.wsdl_url,
        "--system-id",
        "KUI-TEST",
        "--rate",
        "200",
        "--institution",
        "751001",
        state_dir=tmp_path / "state",
        report_dir=tmp_path / "reports",
    )
    assert done.code in {0, 1}, done.output  # 1: some rows to fix, as the example has
    return summary_of(workbook_of(tmp_path / "reports"))


def test_a_cli_run_shows_up_on_the_runs_page_in_a_browser(served, browser, simulator, tmp_path):
    """A nightly-style CLI run is listed with its file and counts, charted, and opens to rows."""
    summary = _cli_run(simulator, tmp_path)
    run_id = str(summary["run_id"])
    driver = browser
    sign_in_browser(driver, served.url)
    driver.get(f"{served.url}/runs")
    row = driver.find_element(By.CSS_SELECTOR, f'#runs tr[data-run="{run_id}"]')
    assert "kommune-export.csv" in row.text
    cells = [cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td.num")]
    assert cells[0] == str(summary["accepted"])
    assert cells[3] == str(summary["fix"])
    svg = driver.find_element(By.CSS_SELECTOR, "svg.chart")
    assert svg.get_attribute("role") == "group"  # not img: its bars are links (WCAG, axe)
    assert svg.find_element(By.TAG_NAME, "desc").get_attribute("textContent").strip()
    assert len(svg.find_elements(By.CSS_SELECTOR, f'g[data-bar="{run_id}"] rect')) >= 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / "runs-01-list.png"))
    row.find_element(By.TAG_NAME, "a").click()
    WebDriverWait(driver, WAIT).until(ready.presence_of_element_located((By.ID, "run-rows")))
    assert driver.find_elements(By.CSS_SELECTOR, "#run-rows tbody tr")
    assert run_id in driver.find_element(By.TAG_NAME, "code").text
    driver.save_screenshot(str(SHOTS / "runs-02-run.png"))


def test_runs_filter_and_the_run_s_workbook(served, simulator, tmp_path):
    """Filters by status, file and date keep or drop the run; its workbook downloads by id."""
    run_id = str(_cli_run(simulator, tmp_path)["run_id"])
    client, _token = signed_in(served.url)
    today = datetime.now(LOCAL_ZONE).date()
    kept = [
        {"status": "finished"},
        {"file": "KOMMUNE"},
        {"from": today.isoformat(), "to": today.isoformat()},
    ]
    dropped = [
        {"status": "failed"},
        {"file": "ungeliste"},
        {"from": (today + timedelta(days=1)).isoformat()},
    ]
    for query in kept:
        assert run_id in client.get(f"{served.url}/runs", params=query, timeout=30).text, query
    for query in dropped:
        page = client.get(f"{served.url}/runs", params=query, timeout=30).text
        assert f'data-run="{run_id}"' not in page, query
    book = client.get(f"{served.url}/runs/{run_id}/workbook", timeout=30)
    assert book.status_code == 200
    assert book.content[:2] == b"PK"  # an xlsx is a zip
    assert client.get(f"{served.url}/runs/{run_id}?outcome=fix", timeout=30).status_code == 200


def test_a_bad_date_in_the_filter_is_said_plainly(served):
    """A date that is not one is a 400 with what to write instead, never a traceback."""
    client, _token = signed_in(served.url)
    answer = client.get(f"{served.url}/runs", params={"from": "31-01-2026"}, timeout=30)
    assert answer.status_code == 400
    assert "2026-01-31" in answer.text
    assert "Traceback" not in answer.text


def test_an_unknown_run_or_a_path_in_its_place_is_404(served):
    """Run pages are addressed by a run id's shape only: anything else is no such page."""
    client, _token = signed_in(served.url)
    for path in ("/runs/20260101T000000-abcd", "/runs/..%2f..%2fjournal/workbook", "/runs/x"):
        assert client.get(f"{served.url}{path}", timeout=30).status_code == 404, path


def _line(day: int, **counts: int) -> RunLine:
    started = datetime(2026, 3, day, 2, 0, tzinfo=UTC)
    run_id = f"202603{day:02d}T020000-abcd"
    return RunLine(
        run_id=run_id,
        started=started,
        finished=None,
        status="finished",
        dry_run=False,
        files=[],
        counts=counts,
        started_by=None,
        purged=False,
    )


def test_the_chart_stacks_outcomes_in_proportion():
    """A night with a spike in Fix gets a Fix segment as tall, to scale, as its count says."""
    chart = chart_of([_line(1, accepted=10), _line(2, accepted=10, fix=90)])
    quiet, spike = chart.bars
    assert chart.peak == 100
    assert [segment.outcome for segment in spike.segments] == ["accepted", "fix"]
    fix = spike.segments[1]
    assert fix.height == pytest.approx(9 * spike.segments[0].height)
    assert quiet.segments[0].height == pytest.approx(spike.segments[0].height)
    assert [value for _y, value in chart.ticks] == [0, 50, 100]
    assert chart.trouble is spike  # named in the chart's description for a screen reader


def test_no_runs_yet_is_an_empty_list_not_an_error(served):
    """A fresh state directory (no journal) shows the page with nothing in it."""
    client, _token = signed_in(served.url)
    page = client.get(f"{served.url}/runs", timeout=30)
    assert page.status_code == 200
    assert re.search(r'id="runs-count">\s*0 of 0 runs', page.text)


def test_a_moved_workbook_is_written_again_from_the_journal(served, simulator, tmp_path):
    """The run's workbook moved away: the download writes it afresh, leaving no copy on disk."""
    run_id = str(_cli_run(simulator, tmp_path)["run_id"])
    for written in (tmp_path / "reports").iterdir():
        written.rename(tmp_path / written.name)
    client, _token = signed_in(served.url)
    book = client.get(f"{served.url}/runs/{run_id}/workbook", timeout=60)
    assert book.status_code == 200
    assert book.content[:2] == b"PK"
    web = served.settings.state_dir / "web"
    assert not list(web.glob("workbook-*"))  # written in a temporary folder, gone


def test_the_list_pages_and_keeps_its_filter(served, monkeypatch):
    """Past a page of runs the list pages; the page links keep the filter."""
    monkeypatch.setattr(runs, "RUNS_PER_PAGE", 1)
    journal = Journal.open(served.settings.state_dir)
    try:
        for name in ("a.csv", "b.csv", "c.csv"):
            run_id = journal.start_run(inputs=[f"/data/{name}"], settings={})
            journal.finish_run(run_id, status="finished")
    finally:
        journal.close()
    client, _token = signed_in(served.url)
    first = client.get(f"{served.url}/runs", params={"status": "finished"}, timeout=30).text
    assert first.count('<tr data-run="') == 1
    assert 'href="/runs?status=finished&amp;page=2" rel="next"' in first
    last = client.get(f"{served.url}/runs?status=finished&page=3", timeout=30).text
    assert "a.csv" in last  # oldest last
    assert 'rel="next"' not in last


def test_a_run_of_an_inbox_is_the_nightly_job_s(served, simulator, tmp_path):
    """A `batch run --inbox` run is shown as the nightly job's; a run of a named file is not."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(EXPORT, inbox / "export.csv")
    settled = time.time() - 3600  # an export written an hour ago: no longer being written
    os.utime(inbox / "export.csv", (settled, settled))
    nightly = run_cli(
        "run",
        "--inbox",
        inbox,
        *("--wsdl", simulator.wsdl_url, "--system-id", "KUI-TEST", "--institution", "751001"),
        state_dir=tmp_path / "state",
        report_dir=tmp_path / "reports",
    )
    assert nightly.code in {0, 1}, nightly.output
    _cli_run(simulator, tmp_path)
    client, _token = signed_in(served.url)
    page = client.get(f"{served.url}/runs", timeout=30).text
    assert page.count("nightly job (inbox)") == 1
    assert page.count("<td>command line</td>") == 1


def test_a_cpr_number_in_the_filter_never_stays_in_the_address(served):
    """An address carrying a CPR-like filter goes to the list without it, and says why."""
    client, _token = signed_in(served.url)
    answer = client.get(
        f"{served.url}/runs", params={"file": "0101044000 rettelser", "status": "finished"},
        timeout=30, allow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"] == "/runs?status=finished&refused=cpr"
    page = client.get(f"{served.url}{answer.headers['location']}", timeout=30)
    assert "A CPR number cannot be searched for here" in page.text
    assert "0101044000" not in page.text


def test_the_filter_form_refuses_a_cpr_number_before_sending_it(served, browser):
    """Typed into the filter, a CPR number is refused in the page: the address never gets it."""
    driver = browser
    sign_in_browser(driver, served.url)
    driver.get(f"{served.url}/runs")
    field = driver.find_element(By.ID, "file")
    field.send_keys("rettelser 010104-4000" + Keys.ENTER)
    warning = driver.find_element(By.ID, "runs-filter-cpr")
    WebDriverWait(driver, WAIT).until(lambda _driver: warning.is_displayed())
    assert "4000" not in driver.current_url
    assert field.get_attribute("aria-invalid") == "true"
    assert driver.switch_to.active_element == field
    field.clear()
    field.send_keys("kommune" + Keys.ENTER)
    WebDriverWait(driver, WAIT).until(lambda d: "file=kommune" in d.current_url)
    assert not driver.find_element(By.ID, "runs-filter-cpr").is_displayed()
