"""Each table of metadata's commit and LFS indexes is queried by one module (code health issue,
item 4): SQL naming `repo_commits` or `path_changes` stands only in indexes.py, `lfs_refs` only in
lfsindex.py; every other module asks those modules."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"
OWNERS = {"repo_commits": "metadata/indexes.py", "path_changes": "metadata/indexes.py",
          "lfs_refs": "metadata/lfsindex.py"}


@pytest.mark.parametrize("table", sorted(OWNERS))
def test_one_module_queries_the_table(table):
    sql = re.compile(rf"\b(FROM|JOIN|INTO|UPDATE)\s+{table}\b", re.I)
    users = sorted(str(path.relative_to(SERVICES)) for path in SERVICES.rglob("*.py")
                   if "migrations" not in path.parts and sql.search(path.read_text()))
    assert users == [OWNERS[table]]
