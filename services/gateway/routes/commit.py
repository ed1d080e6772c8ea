"""`POST /api/{type}s/{id}/commit/{rev}`: an NDJSON commit streamed into metadata's Commit client
stream (huggingface_hub `_commit_api._prepare_commit_payload`).

Lines: `{"key": "header", "value": {summary, description, parentCommit}}` first, then `file`
({path, content, encoding: base64}), `lfsFile` ({path, algo: sha256, oid, size}), `deletedFile` /
`deletedFolder` ({path}), `copyFile` ({path, srcRevision, destPath}). Each line is checked and
forwarded as it arrives; any bad line cancels the stream, and metadata applies nothing of a
cancelled commit (docs/data-safety.md: atomic, never half-applied). Metadata checks LFS oids with the
lfs service (verified, entitled) before it lands the commit.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import re

import grpc
from fastapi import APIRouter, Request

from hangar_common import errors, grpcio
from hangar_common.config import Settings
from hangar_common.grpcio import call
from hangar_protos import community_pb2, metadata_pb2

from .. import deps, ndjson, paths, urls
from ..bodies import truthy
from ..repo_access import open_for_upload, repo_id_of
from ..shapes import JSON

router = APIRouter()

CHUNK = 1024 * 1024
COMMIT_TIMEOUT = 3600
_SHA1 = re.compile(r"^[0-9a-f]{40}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FIELDS = {
    "header": {"summary", "description", "parentCommit"},
    "file": {"path", "content", "encoding"},
    "lfsFile": {"path", "algo", "oid", "size"},
    "deletedFile": {"path"},
    "deletedFolder": {"path"},
    "copyFile": {"path", "srcRevision", "destPath"},
}


def max_line(settings: Settings) -> int:
    """A line holds at most one inline file: below the LFS threshold, base64-encoded."""
    return settings.lfs_threshold * 4 // 3 + 64 * 1024


def _bad(message: str, code: str = "InvalidCommit") -> errors.BadRequest:
    return errors.BadRequest(message, code=code)


def _split(line: int, item) -> tuple[str, dict]:
    if not isinstance(item, dict) or set(item) != {"key", "value"} or not isinstance(item["value"], dict):
        raise _bad(f"Line {line}: expected {{\"key\": ..., \"value\": {{...}}}}", "InvalidNDJSON")
    key, value = item["key"], item["value"]
    if key not in _FIELDS:
        raise _bad(f"Line {line}: unknown operation '{key}'", "UnknownOperation")
    unknown = set(value) - _FIELDS[key]
    if unknown:
        raise _bad(f"Line {line}: unknown field(s) {sorted(unknown)} in '{key}'", "UnknownField")
    return key, value


def _text(line: int, value: dict, field: str, *, required: bool = True) -> str:
    raw = value.get(field)
    if raw is None and not required:
        return ""
    if not isinstance(raw, str):
        raise _bad(f"Line {line}: '{field}' must be a string")
    return raw


def header_message(line: int, item, *, repo, revision: str, author, pr_number: int = 0) -> metadata_pb2.CommitChunk:
    key, value = _split(line, item) if isinstance(item, dict) and "key" in item else ("", {})
    if key != "header":
        raise _bad("The first line of a commit must be its header", "MissingHeader")
    summary = _text(line, value, "summary", required=False).strip()
    description = _text(line, value, "description", required=False)
    if "\x00" in summary or "\x00" in description:  # as git commit-tree refuses it
        raise _bad("A commit message must not contain NUL characters", "InvalidCommitMessage")
    parent = _text(line, value, "parentCommit", required=False)
    if parent and not _SHA1.match(parent):
        raise _bad(f"parentCommit must be a 40-hex commit id, got '{parent[:60]}'", "InvalidParentCommit")
    return metadata_pb2.CommitChunk(header=metadata_pb2.CommitHeader(
        repo=repo, revision=revision, summary=summary or "Update files",
        description=description, parent_commit=parent,
        author=author, create_pr=pr_number > 0, pr_number=pr_number))


class OperationReader:
    """Turns operation lines into CommitChunk messages; remembers what the commit adds."""

    def __init__(self) -> None:
        self.added: set[str] = set()

    def messages(self, line: int, item) -> list[metadata_pb2.CommitChunk]:
        key, value = _split(line, item)
        if key == "header":
            raise _bad(f"Line {line}: a commit has one header, first", "InvalidNDJSON")
        return getattr(self, "_" + key.lower())(line, value)

    def _add(self, line: int, path: str) -> str:
        path = paths.file_path(path)
        if path in self.added:
            raise _bad(f"Line {line}: '{path}' is added twice in one commit", "DuplicatePath")
        self.added.add(path)
        return path

    def _file(self, line: int, value: dict) -> list[metadata_pb2.CommitChunk]:
        path = self._add(line, _text(line, value, "path"))
        encoding = value.get("encoding", "base64")
        content = _text(line, value, "content")
        if encoding == "base64":
            try:
                data = base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError):
                raise _bad(f"Line {line}: content of '{path}' is not valid base64", "InvalidBase64") from None
        elif encoding in ("utf-8", "utf8"):
            data = content.encode("utf-8", "surrogatepass")
        else:
            raise _bad(f"Line {line}: unknown encoding '{encoding}'", "InvalidEncoding")
        pieces = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
        return [metadata_pb2.CommitChunk(file=metadata_pb2.FileOp(path=path, data=piece, more=i < len(pieces) - 1))
                for i, piece in enumerate(pieces)]

    def _lfsfile(self, line: int, value: dict) -> list[metadata_pb2.CommitChunk]:
        path = self._add(line, _text(line, value, "path"))
        if value.get("algo", "sha256") != "sha256":
            raise _bad(f"Line {line}: only sha256 LFS oids are supported", "InvalidLfsFile")
        oid = _text(line, value, "oid")
        size = value.get("size", 0)  # absent when huggingface_hub copies an LFS file: size of the object
        if not _SHA256.match(oid) or not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise _bad(f"Line {line}: lfsFile needs a sha256 hex oid and a size", "InvalidLfsFile")
        return [metadata_pb2.CommitChunk(lfs_file=metadata_pb2.LfsFileOp(path=path, oid=oid, size=size))]

    def _deletedfile(self, line: int, value: dict) -> list[metadata_pb2.CommitChunk]:
        path = paths.file_path(_text(line, value, "path"))
        return [metadata_pb2.CommitChunk(delete=metadata_pb2.DeleteOp(path=path, folder=False))]

    def _deletedfolder(self, line: int, value: dict) -> list[metadata_pb2.CommitChunk]:
        path = paths.file_path(_text(line, value, "path"), folder=True)
        return [metadata_pb2.CommitChunk(delete=metadata_pb2.DeleteOp(path=path, folder=True))]

    def _copyfile(self, line: int, value: dict) -> list[metadata_pb2.CommitChunk]:
        src = paths.file_path(_text(line, value, "path"))
        dest = self._add(line, _text(line, value, "destPath"))
        revision = _text(line, value, "srcRevision", required=False)
        return [metadata_pb2.CommitChunk(copy=metadata_pb2.CopyOp(src_path=src, src_revision=revision,
                                                                  dest_path=dest))]


@paths.repo_api(router, "/commit/{rest:path}", ["POST"])
async def commit(request: Request, target: deps.ApiTarget, principal: deps.CurrentPrincipal,
                 services: deps.Services, settings: deps.AppSettings):
    if len(target.tail) != 2 or not target.tail[1]:
        raise errors.NotFound("Not found")
    create_pr = truthy(request.query_params.get("create_pr", "0"))
    revision = target.tail[1]
    ndjson.declared_size_check(request, settings.max_commit_body_bytes)
    info, _ = await open_for_upload(request, target, revision, create_pr=create_pr)
    repo_id = repo_id_of(info)
    pr_url = None
    if create_pr:
        result, header, number = await _open_pull_request(request, services, settings, info, revision, principal)
        pr_url = f"{urls.repo_url(request, info.facts.repo.type, repo_id)}/discussions/{number}"
    else:
        result, header = await _stream_commit(request, services, settings, info, revision, principal)
    return JSON({"success": True, "commitOid": result.commit_oid,
                 "commitUrl": urls.commit_url(request, info.facts.repo.type, repo_id, result.commit_oid),
                 "commitMessage": header.summary, "hookOutput": "", "pullRequestUrl": pr_url})


async def _open_pull_request(request: Request, services: deps.Clients, settings: Settings, info, revision: str,
                             principal):
    """create_pr=1 (docs/architecture.md "Who owns what"): a number from the community service, the commit landed by
    metadata as the new refs/pr/N (from the branch tip or parentCommit; the branch never moves),
    then the PR's thread. A thread that cannot be recorded takes the ref back: nothing half-made."""
    community = services.community
    target = community_pb2.DiscussionTarget(principal=principal, repo=info.facts)
    number = (await call(community.ReservePullRequest, target)).number
    result, header = await _stream_commit(request, services, settings, info, revision, principal, pr_number=number)
    try:
        await call(community.RecordPullRequest, community_pb2.RecordPullRequestRequest(
            principal=principal, repo=info.facts, number=number, title=header.summary,
            description=header.description))
    except BaseException:
        with contextlib.suppress(errors.HangarError):
            await call(services.metadata.DeletePullRef, metadata_pb2.PullRefRequest(
                repo=info.facts.repo, number=number))
        raise
    return result, header, number


