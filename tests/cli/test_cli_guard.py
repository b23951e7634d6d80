from click.testing import CliRunner

import batch.cli.run
from batch.cli import main
from batch.cli.exit_codes import EXIT_INTERNAL
from batch.i18n import use_language


def test_a_bug_is_one_masked_line_and_exit_70(monkeypatch, tmp_path):
    """An unexpected exception prints one masked line (no traceback) and exits 70."""

    def broken(*_args, **_kwargs):
        raise RuntimeError("bug while handling 0101084123")

    monkeypatch.setattr(batch.cli.run, "run_job", broken)
    source = tmp_path / "a.csv"
    source.write_text("CPRNr;JobOnsker\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["validate", str(source), "--state-dir", str(tmp_path / "s"), "--log-format", "json"],
    )
    assert result.exit_code == EXIT_INTERNAL
    assert "internal error (RuntimeError: bug while handling 010108-XXXX)" in result.output
    assert "0101084123" not in result.output  # neither on the console nor in the log
    console = [line for line in result.output.splitlines() if not line.startswith("{")]
    assert not any("Traceback" in line for line in console)
    log_lines = [line for line in result.output.splitlines() if line.startswith("{")]
    assert any("internal error" in line and "Traceback" in line for line in log_lines)


def test_a_bug_is_said_in_the_language_of_the_command(monkeypatch, tmp_path):
    """`--language da`: the one line of a bug is Danish, still masked, still exit 70."""

    def broken(*_args, **_kwargs):
        raise RuntimeError("fejl ved 0101084123")

    monkeypatch.setattr(batch.cli.run, "run_job", broken)
    source = tmp_path / "a.csv"
    source.write_text("CPRNr;JobOnsker\n", encoding="utf-8")
    try:
        result = CliRunner().invoke(
            main,
            ["validate", str(source), "--state-dir", str(tmp_path / "s"), "--language", "da",
             "--log-format", "console"],
        )  # fmt: skip
    finally:
        use_language("en")  # the command set it for this thread: not for the next test
    assert result.exit_code == EXIT_INTERNAL
    assert "fejl: intern fejl (RuntimeError: fejl ved 010108-XXXX)" in result.output
    assert "journalen er konsistent, kør kommandoen igen" in result.output
    assert "0101084123" not in result.output
