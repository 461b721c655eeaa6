"""Benchmarks of the complaint engine (`python -m bench --help`; see bench/README.md)."""
