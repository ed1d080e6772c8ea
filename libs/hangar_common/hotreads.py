"""The reads every download repeats, answered from this process when they can be (issue 16).

`HotReads` wraps the auth and metadata calls of the request path (credentials → principal, repo
lookup, authorization decision, revision → commit, a file's entry at a commit, a small file's bytes)
in `hotcache` caches. The answers stay the peers' own: auth still decides, metadata still resolves;
this only remembers an answer until the peer that owns the data says it changed (hotcache notes:
auth on revocations, memberships and access grants; metadata on any change to a repository or its
refs). A `HEAD /resolve` whose answers are all cached makes no call at all.

What is never cached: errors (a bad token, a missing repo or revision), session cookies (auth checks
their expiry and, on writes, their CSRF token every time), answers for upstream caches or reached
through an old name (the mirror revalidates those, and redirects must follow renames), decisions on
gated or private upstream caches (the mirror's access rule has its own TTL, and unlinking a token
ends it at once).
"""
from __future__ import annotations

import hashlib
from typing import Any

from hangar_protos import auth_pb2, common_pb2, lfs_pb2, metadata_pb2

from . import errors, hotcache
from .grpcio import call, stream
from .hotcache import DECISIONS, MISSING, PRINCIPALS, REPOS, Cache
from .upstream_repos import get_repo

SMALL_BLOB = 64 * 1024          # files up to this size keep their bytes in memory...
BLOB_ENTRIES = 1024              # ...this many of them (at most 64 MiB)
SMALL_ANSWER_PATHS = 100         # paths-info answers up to this many entries are kept
SMALL_LISTING = 256 * 1024       # repo_info siblings up to this many bytes of JSON are kept
URL_REUSE = 900                  # seconds a presigned download URL (valid ≥ 4× as long) is reused


