"""Benchmarks, runnable by hand (`make bench`); results go to docs/benchmarks.md."""
