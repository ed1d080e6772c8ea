"""The git-native engine: repositories as real git objects and refs in PostgreSQL (objects.py,
refs.py), with the commit and LFS reference indexes beside them (indexes.py, lfsindex.py). This
class is its implementation of the versioning seam (versioning.Versioning); the modules it calls
hold the rules."""
from __future__ import annotations

from collections.abc import AsyncIterator

from hangar_common.errors import BadRequest
from hangar_protos import common_pb2
from hangar_protos import metadata_pb2 as pb

from . import (
    cards,
    commits,
    forcedupdates,
    gitfetch,
    gitreceive,
    indexes,
    lfsfiles,
    lfsindex,
    lifecycle,
    listing,
    outbox,
    preupload,
    pullrefs,
    refops,
    refs,
    repos,
    upstream,
)
from .engine import Engine
from .replies import repo_info
from .versioning import RepoDetails, RepoPage


class GitNative:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def _repo(self, ref: common_pb2.RepoRef, *, follow_redirects: bool = True) -> repos.Repo:
        async with self.engine.pool.acquire() as conn:
            return await repos.get(conn, ref.type, ref.namespace, ref.name, follow_redirects=follow_redirects)

    async def _fresh(self, repo_id: int) -> repos.Repo:
        async with self.engine.pool.acquire() as conn:
            return await repos.get_by_id(conn, repo_id)

    # --- repositories --------------------------------------------------------------------------
    async def create_repo(self, ref, *, private, creator, space_sdk) -> repos.Repo:
        return await lifecycle.create_repo(self.engine, ref, private=private, creator=creator, space_sdk=space_sdk)

    async def delete_repo(self, ref) -> None:
        repo = await self._repo(ref, follow_redirects=False)
        async with self.engine.pool.acquire() as conn:
            await repos.delete(conn, repo)

    async def move_repo(self, source, to) -> repos.Repo:
        repo = await self._repo(source, follow_redirects=False)
        if to.type and to.type != repo.type:
            raise BadRequest("A repository cannot change its type when moved", code="InvalidRepoType")
        async with self.engine.pool.acquire() as conn, conn.transaction():
            await upstream.drop_shadowed_cache(conn, repo.type, to.namespace, to.name)
            await repos.move(conn, repo, to.namespace, to.name)
        return await self._fresh(repo.id)

    async def get_repo(self, ref) -> repos.Repo:
        return await self._repo(ref)

    async def repo_details(self, repo: repos.Repo) -> RepoDetails:
        async with self.engine.pool.acquire() as conn:
            tree = await indexes.tree_of(conn, repo.id, repo.sha)
            lfs_bytes = await lfsindex.repo_bytes(conn, repo.id)
            cache = await upstream.is_cache(conn, repo.id)
        return RepoDetails(await cards.card_data_json(self.engine, tree), lfs_bytes, cache)

    async def update_repo_settings(self, ref, *, private, gated, protected_branches) -> repos.Repo:
        repo = await self._repo(ref)
        async with self.engine.pool.acquire() as conn:
            await repos.update_settings(conn, repo, private=private, gated=gated,
                                        protected_branches=protected_branches)
        return await self._fresh(repo.id)

    async def list_repos(self, query: pb.ListReposRequest) -> RepoPage:
        async with self.engine.pool.acquire() as conn:
            found, cursor = await repos.list_repos(
                conn, repo_type=query.type, author=query.author, search=query.search, sort=query.sort,
                direction=query.direction, limit=query.limit, cursor=query.cursor,
                private_namespaces=list(query.private_namespaces), include_all_private=query.include_all_private)
            if not query.with_storage:
                return RepoPage(found, cursor)
            sizes = await lfsindex.repos_bytes(conn, [r.id for r in found])
        used = 0
        if query.author:
            async with self.engine.pool.acquire() as conn:
                usage = await lfsindex.namespace_usage(conn, query.author)
            used = usage.public_bytes + usage.private_bytes
        return RepoPage(found, cursor, sizes, used)

    async def repos_by_id(self, repo_ids: list[int]) -> list[repos.Repo]:
        async with self.engine.pool.acquire() as conn:
            return await repos.get_many(conn, repo_ids)

    async def set_likes(self, repo_id: int, likes: int) -> None:
        async with self.engine.pool.acquire() as conn:
            await repos.set_likes(conn, repo_id, likes)

    # --- revisions and refs --------------------------------------------------------------------
    async def resolve_revision(self, ref, revision: str) -> tuple[repos.Repo, refs.Resolved]:
        repo = await self._repo(ref)
        async with self.engine.pool.acquire() as conn:
            return repo, await refs.resolve(conn, self.engine.store, repo.id, repo.default_branch, revision)

    async def list_refs(self, ref) -> pb.ListRefsResponse:
        return await refops.list_refs(self.engine, await self._repo(ref))

    async def create_branch(self, ref, request) -> pb.Ref:
        return await refops.create_branch(self.engine, await self._repo(ref), request)

    async def delete_branch(self, ref, name: str) -> None:
        await refops.delete_branch(self.engine, await self._repo(ref), name)

    async def create_tag(self, ref, request) -> pb.Ref:
        return await refops.create_tag(self.engine, await self._repo(ref), request)

    async def delete_tag(self, ref, name: str) -> None:
        await refops.delete_tag(self.engine, await self._repo(ref), name)

    async def forced_updates(self, ref, *, offset: int, limit: int) -> list[pb.ForcedUpdate]:
        repo = await self._repo(ref)
        async with self.engine.pool.acquire() as conn:
            return await forcedupdates.listing(conn, repo.id, offset=offset, limit=limit)

    async def lfs_files(self, ref, *, offset: int, limit: int) -> list[pb.LfsFile]:
        repo = await self._repo(ref)
        async with self.engine.pool.acquire() as conn:
            return await lfsfiles.listing(conn, repo.id, offset=offset, limit=limit)

    async def delete_lfs_files(self, ref, oids: list[str], principal) -> pb.DeleteLfsFilesResponse:
        return await lfsfiles.delete(self.engine, ref, oids, principal)

    # --- tree and blob metadata ----------------------------------------------------------------
    def list_tree(self, request) -> AsyncIterator[pb.TreePage]:
        return listing.list_tree(self.engine, request)

    def paths_info(self, request) -> AsyncIterator[pb.TreePage]:
        return listing.paths_info(self.engine, request)

    def read_file(self, request) -> AsyncIterator[pb.FileChunk]:
        return listing.read_file(self.engine, request)

    async def preupload(self, request) -> pb.PreuploadResponse:
        return await preupload.preupload(self.engine, request)

    # --- commits and history -------------------------------------------------------------------
    def max_regular_file(self) -> int:
        return commits.max_regular_file(self.engine.settings)

    async def commit(self, request: commits.CommitRequest) -> tuple[str, str, repos.Repo]:
        oid, ref, repo = await commits.create_commit(self.engine, request)
        return oid, ref, await self._fresh(repo.id)

    async def list_commits(self, request) -> pb.ListCommitsResponse:
        return await listing.list_commits(self.engine, request)

    async def super_squash(self, ref, branch: str, message: str, author) -> tuple[str, str, repos.Repo]:
        oid, full_ref, repo = await commits.super_squash(self.engine, ref, branch, message, author)
        return oid, full_ref, await self._fresh(repo.id)

    # --- the LFS reference index ----------------------------------------------------------------
    async def repos_referencing(self, oids: list[str]) -> pb.ReposReferencingOidsResponse:
        async with self.engine.pool.acquire() as conn:
            return await lfsindex.repos_referencing(conn, oids)

    async def unreferenced(self, oids: list[str]) -> list[str]:
        async with self.engine.pool.acquire() as conn:
            return await lfsindex.unreferenced(conn, oids)

    async def namespace_usage(self, namespace: str) -> pb.NamespaceUsageResponse:
        async with self.engine.pool.acquire() as conn:
            return await lfsindex.namespace_usage(conn, namespace)

    async def namespace_oids(self, namespace: str, after: str, limit: int) -> list[str]:
        async with self.engine.pool.acquire() as conn:
            return await lfsindex.namespace_oids(conn, namespace, after, limit)

    # --- object access for git transport ------------------------------------------------------
    async def git_list_refs(self, ref) -> pb.GitRefs:
        repo = await self._repo(ref)
        return await gitfetch.list_refs(self.engine, repo, repo_info(repo))

    async def git_fetch_objects(self, ref, request) -> AsyncIterator[pb.GitObjectBatch]:
        repo = await self._repo(ref)
        async for batch in gitfetch.fetch_objects(self.engine, repo, request):
            yield batch

    async def git_receive(self, stream) -> pb.GitReceiveResult:
        async def writable(ref):
            repo = await self._repo(ref)
            async with self.engine.pool.acquire() as conn:
                await upstream.refuse_if_cache(conn, repo.id)
            return repo
        return await gitreceive.receive(self.engine, stream, writable)

    async def upstream_sync(self, stream) -> pb.GitReceiveResult:
        return await upstream.sync(self.engine, stream)

    # --- pull request refs ---------------------------------------------------------------------
    async def create_pull_ref(self, ref, request) -> pb.PullRef:
        return await pullrefs.create(self.engine, await self._repo(ref), request)

    async def get_pull_ref(self, ref, number: int) -> pb.PullRef:
        return await pullrefs.get(self.engine, await self._repo(ref), number)

    async def delete_pull_ref(self, ref, number: int) -> None:
        await pullrefs.delete(self.engine, await self._repo(ref), number)

    async def merge_pull_ref(self, ref, request) -> pb.PullRef:
        return await pullrefs.merge(self.engine, await self._repo(ref), request)

    async def pull_ref_changes(self, ref, request) -> pb.PullRefChangesResponse:
        return await pullrefs.changes(self.engine, await self._repo(ref), request)

    # --- the event outbox -----------------------------------------------------------------------
    async def claim_events(self, limit: int) -> list[pb.RepoEvent]:
        async with self.engine.pool.acquire() as conn:
            return [outbox.event_pb(row) for row in await outbox.claim(conn, limit)]

    async def ack_events(self, ids: list[int]) -> None:
        async with self.engine.pool.acquire() as conn:
            await outbox.ack(conn, ids)
