"""Allow `python -m batch`, the same as the `batch` console script."""

from batch.cli import main

main()
