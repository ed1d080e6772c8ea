"""services/gateway/paths.py: raw-path splitting (clients %2F-encode revisions and paths; Starlette
decodes them in scope["path"]), segment decoding and the repo targets of API routes."""
from __future__ import annotations

import pytest
from starlette.requests import Request

from hangar_common import errors
from services.gateway import paths


def _request(raw_path: str) -> Request:
    from urllib.parse import unquote
    return Request({"type": "http", "method": "GET", "path": unquote(raw_path), "raw_path": raw_path.encode(),
                    "headers": []})


def test_raw_segments_keep_encoded_slashes_apart():
    request = _request("/api/models/alice/m/revision/refs%2Fpr%2F1")
    assert paths.raw_segments(request)[-2:] == ["revision", "refs%2Fpr%2F1"]
    assert paths.decode_segment("refs%2Fpr%2F1") == "refs/pr/1"
    assert paths.decode_segment("%C3%A9t%C3%A9") == "été"


@pytest.mark.parametrize("raw,kind,ns,name,tail", [
    ("/api/models/alice/m", "model", "alice", "m", []),
    ("/api/datasets/org/data.set/tree/refs%2Fpr%2F1/sub%2Fdir", "dataset", "org", "data.set",
     ["tree", "refs/pr/1", "sub/dir"]),
    ("/api/spaces/bob/app/resolve/main/%C3%A9t%C3%A9.txt", "space", "bob", "app", ["resolve", "main", "été.txt"]),
])
def test_api_targets(raw, kind, ns, name, tail):
    target = paths.api_target(_request(raw))
    assert (target.type, target.namespace, target.name, target.tail) == (kind, ns, name, tail)
    assert target.repo_id == f"{ns}/{name}"
    # A moved repo's URL keeps the raw tail as the client wrote it (its encoding included).
    moved = target.moved_to("new-ns", "new name", "expand=x")
    assert moved == raw.replace(f"/{ns}/{name}", "/new-ns/new%20name", 1) + "?expand=x"


@pytest.mark.parametrize("raw,kind,ns,name,tail", [
    ("/alice/m/resolve/main/a.txt", "model", "alice", "m", ["resolve", "main", "a.txt"]),
    ("/datasets/org/d/resolve/refs%2Fconvert%2Fparquet/x", "dataset", "org", "d",
     ["resolve", "refs/convert/parquet", "x"]),
    ("/spaces/bob/app/resolve/v1/dir/f", "space", "bob", "app", ["resolve", "v1", "dir", "f"]),
])
def test_resolve_targets(raw, kind, ns, name, tail):
    target = paths.resolve_target(_request(raw))
    assert (target.type, target.namespace, target.name, target.tail) == (kind, ns, name, tail)


@pytest.mark.parametrize("raw", ["/api/models/alice", "/api/notes/a/b", "/other/a/b"])
def test_not_api_targets(raw):
    with pytest.raises(errors.NotFound):
        paths.api_target(_request(raw))


def test_bad_encoding_is_a_400():
    with pytest.raises(errors.BadRequest) as bad:
        paths.decode_segment("%C3%28")
    assert bad.value.code == "InvalidPath"
