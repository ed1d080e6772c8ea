"""LFS objects of upstream-cached repos, fetched once however many callers ask (single-flight).

The first caller starts one download task; every caller, first or later, reads the bytes from a
local spool file as they arrive. Each reader's last byte waits until the whole object hashed to its
sha256 and matched its size, so no client ever holds a complete file the mirror has not verified;
on a mismatch, a truncated body or an upstream failure every reader's stream aborts and nothing is
cached. Verified bytes are staged in S3 under `mirror-staging/` and handed to lfs (AdoptObject),
whose own verification read makes them the object of the oid, shared with local repos.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import uuid
from collections.abc import AsyncIterator

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import common_pb2, lfs_pb2

from . import cache, metrics
from .upstream import Upstream

logger = logging.getLogger("hangar.mirror.objects")
CHUNK = 1024 * 1024
STAGING = "mirror-staging/"


def mismatch(message: str) -> errors.HangarError:
    return errors.HangarError(message, code="UpstreamMismatch", status=502)


class Fetch:
    """One download of one oid into a spool file, with progress readers can wait on."""

    def __init__(self, oid: str, size: int, path: str) -> None:
        self.oid, self.size, self.path = oid, size, path
        self.received = 0
        self.verified = False
        self.error: errors.HangarError | None = None
        self.changed = asyncio.Condition()
        self.task: asyncio.Task | None = None

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def available(self, pos: int, end: int) -> int:
        """How far (exclusive) a reader of [pos, end) may read now; waits for progress. The byte
        before `end` is released only once verified."""
        async with self.changed:
            while True:
                if self.verified:
                    return end   # complete and checked (a later failure to store it changes nothing)
                if self.error is not None:
                    raise self.error
                limit = end if self.verified else min(self.received, end - 1)
                if limit > pos:
                    return limit
                await self.changed.wait()


class ObjectFetcher:
    def __init__(self, settings, upstream: Upstream, db, store, lfs) -> None:
        self.settings, self.upstream, self.db, self.store, self.lfs = settings, upstream, db, store, lfs
        self.fetches: dict[str, Fetch] = {}
        self._evicting = asyncio.Lock()
        metrics.IN_FLIGHT.set_function(lambda: len(self.fetches))
        os.makedirs(settings.spool_dir, exist_ok=True)

    async def stored(self, oid: str, size: int, repo_id: str) -> bool:
        """Bytes of `oid` fetched for this cache repository: an object someone else holds here under
        the same oid does not count (the upstream's pointer proves nothing about who may read it)."""
        try:
            await call(self.lfs.DownloadUrl, lfs_pb2.DownloadUrlRequest(oid=oid, size=size, expires_seconds=60,
                                                                       granted_repo_id=repo_id))
        except errors.NotFound:
            return False
        return True

    def attach(self, facts: common_pb2.RepoFacts, oid: str, size: int, token: str, *, record: bool = True) -> Fetch:
        """The download of `oid` under way, or a new one. `record`: count it as cached content
        (an import keeps its own record; its objects are never evicted)."""
        fetch = self.fetches.get(oid)
        if fetch is not None and fetch.size == size and fetch.error is None:
            metrics.HITS.labels("object-in-flight").inc()
            return fetch
        metrics.MISSES.labels("object").inc()
        fetch = Fetch(oid, size, os.path.join(self.settings.spool_dir, f"{oid}.{uuid.uuid4().hex}"))
        open(fetch.path, "wb").close()
        self.fetches[oid] = fetch
        fetch.task = asyncio.create_task(self._run(fetch, facts, token, record))
        return fetch

    async def read(self, fetch: Fetch, offset: int, end: int) -> AsyncIterator[bytes]:
        """The bytes [offset, end) of an object being fetched, as they arrive."""
        # Opened before the first await: the caller attached while the spool existed (a finished
        # download removes its spool in the same step that forgets it), and it may go right after.
        fh = open(fetch.path, "rb")   # a local open: nothing to wait for
        try:
            pos = offset
            while pos < end:
                limit = await fetch.available(pos, end)
                data = await asyncio.to_thread(os.pread, fh.fileno(), min(limit - pos, CHUNK), pos)
                if not data:
                    raise mismatch("The spooled object was cut short")
                pos += len(data)
                yield data
        finally:
            fh.close()

    # --- the one download -------------------------------------------------------------------

    async def _run(self, fetch: Fetch, facts: common_pb2.RepoFacts, token: str, record: bool) -> None:
        try:
            await self._download(fetch, facts, token)
            fetch.verified = True
            await fetch._notify()
            await self._adopt(fetch, facts, record)
        except errors.HangarError as exc:
            fetch.error = exc
        except Exception:
            logger.exception("mirror fetch failed", extra={"fields": {"oid": fetch.oid}})
            fetch.error = errors.HangarError("Fetching from the upstream Hub failed", code="UpstreamUnavailable",
                                             status=502)
        finally:
            if fetch.error is not None:
                metrics.ERRORS.labels(fetch.error.code).inc()
                await fetch._notify()
            if self.fetches.get(fetch.oid) is fetch:
                del self.fetches[fetch.oid]
            _unlink(fetch.path)

    async def _download(self, fetch: Fetch, facts: common_pb2.RepoFacts, token: str) -> None:
        repo_id = f"{facts.repo.namespace}/{facts.repo.name}"
        href, headers = await self.upstream.lfs_download(facts.repo.type or "model", repo_id, fetch.oid,
                                                         fetch.size, token)
        digest = hashlib.sha256()
        out = await asyncio.to_thread(open, fetch.path, "r+b")
        with out:
            try:
                async with self.upstream.stream(href, headers) as resp:
                    if resp.status_code != 200:
                        raise mismatch(f"The upstream Hub answered {resp.status_code} for object {fetch.oid}")
                    async for data in resp.aiter_bytes(CHUNK):
                        if fetch.received + len(data) > fetch.size:
                            raise mismatch(f"The upstream Hub sent more than {fetch.size} bytes for {fetch.oid}")
                        await asyncio.to_thread(os.pwrite, out.fileno(), data, fetch.received)
                        digest.update(data)
                        fetch.received += len(data)
                        metrics.UPSTREAM_BYTES.inc(len(data))
                        await fetch._notify()
            except errors.HangarError:
                raise
            except Exception as exc:   # connection reset, read timeout (a slow upstream)...
                self.upstream.mark_down()
                raise errors.HangarError(f"Fetching from the upstream Hub failed: {type(exc).__name__}",
                                         code="UpstreamUnavailable", status=502) from None
        if fetch.received != fetch.size:
            raise mismatch(f"The upstream Hub sent {fetch.received} of {fetch.size} bytes for {fetch.oid}")
        if digest.hexdigest() != fetch.oid:
            raise mismatch(f"The upstream Hub's bytes for {fetch.oid} hash to {digest.hexdigest()}")

    async def _adopt(self, fetch: Fetch, facts: common_pb2.RepoFacts, record: bool) -> None:
        key = f"{STAGING}{fetch.oid}/{uuid.uuid4().hex}"
        await self.store.run(self.store.client.fput_object, self.store.bucket, key, fetch.path)
        await call(self.lfs.AdoptObject, lfs_pb2.AdoptObjectRequest(oid=fetch.oid, size=fetch.size, staged_key=key,
                                                                    repo=facts), timeout=3600)
        if record:
            await cache.record_object(self.db, fetch.oid, fetch.size, facts.repo.type or "model",
                                      f"{facts.repo.namespace}/{facts.repo.name}")
            await self.evict(keep=fetch.oid)

    async def evict(self, *, keep: str) -> None:
        """Bring cached content under HANGAR_MIRROR_CACHE_MAX_BYTES, least recently used first.
        lfs deletes an object only when no repository but upstream caches references it and nobody
        uploaded it; either way it stops counting as cached content. A cache repo whose object went
        fetches it again on the next read."""
        if self.settings.cache_max_bytes <= 0:
            return
        async with self._evicting:
            # Again until under the bound: an object lfs kept (a local repository references it now)
            # stops counting as cached content without freeing its bytes, so the next ones go too.
            while candidates := [(oid, size) for oid, size in await cache.eviction_candidates(
                    self.db, self.settings.cache_max_bytes, keep) if oid not in self.fetches]:
                for oid, size in candidates:
                    answer = await call(self.lfs.EvictObject, lfs_pb2.EvictObjectRequest(oid=oid))
                    await cache.forget_object(self.db, oid)
                    if answer.evicted:
                        metrics.EVICTIONS.inc()
                        metrics.EVICTED_BYTES.inc(size)
            metrics.CACHE_BYTES.set(await cache.cached_bytes(self.db))


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
