"""Small request bodies (JSON, form) read with a size bound. Large bodies (commits) are streamed by
their own route instead (ndjson.py)."""
from __future__ import annotations

from urllib.parse import parse_qsl

import orjson
from fastapi import Request
from pydantic import BaseModel, field_validator

from hangar_common import errors
from hangar_common.inputs import json_problem

from .paths import repo_api  # noqa: F401  (kept importable from here for route modules that use it)

SMALL_BODY_LIMIT = 16 * 1024 * 1024


async def read_limited(request: Request, limit: int = SMALL_BODY_LIMIT) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise errors.PayloadTooLarge(f"Request body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise errors.PayloadTooLarge(f"Request body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def json_object(request: Request, *, optional: bool = False, limit: int = SMALL_BODY_LIMIT) -> dict:
    """The body as a JSON object; `optional` lets an empty body stand for `{}`."""
    raw = await read_limited(request, limit)
    if not raw.strip() and optional:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.BadRequest("Request body must be valid JSON", code="InvalidJSON") from None
    if not isinstance(body, dict):
        raise errors.BadRequest("Request body must be a JSON object", code="InvalidJSON")
    _check_strings(body)
    return body


def _check_strings(body) -> None:
    problem = json_problem(body)
    if problem:
        raise errors.BadRequest(f"Invalid request body: {problem}", code="InvalidJSON")


class Body(BaseModel):
    """Base of the gateway's JSON body models: no string field may hold a NUL or a lone surrogate
    (FastAPI's JSON parser accepts both; neither survives gRPC or PostgreSQL)."""

    @field_validator("*", mode="after")
    @classmethod
    def _valid_text(cls, value):
        problem = json_problem(value)
        if problem:
            raise ValueError(problem)
        return value


async def form_items(request: Request) -> list[tuple[str, str]]:
    """An `application/x-www-form-urlencoded` body (or a JSON object, which some clients send)."""
    raw = await read_limited(request)
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError:
            raise errors.BadRequest("Request body must be valid JSON", code="InvalidJSON") from None
        if not isinstance(body, dict):
            raise errors.BadRequest("Request body must be a JSON object", code="InvalidJSON")
        _check_strings(body)
        items = []
        for key, value in body.items():
            for v in value if isinstance(value, list) else [value]:
                items.append((key, v if isinstance(v, str) else orjson.dumps(v).decode()))
        return items
    try:
        items = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise errors.BadRequest("Invalid form body", code="InvalidForm") from None
    _check_strings([v for item in items for v in item])
    return items


def string_field(body: dict, key: str, *, required: bool = False, default: str | None = None) -> str | None:
    value = body.get(key, default)
    if value is None:
        if required:
            raise errors.BadRequest(f"Missing field '{key}'", code="MissingField")
        return None
    if not isinstance(value, str):
        raise errors.BadRequest(f"Field '{key}' must be a string", code="InvalidField")
    return value


def truthy(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes", "on")


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    """A non-negative integer query parameter (paging), clamped to [low, high]."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise errors.BadRequest(f"{name} must be a non-negative integer", code="InvalidParameter")
    return max(low, min(int(raw), high))
