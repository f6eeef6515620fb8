"""Benchmarks and load tests. They never run in the test suite: see docs/performance.md."""
