"""The LFS reference rule (docs/data-safety.md), and asking the lfs service (lfs.proto CheckObjects) once per
set of new oids, with the reference facts this service owns sent along (who references each oid,
the namespace's bytes): lfs decides from them and its own facts without asking back.

A blob whose content is an LFS pointer (hangar_common.lfs_pointer decides, once, when the blob is
first stored) IS a reference to that LFS object, whatever route brought it into a tree: an `lfsFile`
line, a regular `file` line, `copyFile`, git push, a super-squash, a merge. So the rule is applied
to what a commit is about to add to the repository's LFS reference index (indexes.plan: the
pointers of its tree that its first parent's tree did not have), which is exactly what downloads by
oid are later bound to (batch download, resolve, Xet reconstruction): every route that lands
commits passes its planned index rows through `LfsRule.require` before its ref moves.

Fails closed: an unreachable lfs service or any answer other than "usable" for every oid refuses
the commit or push. A missing object, a size mismatch and an object the principal is not entitled
to get the same error, so a commit cannot probe whether someone else holds an oid."""
from __future__ import annotations

import logging

from hangar_common import grpcio
from hangar_common.errors import BadRequest, HangarError, Unavailable
from hangar_protos import common_pb2, lfs_pb2, lfs_pb2_grpc

from . import lfsindex

logger = logging.getLogger("hangar.metadata.lfs")


class LfsObjectRefused(BadRequest):
    code = "LfsObjectMissing"


class QuotaExceeded(HangarError):
    status, code = 403, "QuotaExceeded"


def repo_facts(repo) -> common_pb2.RepoFacts:
    """What lfs needs to know of the repository being written (a repos.Repo)."""
    return common_pb2.RepoFacts(repo=common_pb2.RepoRef(type=repo.type, namespace=repo.namespace, name=repo.name),
                                repo_id=str(repo.id), private=repo.private, gated=repo.gated)


class LfsRule:
    """The rule for one principal writing one repository (one request; retries reuse the answers)."""

    def __init__(self, checker: LfsChecker, principal: common_pb2.Principal, facts: common_pb2.RepoFacts) -> None:
        self.checker, self.principal, self.facts = checker, principal, facts
        self.approved: dict[str, int] = {}

    async def require(self, planned) -> None:
        """Raise unless every LFS oid the planned commits introduce is usable by the principal:
        verified, of the size the pointer says, and uploaded for this repo or readable elsewhere."""
        wanted: dict[str, int] = {}
        for p in planned:
            for oid, size in p.lfs.items():
                if wanted.setdefault(oid, size) != size:
                    raise BadRequest(f"Pointers to LFS object {oid} disagree about its size",
                                     code="InvalidLfsPointer")
        fresh = {oid: size for oid, size in wanted.items() if self.approved.get(oid) != size}
        await self.checker.check(self.principal, self.facts, fresh)
        self.approved.update(fresh)


class LfsChecker:
    def __init__(self, channel, pool) -> None:
        self.stub = lfs_pb2_grpc.LfsStub(channel) if channel is not None else None
        self.pool = pool

    async def usable_sizes(self, principal: common_pb2.Principal, facts: common_pb2.RepoFacts,
                           oids: list[str]) -> dict[str, int]:
        """Sizes of the objects the principal may reference here (others absent: no probing)."""
        if not oids or self.stub is None:
            return {}
        try:
            answer = await grpcio.call(self.stub.UsableSizes, lfs_pb2.UsableSizesRequest(
                principal=principal, repo=facts, oids=oids))
        except HangarError as exc:
            logger.warning("lfs UsableSizes failed", extra={"fields": {"error": exc.message}})
            raise Unavailable(f"cannot verify LFS objects: {exc.message}") from None
        return dict(answer.sizes)

    async def check(self, principal: common_pb2.Principal, facts: common_pb2.RepoFacts,
                    objects: dict[str, int]) -> None:
        """Raise unless every (oid -> size) is usable for `principal` in the repository."""
        if not objects:
            return
        if self.stub is None:
            raise Unavailable("LFS service not configured; LFS objects cannot be verified")
        request = lfs_pb2.CheckObjectsRequest(
            principal=principal, repo=facts,
            objects=[lfs_pb2.ObjectSpec(oid=oid, size=size) for oid, size in objects.items()])
        await self._add_facts(request, list(objects))
        try:
            answer = await grpcio.call(self.stub.CheckObjects, request)
        except HangarError as exc:
            logger.warning("lfs CheckObjects failed", extra={"fields": {"error": exc.message}})
            raise Unavailable(f"cannot verify LFS objects: {exc.message}") from None
        if answer.quota_exceeded:
            raise QuotaExceeded(answer.quota_message or "Storage quota exceeded")
        usable = {o.oid for o in answer.objects if o.usable}
        for oid in objects:
            if oid not in usable:
                raise LfsObjectRefused(f"LFS object {oid} was not uploaded (or is not available to you); "
                                       "upload it through the LFS batch API first")

    async def _add_facts(self, request: lfs_pb2.CheckObjectsRequest, oids: list[str]) -> None:
        """Who references each oid; and the namespace's referenced bytes when some oid is new to it
        (only then can the commit count against a quota)."""
        namespace = request.repo.repo.namespace.lower()
        async with self.pool.acquire() as conn:
            found = await lfsindex.holders(conn, oids)
            new_to_namespace = any(not any(r.repo.namespace.lower() == namespace for r in found.get(oid, ()))
                                   for oid in oids)
            usage = await lfsindex.namespace_usage(conn, request.repo.repo.namespace) if new_to_namespace else None
        request.holders.extend(lfs_pb2.ObjectHolders(oid=oid, repos=repos) for oid, repos in found.items())
        if usage is not None:
            request.has_namespace_bytes = True
            request.namespace_bytes = usage.public_bytes + usage.private_bytes
