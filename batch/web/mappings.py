"""Column mappings saved under a name, offered for the next upload (owner-only JSON file)."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

from batch.web.accounts import private_dir, write_private

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["SavedMappings"]

MAX_NAME = 80


class SavedMappings:
    """`<state_dir>/web/mappings.json`: name -> {header: field or "ignore"}; shared by all users."""

    def __init__(self, state_dir: Path) -> None:
        self.path = private_dir(state_dir.expanduser() / "web") / "mappings.json"
        self._lock = threading.Lock()

    def all(self) -> dict[str, dict[str, str]]:
        """Every saved mapping by name."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {str(name): dict(mapping) for name, mapping in data.items()}

    def save(self, name: str, mapping: dict[str, str]) -> str:
        """Save `mapping` under `name` (cut to a sane length); returns the name used."""
        name = " ".join(name.split())[:MAX_NAME]
        with self._lock:
            saved = self.all()
            saved[name] = mapping
            text = json.dumps(saved, ensure_ascii=False, indent=1, sort_keys=True)
            write_private(self.path, text.encode("utf-8"))
        return name

    def best_for(self, headers: list[str]) -> str | None:
        """The saved mapping that names most of `headers` (None when none names any)."""
        scores = {
            name: sum(header in mapping for header in headers)
            for name, mapping in self.all().items()
        }
        best = max(scores, key=lambda name: scores[name], default=None)
        return best if best is not None and scores[best] > 0 else None
