"""The exit codes of every command and the text that documents them, in one place."""

from __future__ import annotations

__all__ = ["EXIT_CODES", "EXIT_INTERNAL", "EXIT_SETUP", "EXIT_SIGNALLED", "EXIT_USAGE"]

# Shown under --help of the group and of run/validate; "\b" keeps click from rewrapping it.
EXIT_CODES = """\b
Exit codes:
  0    every row accepted or unchanged (validate: every row ready)
  1    the run finished and some rows are in Fix or Drop
  2    usage, configuration or input-file error; nothing was sent
  3    some rows could not be sent (Retry): run again later; wins over 1
  4    set-up problem (TLS, certificate, proxy, disk, report folder): fix it, then
       run again (a run whose workbook could not be written: batch report RUN_ID)
  70   internal error (a bug): one masked line here, the details in the log
  130  interrupted by Ctrl-C (SIGINT); 143 stopped by SIGTERM
"""

EXIT_USAGE = 2
EXIT_SETUP = 4  # batch.errors.SetupError: waiting will not heal it
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug, not the user's input
EXIT_SIGNALLED = 128
