"""A hostile service through the real CLI: poisoned replies never become an acceptance.

The client's own tests check each reply in isolation (tests/client/test_client_hostile.py);
here the whole run is checked: every row ends in Retry (exit 3), none in Accepted or Fix, and
nothing in the workbook or the output shows that an entity was expanded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import pytest

from tests.e2e.helpers import Run, run_cli
from tests.reliability.hostile import HostileService, billion_laughs, envelope, svar
from tests.reliability.kit import Book, csv_rows, good_rows, run_many, service_args, write_csv

pytestmark = pytest.mark.slow

ROWS = 10
CASES = ("xxe", "billion-laughs", "wrong-namespace", "missing-ok")


def _reply(case: str, secret) -> bytes:
    if case == "xxe":  # expanded, the file's "true" would make the answer an acceptance
        doctype = f'<!DOCTYPE e:Envelope [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        return envelope(svar("<u:Ok>&xxe;</u:Ok>"), doctype=doctype)
    if case == "billion-laughs":  # expanded, it would be a code-280 text of 3 GB
        fejl = "<u:Fejl><u:Fejlkode>280</u:Fejlkode><u:Fejltekst>&lol9;</u:Fejltekst></u:Fejl>"
        return envelope(svar(f"<u:Ok>false</u:Ok>{fejl}"), doctype=billion_laughs())
    if case == "wrong-namespace":
        return envelope(svar("<u:Ok>true</u:Ok>", namespace="urn:not:udb"))
    return envelope(svar(""))  # missing-ok


@dataclass(frozen=True)
class Outcome:
    """One CLI run against one hostile service."""

    run: Run
    book: Book
    posts: int


def _attack(case: str, root) -> Outcome:
    secret = root / "secret.txt"
    secret.write_text("true", encoding="utf-8")
    source = write_csv(root / "export.csv", good_rows(ROWS))
    with HostileService(_reply(case, secret)) as hostile:
        run = run_cli(
            "run",
            source,
            *service_args(hostile.wsdl_url, "--rate", "1000", "--max-attempts", "2"),
            state_dir=root / "state",
            report_dir=root / "reports",
        )
    return Outcome(run, Book.newest(root / "reports"), hostile.posts)


@pytest.fixture(scope="module")
def attacks(tmp_path_factory) -> dict[str, Outcome]:
    """Every case's run, a few at a time (nothing here depends on timing)."""
    roots = {case: tmp_path_factory.mktemp(case) for case in CASES}
    outcomes = run_many([partial(_attack, case, roots[case]) for case in CASES])
    return dict(zip(CASES, outcomes, strict=True))


@pytest.mark.parametrize("case", CASES)
def test_poisoned_replies_leave_every_row_in_retry(attacks, case):
    """XXE, billion laughs, wrong namespace, no Ok: a transport failure (retry), never accepted."""
    outcome = attacks[case]
    assert outcome.run.code == 3, outcome.run.output
    assert outcome.posts > 0  # the requests did reach the hostile service
    book = outcome.book
    book.assert_each_row_once(csv_rows("export.csv", ROWS))
    assert book.count("retry") == ROWS
    tried = [row for row in book.rows("Retry") if row["Attempts"]]
    assert tried
    texts = " ".join(str(row["Result text"]) for row in book.rows("Retry"))
    assert all(
        str(row["Result text"]).startswith("The service's answer could not be read")
        for row in tried
    )
    assert "lollol" not in texts + outcome.run.output
    assert "Traceback" not in outcome.run.output


def test_an_answer_trickled_byte_by_byte_is_a_timeout(tmp_path):
    """Each byte within the read timeout, the whole answer far beyond it: Retry, not Accepted.

    The trickled body is a valid acceptance, so a client that waited it out would put the rows
    in Accepted; the read timeout bounds the whole answer, so they end as timeouts in Retry.
    """
    rows = 2
    source = write_csv(tmp_path / "export.csv", good_rows(rows))
    with HostileService(envelope(svar("<u:Ok>true</u:Ok>")), trickle=0.05) as hostile:
        run = run_cli(
            "run",
            source,
            *service_args(hostile.wsdl_url, "--max-attempts", "1", "--concurrency", "2"),
            state_dir=tmp_path / "state",
            report_dir=tmp_path / "reports",
            env={"BATCH_READ_TIMEOUT": "0.5"},
        )
    assert run.code == 3, run.output
    book = Book.newest(tmp_path / "reports")
    book.assert_each_row_once(csv_rows("export.csv", rows))
    assert book.count("retry") == rows
    assert {row["Result code"] for row in book.rows("Retry")} == {"timeout"}
