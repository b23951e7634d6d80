"""The errors that stop a run, in one small tree; errors that belong to a row are data, not these.

    BatchError                      anything that stops the run; cli.py maps it to an exit code
     ├── InputError                 a file that cannot be read at all, or lacks a required column
     ├── ConfigError                options, config file, certificates, mapping file (2)
     ├── StateError                 the state directory or journal cannot be used (2)
     │    └── JournalLockedError    another run holds the state directory's lock (2)
     ├── ServiceError               the service cannot be used at all: its WSDL does not load (2)
     └── SetupError                 the set-up fails under a run: TLS, certificate, proxy, a full
          │                         or read-only disk (4); waiting will not heal it, a person must
          └── ReportWriteError      the rows are recorded, the workbook cannot be written (4)

Every message must be safe to print: no unmasked CPR number (see `batch.privacy.mask_cpr`),
and written for the person who must act on it (which file, which row, what to do).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from batch.i18n import _

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from batch.records import StopCause

__all__ = [
    "BatchError",
    "ConfigError",
    "InputError",
    "JournalLockedError",
    "ReportWriteError",
    "ServiceError",
    "SetupError",
    "StateError",
]


class BatchError(Exception):
    """Base of the errors that stop a run before or outside row processing."""

    exit_code = 2


class InputError(BatchError):
    """An input file cannot be read at all (not a row's problem: that is an Issue)."""


class ConfigError(BatchError):
    """The configuration is wrong or incomplete."""


class StateError(BatchError):
    """The state directory or its journal cannot be used."""


class JournalLockedError(StateError):
    """Another `batch run` holds the lock on the same state directory."""


class ServiceError(BatchError):
    """The service cannot be used at all (its WSDL does not load, its address is wrong)."""


class SetupError(BatchError):
    """The set-up failed while a run was under way: fix it, then run again (rows are kept).

    Distinct from exit 3 ("run again later"): a certificate the service refuses, a host name
    that does not match, a proxy that refuses, a report directory that is full or read-only
    will fail the same way tomorrow night. The journal keeps every unsent row for the next run.
    `cause` names the problem for a machine and in words (`batch.records.StopCause`).
    """

    exit_code = 4

    def __init__(self, message: str, cause: StopCause | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class ReportWriteError(SetupError):
    """The run is recorded in the journal but its workbook cannot be written (full, read-only).

    Carries the run's facts, so that the `run finished` line is still logged: the rows were
    sent, and monitoring must see that, and which run to write again with `batch report`.
    """

    def __init__(
        self, report_dir: Path, run_id: str, cause: OSError, facts: Mapping[str, object]
    ) -> None:
        why = cause.strerror or type(cause).__name__
        super().__init__(
            _(
                "the workbook cannot be written to {report_dir} ({why}); the run {run_id} is "
                "recorded in the journal: free space or fix the folder, then write it with "
                "`batch report {run_id}`"
            ).format(report_dir=report_dir, why=why, run_id=run_id)
        )
        self.run_id = run_id
        self.facts = dict(facts)
