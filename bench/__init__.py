"""Benchmarks: each compares Hangar with a baseline measured in the same run and reports ratios."""
