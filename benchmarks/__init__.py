"""Benchmarks for pylon-trace: `make bench` runs benchmarks/bench.py."""
