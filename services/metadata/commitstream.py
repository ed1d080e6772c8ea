"""The Commit RPC's request stream read into a CommitRequest: the header, then operations (a file's
data may span messages), with the commit's size bounds enforced as the bytes arrive."""
from __future__ import annotations

import re

from hangar_common.errors import BadRequest, PayloadTooLarge

from . import commits
from . import gitformat as gf

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


async def collect(stream, *, max_file: int, max_total: int) -> commits.CommitRequest:
    """Read a Commit stream: the header, then operations (file data may span messages). Regular-file
    bytes are held in memory until the commit is applied: at most `max_total`
    (Settings.max_commit_inline_bytes, HANGAR_MAX_COMMIT_INLINE_BYTES)."""
    request, pending, total = None, None, 0
    async for chunk in stream:
        kind = chunk.WhichOneof("kind")
        if request is None:
            if kind != "header":
                raise BadRequest("The commit stream must start with a header", code="InvalidCommit")
            h = chunk.header
            request = commits.CommitRequest(h.repo, h.revision, h.summary, h.description, h.parent_commit,
                                            h.author, h.create_pr, pr_number=h.pr_number)
            continue
        if pending is not None and (kind != "file" or chunk.file.path != pending[0]):
            raise BadRequest(f"Data of {pending[0]} was cut short", code="InvalidCommit")
        if kind == "file":
            total += len(chunk.file.data)
            if total > max_total:
                raise PayloadTooLarge("Commit too large: use LFS for large files", code="CommitTooLarge")
            data = pending[1] if pending else bytearray()
            data += chunk.file.data
            if len(data) > max_file:
                raise PayloadTooLarge(f"{chunk.file.path} is larger than {max_file} bytes: upload it with LFS",
                                      code="FileTooLarge")
            pending = (chunk.file.path, data) if chunk.file.more else None
            if not chunk.file.more:
                request.operations.append(commits.Operation("file", chunk.file.path, gf.blob(bytes(data))))
        elif kind == "lfs_file":
            _add_lfs(request, chunk.lfs_file)
        elif kind == "delete":
            request.operations.append(commits.Operation(
                "delete_folder" if chunk.delete.folder else "delete", chunk.delete.path))
        elif kind == "copy":
            c = chunk.copy
            request.operations.append(commits.Operation("copy", c.dest_path, src_path=c.src_path,
                                                        src_revision=c.src_revision))
        elif kind == "header":
            raise BadRequest("Only one header per commit", code="InvalidCommit")
    if request is None:
        raise BadRequest("Empty commit stream", code="InvalidCommit")
    if pending is not None:
        raise BadRequest(f"Data of {pending[0]} was cut short", code="InvalidCommit")
    return request


def _add_lfs(request: commits.CommitRequest, op) -> None:
    """An lfsFile operation; size 0 means "unknown" (huggingface_hub copies LFS files without a
    size): the commit takes it from the pointer this repository already holds for that oid."""
    oid = op.oid.lower()
    if not _SHA256.match(oid) or op.size < 0:
        raise BadRequest(f"Invalid LFS object for {op.path}: oid must be sha256 hex, size >= 0",
                         code="InvalidLfsPointer")
    request.operations.append(commits.Operation("lfs", op.path, lfs_oid=oid, lfs_size=op.size))
