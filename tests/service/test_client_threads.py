import threading
from datetime import timedelta

from client_kit import CPR_OK, CPR_OTHER_KUI, CPR_TOO_OLD, CPR_UNKNOWN, EXPECTED, FIXED_NOW, report

from batch.records import Answer

THREADS = 8
CALLS = 50
FUTURE = FIXED_NOW + timedelta(days=1)


def case(index: int):
    """The report for call `index` and the answer it must get: five different outcomes."""
    cpr = (CPR_OK, CPR_UNKNOWN, CPR_TOO_OLD, CPR_OTHER_KUI, CPR_OK)[index % 5]
    if index % 5 == 4:
        return report(cpr, registered=FUTURE), 280
    return report(cpr), EXPECTED[cpr].code


def test_one_client_shared_by_eight_threads_matches_every_answer(make_client, udb):
    """8 threads x 50 calls through one UdbClient: every answer belongs to its own request."""
    client = make_client(wsdl=udb.wsdl_url, pool_size=THREADS)
    start = threading.Barrier(THREADS)
    mismatches: list[str] = []
    done: list[int] = []

    def worker(number: int) -> None:
        start.wait()
        for call in range(CALLS):
            sent, expected_code = case(number * CALLS + call)
            result = client.send(sent)
            if not isinstance(result, Answer) or result.code != expected_code:
                mismatches.append(f"thread {number} call {call}: {result!r}")
        done.append(number)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(done) == list(range(THREADS))
    assert mismatches == []
