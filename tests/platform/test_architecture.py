"""Architecture rules that keep the services separable."""
from __future__ import annotations

import ast
from pathlib import Path

from hangar_common.logs import redact

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("auth", "community", "gateway", "git", "lfs", "metadata", "mirror", "web")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_service_imports_another_service():
    for service in SERVICES:
        for path in (ROOT / "services" / service).rglob("*.py"):
            for name in _imports(path):
                parts = name.split(".")
                if parts[0] == "services" and len(parts) > 1:
                    assert parts[1] == service, f"{path} imports {name}"


def test_secrets_are_redacted_from_logs():
    line = ('Authorization: Bearer hf_abcdefghijklmnop cookie="session=xyz" '
            'https://s3/x?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA')
    out = redact(line)
    for secret in ("hf_abcdefghijklmnop", "session=xyz", "deadbeef", "AKIA"):
        assert secret not in out
