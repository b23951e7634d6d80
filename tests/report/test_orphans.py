import subprocess
import sys

from batch.report._files import WORK_PREFIX, remove_orphaned_work, work_prefix


def test_work_left_by_a_killed_writer_is_removed(tmp_path):
    """A work directory whose process is gone is removed; a live writer's is left alone."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    orphan = tmp_path / f"{WORK_PREFIX}{dead.stdout.strip()}-abcd"
    orphan.mkdir()
    (orphan / "rows.xlsx").write_bytes(b"personal data")
    live = tmp_path / f"{work_prefix()}efgh"
    live.mkdir()
    unrelated = tmp_path / "kept.xlsx"
    unrelated.write_bytes(b"a workbook")
    remove_orphaned_work(tmp_path)
    assert not orphan.exists()
    assert live.exists()
    assert unrelated.exists()
