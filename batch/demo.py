"""`make run`: the main job on the bundled examples against the embedded simulator."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> int:
    """Run the demo; until the pipeline lands, say honestly that there is nothing to run yet."""
    sys.stdout.write("batch: the pipeline is not built yet; `make run` will run it here.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
