"""Upstream repositories in metadata: the first read of a repository Hangar does not hold fetches
it (as an upstream cache), and later reads revalidate its branches once `ttl` has passed.

The upstream's git objects go to metadata's UpstreamSync with the ref changes that bring the cache
to the upstream's refs, all-or-nothing; metadata stays the only writer of refs. One sync per repo
at a time in this process; a caller that waited finds it fresh. When the upstream is unreachable a
cached repo keeps its last known refs, and an uncached one is a fast UpstreamUnavailable.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from datetime import UTC, datetime

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import common_pb2, metadata_pb2

from . import cache, gitfetch, metrics
from .access import UpstreamAccess
from .upstream import Moved, Upstream

logger = logging.getLogger("hangar.mirror.sync")
BATCH_BYTES = 2 * 1024 * 1024
PIECE = 1024 * 1024
MAX_REDIRECTS = 3


class RepoSync:
    def __init__(self, settings, upstream: Upstream, db, metadata, access: UpstreamAccess) -> None:
        self.settings, self.upstream, self.db, self.metadata = settings, upstream, db, metadata
        self.access = access
        self._locks: dict[tuple, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._legacy: dict[tuple[str, str], tuple[float, common_pb2.RepoRef]] = {}

    async def ensure(self, ref: common_pb2.RepoRef, cached: bool, user_id: str = "") -> bool:
        """True when metadata's copy changed (created or refs moved). `user_id`: the reader, whose
        linked upstream token reads a gated or private upstream repo (if the upstream serves them)."""
        repo_type, repo_id = ref.type or "model", f"{ref.namespace}/{ref.name}"
        if not self.settings.enabled or not self.settings.allows(repo_type, repo_id):
            raise errors.RepoNotFound("Repository not found")
        if cached and await self._fresh(repo_type, repo_id):
            metrics.HITS.labels("refs").inc()
            return False
        async with self._locks[(repo_type, repo_id.lower())]:
            if cached and await self._fresh(repo_type, repo_id):
                return False
            if not cached and await self._in_metadata(ref) is not None:
                return True  # another caller fetched it while this one waited
            metrics.MISSES.labels("refs").inc()
            try:
                return await self._sync(ref, cached, 0, user_id)
            except errors.HangarError as exc:
                if cached and exc.code == "UpstreamUnavailable":
                    metrics.HITS.labels("refs-stale").inc()
                    return False   # serve the last known refs
                raise

    async def legacy(self, repo_type: str, name: str) -> common_pb2.RepoRef:
        """The repository an id without a namespace stands for upstream (remembered for the TTL,
        and while the upstream is down)."""
        if not self.settings.enabled:
            raise errors.RepoNotFound("Repository not found")
        key = (repo_type, name.lower())
        known = self._legacy.get(key)
        if known is not None and (self.upstream.is_down() or time.monotonic() - known[0] < self.settings.ttl):
            return known[1]
        try:
            moved = await self.upstream.legacy_id(repo_type, name, "")
        except errors.HangarError as exc:
            if known is not None and exc.code == "UpstreamUnavailable":
                return known[1]
            raise
        if not self.settings.allows(repo_type, f"{moved.namespace}/{moved.name}"):
            raise errors.RepoNotFound("Repository not found")
        ref = common_pb2.RepoRef(type=repo_type, namespace=moved.namespace, name=moved.name)
        self._legacy[key] = (time.monotonic(), ref)
        return ref

    async def _fresh(self, repo_type: str, repo_id: str) -> bool:
        if self.upstream.is_down():
            return True
        at = await cache.checked_at(self.db, repo_type, repo_id)
        return at is not None and (datetime.now(UTC) - at).total_seconds() < self.settings.ttl

    async def _in_metadata(self, ref) -> metadata_pb2.RepoInfo | None:
        try:
            return await call(self.metadata.GetRepo, metadata_pb2.RepoRequest(repo=ref))
        except errors.NotFound:
            return None

    async def _sync(self, ref: common_pb2.RepoRef, cached: bool, depth: int, user_id: str = "") -> bool:
        repo_type, repo_id = ref.type or "model", f"{ref.namespace}/{ref.name}"
        token = await self.access.token_for(user_id, repo_type, repo_id)
        answer = await self.upstream.repo_info(repo_type, ref.namespace, ref.name, token)
        if isinstance(answer, Moved):
            return await self._follow(ref, answer, depth, user_id)
        if (answer.private or answer.gated) and not await self.access.allowed(
                user_id, repo_type, f"{answer.namespace}/{answer.name}"):
            # Only a reader the upstream serves fetches a gated or private repo (with their token):
            # anyone else keeps what is cached (auth decides what they may see of it) or, for a
            # repo not cached yet, gets the upstream's answer.
            if cached:
                return False
            if answer.private:
                raise errors.RepoNotFound("Repository not found")
            raise errors.Forbidden("Access to this repository is restricted on the upstream Hub", code="GatedRepo")
        target = common_pb2.RepoRef(type=repo_type, namespace=answer.namespace, name=answer.name)
        current = await self._local_refs(target) if cached else {}
        url = gitfetch.git_url(self.settings.upstream_url, repo_type, f"{answer.namespace}/{answer.name}")
        fetched = await self._fetch(url, token, sorted(set(current.values())))
        try:
            commands = _commands(current, fetched.refs)
            if commands or not cached:
                await self._store(target, fetched, commands, create=not cached, private=answer.private,
                                  gated=answer.gated)
        finally:
            await asyncio.to_thread(fetched.close)
        await cache.mark_checked(self.db, repo_type, repo_id)
        return bool(commands) or not cached

    async def _follow(self, ref, moved: Moved, depth: int, user_id: str = "") -> bool:
        """A renamed upstream repo: mirror it under its new name and let the old one redirect there,
        as the Hub answers (metadata's redirect of a moved repo)."""
        if depth >= MAX_REDIRECTS:
            raise errors.HangarError("The upstream Hub redirects too often", code="UpstreamUnavailable", status=502)
        target = common_pb2.RepoRef(type=ref.type or "model", namespace=moved.namespace, name=moved.name)
        info = await self._in_metadata(target)
        if info is not None and not info.upstream_cache:
            raise errors.RepoNotFound("Repository not found")   # a local repo holds the new name
        if info is None or not await self._fresh(target.type, f"{moved.namespace}/{moved.name}"):
            await self._sync(target, info is not None, depth + 1, user_id)
        header = metadata_pb2.GitReceiveHeader(repo=target, upstream=metadata_pb2.UpstreamRepo(
            cache=True, force=True, aliases=[ref]))
        await self._send(header, None)
        return True

    async def _local_refs(self, ref) -> dict[str, str]:
        refs = await call(self.metadata.GitListRefs, metadata_pb2.RepoRequest(repo=ref))
        return {r.name: r.target for r in refs.refs}

    async def _fetch(self, url: str, token: str, have: list[str]) -> gitfetch.Fetched:
        return await fetch_pack(self.upstream, self.settings, url, token, have)

    async def _store(self, target, fetched: gitfetch.Fetched, commands, *, create: bool, private: bool,
                     gated: str) -> None:
        # A gated or private upstream repo is cached with the same visibility: auth then asks the
        # mirror (access.py) for every reader instead of applying local roles.
        header = metadata_pb2.GitReceiveHeader(repo=target, commands=commands, upstream=metadata_pb2.UpstreamRepo(
            create=create, cache=True, force=True, default_branch=fetched.head.removeprefix("refs/heads/"),
            private=private, gated=gated))
        await self._send(header, fetched)

    async def _send(self, header, fetched: gitfetch.Fetched | None) -> None:
        result = await send_objects(self.metadata, header, fetched)
        if not result.ok:
            reasons = sorted({r.error for r in result.results if r.error} | ({result.error} - {""}))
            metrics.ERRORS.labels("refused").inc()
            raise errors.BadRequest("The upstream repository cannot be mirrored: " + "; ".join(reasons),
                                    code="UpstreamRefused")


async def fetch_pack(upstream: Upstream, settings, url: str, token: str, have: list[str],
                     select=None) -> gitfetch.Fetched:
    """The upstream's refs and a pack of what `have` lacks (gitfetch.fetch in a thread, bounded)."""
    return await _git_call(upstream, settings, gitfetch.fetch, url, token=token, have=have,
                           timeout=settings.timeout, spool_dir=settings.spool_dir, select=select)


async def list_refs(upstream: Upstream, settings, url: str, token: str) -> dict[str, str]:
    return await _git_call(upstream, settings, gitfetch.list_refs, url, token=token, timeout=settings.timeout)


async def _git_call(upstream: Upstream, settings, fn, *args, **kwargs):
    if upstream.is_down():
        raise errors.HangarError("The upstream Hub is unreachable", code="UpstreamUnavailable", status=502)
    try:
        return await asyncio.wait_for(asyncio.to_thread(fn, *args, **kwargs),
                                      timeout=max(60.0, settings.timeout * 30))
    except errors.HangarError:
        raise   # `select` refused the upstream's refs
    except Exception as exc:
        logger.warning("upstream git fetch failed: %s: %s", type(exc).__name__, exc)
        upstream.mark_down()
        raise errors.HangarError(f"Fetching from the upstream Hub failed: {type(exc).__name__}",
                                 code="UpstreamUnavailable", status=502) from None


async def send_objects(metadata, header, fetched: gitfetch.Fetched | None) -> metadata_pb2.GitReceiveResult:
    """One UpstreamSync: the header, then the pack's objects; metadata applies it all or nothing."""
    failed: list[BaseException] = []

    async def chunks():
        yield metadata_pb2.GitReceiveChunk(header=header)
        if fetched is None:
            return
        objects = fetched.objects()
        while True:
            try:
                batches = await asyncio.to_thread(_next_batches, objects)
            except Exception as exc:   # an unreadable pack: end the stream, metadata refuses it
                failed.append(exc)
                return
            if not batches:
                return
            for batch in batches:
                yield metadata_pb2.GitReceiveChunk(objects=batch)
    result = await call(metadata.UpstreamSync, chunks(), timeout=3600)
    if failed:
        metrics.ERRORS.labels("bad-pack").inc()
        raise errors.HangarError("The upstream Hub sent an unreadable pack", code="UpstreamUnavailable", status=502)
    return result


def _commands(current: dict[str, str], upstream: dict[str, str]) -> list[metadata_pb2.RefCommand]:
    zero = gitfetch.ZERO
    out = [metadata_pb2.RefCommand(ref=name, old_oid=current.get(name, zero), new_oid=target)
           for name, target in sorted(upstream.items()) if current.get(name) != target]
    out += [metadata_pb2.RefCommand(ref=name, old_oid=target, new_oid=zero)
            for name, target in sorted(current.items()) if name not in upstream]
    return out


def _next_batches(objects) -> list[metadata_pb2.GitObjectBatch]:
    """About BATCH_BYTES of objects from the pack (blocking: runs in a thread), as messages of at
    most that size; a large object's data spans messages with `more`. Empty at the end."""
    batches, batch, size, total = [], metadata_pb2.GitObjectBatch(), 0, 0
    for oid, kind, data in objects:
        for pos in range(0, max(len(data), 1), PIECE):
            piece = metadata_pb2.GitObject(oid=oid, type=kind, data=data[pos:pos + PIECE],
                                           more=pos + PIECE < len(data))
            if pos == 0:
                piece.size = len(data)
            batch.objects.append(piece)
            size += len(piece.data)
            if size >= BATCH_BYTES:
                batches.append(batch)
                batch, size = metadata_pb2.GitObjectBatch(), 0
        total += len(data)
        if total >= 4 * BATCH_BYTES:
            break
    if batch.objects:
        batches.append(batch)
    return batches
