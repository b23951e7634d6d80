"""Every setting that may come from the command line has a flag, as the README promises."""

from __future__ import annotations

from importlib.metadata import entry_points

import click

from batch.cli import main
from batch.config import OPTIONS


def test_every_command_line_setting_has_a_flag():
    """Each setting allowed on the command line is a flag of `batch run` or of its own command."""
    assert isinstance(main, click.Group)
    flags = {
        name.removeprefix("--").replace("-", "_")
        for command in main.commands.values()
        for param in command.params
        for name in param.opts
    }
    missing = [option.name for option in OPTIONS if option.cli and option.name not in flags]
    assert missing == []


def test_the_command_has_a_second_name_that_collides_with_nothing():
    """`udb-batch` is installed beside `batch` (Debian's `at` package owns /usr/bin/batch)."""
    scripts = {entry.name: entry.value for entry in entry_points(group="console_scripts")}
    assert scripts["batch"] == scripts["udb-batch"] == "batch.cli:main"
