"""Benchmarks: `make bench` runs them; see bench/RESULTS.md."""
