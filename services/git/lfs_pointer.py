"""Git LFS pointer files (git-lfs docs/spec.md): small blobs of `key value` lines, `version` first,
then `oid sha256:<hex>` and `size <bytes>` among sorted keys; smaller than 1024 bytes."""
from __future__ import annotations

import re
from dataclasses import dataclass

_VERSIONS = (b"https://git-lfs.github.com/spec/v1", b"https://hawser.github.com/spec/v1")
_OID = re.compile(rb"^sha256:([0-9a-f]{64})$")
MAX_POINTER_SIZE = 1024


@dataclass(frozen=True)
class Pointer:
    oid: str
    size: int


def parse(data: bytes) -> Pointer | None:
    if len(data) >= MAX_POINTER_SIZE or not data.startswith(b"version "):
        return None
    fields = {}
    for line in data.split(b"\n"):
        if not line:
            continue
        key, sep, value = line.partition(b" ")
        if not sep:
            return None
        fields[key] = value
    oid = _OID.match(fields.get(b"oid", b""))
    size = fields.get(b"size", b"")
    if fields.get(b"version") not in _VERSIONS or not oid or not size.isdigit():
        return None
    return Pointer(oid=oid.group(1).decode(), size=int(size))
