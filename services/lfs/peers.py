"""The other services lfs asks: auth (who is calling, may they) and metadata (repo facts and the
LFS reference index). Only through their protos (protos/hangar_protos/{auth,metadata}.proto)."""
from __future__ import annotations

from collections.abc import AsyncIterator

from hangar_common.grpcio import call
from hangar_protos import auth_pb2, auth_pb2_grpc, common_pb2, metadata_pb2, metadata_pb2_grpc

OIDS_PER_CALL = 1000  # keeps each OidsRequest far below the 4 MiB message cap
NAMESPACE_OIDS_PAGE = 10_000   # 650 KiB of oids per answer


class Peers:
    def __init__(self, channels: dict) -> None:
        self.auth = auth_pb2_grpc.AuthStub(channels["auth"])
        self.metadata = metadata_pb2_grpc.MetadataStub(channels["metadata"])

    async def authenticate(self, authorization: str, client_address: str = "", session=None) -> common_pb2.Principal:
        """`session`: (cookie, csrf token) of a browser on the hub's own pages; auth checks the CSRF
        token against the session for POST, as it does for the API."""
        cookie, csrf = session or ("", "")
        return await call(self.auth.Authenticate, auth_pb2.AuthenticateRequest(
            authorization=authorization, client_address=client_address, session_cookie=cookie,
            csrf_token=csrf, http_method="POST" if cookie else ""))

    async def authorize(self, principal, facts, action: str, owner_user_id: str = "") -> auth_pb2.AuthorizeResponse:
        return await call(self.auth.Authorize, auth_pb2.AuthorizeRequest(
            principal=principal, repo=facts, action=action, owner_user_id=owner_user_id))

    async def pull_ref(self, ref: common_pb2.RepoRef, number: int) -> metadata_pb2.PullRef:
        return await call(self.metadata.GetPullRef, metadata_pb2.PullRefRequest(repo=ref, number=number))

    async def get_repo(self, ref: common_pb2.RepoRef) -> metadata_pb2.RepoInfo:
        return await call(self.metadata.GetRepo, metadata_pb2.RepoRequest(repo=ref))

    async def upstream_caches(self, repo_ids: list[str]) -> list[common_pb2.RepoFacts]:
        """The facts of those repositories that are upstream caches (issue 18)."""
        if not repo_ids:
            return []
        answer = await call(self.metadata.GetReposById, metadata_pb2.GetReposByIdRequest(
            repo_ids=repo_ids[:OIDS_PER_CALL], with_upstream=True))
        return [info.facts for info in answer.repos if info.facts.upstream_cache]

    async def holders(self, oids: list[str]) -> dict[str, list[common_pb2.RepoFacts]]:
        """For each oid, the repositories whose history references it."""
        found: dict[str, list] = {oid: [] for oid in oids}
        for start in range(0, len(oids), OIDS_PER_CALL):
            answer = await call(self.metadata.ReposReferencingOids,
                                metadata_pb2.OidsRequest(oids=oids[start:start + OIDS_PER_CALL]))
            for holder in answer.holders:
                found.setdefault(holder.oid, []).extend(holder.repos)
        return found

    async def unreferenced(self, oids: list[str]) -> set[str]:
        result: set[str] = set()
        for start in range(0, len(oids), OIDS_PER_CALL):
            answer = await call(self.metadata.UnreferencedOids,
                                metadata_pb2.OidsRequest(oids=oids[start:start + OIDS_PER_CALL]))
            result.update(answer.oids)
        return result

    async def namespace_usage(self, namespace: str) -> metadata_pb2.NamespaceUsageResponse:
        return await call(self.metadata.NamespaceUsage, metadata_pb2.NamespaceUsageRequest(namespace=namespace))

    async def namespace_oids(self, namespace: str) -> AsyncIterator[list[str]]:
        """The oids the namespace's repositories reference, a page at a time."""
        after = ""
        while True:
            answer = await call(self.metadata.NamespaceOids, metadata_pb2.NamespaceOidsRequest(
                namespace=namespace, after=after, limit=NAMESPACE_OIDS_PAGE))
            if answer.oids:
                yield list(answer.oids)
            if len(answer.oids) < NAMESPACE_OIDS_PAGE:
                return
            after = answer.oids[-1]
