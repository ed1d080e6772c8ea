"""The two calls that finish an upload, authorized by the signed token in their URL (signing.py):

- `POST .../objects/uploads/{id}/complete?token=` (multipart): body `{oid, parts: [{partNumber, etag}]}`
  as huggingface_hub sends it; completes the S3 multipart upload with those parts, then verifies.
- `POST .../objects/uploads/{id}/verify?token=` (basic, and a no-op re-check after multipart): body
  `{oid, size}` (git-lfs docs/api/basic-transfers.md "Verification"); completes the one-part upload
  the basic PUT went to, then verifies the staged bytes.
"""
from __future__ import annotations

import uuid

from sqlalchemy import text

from hangar_common import errors

from . import signing
from .verification import verify_upload


def _authorize(ctx, upload_id: str, action: str, token: str) -> str:
    try:
        upload_id = str(uuid.UUID(upload_id))
    except ValueError:
        raise errors.NotFound("Unknown upload", code="UploadNotFound") from None
    if not token or not signing.valid(ctx.settings.secret_key, upload_id, action, token):
        raise errors.Forbidden("Invalid or expired upload token", code="InvalidUploadToken")
    return upload_id


def _oid(body) -> str | None:
    oid = body.get("oid") if isinstance(body, dict) else None
    return oid if isinstance(oid, str) else None


def parse_parts(body, expected: int) -> list[tuple[int, str]]:
    parts = body.get("parts") if isinstance(body, dict) else None
    if not isinstance(parts, list) or len(parts) != expected:
        raise errors.UnprocessableEntity(f"Expected {expected} parts", code="InvalidParts")
    result = []
    for index, part in enumerate(parts, start=1):
        number = part.get("partNumber") if isinstance(part, dict) else None
        etag = part.get("etag") if isinstance(part, dict) else None
        if number != index or not isinstance(etag, str) or not etag or len(etag) > 200:
            raise errors.UnprocessableEntity(f"Part {index}: partNumber {index} and its etag are required",
                                             code="InvalidParts")
        result.append((index, etag))
    return result


async def verify(ctx, upload_id: str, token: str, body) -> dict:
    upload_id = _authorize(ctx, upload_id, "verify", token)
    await verify_upload(ctx, upload_id, oid=_oid(body))
    return {"message": "verified"}


async def complete(ctx, upload_id: str, token: str, body) -> dict:
    upload_id = _authorize(ctx, upload_id, "complete", token)
    async with ctx.engine.connect() as conn:
        row = (await conn.execute(text("SELECT oid, part_count FROM uploads WHERE id = :id"),
                                  {"id": upload_id})).mappings().first()
    if row is None or _oid(body) != row["oid"]:
        raise errors.NotFound("Unknown multipart upload", code="UploadNotFound")
    await verify_upload(ctx, upload_id, oid=row["oid"], parts=parse_parts(body, row["part_count"]))
    return {"message": "completed"}
