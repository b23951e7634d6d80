"""The web app (`batch serve`): upload, check, fix and send from the browser.

A thin layer over the pipeline, as the CLI is: pages call `batch.intake` (read, describe,
validate), `batch.pipeline.run_sources` (send, through the journal, rate limit and retry) and
write nothing the CLI would need. `create_app` builds the ASGI app for uvicorn.
"""

from __future__ import annotations

from batch.web.app import create_app

__all__ = ["create_app"]