async def _stream_commit(request: Request, services: deps.Clients, settings: Settings, info, revision: str,
                         principal, *, pr_number: int = 0):
    reader = OperationReader()
    rpc = None
    header = None
    try:
        limit = settings.max_commit_body_bytes
        async for number, item in ndjson.lines(request, max_body=limit, max_line=max_line(settings)):
            if rpc is None:
                header = header_message(number, item, repo=info.facts.repo, revision=revision, author=principal,
                                        pr_number=pr_number)
                rpc = services.metadata.Commit(timeout=COMMIT_TIMEOUT)
                await _write(rpc, header)
                continue
            for message in reader.messages(number, item):
                await _write(rpc, message)
        if rpc is None:
            raise _bad("Empty commit body: the header line is missing", "MissingHeader")
        await _write(rpc, None)
        return await grpcio.reply(rpc), header.header
    except grpc.aio.AioRpcError as exc:
        raise errors.from_grpc(exc) from None
    except BaseException:
        if rpc is not None:
            rpc.cancel()
        raise


async def _write(rpc, message) -> None:
    """Write one message (None: the end of the stream); when metadata already refused the commit, or
    went away (the call finished: InvalidStateError from the interceptor), surface its error."""
    try:
        await (rpc.done_writing() if message is None else rpc.write(message))
    except (grpc.aio.AioRpcError, grpc.aio.UsageError, asyncio.InvalidStateError):
        await rpc  # raises the peer's AioRpcError with its error trailers
        raise errors.Unavailable("Commit stream closed by metadata") from None
