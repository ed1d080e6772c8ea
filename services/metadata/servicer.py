"""gRPC surface of the metadata service (protos/hangar_protos/metadata.proto), mapped onto the
git-native engine modules."""
from __future__ import annotations

from hangar_common.errors import BadRequest
from hangar_common.logs import request_id_var
from hangar_protos import metadata_pb2 as pb
from hangar_protos import metadata_pb2_grpc

from . import (
    cards,
    commits,
    commitstream,
    forcedupdates,
    gitfetch,
    gitreceive,
    indexes,
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


class MetadataServicer(metadata_pb2_grpc.MetadataServicer):
    def __init__(self, resources, engine: Engine) -> None:
        self.resources = resources
        self.engine = engine

    async def _repo(self, ref, *, follow_redirects: bool = True) -> repos.Repo:
        async with self.engine.pool.acquire() as conn:
            return await repos.get(conn, ref.type, ref.namespace, ref.name, follow_redirects=follow_redirects)

    async def _fresh(self, repo_id: int) -> repos.Repo:
        async with self.engine.pool.acquire() as conn:
            return await repos.get_by_id(conn, repo_id)

    async def Ping(self, request, context):
        return pb.PingResponse(service="metadata", request_id=request_id_var.get())

    # --- repositories ---------------------------------------------------------------------
    async def CreateRepo(self, request, context):
        repo = await lifecycle.create_repo(self.engine, request.repo, private=request.private,
                                           creator=request.creator, space_sdk=request.space_sdk)
        return repo_info(repo)

    async def DeleteRepo(self, request, context):
        repo = await self._repo(request.repo, follow_redirects=False)
        async with self.engine.pool.acquire() as conn:
            await repos.delete(conn, repo)
        return pb.Empty()

    async def MoveRepo(self, request, context):
        repo = await self._repo(getattr(request, "from"), follow_redirects=False)
        to = request.to
        if to.type and to.type != repo.type:
            raise BadRequest("A repository cannot change its type when moved", code="InvalidRepoType")
        async with self.engine.pool.acquire() as conn, conn.transaction():
            await upstream.drop_shadowed_cache(conn, repo.type, to.namespace, to.name)
            await repos.move(conn, repo, to.namespace, to.name)
        return repo_info(await self._fresh(repo.id))

    async def GetRepo(self, request, context):
        repo = await self._repo(request.repo)
        async with self.engine.pool.acquire() as conn:
            tree = await indexes.tree_of(conn, repo.id, repo.sha)
            lfs_bytes = await lfsindex.repo_bytes(conn, repo.id)
            cache = await upstream.is_cache(conn, repo.id)
        return repo_info(repo, card_data_json=await cards.card_data_json(self.engine, tree), lfs_bytes=lfs_bytes,
                         upstream_cache=cache)

    async def UpdateRepoSettings(self, request, context):
        repo = await self._repo(request.repo)
        async with self.engine.pool.acquire() as conn:
            await repos.update_settings(
                conn, repo, private=request.private if request.HasField("private") else None,
                gated=request.gated if request.HasField("gated") else None,
                protected_branches=list(request.protected_branches) if request.set_protected_branches else None)
        return repo_info(await self._fresh(repo.id))

    async def ListForcedUpdates(self, request, context):
        repo = await self._repo(request.repo)
        limit = min(max(request.limit, 0) or 100, 1000)
        async with self.engine.pool.acquire() as conn:
            found = await forcedupdates.listing(conn, repo.id, offset=max(request.offset, 0), limit=limit + 1)
        return pb.ListForcedUpdatesResponse(updates=found[:limit], has_more=len(found) > limit)

    async def ListRepos(self, request, context):
        async with self.engine.pool.acquire() as conn:
            found, cursor = await repos.list_repos(
                conn, repo_type=request.type, author=request.author, search=request.search, sort=request.sort,
                direction=request.direction, limit=request.limit, cursor=request.cursor,
                private_namespaces=list(request.private_namespaces),
                include_all_private=request.include_all_private)
            if not request.with_storage:
                return pb.ListReposResponse(repos=[repo_info(r) for r in found], next_cursor=cursor)
            sizes = await lfsindex.repos_bytes(conn, [r.id for r in found])
        answer = pb.ListReposResponse(repos=[repo_info(r, lfs_bytes=sizes.get(r.id, 0)) for r in found],
                                      next_cursor=cursor)
        if request.author:
            usage = await lfsindex.namespace_usage(self.engine, request.author)
            answer.namespace_lfs_bytes = usage.public_bytes + usage.private_bytes
        return answer

    # --- revisions and refs -----------------------------------------------------------------
    async def ResolveRevision(self, request, context):
        repo = await self._repo(request.repo)
        async with self.engine.pool.acquire() as conn:
            resolved = await refs.resolve(conn, self.engine.store, repo.id, repo.default_branch, request.revision)
        return pb.ResolvedRevision(repo=repo_info(repo), commit=resolved.commit, ref=resolved.ref)

    async def ListRefs(self, request, context):
        repo = await self._repo(request.repo)
        return await refops.list_refs(self.engine, repo)

    async def CreateBranch(self, request, context):
        return await refops.create_branch(self.engine, await self._repo(request.repo), request)

    async def DeleteBranch(self, request, context):
        await refops.delete_branch(self.engine, await self._repo(request.repo), request.name)
        return pb.Empty()

    async def CreateTag(self, request, context):
        return await refops.create_tag(self.engine, await self._repo(request.repo), request)

    async def DeleteTag(self, request, context):
        await refops.delete_tag(self.engine, await self._repo(request.repo), request.name)
        return pb.Empty()

    # --- contents -----------------------------------------------------------------------------
    async def ListTree(self, request, context):
        async for page in listing.list_tree(self.engine, request):
            yield page

    async def GetPathsInfo(self, request, context):
        async for page in listing.paths_info(self.engine, request):
            yield page

    async def ReadFile(self, request, context):
        async for chunk in listing.read_file(self.engine, request):
            yield chunk

    async def Preupload(self, request, context):
        return await preupload.preupload(self.engine, request)

    # --- commits and history --------------------------------------------------------------------
    async def Commit(self, request_iterator, context):
        request = await commitstream.collect(request_iterator, max_file=commits.max_regular_file(self.engine.settings))
        oid, ref, repo = await commits.create_commit(self.engine, request)
        return pb.CommitResult(commit_oid=oid, ref=ref, repo=repo_info(await self._fresh(repo.id)))

    async def ListCommits(self, request, context):
        return await listing.list_commits(self.engine, request)

    async def SuperSquash(self, request, context):
        oid, ref, repo = await commits.super_squash(self.engine, request.repo, request.branch, request.message,
                                                    request.author)
        return pb.CommitResult(commit_oid=oid, ref=ref, repo=repo_info(await self._fresh(repo.id)))

    # --- LFS reference index ----------------------------------------------------------------------
    async def ReposReferencingOids(self, request, context):
        return await lfsindex.repos_referencing(self.engine, list(request.oids))

    async def UnreferencedOids(self, request, context):
        return pb.OidsResponse(oids=await lfsindex.unreferenced(self.engine, list(request.oids)))

    async def NamespaceUsage(self, request, context):
        return await lfsindex.namespace_usage(self.engine, request.namespace)

    # --- git transport --------------------------------------------------------------------------------
    async def GitListRefs(self, request, context):
        repo = await self._repo(request.repo)
        return await gitfetch.list_refs(self.engine, repo, repo_info(repo))

    async def GitFetchObjects(self, request, context):
        repo = await self._repo(request.repo)
        async for batch in gitfetch.fetch_objects(self.engine, repo, request):
            yield batch

    async def GitReceive(self, request_iterator, context):
        async def writable(ref):
            repo = await self._repo(ref)
            async with self.engine.pool.acquire() as conn:
                await upstream.refuse_if_cache(conn, repo.id)
            return repo
        return await gitreceive.receive(self.engine, request_iterator, writable)

    async def UpstreamSync(self, request_iterator, context):
        return await upstream.sync(self.engine, request_iterator)

    # --- events and counts for the community service --------------------------------------
    async def ListEvents(self, request, context):
        async with self.engine.pool.acquire() as conn:
            rows = await outbox.claim(conn, min(max(request.limit, 1) if request.limit else 50, 500))
        return pb.ListEventsResponse(events=[outbox.event_pb(row) for row in rows])

    async def AckEvents(self, request, context):
        async with self.engine.pool.acquire() as conn:
            await outbox.ack(conn, list(request.ids))
        return pb.Empty()

    async def SetLikes(self, request, context):
        if not request.repo_id.isdigit():
            raise BadRequest("Invalid repo id")
        async with self.engine.pool.acquire() as conn:
            await repos.set_likes(conn, int(request.repo_id), request.likes)
        return pb.Empty()

    async def GetReposById(self, request, context):
        ids = [int(i) for i in request.repo_ids if i.isdigit() and len(i) < 19]
        async with self.engine.pool.acquire() as conn:
            found = await repos.get_many(conn, ids)
        return pb.ListReposResponse(repos=[repo_info(r) for r in found])

    # --- pull request refs ------------------------------------------------------------------------------
    async def CreatePullRef(self, request, context):
        return await pullrefs.create(self.engine, await self._repo(request.repo), request)

    async def GetPullRef(self, request, context):
        return await pullrefs.get(self.engine, await self._repo(request.repo), request.number)

    async def DeletePullRef(self, request, context):
        await pullrefs.delete(self.engine, await self._repo(request.repo), request.number)
        return pb.Empty()

    async def MergePullRef(self, request, context):
        return await pullrefs.merge(self.engine, await self._repo(request.repo), request)

    async def PullRefChanges(self, request, context):
        return await pullrefs.changes(self.engine, await self._repo(request.repo), request)
