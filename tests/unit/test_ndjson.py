"""services/gateway/ndjson.py: values line by line however the body is cut into chunks, blank lines
skipped, bounds on the body and on each line enforced as the bytes arrive."""
from __future__ import annotations

import json

import pytest
from starlette.requests import Request

from hangar_common import errors
from services.gateway import ndjson


def _request(body: bytes, step: int, headers: dict[str, str] | None = None) -> Request:
    chunks = [body[i:i + step] for i in range(0, len(body), step)] or [b""]
    sent = iter(enumerate(chunks, 1))

    async def receive():   # the ASGI messages a server sends for a chunked body
        number, chunk = next(sent, (len(chunks), b""))
        return {"type": "http.request", "body": chunk, "more_body": number < len(chunks)}

    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw}, receive)


async def _values(body: bytes, step: int, *, max_body: int = 1 << 20, max_line: int = 1 << 16, headers=None):
    return [v async for v in ndjson.lines(_request(body, step, headers), max_body=max_body, max_line=max_line)]


VALUES = [{"key": "header", "value": {"summary": "été"}}, {"key": "file", "value": {"path": "a\nb"}}, [1, 2], "x", 3]


@pytest.mark.parametrize("step", [1, 2, 7, 64, 100_000])
async def test_values_and_line_numbers_whatever_the_chunks(step):
    lines = [json.dumps(v, ensure_ascii=False) for v in VALUES]
    body = ("\n".join(lines[:2]) + "\n\n   \n" + "\r\n".join(lines[2:])).encode()   # no final newline
    got = await _values(body, step)
    assert [v for _, v in got] == VALUES
    assert [n for n, _ in got] == [1, 2, 5, 6, 7]


async def test_malformed_line_is_a_400_naming_it():
    with pytest.raises(errors.BadRequest) as bad:
        await _values(b'{"ok": 1}\n{"broken": \n', 3)
    assert bad.value.code == "InvalidNDJSON" and "line 2" in bad.value.message


@pytest.mark.parametrize("step", [1, 1000])
async def test_body_and_line_bounds(step):
    with pytest.raises(errors.PayloadTooLarge):
        await _values(b'"x"\n' * 100, step, max_body=399)
    assert len(await _values(b'"x"\n' * 100, step, max_body=400)) == 100
    with pytest.raises(errors.PayloadTooLarge, match="line 2"):
        await _values(b'"a"\n"' + b"y" * 200 + b'"\n', step, max_line=100)
    with pytest.raises(errors.PayloadTooLarge):   # a declared length past the bound: refused before reading
        await _values(b'"x"\n', step, max_body=10, headers={"Content-Length": "11"})
