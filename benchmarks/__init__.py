"""Timed operations on the benchmark book; run with ``python -m benchmarks.run``."""
