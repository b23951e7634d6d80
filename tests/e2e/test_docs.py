"""The README and --help document every command and option the CLI has."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from batch.cli import main

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _commands() -> dict[str, click.Command]:
    assert isinstance(main, click.Group)
    return dict(main.commands)


def test_every_command_and_option_is_in_the_readme():
    """Each subcommand and each of its long options appears in the README."""
    missing = []
    for name, command in _commands().items():
        if f"batch {name}" not in README:
            missing.append(f"batch {name}")
        for param in command.params:
            if isinstance(param, click.Option):
                longest = max(param.opts, key=len)
                if longest.startswith("--") and longest not in README and longest != "--help":
                    missing.append(f"batch {name} {longest}")
    assert missing == []


def test_every_command_has_complete_help():
    """`batch CMD --help` works and every option carries a help text."""
    runner = CliRunner()
    assert "Exit codes" in runner.invoke(main, ["--help"]).output
    for name, command in _commands().items():
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        undocumented = [
            max(p.opts, key=len)
            for p in command.params
            if isinstance(p, click.Option) and not p.help
        ]
        assert undocumented == [], name


def test_every_setting_is_in_the_readme():
    """Every setting of the config file and its BATCH_* variable is documented."""
    from batch.config import OPTIONS

    missing = [o.name for o in OPTIONS if o.name not in README or o.env not in README]
    assert missing == []
