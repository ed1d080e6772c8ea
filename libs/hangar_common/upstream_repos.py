"""Looking a repository up in metadata, with the upstream mirror behind it (issue 18, docs/mirror.md).

A repository metadata does not hold may come from the upstream Hub: the mirror service fetches it
into metadata as an upstream cache, and the lookup is asked again. A cached one is revalidated by
the mirror (it answers at once while the repo is fresh or the upstream is down). Local
repositories shadow upstream ones simply by being found first. Used by every service that opens
repositories for clients (gateway, git), so they all see the same thing.
"""
from __future__ import annotations

from hangar_protos import common_pb2, metadata_pb2, mirror_pb2, mirror_pb2_grpc

from . import errors
from .grpcio import call

ENSURE_TIMEOUT = 600.0   # a first read waits for the upstream's git objects (bounded upstream side)


def mirror_stub(channel) -> mirror_pb2_grpc.MirrorStub | None:
    return mirror_pb2_grpc.MirrorStub(channel) if channel is not None else None


async def get_repo(metadata, mirror, ref: common_pb2.RepoRef,
                   principal: common_pb2.Principal | None = None) -> metadata_pb2.RepoInfo:
    request = metadata_pb2.RepoRequest(repo=ref)
    try:
        info = await call(metadata.GetRepo, request)
    except errors.NotFound:
        if mirror is None:
            raise
        await _ensure(mirror, ref, principal, cached=False)
        return await call(metadata.GetRepo, request)
    if info.upstream_cache and mirror is not None:
        try:
            changed = await _ensure(mirror, info.facts.repo, principal, cached=True)
        except errors.Unavailable:   # the mirror service itself is down: what metadata holds stands
            changed = False
        if changed:
            info = await call(metadata.GetRepo, request)
    return info


async def _ensure(mirror, ref, principal, *, cached: bool) -> bool:
    answer = await call(mirror.EnsureRepo, mirror_pb2.EnsureRepoRequest(
        repo=ref, principal=principal or common_pb2.Principal(anonymous=True), cached=cached),
        timeout=ENSURE_TIMEOUT)
    return answer.changed
