"""Baselines the benchmarks measure Hangar against in the same run (not benchmarks themselves)."""
