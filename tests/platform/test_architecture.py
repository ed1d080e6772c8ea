"""Architecture rules that keep the services separable."""
from __future__ import annotations

import ast
import re
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


def _environment_reads(path: Path) -> list[int]:
    """Lines of `path` that read the process environment (os.environ, os.getenv, os.environb)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "environb", "getenv", "getenvb") \
                and isinstance(node.value, ast.Name) and node.value.id == "os":
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" \
                and any(a.name in ("environ", "environb", "getenv", "getenvb") for a in node.names):
            lines.append(node.lineno)
    return lines


def test_settings_is_the_only_reader_of_the_environment():
    """Services and the shared library get their configuration from Settings (hangar_common.config,
    which the per-service settings read through); the launcher and the tests may read the environment."""
    config = ROOT / "libs" / "hangar_common" / "config.py"
    assert _environment_reads(config)
    stray = [f"{path.relative_to(ROOT)}:{line}"
             for folder in (ROOT / "services", ROOT / "libs" / "hangar_common")
             for path in sorted(folder.rglob("*.py")) if path != config
             for line in _environment_reads(path)]
    assert not stray, stray


def test_design_citations_point_at_pages_in_the_repository():
    """Docstrings cite the design in docs/ (not a handbook outside the repo), and every page they or
    the README name exists."""
    cited: set[str] = set()
    for folder in ("services", "libs/hangar_common", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text()
            assert "DESIGN" + ".md" not in text, path
            cited.update(re.findall(r"(?<!git-lfs )\bdocs/([\w-]+\.md)", text))   # not git-lfs's own docs
    cited.update(re.findall(r"\(docs/([\w-]+\.md)\)", (ROOT / "README.md").read_text()))
    missing = [page for page in sorted(cited) if not (ROOT / "docs" / page).is_file()]
    assert cited and not missing, missing


def test_gateway_routes_hold_routes_only():
    """Each module of services/gateway/routes/ is a router of one resource; what they share (JSON
    shapes, repo access, dependencies) lives beside them, and no route module imports another."""
    folder = ROOT / "services" / "gateway" / "routes"
    modules = {path.stem for path in folder.glob("*.py")} - {"__init__"}
    for path in sorted(folder.glob("*.py")):
        if path.stem == "__init__":
            continue
        tree = ast.parse(path.read_text())
        assigned = {t.id for node in tree.body if isinstance(node, ast.Assign)
                    for t in node.targets if isinstance(t, ast.Name)}
        assert "router" in assigned, f"{path.name} declares no router"
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                named = {node.module} if node.module else {alias.name for alias in node.names}
                assert not named & modules, f"{path.name} imports route module {named & modules}"
