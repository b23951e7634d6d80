"""Review of the audit log's personal data, real HTTP on loopback: file names hold no CPR there.

Retention blanks only an entry's old and new values; its detail stays for good in a table that
refuses deletes. A CPR number in a file's name must therefore never reach the detail unmasked.
"""

from __future__ import annotations

from batch.web.audit import read_entries
from tests.web.api_kit import EXPORT, api, submit, token_for
from tests.web.webkit import signed_in, upload

NAMED = "Elev 0101085123.csv"


def _details(served) -> str:
    return " ".join(entry.detail or "" for entry in read_entries(served.settings.state_dir))


def test_an_api_upload_named_with_a_cpr_number_is_audited_masked(served, tmp_path):
    """POST /api/runs of `Elev 0101085123.csv`: the audit entry names it `010108-XXXX`."""
    named = tmp_path / NAMED
    named.write_bytes(EXPORT.read_bytes())
    answer = submit(api(token_for(served.settings.state_dir)), served.url, named, send="false")
    assert answer.status_code == 202, answer.text
    assert "Elev 010108-XXXX.csv" in _details(served)
    assert "0101085123" not in _details(served)


def test_a_page_upload_named_with_a_cpr_number_is_audited_masked(served):
    """An upload on the pages of `Elev 0101085123.csv`: the audit entry names it masked."""
    client, token = signed_in(served.url)
    answer = upload(client, served.url, token, NAMED, EXPORT.read_bytes())
    assert answer.status_code == 200, answer.text
    assert "Elev 010108-XXXX.csv" in _details(served)
    assert "0101085123" not in _details(served)
