"""Benchmarks: each module measures one cost and writes its table to docs/generated/benchmarks/,
which the docs include (``python -m analysis.benchmarks.engine`` and so on)."""