class HotReads:
    def __init__(self, bus: hotcache.Bus | None, auth: Any, metadata: Any, mirror: Any = None,
                 lfs: Any = None) -> None:
        self.auth, self.metadata, self.mirror, self.lfs = auth, metadata, mirror, lfs
        self.principals = Cache(bus, "principals", [PRINCIPALS], ttl=60, max_entries=50_000)
        self.decisions = Cache(bus, "decisions", [PRINCIPALS, DECISIONS, REPOS], ttl=60, max_entries=100_000)
        self.repos = Cache(bus, "repos", [REPOS], ttl=60, max_entries=50_000)
        self.revisions = Cache(bus, "revisions", [REPOS], ttl=60, max_entries=100_000)
        self.entries = Cache(bus, "entries", [], ttl=0, max_entries=200_000, immutable=True)
        self.blobs = Cache(bus, "blobs", [], ttl=0, max_entries=BLOB_ENTRIES, immutable=True)
        # Answers computed from a commit alone (paths-info entries, repo_info's siblings), small ones.
        self.at_commit = Cache(bus, "at-commit", [], ttl=0, max_entries=4096, immutable=True)
        # lfs: a presigned download URL is handed out again for a quarter of its lifetime (who gets
        # it still has three quarters left); an oid's Xet hash is kept a minute (Xet GC may drop it).
        self.download_urls = Cache(bus, "download-urls", [], ttl=URL_REUSE, max_entries=20_000)
        self.xet_hashes = Cache(bus, "xet-hashes", [], ttl=60, max_entries=100_000)

    # --- auth ---------------------------------------------------------------------------------

    async def principal(self, request: auth_pb2.AuthenticateRequest) -> common_pb2.Principal:
        """Tokens (and no credentials at all) are cached; a session cookie is auth's to check every
        time (its CSRF check on writes, its own expiry)."""
        if request.session_cookie and not request.authorization:
            return await call(self.auth.Authenticate, request)
        key = hashlib.sha256(request.authorization.encode()).digest()
        return await self.principals.get_or_load(
            key, lambda: call(self.auth.Authenticate, request), tags=lambda p: [_who(p)])

    async def decision(self, request: auth_pb2.AuthorizeRequest) -> auth_pb2.AuthorizeResponse:
        key = request.SerializeToString(deterministic=True)
        facts = request.repo
        return await self.decisions.get_or_load(
            key, lambda: call(self.auth.Authorize, request),
            tags=lambda _d: [_who(request.principal), request.repo.repo_id],
            # A gated or private upstream cache: the upstream's answer for the user, which the
            # mirror remembers for its own short TTL and forgets when the user's linked token changes.
            keep=lambda _d: not (facts.upstream_cache and (facts.private or facts.gated)))

    # --- metadata -----------------------------------------------------------------------------

    async def repo(self, ref: common_pb2.RepoRef, principal: common_pb2.Principal) -> metadata_pb2.RepoInfo:
        """metadata's RepoInfo (through the upstream mirror when it is deployed)."""
        return await self.repos.get_or_load(
            (ref.type, ref.namespace, ref.name), lambda: get_repo(self.metadata, self.mirror, ref, principal),
            tags=lambda info: [info.facts.repo_id],
            keep=lambda info: not info.upstream_cache and not info.redirected_from.name)

    async def revision(self, ref: common_pb2.RepoRef, revision: str) -> metadata_pb2.ResolvedRevision:
        return await self.revisions.get_or_load(
            (ref.type, ref.namespace, ref.name, revision),
            lambda: call(self.metadata.ResolveRevision, metadata_pb2.RevisionRequest(repo=ref, revision=revision)),
            tags=lambda resolved: [resolved.repo.facts.repo_id])

    async def entry(self, ref: common_pb2.RepoRef, commit: str, path: str) -> metadata_pb2.TreeEntry:
        """The entry of a file at a commit; EntryNotFound when there is none (both cached for good:
        a commit id names one tree forever)."""
        found = self.entries.get((commit, path))
        if found is MISSING:
            found = await self._read_entry(ref, commit, path)
            self.entries.put((commit, path), found)
        if isinstance(found, _Absent):
            raise errors.EntryNotFound(found.message)
        return found

    async def _read_entry(self, ref, commit: str, path: str) -> metadata_pb2.TreeEntry | _Absent:
        chunks = stream(self.metadata.ReadFile(metadata_pb2.ReadFileRequest(
            repo=ref, revision=commit, path=path, meta_only=True), timeout=60))
        try:
            async for chunk in chunks:
                if chunk.HasField("meta"):
                    return chunk.meta.entry
                break
        except errors.EntryNotFound as exc:
            return _Absent(exc.message)
        finally:
            await chunks.aclose()
        return _Absent(f"{path} not found")

    async def paths_info(self, ref: common_pb2.RepoRef, commit: str, wanted: list[str],
                         expand: bool) -> list[metadata_pb2.TreeEntry]:
        """metadata's GetPathsInfo at a commit id; small answers are kept for good."""
        key = ("paths-info", commit, tuple(wanted), expand)
        found = self.at_commit.get(key)
        if found is not MISSING:
            return found
        found = []
        async for page in stream(self.metadata.GetPathsInfo(metadata_pb2.PathsInfoRequest(
                repo=ref, revision=commit, paths=wanted, expand=expand), timeout=300)):
            found.extend(page.entries)
        if len(wanted) <= SMALL_ANSWER_PATHS and len(found) <= SMALL_ANSWER_PATHS:
            self.at_commit.put(key, found)
        return found

    async def download_url(self, request: lfs_pb2.DownloadUrlRequest) -> lfs_pb2.DownloadUrlResponse:
        if request.expires_seconds < 4 * URL_REUSE:
            return await call(self.lfs.DownloadUrl, request)
        return await self.download_urls.get_or_load(
            request.SerializeToString(deterministic=True), lambda: call(self.lfs.DownloadUrl, request))

    async def xet_hashes_of(self, oids: list[str]) -> dict[str, str]:
        """Xet hashes of the LFS oids that have one (lfs owns them); those found are kept."""
        found = {oid: h for oid in oids if (h := self.xet_hashes.get(oid)) is not MISSING}
        wanted = sorted(set(oids) - set(found))
        if wanted:
            answer = await call(self.lfs.XetHashes, lfs_pb2.XetHashesRequest(oids=wanted))
            for oid, xet_hash in answer.xet_hashes.items():
                self.xet_hashes.put(oid, xet_hash)
                found[oid] = xet_hash
        return found

    def small_blob(self, oid: str) -> bytes | None:
        found = self.blobs.get(oid)
        return None if found is MISSING else found

    def keep_blob(self, oid: str, data: bytes) -> None:
        if len(data) <= SMALL_BLOB:
            self.blobs.put(oid, data)


class _Absent:
    """No such file at this commit (as permanent as a file would be)."""
    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def _who(principal: common_pb2.Principal) -> str:
    return principal.user_id or "anonymous"
