"""Streaming NDJSON (one JSON value per line, http://ndjson.org) from a request body, with bounds:
the whole body and each line. Lines are parsed as they arrive, so a large commit never sits in
memory whole; a line can be as large as the biggest inline file (base64) and no larger."""
from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from fastapi import Request

from hangar_common import errors


def declared_size_check(request: Request, max_body: int) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_body:
        raise errors.PayloadTooLarge(f"Commit body larger than {max_body} bytes")


async def lines(request: Request, *, max_body: int, max_line: int) -> AsyncIterator[tuple[int, object]]:
    """Yield `(line_number, value)` for each non-blank line; 413 past a bound, 400 on bad JSON."""
    declared_size_check(request, max_body)
    buffer = bytearray()
    total = 0
    number = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > max_body:
            raise errors.PayloadTooLarge(f"Commit body larger than {max_body} bytes")
        search_from = len(buffer)  # the buffered tail holds no newline: scan only the new bytes
        buffer += chunk
        start = 0
        while (end := buffer.find(b"\n", max(start, search_from))) >= 0:
            number += 1
            if end - start > max_line:   # the same bound whether the line came whole or in pieces
                raise errors.PayloadTooLarge(f"NDJSON line {number} longer than {max_line} bytes")
            value = _parse(buffer[start:end], number)
            start = end + 1
            if value is not _BLANK:
                yield number, value
        del buffer[:start]
        if len(buffer) > max_line:
            raise errors.PayloadTooLarge(f"NDJSON line {number + 1} longer than {max_line} bytes")
    if buffer.strip():
        value = _parse(buffer, number + 1)
        yield number + 1, value


_BLANK = object()


def _parse(raw: bytes | bytearray, number: int):
    if not raw.strip():
        return _BLANK
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.BadRequest(f"Malformed NDJSON at line {number}", code="InvalidNDJSON") from None
