"""Run `python -m services.lfs gc` against the test stack and return its JSON report."""
from __future__ import annotations

from tests.commands import run_command


def run_gc(stack, *args: str) -> dict:
    return run_command(stack, "lfs", "gc", *args)
