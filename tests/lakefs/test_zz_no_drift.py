"""Runs last in the lakeFS-engine session (after the metadata and repo-flow contract suites): every
ref of every repository those suites made is followed by lakeFS, and nothing lakeFS holds is left
over from refs or repositories the Hub dropped."""
from __future__ import annotations

import time

from .test_lakefs_engine import _reconcile


def test_lakefs_follows_everything_the_suite_did(stack, lake):
    deadline = time.monotonic() + 240
    report = _reconcile(stack, "--dry-run")
    while report["drift"] and time.monotonic() < deadline:
        time.sleep(2)
        report = _reconcile(stack, "--dry-run")
    assert report["drift"] == [], report["drift"][:20]
