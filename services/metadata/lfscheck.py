"""Asking the lfs service whether LFS oids may be referenced (lfs.proto CheckObjects).

Fails closed: an unreachable lfs service or any answer other than "usable" for every oid refuses
the commit or push. A missing object, a size mismatch and an object the principal is not entitled
to get the same error, so a commit cannot probe whether someone else holds an oid."""
from __future__ import annotations

import logging

from hangar_common import grpcio
from hangar_common.errors import BadRequest, HangarError, Unavailable
from hangar_protos import common_pb2, lfs_pb2, lfs_pb2_grpc

logger = logging.getLogger("hangar.metadata.lfs")


class LfsObjectRefused(BadRequest):
    code = "LfsObjectMissing"


class QuotaExceeded(HangarError):
    status, code = 403, "QuotaExceeded"


class LfsChecker:
    def __init__(self, channel) -> None:
        self.stub = lfs_pb2_grpc.LfsStub(channel) if channel is not None else None

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
