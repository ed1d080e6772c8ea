"""The smart HTTP endpoints (gitprotocol-http.txt, "Smart Clients"):

    GET  /{repo}.git/info/refs?service=git-upload-pack|git-receive-pack
    POST /{repo}.git/git-upload-pack
    POST /{repo}.git/git-receive-pack

for models at `/{ns}/{name}`, datasets and spaces at `/{datasets|spaces}/{ns}/{name}`.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from hangar_common import errors
from hangar_common.upstream_repos import mirror_stub
from hangar_protos import auth_pb2_grpc, metadata_pb2_grpc

from . import access, body, pktline, repo_path
from .receive_pack import ReceivePack
from .upload_pack import UploadPack

router = APIRouter()

NO_CACHE = {"Cache-Control": "no-cache, max-age=0, must-revalidate", "Pragma": "no-cache",
            "Expires": "Fri, 01 Jan 1980 00:00:00 GMT"}
ACTIONS = {"git-upload-pack": "download", "git-receive-pack": "write"}


class Clients:
    """gRPC stubs the git service uses; built once in the lifespan."""

    def __init__(self, channels: dict) -> None:
        self.auth = auth_pb2_grpc.AuthStub(channels["auth"])
        self.metadata = metadata_pb2_grpc.MetadataStub(channels["metadata"])
        self.mirror = mirror_stub(channels.get("mirror"))   # None when no mirror is deployed


async def _grant(request: Request, path: repo_path.GitPath, service: str) -> access.Granted:
    return await access.grant(request.app.state.clients, request.headers.get("authorization", ""),
                              request.client.host if request.client else "", path.repo,
                              ACTIONS[service])


def _wants_v2(request: Request) -> bool:
    """Protocol v2 is asked for with `Git-Protocol: version=2` (gitprotocol-v2.txt, "HTTP Transport")."""
    values = request.headers.get("git-protocol", "").split(":")
    return "version=2" in values


@router.get("/{full_path:path}")
async def info_refs(request: Request, full_path: str) -> Response:
    path = repo_path.parse(request.scope["path"])
    service = request.query_params.get("service", "")
    if path.endpoint != "info/refs":
        raise errors.HangarError("Use POST for this endpoint", code="MethodNotAllowed", status=405)
    if service not in repo_path.SERVICES:
        raise errors.Forbidden("Only git's smart HTTP protocol is served (git 1.6.6 or newer)",
                               code="DumbHttpNotSupported")
    granted = await _grant(request, path, service)
    clients = request.app.state.clients
    if service == "git-upload-pack" and _wants_v2(request):
        content = UploadPack.advertise_v2()
    else:
        handler = UploadPack(clients, granted.ref) if service == "git-upload-pack" \
            else ReceivePack(clients, granted)
        content = pktline.pkt(f"# service={service}\n") + pktline.FLUSH + await handler.advertise()
    return Response(content, media_type=f"application/x-{service}-advertisement", headers=NO_CACHE)


@router.post("/{full_path:path}")
async def rpc(request: Request, full_path: str) -> Response:
    path = repo_path.parse(request.scope["path"])
    if path.endpoint not in repo_path.SERVICES:
        raise errors.HangarError("Use GET for this endpoint", code="MethodNotAllowed", status=405)
    granted = await _grant(request, path, path.endpoint)
    clients = request.app.state.clients
    media_type = f"application/x-{path.endpoint}-result"
    if path.endpoint == "git-receive-pack":
        reader = pktline.PktReader(body.chunks(request))
        stream = await _protocol_errors(ReceivePack(clients, granted).serve(reader))
        return StreamingResponse(stream, media_type=media_type, headers=NO_CACHE)
    reader = pktline.PktReader(body.chunks(request, limit=body.MAX_NEGOTIATION_BYTES))
    upload = UploadPack(clients, granted.ref)
    serve = upload.serve_v2(reader) if _wants_v2(request) else upload.serve_v0(reader)
    try:
        stream = await _protocol_errors(serve)
    except errors.BadRequest as exc:
        # git prints an ERR packet as "remote error: <message>" (gitprotocol-pack.txt); a 4xx
        # would only show as "RPC failed".
        return Response(pktline.pkt(f"ERR {exc.message}\n"), media_type=media_type, headers=NO_CACHE)
    return StreamingResponse(stream, media_type=media_type, headers=NO_CACHE)


async def _protocol_errors(awaitable):
    try:
        return await awaitable
    except pktline.ProtocolError as exc:
        raise errors.BadRequest(f"git protocol error: {exc}") from None
