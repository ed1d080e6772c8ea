"""Git object formats (via dulwich) and Git LFS pointer files.

Object ids are real git SHA-1s: sha1(b"<type> <size>\\0" + content). Trees sort their entries the
way git does (a directory compares as `name/`) and write the directory mode as `40000`; dulwich's
Tree serialization does both. Whether a blob is an LFS pointer is hangar_common.lfs_pointer's
decision (the one every service shares), taken once when the blob is first stored.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tag, Tree, serialize_tree, sorted_tree_items
from dulwich.objects import parse_tree as _parse_tree

from hangar_common import lfs_pointer as _lfs

COMMIT, TREE, BLOB, TAG = 1, 2, 3, 4
TYPE_NAMES = {COMMIT: "commit", TREE: "tree", BLOB: "blob", TAG: "tag"}
DIR_MODE, FILE_MODE, EXEC_MODE, LINK_MODE, GITLINK_MODE = 0o040000, 0o100644, 0o100755, 0o120000, 0o160000
ZERO_OID = "0" * 40
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
HEX40 = re.compile(r"^[0-9a-f]{40}$")



@dataclass(frozen=True, slots=True)
class RawObject:
    """A git object as stored: id, type number, raw content, and LFS pointer facts for blobs."""
    oid: str
    type: int
    data: bytes
    lfs_oid: str | None = None
    lfs_size: int | None = None


def is_dir(mode: int) -> bool:
    return mode & 0o170000 == DIR_MODE


def is_gitlink(mode: int) -> bool:
    return mode & 0o170000 == GITLINK_MODE


lfs_pointer = _lfs.encode


def parse_lfs_pointer(data: bytes) -> tuple[str, int] | None:
    """(oid, size) if `data` is an LFS pointer file, else None."""
    found = _lfs.parse(data)
    return (found.oid, found.size) if found else None


def raw_object(type_num: int, data: bytes) -> RawObject:
    """Wrap raw content as an object with its git id (and LFS facts for pointer blobs)."""
    if type_num == BLOB:
        return blob(data)
    header = f"{TYPE_NAMES[type_num]} {len(data)}\0".encode()
    return RawObject(hashlib.sha1(header + data).hexdigest(), type_num, data)


def blob(data: bytes) -> RawObject:
    obj = Blob.from_string(data)
    lfs = parse_lfs_pointer(data)
    return RawObject(obj.id.decode(), BLOB, data, *(lfs or (None, None)))


def tree(entries: dict[bytes, tuple[int, str]]) -> RawObject:
    """A tree from {name: (mode, oid)}: dulwich's git ordering (directories compare as `name/`) and
    serialization (mode `40000`), hashed once."""
    items = sorted_tree_items({name: (mode, ObjectID(oid.encode())) for name, (mode, oid) in entries.items()}, False)
    data = b"".join(serialize_tree((i.path, i.mode, i.sha) for i in items))
    return RawObject(hashlib.sha1(b"tree %d\0" % len(data) + data).hexdigest(), TREE, data)


@dataclass(frozen=True, slots=True)
class TreeItem:
    name: bytes
    mode: int
    oid: str

    @property
    def text(self) -> str:
        return self.name.decode("utf-8", "replace")


def parse_tree(data: bytes) -> tuple[TreeItem, ...]:
    """Entries of a raw tree (dulwich's C parser), in stored order."""
    return tuple(TreeItem(name, mode, sha.decode()) for name, mode, sha in _parse_tree(data, 20))


def identity(username: str) -> bytes:
    """Author/committer line for a principal: `name <name@users.noreply.hangar>`."""
    name = username or "hangar"
    return f"{name} <{name}@users.noreply.hangar>".encode()


def commit(tree_oid: str, parents: list[str], *, author: bytes, message: str,
           when: datetime | None = None) -> RawObject:
    c = Commit()
    c.tree = tree_oid.encode()
    c.parents = [ObjectID(p.encode()) for p in parents]
    c.author = c.committer = author
    ts = int((when or datetime.now(UTC)).timestamp())
    c.author_time = c.commit_time = ts
    c.author_timezone = c.commit_timezone = 0
    c.message = message.encode()
    return RawObject(c.id.decode(), COMMIT, c.as_raw_string())


def annotated_tag(name: str, target: str, target_type: int, *, tagger: bytes, message: str) -> RawObject:
    t = Tag()
    t.name = name.encode()
    t.object = (_TYPE_CLASSES[target_type], target.encode())
    t.tagger = tagger
    t.tag_time = int(datetime.now(UTC).timestamp())
    t.tag_timezone = 0
    t.message = (message if message.endswith("\n") else message + "\n").encode()
    return RawObject(t.id.decode(), TAG, t.as_raw_string())


_TYPE_CLASSES = {COMMIT: Commit, TREE: Tree, BLOB: Blob, TAG: Tag}


@dataclass(frozen=True, slots=True)
class CommitFacts:
    """What the commit index keeps of a commit."""
    oid: str
    tree: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    date: datetime
    title: str
    message: str


MAX_INDEXED_MESSAGE = 64 * 1024   # the commit index keeps this much of a message (the object keeps all)
_IDENT = re.compile(rb"^(.*?)\s*<([^>]*)>")


def parse_commit(oid: str, data: bytes) -> CommitFacts:
    c = cast(Commit, ShaFile.from_raw_string(COMMIT, data))
    m = _IDENT.match(c.author or b"")
    name, email = (m.group(1), m.group(2)) if m else (c.author or b"", b"")
    message = c.message.decode("utf-8", "replace")
    return CommitFacts(
        oid=oid, tree=c.tree.decode(), parents=tuple(p.decode() for p in c.parents),
        author_name=name.decode("utf-8", "replace").replace("\x00", ""),
        author_email=email.decode("utf-8", "replace").replace("\x00", ""),
        date=datetime.fromtimestamp(c.author_time, UTC),
        title=message.split("\n", 1)[0].strip()[:1000].replace("\x00", ""),
        message=message[:MAX_INDEXED_MESSAGE].replace("\x00", ""))


def parse_tag(data: bytes) -> tuple[int, str]:
    """(target type number, target oid) of an annotated tag object."""
    t = cast(Tag, ShaFile.from_raw_string(TAG, data))
    cls, sha = t.object
    return cls.type_num, sha.decode()


def rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
