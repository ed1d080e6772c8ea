"""Git LFS pointer files: the one decision of "is this blob an LFS pointer, and to which object".

Every service that has to tell a pointer from a regular file asks this module, so the check that a
commit may reference an LFS object and the code that later serves the object agree by construction
(docs/data-safety.md: a blob whose content is an LFS pointer IS an LFS reference).

The canonical form (git-lfs docs/spec.md) is `version https://git-lfs.github.com/spec/v1\\n`,
`oid sha256:<64 hex>\\n`, `size <bytes>\\n`. What git-lfs itself *accepts* as a pointer is wider
(lfs/pointer.go, DecodePointerFromBlob and decodeKV), and this parser accepts at least all of it:

- blobs smaller than 1024 bytes (git-lfs's blobSizeCutoff);
- surrounding whitespace is ignored (Go's bytes.TrimSpace: Unicode white space);
- lines end in LF or CRLF (bufio.ScanLines drops one CR); empty lines are skipped;
- `key value` split at the first space; keys in the order version, oid, size, with extension
  keys (`ext-<digit>-<word>`, value a sha256 oid, distinct priorities) allowed in between;
  nothing may follow `size`;
- version is one of the v1 aliases (`https://git-lfs.github.com/spec/v1`,
  `https://hawser.github.com/spec/v1`, `http://git-media.io/v/2`), compared exactly;
- oid is `sha256:` and 64 hex digits (git-lfs 3 wants lowercase; older releases took any case, so
  any case is accepted here and the oid is lowercased);
- size is a decimal int64 >= 0, optionally signed (Go's strconv.ParseInt), leading zeros allowed.

Accepting more than git-lfs is the safe direction: anything accepted is checked for entitlement
before it lands. Anything this parser refuses is a regular file everywhere in Hangar (listed,
resolved and served as its own bytes), and LFS downloads by oid are bound to the references the
metadata index holds, which this same parser decided, so a client that reads such a blob as a
pointer anyway is answered 404 for the object.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MAX_POINTER_SIZE = 1024           # git-lfs blobSizeCutoff: a pointer blob is smaller than this
CANONICAL_VERSION = "https://git-lfs.github.com/spec/v1"
VERSIONS = frozenset({CANONICAL_VERSION, "https://hawser.github.com/spec/v1", "http://git-media.io/v/2"})
KEYS = ("version", "oid", "size")
_MARKERS = (b"git-lfs", b"hawser", b"git-media")   # git-lfs's matcherRE, a cheap first filter
_OID = re.compile(r"sha256:([0-9a-fA-F]{64})", re.ASCII)
_EXT_OID = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)
_EXT_KEY = re.compile(r"ext-([0-9])-\w", re.ASCII)
_SIZE = re.compile(r"[+-]?[0-9]+", re.ASCII)
INT64_MAX = 2 ** 63 - 1


@dataclass(frozen=True, slots=True)
class Pointer:
    oid: str       # lowercase sha256 hex of the object's content
    size: int


def encode(oid: str, size: int) -> bytes:
    """The canonical pointer file of an object (what git-lfs writes)."""
    return f"version {CANONICAL_VERSION}\noid sha256:{oid}\nsize {size}\n".encode()


def could_be_pointer(data: bytes) -> bool:
    """A cheap test that is true for every pointer (for filters that must not parse every blob)."""
    return len(data) < MAX_POINTER_SIZE and any(m in data for m in _MARKERS)


def parse(data: bytes) -> Pointer | None:
    """The object `data` points to if it is an LFS pointer as git-lfs reads one, else None."""
    if not could_be_pointer(data):
        return None
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return None     # a pointer is ASCII apart from the white space around it
    values: dict[str, str] = {}
    extensions: dict[str, str] = {}
    for line in text.strip().split("\n"):
        line = line.removesuffix("\r")
        if not line:
            continue
        key, sep, value = line.partition(" ")
        if not sep or len(values) == len(KEYS):
            return None
        if key == KEYS[len(values)]:
            values[key] = value
        elif _EXT_KEY.match(key):
            extensions[key] = value      # a repeated key replaces its value, as in git-lfs
        else:
            return None
    return _pointer(values) if _extensions_valid(extensions) else None


def _extensions_valid(extensions: dict[str, str]) -> bool:
    """Each extension names a sha256 oid, and no two share a priority (the digit)."""
    priorities = [_EXT_KEY.match(key).group(1) for key in extensions]
    return len(set(priorities)) == len(priorities) and all(_EXT_OID.fullmatch(v) for v in extensions.values())


def _pointer(values: dict[str, str]) -> Pointer | None:
    if values.get("version") not in VERSIONS or len(values) != len(KEYS):
        return None
    oid = _OID.fullmatch(values["oid"])
    if oid is None or not _SIZE.fullmatch(values["size"]):
        return None
    size = int(values["size"])
    if not 0 <= size <= INT64_MAX:
        return None
    return Pointer(oid.group(1).lower(), size)
