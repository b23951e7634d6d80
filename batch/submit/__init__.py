"""The scheduler: send pending rows with bounded rate and concurrency, in per-CPR order, retrying.

Shape: one dispatcher thread streams the pending rows from the journal grouped by CPR (each
group sorted by its rows' latest registration time, file order breaking ties) into a small
bounded queue; `concurrency` worker threads each take a whole CPR group and send its rows one at
a time, so rows of one CPR reach UDB in time order while other CPRs proceed in parallel. The
calling thread supervises: it turns `stop` into a halt, reports progress and waits.

Per row, the worker (1) asks the journal's history whether anything is left to send
(`batch.journal.plan_row`: changed-only and never-older-over-newer, evaluated now, in CPR
order), (2) makes the row's intent durable (`JournalWriter.begin` waits for its group commit),
(3) sends with retries, each attempt taking a token from the shared `TokenBucket`, and
(4) hands the outcome to the writer; that commit lands no later than the worker's next intent.
"In flight" thus means: intent committed, answer not yet committed. Each worker holds at most one
such row, so a kill leaves at most `concurrency` rows that UDB may have seen and that the next
run sends again.

Retries (tenacity): exponential backoff with jitter (`backoff_initial * 2**n` plus up to
`backoff_initial` of jitter, capped at `backoff_max`), or the server's `Retry-After` when that is
longer; a Retry-After also pauses every worker through the rate limiter. A Retry-After beyond
`retry_after_max` (120 s) is not honoured: the attempt counts as a failure for the breaker, so
a gateway asking for a day cannot hold the nightly run. A failure the client marks as a set-up
problem (`Failure.setup`: TLS, proxy) stops the run at once (`stopped_by="setup"`).
Retried: failures the client marks retryable (timeouts, connection errors, 429,
500/502/503/504, Receiver faults, bad responses) and UDB's answer 101. Final at once: UDB's
other answers (14, 15, 86, 280, ...) and schema rejections (Sender faults). Sleeps wake up at
once on a stop.

Stopping: when `stop` is set (the pipeline's signal handler) or the breaker opens, workers take
no new row and no new attempt; requests on the wire finish (bounded by the client's timeout)
and are recorded; rows not sent are closed as `retry` with the reason. A second signal is the
pipeline's business (it may exit at once): every journal write is a transaction, so the journal
stays consistent and the next run resends what was in flight.

Defaults (`SubmitSettings`) are for STIL's real platform, which documents no limit: 5 requests
per second with a burst of 5 and 4 workers. Four workers cover a round trip of up to ~0.8 s
(mutual TLS and signing over the internet) at that rate; the rate is what protects the service.
That is 18,000 rows an hour; a migration may raise it after agreeing a figure with STIL.

Limits (`--max-rows`, `--until`) stop the run exactly as a signal does: no new row, no new
attempt, the rest in Retry. `--max-rows N` counts rows sent (answered or given up), reserving a
slot before a row's first request, so no more than N rows are ever sent.

Pieces: `_settings` (settings and stats), `_decide` (pure decisions: retry, breaker health,
outcome and text), `_select` (the registration window and newest-only), `_send` (one CPR's
rows), `_progress` (figures in requests, the progress event), `_run` (the threads). Rate
limiter and breaker are `batch.submit.ratelimit` and `batch.submit.breaker`.
"""

from __future__ import annotations

from batch.submit._decide import final_outcome, is_transient, service_health
from batch.submit._plan import plan_dry_run, plan_validate, share_key
from batch.submit._progress import Snapshot
from batch.submit._run import submit_run
from batch.submit._select import Selection, local_midnight, until_deadline
from batch.submit._settings import SubmitSettings, SubmitStats

__all__ = [
    "Selection",
    "Snapshot",
    "SubmitSettings",
    "SubmitStats",
    "final_outcome",
    "is_transient",
    "local_midnight",
    "plan_dry_run",
    "plan_validate",
    "service_health",
    "share_key",
    "submit_run",
    "until_deadline",
]
