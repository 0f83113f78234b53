"""Benchmarks (`make bench`): each module exposes run(results) and adds its figures."""
