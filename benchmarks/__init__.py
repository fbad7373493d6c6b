"""Benchmarks run by `make bench`: each against a bare baseline measured in the same run (not tests)."""
