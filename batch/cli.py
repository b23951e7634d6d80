"""The `batch` command: options -> configuration -> pipeline -> exit code; nothing else."""

from __future__ import annotations

import click

from batch import __version__

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="batch")
def main() -> None:
    """Report KUI contact persons, job and education wishes to STIL's Youth Database (UDB)."""
