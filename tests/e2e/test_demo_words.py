"""`make run` speaks as `batch run` does, in the chosen language, without the log's noise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

_NO_LANGUAGE = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", "BATCH_LANGUAGE")


def _demo(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m batch.demo` (what `make run` runs) in a folder of its own, as a person sees it."""
    clean = {k: v for k, v in os.environ.items() if k not in _NO_LANGUAGE and
             not k.startswith("BATCH_")}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "batch.demo"],
        capture_output=True, text=True, env={**clean, **env}, cwd=tmp_path,
        check=False, timeout=300,
    )  # fmt: skip


def test_the_demo_speaks_danish_on_a_danish_machine(tmp_path):
    """LANG=da_DK: the nights, the notices, the table, the next step and the verdict in Danish."""
    done = _demo(tmp_path, LANG="da_DK.UTF-8")

    shown = done.stdout + done.stderr
    assert done.returncode == 0, shown
    for danish in (
        "nat 1: ",
        "nat 2: ",
        "ingen adresse sat op: sender til den indbyggede UDB-simulator",
        "kolonner der læses: ",
        "næste skridt: ret rækkerne i arket Ret, og kør så: batch run reports/",
        "nye: 4 i Ret, 5 i Afvist",
        "demoen kørte som tilsigtet",
        "ville slutte med 3 her",
    ):
        assert danish in shown
    for english in ("night", "The demo", "next:", "columns read"):
        assert english not in shown
    assert "[info" not in shown  # no log lines: what a person reads, not a log collector
    assert (
        sorted(p.suffix for p in (tmp_path / "reports").iterdir()) == [".json"] * 2 + [".xlsx"] * 2
    )


def test_the_demo_says_in_english_what_a_run_says(tmp_path):
    """LANG=C: the same lines as `batch run`, the next step included; no Danish."""
    done = _demo(tmp_path, LANG="C")

    shown = done.stdout + done.stderr
    assert done.returncode == 0, shown
    assert "next: correct the Fix sheet, then: batch run reports/" in shown
    assert "`batch run` would exit 3 here" in shown
    assert "kørsel" not in shown
