"""Token endpoints (huggingface.co/docs/xet/auth): `GET /api/{type}s/{namespace}/{name}/
xet-read-token/{revision}` and `xet-write-token/{revision}`.

The caller is authenticated by the auth service from its Authorization header, the repository's
facts come from metadata, and auth decides: a write token needs write access (so a read-only access
token never obtains one), a read token needs download access. The answer is what huggingface_hub
and hf_xet parse: JSON {casUrl, accessToken, exp} plus the same in X-Xet-* headers.
"""
from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hangar_common import edge, errors
from hangar_common.grpcio import call
from hangar_protos import auth_pb2, auth_pb2_grpc, common_pb2, metadata_pb2, metadata_pb2_grpc

from . import tokens

router = APIRouter()

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
CAS_PATH = "/xet"
ACTIONS = {"read": "download", "write": "write"}


def _denial(principal, code: str, message: str) -> errors.HangarError:
    if code == "GatedRepo":
        return errors.Forbidden(message or "Access to this repository is restricted", code="GatedRepo")
    if code == "Forbidden":
        return errors.Forbidden(message or "You do not have write access to this repository")
    if principal.anonymous:
        return errors.RepoNotFound("Repository not found", status=401,
                                   headers={"WWW-Authenticate": 'Bearer realm="Hangar"'})
    return errors.RepoNotFound("Repository not found")


async def _authorized_repo(request: Request, repo: common_pb2.RepoRef, action: str):
    """(principal, repo facts) when the caller may do `action`, else the error the client must see."""
    channels = request.app.state.resources.channels
    auth = auth_pb2_grpc.AuthStub(channels["auth"])
    principal = await call(auth.Authenticate, auth_pb2.AuthenticateRequest(
        authorization=request.headers.get("authorization", ""),
        client_address=request.client.host if request.client else ""))
    try:
        info = await call(metadata_pb2_grpc.MetadataStub(channels["metadata"]).GetRepo,
                          metadata_pb2.RepoRequest(repo=repo))
    except errors.NotFound:
        raise _denial(principal, "RepoNotFound", "") from None
    decision = await call(auth.Authorize, auth_pb2.AuthorizeRequest(
        principal=principal, repo=info.facts, action=action))
    if not decision.allowed:
        raise _denial(principal, decision.error_code, decision.message)
    return principal, info.facts


async def _contributor(request: Request, repo: common_pb2.RepoRef, revision: str):
    """Someone who may not write gets a write token for a pull request of their own (issue 13):
    `?create_pr=1` (a PR about to be opened: "contribute") or revision `refs/pr/N` ("push-pr" with
    that PR's owner). The token is marked: its uploads count against the contributor quota, and it
    gives no right to commit (commits are authorized on their own)."""
    match = re.match(r"^refs/pr/([1-9][0-9]{0,8})$", revision)
    create_pr = request.query_params.get("create_pr", "").lower() in ("1", "true")
    if not (match or create_pr):
        return None
    channels = request.app.state.resources.channels
    auth = auth_pb2_grpc.AuthStub(channels["auth"])
    metadata = metadata_pb2_grpc.MetadataStub(channels["metadata"])
    principal = await call(auth.Authenticate, auth_pb2.AuthenticateRequest(
        authorization=request.headers.get("authorization", ""),
        client_address=request.client.host if request.client else ""))
    info = await call(metadata.GetRepo, metadata_pb2.RepoRequest(repo=repo))
    owner = ""
    if match:
        try:
            owner = (await call(metadata.GetPullRef, metadata_pb2.PullRefRequest(
                repo=info.facts.repo, number=int(match.group(1))))).owner_user_id
        except errors.NotFound:
            raise errors.RevisionNotFound(f"Invalid rev id: {revision}") from None
    decision = await call(auth.Authorize, auth_pb2.AuthorizeRequest(
        principal=principal, repo=info.facts, action="push-pr" if match else "contribute", owner_user_id=owner))
    if not decision.allowed:
        raise _denial(principal, decision.error_code, decision.message)
    return principal, info.facts


async def _token(request: Request, repo_type: str, namespace: str, name: str, kind: str,
                 revision: str = "") -> JSONResponse:
    if repo_type not in REPO_TYPES:
        raise errors.NotFound("Not Found")
    repo = common_pb2.RepoRef(type=REPO_TYPES[repo_type], namespace=namespace, name=name)
    contributor = False
    try:
        principal, facts = await _authorized_repo(request, repo, ACTIONS[kind])
    except errors.Forbidden as refused:
        granted = await _contributor(request, repo, revision) \
            if kind == "write" and refused.code == "Forbidden" else None
        if granted is None:
            raise
        (principal, facts), contributor = granted, True
    secret = request.app.state.resources.settings.secret_key
    access_token, exp = tokens.mint(secret, repo_id=facts.repo_id, user_id=principal.user_id, scope=kind,
                                    contributor=contributor)
    cas_url = edge.public_origin(request, request.app.state.resources.settings) + CAS_PATH
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
