"""The benchmark harness of `make bench` (`python -m benchmarks`); see BENCHMARKS.md."""
