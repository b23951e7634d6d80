"""Pure decisions: what to retry, what tells the breaker the service is down, a row's outcome."""

from __future__ import annotations

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


_KIND_TEXT = {
    FailureKind.TIMEOUT: "No answer within the time limit",
    FailureKind.CONNECTION: "The service could not be reached",
    FailureKind.RATE_LIMITED: "The service asked us to slow down (HTTP 429)",
    FailureKind.SERVER_ERROR: "The service had an error",
    FailureKind.RECEIVER_FAULT: "The platform had an internal error",
    FailureKind.SENDER_FAULT: "Rejected by the platform's schema check",
    FailureKind.BAD_RESPONSE: "The service's answer could not be read",
    FailureKind.CLIENT_ERROR: "The service refused the request (check the configuration)",
}


def final_outcome(
    result: Answer | Failure | None, attempts: int, *, stopped: str | None = None
) -> tuple[Outcome, str | None, str]:
    """A row's outcome, code and text from its last result (None: never sent)."""
    if result is None:
        return Outcome.RETRY, None, f"Not sent: {stopped or 'the run stopped'}; sent next run."
    if isinstance(result, Answer):
        return _answer_outcome(result, attempts)
    code = result.fault_code or (f"HTTP {result.http_status}" if result.http_status else None)
    message = mask_cpr(result.message).rstrip(".")
    if result.kind is FailureKind.SENDER_FAULT:
        advice = "Correct the field it names and send the row again."
        return (
            Outcome.FIX,
            code or result.kind.value,
            f"{_KIND_TEXT[result.kind]}: {message}. {advice}",
        )
    why = f"{_KIND_TEXT[result.kind]} ({message}); {_tries(attempts)}"
    if stopped:
        why += f", then {stopped}"
    return Outcome.RETRY, code or result.kind.value, f"{why}. The next run sends the row again."


def _answer_outcome(answer: Answer, attempts: int) -> tuple[Outcome, str | None, str]:
    if answer.ok:
        return Outcome.ACCEPTED, None, "Accepted by UDB."
    outcome = outcome_of_answer(answer)
    if answer.code is None:
        return outcome, None, f"UDB rejected the row without an error code: {answer.text or ''}"
    text = result_text(answer.code, answer.text)
    if outcome is Outcome.RETRY:
        text = f"{text} ({_tries(attempts)})"
    return outcome, str(answer.code), text


def _tries(attempts: int) -> str:
    return "1 attempt" if attempts == 1 else f"{attempts} attempts"


def describe(result: Answer | Failure) -> str:
    if isinstance(result, Answer):
        return "accepted" if result.ok else f"UDB code {result.code}"
    status = f" HTTP {result.http_status}" if result.http_status else ""
    return f"{result.kind.value}{status}"
