"""Storage accounting: `GET /api/storage/{namespace}` answers the LFS bytes a user or organization
holds (public and private, each object counted once however many of its repos reference it), its
quota, and `storedBytes`, what those objects occupy in S3 (Xet-uploaded files as their xorbs and
shards). The numbers are the lfs service's (`Lfs.Usage`); the gateway only decides who may see them:
the namespace itself and the members of an organization. `GET /api/settings/repositories` (and
`/api/organizations/{ns}/settings/repositories`) lists a namespace's repositories with their bytes."""
from __future__ import annotations

from fastapi import APIRouter, Request

from hangar_common.grpcio import call
from hangar_protos import lfs_pb2, metadata_pb2

from .. import deps, urls
from ..repo_access import authorize_namespace
from ..shapes import JSON

router = APIRouter()


@router.get("/api/storage/{namespace}")
async def namespace_storage(request: Request, namespace: str, services: deps.Services):
    await authorize_namespace(request, namespace, "write")
    usage = await call(services.lfs.Usage, lfs_pb2.UsageRequest(namespace=namespace))
    return JSON({"namespace": usage.namespace or namespace, "publicBytes": usage.public_bytes,
                 "privateBytes": usage.private_bytes, "totalBytes": usage.public_bytes + usage.private_bytes,
                 "quotaBytes": usage.quota_bytes or None, "storedBytes": usage.stored_bytes})


PAGE = 100


async def _repositories(request: Request, services: deps.Clients, namespace: str):
    """Every repository of `namespace` (private ones included: the caller may write there) with its
    LFS bytes and its share of the namespace's, newest first, paginated with `Link`."""
    limit = request.query_params.get("limit", "")
    page = await call(services.metadata.ListRepos, metadata_pb2.ListReposRequest(
        author=namespace, sort="lastModified", direction=-1, private_namespaces=[namespace],
        limit=min(int(limit), 1000) if limit.isdigit() and int(limit) > 0 else PAGE,
        cursor=request.query_params.get("cursor", ""), with_storage=True))
    total = page.namespace_lfs_bytes
    body = [{"id": f"{info.facts.repo.namespace}/{info.facts.repo.name}", "type": info.facts.repo.type,
             "updatedAt": info.last_modified, "visibility": "private" if info.facts.private else "public",
             "storage": info.lfs_bytes, "storagePercent": round(100 * info.lfs_bytes / total, 2) if total else 0}
            for info in page.repos]
    headers = {"Link": urls.next_link(request, cursor=page.next_cursor)} if page.next_cursor else {}
    return JSON(body, headers=headers)


@router.get("/api/settings/repositories")
async def my_repositories(request: Request, principal: deps.CurrentUser, services: deps.Services):
    """huggingface_hub `list_user_repos()` / `hf repos ls`: the caller's own repositories."""
    return await _repositories(request, services, principal.username)


@router.get("/api/organizations/{namespace}/settings/repositories")
async def org_repositories(request: Request, namespace: str, services: deps.Services):
    """`list_user_repos(namespace=org)` / `hf repos ls --namespace org`: for the org's writers."""
    await authorize_namespace(request, namespace, "write")
    return await _repositories(request, services, namespace)
