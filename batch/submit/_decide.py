"""Pure decisions: what to retry, what tells the breaker the service is down, a row's outcome."""

from __future__ import annotations

from batch.i18n import N_, _, ngettext
from batch.outcomes import UDB_CODES, outcome_of_answer, result_text
from batch.privacy import mask_cpr
from batch.records import Answer, Failure, FailureKind, Outcome

__all__ = ["describe", "final_outcome", "is_transient", "service_health"]


def is_transient(result: Answer | Failure | None) -> bool:
    """Worth another attempt: a retryable failure, or UDB's internal error (101)."""
    if isinstance(result, Failure):
        return result.retryable
    if isinstance(result, Answer) and not result.ok and result.code is not None:
        known = UDB_CODES.get(result.code)
        return known is not None and known.retry
    return False


def service_health(result: Answer | Failure) -> bool | None:
    """For the breaker: True the service answered, False it failed, None neutral (429)."""
    if isinstance(result, Answer):
        return not is_transient(result)
    if result.kind is FailureKind.RATE_LIMITED:
        return None
    return result.kind is FailureKind.SENDER_FAULT


# What a person reads in the workbook's Result text (translated where it is written; the
# technical detail after it, from the transport or the platform, stays as it came).
_KIND_TEXT = {
    FailureKind.TIMEOUT: N_("No answer within the time limit"),
    FailureKind.CONNECTION: N_("The service could not be reached"),
    FailureKind.RATE_LIMITED: N_("The service asked us to slow down (HTTP 429)"),
    FailureKind.SERVER_ERROR: N_("The service had an error"),
    FailureKind.RECEIVER_FAULT: N_("The platform had an internal error"),
    FailureKind.SENDER_FAULT: N_("Rejected by the platform's schema check"),
    FailureKind.BAD_RESPONSE: N_("The service's answer could not be read"),
    FailureKind.CLIENT_ERROR: N_("The service refused the request (check the configuration)"),
}
_NOT_SENT = N_("Not sent: {why}; sent next run.")
_RUN_STOPPED = N_("the run stopped")
_SCHEMA_FIX = N_("{what}: {detail}. Correct the field it names and send the row again.")
_RETRY_LATER = N_("{what} ({detail}); {tries}. The next run sends the row again.")
_RETRY_STOPPED = N_("{what} ({detail}); {tries}, then {stopped}. The next run sends the row again.")
_ACCEPTED = N_("Accepted by UDB.")
_NO_CODE = N_("UDB rejected the row without an error code; contact STIL's support with the row.")
_TRIES = N_("{advice} ({tries})")


def final_outcome(
    result: Answer | Failure | None, attempts: int, *, stopped: str | None = None
) -> tuple[Outcome, str | None, str]:
    """A row's outcome, code and text from its last result (None: never sent)."""
    if result is None:
        return Outcome.RETRY, None, _(_NOT_SENT).format(why=stopped or _(_RUN_STOPPED))
    if isinstance(result, Answer):
        return _answer_outcome(result, attempts)
    code = result.fault_code or (f"HTTP {result.http_status}" if result.http_status else None)
    what, detail = _(_KIND_TEXT[result.kind]), mask_cpr(result.message).rstrip(".")
    if result.kind is FailureKind.SENDER_FAULT:
        text = _(_SCHEMA_FIX).format(what=what, detail=detail)
        return Outcome.FIX, code or result.kind.value, text
    tries = _tries(attempts)
    if stopped:
        text = _(_RETRY_STOPPED).format(what=what, detail=detail, tries=tries, stopped=stopped)
    else:
        text = _(_RETRY_LATER).format(what=what, detail=detail, tries=tries)
    return Outcome.RETRY, code or result.kind.value, text


def _answer_outcome(answer: Answer, attempts: int) -> tuple[Outcome, str | None, str]:
    """Our explanation in the run's language; UDB's own text is kept beside it, as sent."""
    if answer.ok:
        return Outcome.ACCEPTED, None, _(_ACCEPTED)
    outcome = outcome_of_answer(answer)
    if answer.code is None:
        return outcome, None, _(_NO_CODE)
    text = result_text(answer.code)
    if outcome is Outcome.RETRY:
        text = _(_TRIES).format(advice=text, tries=_tries(attempts))
    return outcome, str(answer.code), text


def _tries(attempts: int) -> str:
    return ngettext("{n} attempt", "{n} attempts", attempts).format(n=attempts)


def describe(result: Answer | Failure) -> str:
    if isinstance(result, Answer):
        return "accepted" if result.ok else f"UDB code {result.code}"
    status = f" HTTP {result.http_status}" if result.http_status else ""
    return f"{result.kind.value}{status}"
