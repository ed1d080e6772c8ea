"""Token endpoints (huggingface.co/docs/xet/auth): `GET /api/{type}s/{namespace}/{name}/
xet-read-token/{revision}` and `xet-write-token/{revision}`.

The caller is authenticated by the auth service from its Authorization header, the repository's
facts come from metadata, and auth decides (access.py, the same opening as the LFS API's, on the Xet
surface of hangar_common.edge's rule): a write token needs write access (so a read-only access token
never obtains one), a read token needs download access. Someone who may not write gets a write token
for a pull request of their own: `?create_pr=1` (a PR about to be opened) or revision `refs/pr/N`;
the token is then marked, its uploads count against the contributor quota, and it gives no right to
commit (commits are authorized on their own). The answer is what huggingface_hub and hf_xet parse:
JSON {casUrl, accessToken, exp} plus the same in X-Xet-* headers.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hangar_common import edge, errors
from hangar_protos import common_pb2

from ..access import PR_REF, open_for_upload, open_repo
from . import tokens

router = APIRouter()

CAS_PATH = "/xet"


async def _token(request: Request, repo_type: str, namespace: str, name: str, kind: str,
                 revision: str = "") -> JSONResponse:
    if repo_type not in edge.TYPE_OF_PLURAL:
        raise errors.NotFound("Not Found")
    repo = common_pb2.RepoRef(type=edge.TYPE_OF_PLURAL[repo_type], namespace=namespace, name=name)
    ctx = request.app.state.lfs
    authorization = request.headers.get("authorization", "")
    client = request.client.host if request.client else ""
    contributor = False
    if kind == "read":
        principal, facts = await open_repo(ctx.peers, repo, authorization, "download", client, surface=edge.XET)
    else:
        create_pr = request.query_params.get("create_pr", "").lower() in ("1", "true")
        # A branch or tag (or no revision, without create_pr) needs write; refs/pr/N or create_pr
        # may be a contributor's own pull request.
        target = revision if PR_REF.match(revision) or create_pr else revision or "main"
        principal, facts, contributor = await open_for_upload(
            ctx.peers, repo, authorization, target, client, create_pr=create_pr, surface=edge.XET)
    access_token, exp = tokens.mint(ctx.settings.secret_key, repo_id=facts.repo_id, user_id=principal.user_id,
                                    scope=kind, contributor=contributor,
                                    token_id=principal.token_id)
    cas_url = edge.public_origin(request, ctx.settings) + CAS_PATH
    return JSONResponse({"casUrl": cas_url, "accessToken": access_token, "exp": exp},
                        headers={"X-Xet-Cas-Url": cas_url, "X-Xet-Access-Token": access_token,
                                 "X-Xet-Token-Expiration": str(exp), "Cache-Control": "no-store"})


@router.get("/api/{repo_type}/{namespace}/{name}/xet-read-token/{revision:path}")
@router.get("/api/{repo_type}/{namespace}/{name}/xet-read-token")
async def xet_read_token(request: Request, repo_type: str, namespace: str, name: str, revision: str = ""):
    return await _token(request, repo_type, namespace, name, "read")


@router.get("/api/{repo_type}/{namespace}/{name}/xet-write-token/{revision:path}")
@router.get("/api/{repo_type}/{namespace}/{name}/xet-write-token")
async def xet_write_token(request: Request, repo_type: str, namespace: str, name: str, revision: str = ""):
    return await _token(request, repo_type, namespace, name, "write", revision)
