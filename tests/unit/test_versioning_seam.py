"""The versioning seam (services/metadata/versioning.py): the servicer speaks only to it, every
engine named by HANGAR_METADATA_ENGINE implements all of it, and every RPC of the Metadata service
is served. (What the methods do is the contract suites' business: tests/metadata and tests/repos,
run against each engine; docs/engines.md.)"""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from hangar_protos import metadata_pb2
from services.metadata import engines, servicer, versioning

METADATA = Path(servicer.__file__).parent
PROTOCOL = {name for name, member in vars(versioning.Versioning).items()
            if callable(member) and not name.startswith("_")}


def test_the_servicer_imports_nothing_of_an_engine():
    tree = ast.parse((METADATA / "servicer.py").read_text())
    local = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1
             for alias in node.names} | {node.module for node in ast.walk(tree)
                                         if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module}
    # The request reader, the reply builder and the interface: no engine module, no engine resources.
    assert local <= {"commitstream", "replies", "repo_info", "versioning", "Versioning"}, local


@pytest.mark.parametrize("name", sorted(engines.ENGINES))
def test_every_engine_implements_the_whole_interface(name):
    implementation = engines.ENGINES[name]
    assert len(PROTOCOL) >= 35
    for method in PROTOCOL:
        ours = getattr(implementation, method, None)
        assert ours is not None, f"{name} lacks {method}"
        expected = inspect.signature(getattr(versioning.Versioning, method))
        assert list(inspect.signature(ours).parameters) == list(expected.parameters), (name, method)


def test_every_metadata_rpc_is_served():
    rpcs = metadata_pb2.DESCRIPTOR.services_by_name["Metadata"].methods_by_name
    for rpc in rpcs:
        assert rpc in vars(servicer.MetadataServicer), f"MetadataServicer does not serve {rpc}"


def test_unknown_engine_names_refuse_to_start(monkeypatch):
    from services.metadata.lakefs import engine_name
    monkeypatch.setenv("HANGAR_METADATA_ENGINE", "svn")
    with pytest.raises(RuntimeError, match="choose 'git' or 'lakefs'"):
        engine_name()
    monkeypatch.setenv("HANGAR_METADATA_ENGINE", "")
    assert engine_name() == "git"
