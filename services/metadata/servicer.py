"""gRPC surface of the metadata service (protos/hangar_protos/metadata.proto): requests read, the
versioning engine asked (versioning.Versioning, the only thing this module speaks to), replies
built. Errors are mapped once, by the server's interceptor (hangar_common/grpcio.py)."""
from __future__ import annotations

from hangar_common.errors import BadRequest
from hangar_common.logs import request_id_var
from hangar_protos import metadata_pb2 as pb
from hangar_protos import metadata_pb2_grpc

from . import commitstream
from .replies import repo_info
from .versioning import Versioning


class MetadataServicer(metadata_pb2_grpc.MetadataServicer):
    def __init__(self, resources, versioning: Versioning) -> None:
        self.resources = resources
        self.versioning = versioning

    async def Ping(self, request, context):
        return pb.PingResponse(service="metadata", request_id=request_id_var.get())

    # --- repositories ---------------------------------------------------------------------
    async def CreateRepo(self, request, context):
        return repo_info(await self.versioning.create_repo(request.repo, private=request.private,
                                                           creator=request.creator, space_sdk=request.space_sdk))

    async def DeleteRepo(self, request, context):
        await self.versioning.delete_repo(request.repo)
        return pb.Empty()

    async def MoveRepo(self, request, context):
        return repo_info(await self.versioning.move_repo(getattr(request, "from"), request.to))

    async def GetRepo(self, request, context):
        repo = await self.versioning.get_repo(request.repo)
        details = await self.versioning.repo_details(repo)
        info = repo_info(repo, card_data_json=details.card_data_json, lfs_bytes=details.lfs_bytes,
                         upstream_cache=details.upstream_cache)
        info.facts.upstream_cache = details.upstream_cache   # auth's decision depends on it
        return info

    async def UpdateRepoSettings(self, request, context):
        return repo_info(await self.versioning.update_repo_settings(
            request.repo, private=request.private if request.HasField("private") else None,
            gated=request.gated if request.HasField("gated") else None,
            protected_branches=list(request.protected_branches) if request.set_protected_branches else None))

    async def ListLfsFiles(self, request, context):
        limit = min(max(request.limit, 0) or 100, 1000)
        found = await self.versioning.lfs_files(request.repo, offset=max(request.offset, 0), limit=limit + 1)
        return pb.ListLfsFilesResponse(files=found[:limit], has_more=len(found) > limit)

    async def DeleteLfsFiles(self, request, context):
        return await self.versioning.delete_lfs_files(request.repo, list(request.oids), request.principal)

    async def ListForcedUpdates(self, request, context):
        limit = min(max(request.limit, 0) or 100, 1000)
        found = await self.versioning.forced_updates(request.repo, offset=max(request.offset, 0), limit=limit + 1)
        return pb.ListForcedUpdatesResponse(updates=found[:limit], has_more=len(found) > limit)

    async def ListRepos(self, request, context):
        page = await self.versioning.list_repos(request)
        if not request.with_storage:
            return pb.ListReposResponse(repos=[repo_info(r) for r in page.repos], next_cursor=page.next_cursor)
        answer = pb.ListReposResponse(repos=[repo_info(r, lfs_bytes=page.lfs_bytes.get(r.id, 0)) for r in page.repos],
                                      next_cursor=page.next_cursor)
        if request.author:
            answer.namespace_lfs_bytes = page.namespace_lfs_bytes
        return answer

    async def GetReposById(self, request, context):
        ids = [int(i) for i in request.repo_ids if i.isdigit() and len(i) < 19]
        repos = await self.versioning.repos_by_id(ids)
        found = [repo_info(r) for r in repos]
        if request.with_upstream:
            for info, repo in zip(found, repos, strict=True):
                cache = (await self.versioning.repo_details(repo)).upstream_cache
                info.facts.upstream_cache = info.upstream_cache = cache
        return pb.ListReposResponse(repos=found)

    async def SetLikes(self, request, context):
        if not request.repo_id.isdigit():
            raise BadRequest("Invalid repo id")
        await self.versioning.set_likes(int(request.repo_id), request.likes)
        return pb.Empty()

    # --- revisions and refs -----------------------------------------------------------------
    async def ResolveRevision(self, request, context):
        repo, resolved = await self.versioning.resolve_revision(request.repo, request.revision)
        return pb.ResolvedRevision(repo=repo_info(repo), commit=resolved.commit, ref=resolved.ref)

    async def ListRefs(self, request, context):
        return await self.versioning.list_refs(request.repo)

    async def CreateBranch(self, request, context):
        return await self.versioning.create_branch(request.repo, request)

    async def DeleteBranch(self, request, context):
        await self.versioning.delete_branch(request.repo, request.name)
        return pb.Empty()

    async def CreateTag(self, request, context):
        return await self.versioning.create_tag(request.repo, request)

    async def DeleteTag(self, request, context):
        await self.versioning.delete_tag(request.repo, request.name)
        return pb.Empty()

    # --- contents -----------------------------------------------------------------------------
    async def ListTree(self, request, context):
        async for page in self.versioning.list_tree(request):
            yield page

    async def GetPathsInfo(self, request, context):
        async for page in self.versioning.paths_info(request):
            yield page

    async def ReadFile(self, request, context):
        async for chunk in self.versioning.read_file(request):
            yield chunk

    async def Preupload(self, request, context):
        return await self.versioning.preupload(request)

    # --- commits and history --------------------------------------------------------------------
    async def Commit(self, request_iterator, context):
        request = await commitstream.collect(request_iterator, max_file=self.versioning.max_regular_file(),
                                             max_total=self.resources.settings.max_commit_inline_bytes)
        oid, ref, repo = await self.versioning.commit(request)
        return pb.CommitResult(commit_oid=oid, ref=ref, repo=repo_info(repo))

    async def ListCommits(self, request, context):
        return await self.versioning.list_commits(request)

    async def SuperSquash(self, request, context):
        oid, ref, repo = await self.versioning.super_squash(request.repo, request.branch, request.message,
                                                            request.author)
        return pb.CommitResult(commit_oid=oid, ref=ref, repo=repo_info(repo))

    # --- LFS reference index ----------------------------------------------------------------------
    async def ReposReferencingOids(self, request, context):
        return await self.versioning.repos_referencing(list(request.oids))

    async def UnreferencedOids(self, request, context):
        return pb.OidsResponse(oids=await self.versioning.unreferenced(list(request.oids)))

    async def NamespaceUsage(self, request, context):
        return await self.versioning.namespace_usage(request.namespace)

    async def NamespaceOids(self, request, context):
        return pb.OidsResponse(oids=await self.versioning.namespace_oids(request.namespace, request.after,
                                                                         request.limit))

    # --- git transport --------------------------------------------------------------------------------
    async def GitListRefs(self, request, context):
        return await self.versioning.git_list_refs(request.repo)

    async def GitFetchObjects(self, request, context):
        async for batch in self.versioning.git_fetch_objects(request.repo, request):
            yield batch

    async def GitReceive(self, request_iterator, context):
        return await self.versioning.git_receive(request_iterator)

    async def UpstreamSync(self, request_iterator, context):
        return await self.versioning.upstream_sync(request_iterator)

    # --- events for the community service ---------------------------------------------------------
    async def ListEvents(self, request, context):
        limit = min(max(request.limit, 1) if request.limit else 50, 500)
        return pb.ListEventsResponse(events=await self.versioning.claim_events(limit))

    async def AckEvents(self, request, context):
        await self.versioning.ack_events(list(request.ids))
        return pb.Empty()

    # --- pull request refs ------------------------------------------------------------------------------
    async def CreatePullRef(self, request, context):
        return await self.versioning.create_pull_ref(request.repo, request)

    async def GetPullRef(self, request, context):
        return await self.versioning.get_pull_ref(request.repo, request.number)

    async def DeletePullRef(self, request, context):
        await self.versioning.delete_pull_ref(request.repo, request.number)
        return pb.Empty()

    async def MergePullRef(self, request, context):
        return await self.versioning.merge_pull_ref(request.repo, request)

    async def PullRefChanges(self, request, context):
        return await self.versioning.pull_ref_changes(request.repo, request)
