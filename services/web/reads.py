"""Bounded reads of a file at a commit, whatever holds its bytes: metadata for regular files
(ReadFile with offset/length), lfs for LFS objects (ReadObject with offset/length). Pages never read
a file whole unless it is small; previews ask for the ranges they need (docs/architecture.md "Web pages")."""
from __future__ import annotations

from hangar_common import errors
from hangar_common.grpcio import call, stream
from hangar_protos import common_pb2, lfs_pb2, metadata_pb2

from .access import Clients


async def entry_at(c: Clients, repo: common_pb2.RepoRef, revision: str,
                   path: str) -> tuple[str, metadata_pb2.TreeEntry]:
    """(commit, entry) of a file, or EntryNotFound."""
    chunks = stream(c.metadata.ReadFile(metadata_pb2.ReadFileRequest(
        repo=repo, revision=revision, path=path, meta_only=True), timeout=30))
    async for chunk in chunks:
        if chunk.HasField("meta"):
            await chunks.aclose()
            return chunk.meta.commit, chunk.meta.entry
    raise errors.EntryNotFound(f"{path} not found")


class FileBytes:
    """Random access to one file's content: `await read(offset, length)`."""

    def __init__(self, c: Clients, repo: common_pb2.RepoRef, commit: str, entry: metadata_pb2.TreeEntry) -> None:
        self.c, self.repo, self.commit, self.entry = c, repo, commit, entry
        self.size = entry.size
        self.lfs = entry.HasField("lfs") and bool(entry.lfs.oid)

    async def read(self, offset: int, length: int) -> bytes:
        if offset >= self.size or length <= 0:
            return b""
        length = min(length, self.size - offset)
        if self.lfs:
            rpc = self.c.lfs.ReadObject(lfs_pb2.ReadObjectRequest(
                oid=self.entry.lfs.oid, offset=offset, length=length), timeout=60)
        else:
            rpc = self.c.metadata.ReadFile(metadata_pb2.ReadFileRequest(
                repo=self.repo, revision=self.commit, path=self.entry.path, offset=offset, length=length),
                timeout=60)
        parts = []
        async for chunk in stream(rpc):
            if self.lfs or chunk.HasField("data"):  # ReadFile's first message is the file's meta
                parts.append(chunk.data)
        return b"".join(parts)

    async def head(self, limit: int) -> tuple[bytes, bool]:
        """The first `limit` bytes, and whether the file is longer."""
        return await self.read(0, limit), self.size > limit


async def lfs_usable(c: Clients, oid: str, size: int) -> bool:
    """Whether lfs holds the verified object (a pointer may name bytes never uploaded)."""
    try:
        await call(c.lfs.DownloadUrl, lfs_pb2.DownloadUrlRequest(oid=oid, size=size, expires_seconds=60))
        return True
    except errors.NotFound:
        return False
