"""Browser tests of the web pages: one real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright from PyPI; never a downloaded browser build) for the whole session, a fresh context
(cookies) per user. Screenshots go to tests/web/screenshots/ (git-ignored) for people to look at."""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).parent
CHROMIUM = os.environ.get("HANGAR_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = HERE / "screenshots"
PASSWORD = "correct horse battery staple"


def _need(condition: bool, reason: str) -> None:
    # .ci/run installs chromium and runs `npm ci`; in CI a missing tool fails instead of skipping.
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="package")
def browser(stack):
    """Started after the stack (whose start uses asyncio.run: Playwright's sync API keeps a loop
    running in this thread), and stopped when tests/web ends, so later suites can asyncio.run."""
    _need(Path(CHROMIUM).exists(), f"{CHROMIUM} missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists() and shutil.which("npm"):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=False, capture_output=True)
    _need(AXE.exists(), "axe-core missing (npm ci in tests/web)")
    return AXE.read_text()


@pytest.fixture()
def new_page(browser, endpoint):
    """new_page(**context_options) -> a page in a fresh browser context (its own cookies)."""
    contexts = []

    def make(**options):
        viewport = options.pop("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(base_url=endpoint, viewport=viewport, **options)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
        return page

    yield make
    for context in contexts:
        context.close()


def sign_in(page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".menu-name").inner_text() == username


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def safetensors_bytes(tensors: dict[str, tuple[str, list[int]]]) -> bytes:
    """A valid safetensors file: 8-byte little-endian header length, the JSON header, zeroed data."""
    sizes = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, (dtype, shape) in tensors.items():
        count = 1
        for dim in shape:
            count *= dim
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + count * sizes[dtype]]}
        offset += count * sizes[dtype]
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0" * offset


def api(endpoint: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {token}"}, timeout=60)
