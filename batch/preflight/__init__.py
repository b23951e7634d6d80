"""Before sending: what a run checks at its start, and what `batch check` checks on demand.

`startup` reads the certificates (refusing an expired one) and words the warnings for what is
allowed but risky; every run goes through it, and so does `batch check`. `checks` is the
operator's preflight: one `Check` per line, OK, WARN or FAIL, with what to do. Both return
data; the CLI prints it.
"""

from __future__ import annotations

from batch.preflight.startup import Startup, risk_warnings, startup_checks

__all__ = ["Startup", "risk_warnings", "startup_checks"]
