"""An upload's reading options: the run's settings plus the user's sheet, header row, mapping."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from batch.pipeline import input_options

if TYPE_CHECKING:
    from batch.config import Settings
    from batch.intake import InputOptions
    from batch.web.uploads import Upload

__all__ = ["upload_options"]


def upload_options(settings: Settings, upload: Upload) -> InputOptions:
    """The options `batch run` would use, with the choices made on the Columns page."""
    base = input_options(settings, upload.sheet)
    mapping = {**base.mapping, **upload.mapping}
    return replace(base, mapping=mapping, header_row=upload.header_row)
