"""The Git LFS batch API (git-lfs docs/api/batch.md): `POST .../info/lfs/objects/batch`.

Upload answers "already present" (no actions) only for verified objects the caller is entitled to
(entitlement.py); otherwise it asks for the bytes again under a fresh staging key. Download answers
presigned GETs for objects this repo references or that were uploaded for it; anything else is a
per-object 404, so knowing a hash gives nothing.
"""
from __future__ import annotations

import re

from hangar_common import errors

from . import catalog, contributors, entitlement
from .access import open_for_upload, open_repo
from .downloads import download_url
from .settings import S3_MAX_SINGLE_PUT
from .transfers import upload_action

OID = re.compile(r"^[0-9a-f]{64}$")
MAX_OBJECT_SIZE = 5 * 1024 ** 4  # S3's object size limit (5 TiB)


def _object_error(oid, size, code: int, message: str) -> dict:
    return {"oid": oid if isinstance(oid, str) else str(oid),
            "size": size if isinstance(size, int) and not isinstance(size, bool) else 0,
            "error": {"code": code, "message": message}}


def parse_request(body, max_objects: int) -> tuple[str, list[str], list[dict]]:
    """(operation, transfers, objects) of a batch request, or a request-level 422/409."""
    if not isinstance(body, dict):
        raise errors.UnprocessableEntity("The request body must be a JSON object", code="InvalidRequest")
    operation = body.get("operation")
    if operation not in ("upload", "download"):
        raise errors.UnprocessableEntity("operation must be 'upload' or 'download'", code="InvalidRequest")
    if body.get("hash_algo", "sha256") != "sha256":
        raise errors.Conflict("Only hash_algo 'sha256' is supported", code="UnsupportedHashAlgorithm")
    transfers = body.get("transfers") or ["basic"]
    objects = body.get("objects")
    if not isinstance(transfers, list) or not isinstance(objects, list):
        raise errors.UnprocessableEntity("transfers and objects must be lists", code="InvalidRequest")
    if len(objects) > max_objects:
        raise errors.PayloadTooLarge(f"At most {max_objects} objects per batch", code="TooManyObjects")
    return operation, transfers, objects


def _invalid(obj) -> dict | None:
    if not isinstance(obj, dict):
        return _object_error("", 0, 422, "Each object needs an oid and a size")
    oid, size = obj.get("oid"), obj.get("size")
    if not isinstance(oid, str) or not OID.match(oid):
        return _object_error(oid, size, 422, "oid must be a lowercase hex sha256")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0 or size > MAX_OBJECT_SIZE:
        return _object_error(oid, size, 422, "size must be a non-negative integer (at most 5 TiB)")
    return None


async def handle(ctx, lfs_path, body, authorization: str, client: str, origin: str, session=None) -> dict:
    operation, transfers, objects = parse_request(body, ctx.config.max_batch_objects)
    contributor = False
    if operation == "upload":
        principal, facts, contributor = await open_for_upload(
            ctx.peers, lfs_path.ref, authorization, _ref_name(body), client, session)
    else:
        # "download", not "read": a gated repo can be seen by everyone but downloaded only once granted.
        principal, facts = await open_repo(ctx.peers, lfs_path.ref, authorization, "download", client, session)
    answers: list[dict | None] = [_invalid(obj) for obj in objects]
    wanted = {obj["oid"]: obj["size"] for obj, a in zip(objects, answers) if a is None}
    multipart = operation == "upload" and "multipart" in transfers
    async with ctx.engine.begin() as conn:
        located = await catalog.locations(conn, list(wanted))
        known = {oid: size for oid, (size, _) in located.items()}
        if operation == "upload":
            done = await _uploads(ctx, conn, origin + lfs_path.base, principal, facts, wanted, known, multipart)
            if contributor:
                await _count_contributor(ctx, conn, principal, facts, done)
        else:
            done = await _downloads(ctx, conn, facts, wanted, located)
    first_of: set[str] = set()
    for i, obj in enumerate(objects):
        if answers[i] is None:
            answers[i] = _once(done[obj["oid"]], first_of) if operation == "upload" else done[obj["oid"]]
    uses_multipart = any("chunk_size" in a.get("actions", {}).get("upload", {}).get("header", {}) for a in answers)
    return {"transfer": "multipart" if uses_multipart else "basic", "objects": answers, "hash_algo": "sha256"}


def _ref_name(body: dict) -> str:
    """The ref the upload is for (git-lfs and huggingface_hub send `ref: {name}`; optional)."""
    ref = body.get("ref")
    name = ref.get("name") if isinstance(ref, dict) else None
    return name if isinstance(name, str) else ""


async def _count_contributor(ctx, conn, principal, facts, done: dict[str, dict]) -> None:
    """A contributor's objects that are to be sent count against their quota (whole batch or none)."""
    items = {f"lfs:{oid}": a["size"] for oid, a in done.items() if "actions" in a}
    await contributors.reserve(conn, ctx.config, user_id=principal.user_id, repo_id=facts.repo_id, items=items)


def _once(answer: dict, first_of: set[str]) -> dict:
    """An oid listed twice in one upload batch (two identical files in one commit) is uploaded once:
    its first entry carries the upload actions, the others none ("nothing to send"). Two clients
    writing into one staging upload would race its completion, and the second verify would fail."""
    if "actions" not in answer:
        return answer
    if answer["oid"] in first_of:
        return {k: v for k, v in answer.items() if k != "actions"}
    first_of.add(answer["oid"])
    return answer


async def _uploads(ctx, conn, base, principal, facts, wanted, known, multipart) -> dict[str, dict]:
    present = [oid for oid, size in wanted.items() if known.get(oid) == size]
    entitled = await entitlement.referencable(ctx, conn, principal=principal, facts=facts, oids=present)
    answers = {}
    for oid, size in wanted.items():
        if oid in known and known[oid] != size:
            answers[oid] = _object_error(oid, size, 422, f"Object {oid} has size {known[oid]}, not {size}")
        elif oid in entitled:
            answers[oid] = {"oid": oid, "size": size, "authenticated": True}
        elif size > S3_MAX_SINGLE_PUT and not multipart:
            answers[oid] = _object_error(oid, size, 422, "Objects over 5 GiB need the multipart transfer")
        else:
            use_multipart = multipart and (size > ctx.config.multipart_threshold or size > S3_MAX_SINGLE_PUT)
            actions = await upload_action(ctx, conn, base=base, oid=oid, size=size,
                                          multipart=use_multipart, repo_id=facts.repo_id,
                                          user_id=principal.user_id)
            answers[oid] = {"oid": oid, "size": size, "authenticated": True, "actions": actions}
    return answers


async def _downloads(ctx, conn, facts, wanted, located) -> dict[str, dict]:
    candidates = [oid for oid, size in wanted.items() if oid in located and located[oid][0] == size]
    allowed = await entitlement.downloadable(ctx, conn, facts=facts, oids=candidates)
    ttl = ctx.config.download_url_ttl
    answers = {}
    for oid, size in wanted.items():
        if oid in allowed:
            href = download_url(ctx, oid, located[oid][1], ttl)
            answers[oid] = {"oid": oid, "size": size, "authenticated": True,
                            "actions": {"download": {"href": href, "expires_in": ttl}}}
        else:
            answers[oid] = _object_error(oid, size, 404, "Object does not exist")
    return answers
