"""Storage accounting: `GET /api/storage/{namespace}` answers the LFS bytes a user or organization
holds (public and private, each object counted once however many of its repos reference it) and its
quota. The numbers are the lfs service's (`Lfs.Usage`); the gateway only decides who may see them:
the namespace itself and the members of an organization."""
from __future__ import annotations

from fastapi import APIRouter, Request

from hangar_common.grpcio import call
from hangar_protos import lfs_pb2

from .. import deps
from ..repo_access import authorize_namespace
from ..shapes import JSON

router = APIRouter()


@router.get("/api/storage/{namespace}")
async def namespace_storage(request: Request, namespace: str):
    await authorize_namespace(request, namespace, "write")
    usage = await call(deps.clients(request).lfs.Usage, lfs_pb2.UsageRequest(namespace=namespace))
    return JSON({"namespace": usage.namespace or namespace, "publicBytes": usage.public_bytes,
                 "privateBytes": usage.private_bytes, "totalBytes": usage.public_bytes + usage.private_bytes,
                 "quotaBytes": usage.quota_bytes or None})
