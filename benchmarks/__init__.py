"""Benchmarks: the real CLI against the local Lambda endpoint at fleet scale, and the planner.

`make bench` (or `python -m benchmarks.run --help`) runs them; BENCHMARKS.md records the figures
and what limits each one.
"""
