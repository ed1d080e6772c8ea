"""Fetching the upstream's git objects over its git smart HTTP (gitprotocol-http.txt) with dulwich's
client: the upstream's own commits, trees and blobs, so their ids are the upstream's. dulwich is
synchronous: callers run `fetch` in a thread. The pack lands in a temporary file (memory does not
grow with the repository) and is read back object by object, deltas resolved, no thin packs."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import cast

from dulwich.client import HttpGitClient
from dulwich.object_format import SHA1
from dulwich.object_store import ObjectStoreGraphWalker
from dulwich.objects import ObjectID
from dulwich.pack import PackData, PackInflater

from hangar_common import edge

ZERO = "0" * 40


@dataclass
class Fetched:
    refs: dict[str, str]                  # refs/heads/* and refs/tags/* -> object id
    head: str                             # HEAD's symbolic target ("refs/heads/main")
    pack_path: str | None = None          # None when nothing new was needed

    def objects(self) -> Iterator[tuple[str, int, bytes]]:
        """(oid, git type number, raw content) of every object of the pack."""
        if self.pack_path is None:
            return
        data = PackData(self.pack_path, SHA1)
        try:
            for obj in PackInflater.for_pack_data(data):
                yield obj.id.decode(), obj.type_num, obj.as_raw_string()
        finally:
            data.close()

    def close(self) -> None:
        if self.pack_path:
            os.unlink(self.pack_path)
            self.pack_path = None


def git_url(upstream: str, repo_type: str, repo_id: str) -> str:
    prefix = edge.url_prefix(repo_type)
    return f"{upstream}/{prefix}{repo_id}"


def fetch(url: str, *, token: str, have: list[str], timeout: float, spool_dir: str,
          select: Callable[[dict[str, str]], dict[str, str]] | None = None) -> Fetched:
    """Refs of the upstream repo and a pack of what `have` does not reach (blocking). `select`
    picks the refs to fetch from the upstream's branches and tags (default: all of them); it may
    raise to refuse the upstream's refs before anything is downloaded."""
    client, path = _client(url, token, timeout)
    os.makedirs(spool_dir, exist_ok=True)
    fd, pack_path = tempfile.mkstemp(prefix="pack-", dir=spool_dir)
    try:
        return _fetch_into(client, path, fd, pack_path, have, select)
    except BaseException:
        _unlink(pack_path)
        raise


def list_refs(url: str, *, token: str, timeout: float) -> dict[str, str]:
    """The upstream repo's branches and tags (blocking): one ref advertisement, no pack."""
    client, path = _client(url, token, timeout)
    result = client.get_refs(path)
    return {name.decode(): sha.decode() for name, sha in result.refs.items() if _wanted(name)}


def _client(url: str, token: str, timeout: float) -> tuple[HttpGitClient, str]:
    base, path = url.rsplit("/", 2)[0], "/" + "/".join(url.rsplit("/", 2)[1:])
    client = HttpGitClient(base, username="hangar-mirror" if token else None, password=token or None,
                           timeout=timeout, thin_packs=False, quiet=True, include_tags=True)
    return client, path


def _fetch_into(client, path, fd, pack_path, have, select) -> Fetched:
    have_set = set(have)
    wrote = False
    chosen: dict[str, str] = {}

    def wants(refs, depth=None):
        offered = {name.decode(): sha.decode() for name, sha in refs.items() if _wanted(name)}
        chosen.update(select(offered) if select is not None else offered)
        return list(dict.fromkeys(sha.encode() for sha in chosen.values() if sha not in have_set and sha != ZERO))

    walker = ObjectStoreGraphWalker([cast(ObjectID, h.encode()) for h in have], lambda sha: [])
    with os.fdopen(fd, "wb") as out:
        def pack_data(chunk: bytes) -> int:
            nonlocal wrote
            wrote = wrote or bool(chunk)
            out.write(chunk)
            return len(chunk)
        result = client.fetch_pack(path, wants, walker, pack_data)
    refs = dict(chosen) if select is not None else \
        {name.decode(): sha.decode() for name, sha in result.refs.items() if _wanted(name)}
    symrefs = cast(dict[bytes, bytes], result.symrefs or {})
    head = symrefs.get(b"HEAD", b"refs/heads/main").decode()
    if not wrote:
        os.unlink(pack_path)
        pack_path = None
    return Fetched(refs=refs, head=head, pack_path=pack_path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _wanted(name: bytes) -> bool:
    return name.startswith((b"refs/heads/", b"refs/tags/")) and not name.endswith(b"^{}")
