"""Review of the API's problem details over real HTTP: what a caller sent comes back masked."""

from __future__ import annotations

import shutil

from tests.web.api_kit import EXPORT, api, finished, submit, token_for
from tests.web.webkit import signed_in

CPR = "0101085123"


def test_an_unknown_mapping_named_by_a_cpr_number_is_masked_in_the_problem(served):
    """`mapping=0101085123` is no saved mapping: the problem says so as `010108-XXXX`."""
    answer = submit(api(token_for(served.settings.state_dir)), served.url, mapping=CPR)
    assert answer.status_code == 422
    assert answer.json()["field"] == "mapping"
    assert "010108-XXXX" in answer.json()["detail"]
    assert CPR not in answer.text


def test_a_workbook_of_a_file_named_by_a_cpr_number_downloads_under_a_masked_name(served, tmp_path):
    """The download's file name (Content-Disposition) masks a CPR number in the input's name."""
    named = tmp_path / f"Elev {CPR}.csv"
    shutil.copy(EXPORT, named)
    client = api(token_for(served.settings.state_dir))
    answer = submit(client, served.url, named)
    assert answer.status_code == 202, answer.text
    shown = finished(client, served.url, answer.json()["id"])
    by_api = client.get(f"{served.url}{shown['links']['workbook']}", timeout=30)
    page = signed_in(served.url)[0]
    by_page = page.get(f"{served.url}/runs/{shown['run_id']}/workbook", timeout=30)
    for download in (by_api, by_page):
        assert download.status_code == 200
        disposition = download.headers["content-disposition"]
        assert "010108-XXXX" in disposition
        assert CPR not in disposition
