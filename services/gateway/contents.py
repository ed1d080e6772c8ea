"""Streaming reads from metadata (tree pages, file chunks) with peer errors turned back into
HangarError, revision resolution shared by the content routes, and the Xet hashes of LFS files."""
from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

from hangar_common import errors
from hangar_common.grpcio import stream
from hangar_protos import common_pb2, metadata_pb2

from .deps import Clients


async def resolve(services: Clients, repo: common_pb2.RepoRef, revision: str) -> metadata_pb2.ResolvedRevision:
    return await services.hot.revision(repo, revision)


def tree_pages(services: Clients, req: metadata_pb2.ListTreeRequest) -> AsyncIterator[metadata_pb2.TreePage]:
    return stream(services.metadata.ListTree(req, timeout=300))


def file_chunks(services: Clients, req: metadata_pb2.ReadFileRequest) -> AsyncGenerator[metadata_pb2.FileChunk]:
    return stream(services.metadata.ReadFile(req, timeout=3600))


async def first_and_rest(iterator: AsyncIterator):
    """Await the first item (so errors surface before a response starts) and keep the rest lazy."""
    try:
        first = await iterator.__anext__()
    except StopAsyncIteration:
        return None, iterator
    return first, iterator


async def xet_hashes(services: Clients, oids: list[str]) -> dict[str, str]:
    """Xet file hashes of the LFS oids uploaded through Xet (lfs owns them). Xet is an extra way to
    download: when lfs cannot answer, entries go out without it and clients use plain LFS."""
    if not oids:
        return {}
    try:
        return await services.hot.xet_hashes_of(oids)
    except errors.Unavailable:
        return {}
