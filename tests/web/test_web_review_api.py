"""Review of the API's problem details over real HTTP: what a caller sent comes back masked."""

from __future__ import annotations

from tests.web.api_kit import api, submit, token_for

CPR = "0101085123"


def test_an_unknown_mapping_named_by_a_cpr_number_is_masked_in_the_problem(served):
    """`mapping=0101085123` is no saved mapping: the problem says so as `010108-XXXX`."""
    answer = submit(api(token_for(served.settings.state_dir)), served.url, mapping=CPR)
    assert answer.status_code == 422
    assert answer.json()["field"] == "mapping"
    assert "010108-XXXX" in answer.json()["detail"]
    assert CPR not in answer.text
