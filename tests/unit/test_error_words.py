"""The errors that stop a command speak the run's language, as the rows' texts do."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from batch import errors
from batch.i18n import use_language
from batch.journal import backup_journal
from batch.simulator.registry import load_registry

PACKAGE = Path(errors.__file__).parent
_ERRORS = {name for name in dir(errors) if name.endswith("Error")}
_CATALOG_CALLS = {"_", "ngettext"}
_ELSEWHERE: tuple[str, ...] = ()


@pytest.fixture
def danish():
    """Texts in Danish for the test, English again after it (the language is per context)."""
    use_language("da")
    yield
    use_language("en")


def _words_outside_catalog(node: ast.AST) -> list[str]:
    """String literals with words in `node` that do not pass through `_()`/`ngettext()`."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) in _CATALOG_CALLS:
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if any(ch.isalpha() for ch in node.value) else []
    found = []
    for child in ast.iter_child_nodes(node):
        found += _words_outside_catalog(child)
    return found


def test_every_error_text_goes_through_the_catalog():
    """`raise XError("...")` with English words outside `_()` is refused, in every module."""
    plain = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] in _ELSEWHERE:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            name = getattr(node.exc.func, "id", None) or getattr(node.exc.func, "attr", None)
            if name in _ERRORS and node.exc.args:
                words = _words_outside_catalog(node.exc.args[0])
                if words:
                    plain.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {words[0]!r}")
    assert not plain, "error texts not in the catalog:\n" + "\n".join(plain)


@pytest.mark.usefixtures("danish")
def test_a_backup_that_would_overwrite_says_so_in_danish(tmp_path):
    """`batch backup` onto an existing file, in a Danish run: the refusal is Danish."""
    (tmp_path / "state").mkdir()
    target = tmp_path / "kopi.sqlite3"
    target.write_bytes(b"")
    (tmp_path / "state" / "journal.sqlite3").write_bytes(b"")
    with pytest.raises(errors.ConfigError, match="findes allerede: en backup overskriver aldrig"):
        backup_journal(tmp_path / "state", target)


@pytest.mark.usefixtures("danish")
def test_a_broken_registry_line_is_named_in_danish(tmp_path):
    """The simulator's registry with a short CPR: the line and the problem, in Danish."""
    registry = tmp_path / "registry.csv"
    registry.write_text("cpr;home_kui;name\n12345;751001;Navn\n", encoding="utf-8")
    with pytest.raises(
        errors.ConfigError, match="linje 2: feltet cpr er ikke et CPR-nummer med 10"
    ):
        load_registry(registry)
