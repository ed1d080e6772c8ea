"""One hub for the whole test session, started by the same launcher as `make up`.

The stack lives under .hangar/tests/<pid> on free ports, so it never collides with a
hub started by `make up`. Clients in tests are the real ones: huggingface_hub, hf, git, git-lfs.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "libs"), str(ROOT)]

from hangar_stack import infra  # noqa: E402
from hangar_stack.stack import Stack  # noqa: E402


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    # Each test session has its own stack, so several sessions can run side by side.
    sessions = ROOT / ".hangar" / "tests"
    for old in sessions.glob("*") if sessions.exists() else ():
        if Stack(state=old).running() is None:
            shutil.rmtree(old, ignore_errors=True)
    state = sessions / str(os.getpid())
    hub = Stack(state=state, port=infra.free_port())
    hub.up()
    # Real clients in tests talk to this hub only, with their own HOME (git config, HF cache).
    home = tmp_path_factory.mktemp("home")
    os.environ.update({"HF_ENDPOINT": hub.endpoint, "HF_HUB_DISABLE_XET": "1", "HOME": str(home),
                       "HF_HOME": str(home / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1",
                       "HF_HUB_DISABLE_PROGRESS_BARS": "1", "GIT_TERMINAL_PROMPT": "0"})
    yield hub
    hub.down()


@pytest.fixture(scope="session")
def endpoint(stack) -> str:
    return stack.endpoint
