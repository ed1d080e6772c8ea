"""Reading contents at a revision: tree listings (cursor pages, lastCommit), paths-info, file reads.

Sizes and LFS facts come from object columns in one query per page; blob bytes are read only by
ReadFile."""
from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from hangar_common.errors import BadRequest, EntryNotFound
from hangar_protos import metadata_pb2 as pb

from . import gitformat as gf
from . import indexes, refs, repos, trees
from .engine import Engine

PAGE = 1000              # entries per gRPC message (well under 4 MiB)
CHUNK = 1024 * 1024      # ReadFile data chunk
WHOLE_READ = 4 * CHUNK   # blobs up to this size are read in one query
MESSAGE_BUDGET = 2 * 1024 * 1024   # commit message bytes in one ListCommits answer


@dataclass(frozen=True, slots=True)
class At:
    """A repository at a resolved revision."""
    repo: repos.Repo
    commit: str
    ref: str
    tree: str


async def at_revision(engine: Engine, ref, revision: str) -> At:
    async with engine.pool.acquire() as conn:
        repo = await repos.get(conn, ref.type, ref.namespace, ref.name)
        resolved = await refs.resolve(conn, engine.store, repo.id, repo.default_branch, revision)
        tree = await indexes.tree_of(conn, repo.id, resolved.commit)
    return At(repo, resolved.commit, resolved.ref, tree)


async def to_entries(engine: Engine, at: At, entries: list[trees.Entry], expand: bool) -> list[pb.TreeEntry]:
    """Protobuf entries with sizes/LFS facts (one query) and lastCommit (one query when expanded)."""
    page = pb.TreePage()
    await fill_page(engine, at, page, entries, expand)
    return list(page.entries)


async def page_of(engine: Engine, at: At, entries: list[trees.Entry], expand: bool, *, commit: str = "",
                  next_cursor: str = "") -> pb.TreePage:
    page = pb.TreePage(commit=commit, next_cursor=next_cursor)
    await fill_page(engine, at, page, entries, expand)
    return page


async def fill_page(engine: Engine, at: At, page: pb.TreePage, entries: list[trees.Entry], expand: bool) -> None:
    """Add the entries to the page in place (building them inside the page's repeated field costs
    half of building messages and copying them in, on a 1,000-entry page)."""
    kinds = [e.mode & 0o170000 for e in entries]   # gf.is_dir / gf.is_gitlink, once per entry
    facts = await engine.store.facts([e.oid for e, k in zip(entries, kinds) if k != gf.DIR_MODE and
                                      k != gf.GITLINK_MODE])
    last = {}
    if expand:
        async with engine.pool.acquire() as conn:
            last = await indexes.last_commits(conn, at.repo.id, at.commit, [e.path for e in entries])
    add, fact_of = page.entries.add, facts.get
    for e, kind in zip(entries, kinds):
        is_dir = kind == gf.DIR_MODE
        f = None if is_dir else fact_of(e.oid)
        if f is None:
            item = add(type="directory" if is_dir else "file", path=e.path, oid=e.oid)
        elif f.lfs_oid:
            item = add(type="file", path=e.path, oid=e.oid, size=f.lfs_size,
                       lfs=pb.LfsInfo(oid=f.lfs_oid, size=f.lfs_size, pointer_size=f.size))
        else:
            item = add(type="file", path=e.path, oid=e.oid, size=f.size)
        if last:
            lc = last.get(e.path)
            if lc is not None:
                item.last_commit.CopyFrom(pb.LastCommit(**lc))


def _encode_cursor(commit: str, key: list[bytes]) -> str:
    raw = json.dumps({"c": commit, "k": [k.hex() for k in key]}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, list[bytes]]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return raw["c"], [bytes.fromhex(k) for k in raw["k"]]
    except Exception:
        raise BadRequest("Invalid cursor", code="InvalidCursor") from None


async def list_tree(engine: Engine, request: pb.ListTreeRequest) -> AsyncIterator[pb.TreePage]:
    """Pages of PAGE entries; with `limit`, stop after `limit` entries and answer a cursor (the
    position of the last entry, so the next page resumes right after it)."""
    at = await at_revision(engine, request.repo, request.revision)
    path = request.path.strip("/")
    root = await trees.lookup(engine.store, at.tree, path)
    if root is None:
        raise EntryNotFound(f"No such path '{path}' at revision {at.commit}")
    if not root.is_dir:
        yield await page_of(engine, at, [root], request.expand, commit=at.commit)
        return
    after = _decode_cursor(request.cursor)[1][len(path.split("/")) if path else 0:] if request.cursor else None
    limit = request.limit if request.limit > 0 else None
    # A whole recursive listing loads every tree, a level per query; a page (limit) loads trees as
    # the walk reaches them, so it costs its own entries, not the whole tree (100 pages of a 100k
    # tree used to load all of it 100 times).
    loaded = await trees.load_subtrees(engine.store, root.oid) if request.recursive and limit is None \
        else {root.oid: await engine.store.tree(root.oid)}
    buffer: list = []
    first, sent = True, 0
    for entry in trees.walk_steps(loaded, root.oid, path, recursive=request.recursive, after=after):
        if isinstance(entry, trees.Missing):
            loaded.update(await engine.store.trees(entry.oids))
            continue
        if limit is not None and sent + len(buffer) >= limit:
            last = buffer[-1] if buffer else None
            yield await page_of(engine, at, buffer, request.expand, commit=at.commit if first else "",
                                next_cursor=_encode_cursor(at.commit, trees.position(last)))
            return
        buffer.append(entry)
        if len(buffer) >= PAGE and (limit is None or sent + len(buffer) < limit):
            yield await page_of(engine, at, buffer, request.expand, commit=at.commit if first else "")
            first, sent, buffer = False, sent + len(buffer), []
    if buffer or first:
        yield await page_of(engine, at, buffer, request.expand, commit=at.commit if first else "")


async def paths_info(engine: Engine, request: pb.PathsInfoRequest) -> AsyncIterator[pb.TreePage]:
    """Entries for the paths that exist (missing paths are left out, as on the Hub)."""
    at = await at_revision(engine, request.repo, request.revision)
    found: dict[str, trees.Entry] = {}
    for raw in request.paths:
        path = raw.strip("/")
        if path and path not in found:
            entry = await trees.lookup(engine.store, at.tree, path)
            if entry is not None:
                found[path] = entry
    entries = list(found.values())
    if not entries:
        yield pb.TreePage(commit=at.commit)
        return
    for i in range(0, len(entries), PAGE):
        yield await page_of(engine, at, entries[i:i + PAGE], request.expand, commit=at.commit if i == 0 else "")


async def read_file(engine: Engine, request: pb.ReadFileRequest) -> AsyncIterator[pb.FileChunk]:
    """`meta` first, then the bytes of [offset, offset+length) in chunks of at most 1 MiB.
    For LFS files the bytes are the pointer file."""
    at = await at_revision(engine, request.repo, request.revision)
    path = request.path.strip("/")
    entry = await trees.lookup(engine.store, at.tree, path) if path else None
    if entry is None or entry.is_dir or gf.is_gitlink(entry.mode):
        raise EntryNotFound(f"{path} does not exist at revision {at.commit}")
    [item] = await to_entries(engine, at, [entry], False)
    yield pb.FileChunk(meta=pb.FileMeta(commit=at.commit, entry=item))
    if request.meta_only:
        return
    size = (await engine.store.facts([entry.oid]))[entry.oid].size
    start = min(max(request.offset, 0), size)
    end = size if request.length <= 0 else min(size, start + request.length)
    if end - start <= WHOLE_READ:
        data = await engine.store.read_range(entry.oid, start, end - start) if end > start else b""
        for i in range(0, len(data), CHUNK):
            yield pb.FileChunk(data=data[i:i + CHUNK])
        return
    for pos in range(start, end, CHUNK):
        yield pb.FileChunk(data=await engine.store.read_range(entry.oid, pos, min(CHUNK, end - pos)))


async def list_commits(engine: Engine, request: pb.ListCommitsRequest) -> pb.ListCommitsResponse:
    at = await at_revision(engine, request.repo, request.revision)
    limit = request.limit if request.limit > 0 else 50
    async with engine.pool.acquire() as conn:
        rows, total = await indexes.list_commits(conn, at.repo.id, at.commit, offset=max(request.offset, 0),
                                                 limit=min(limit, 1000), path=request.path.strip("/"))
    out, budget = pb.ListCommitsResponse(total=total), MESSAGE_BUDGET
    for r in rows:
        message = r["message"].rstrip("\n")
        budget -= len(message)
        out.commits.append(pb.CommitInfo(   # past the budget, messages shrink to titles (4 MiB cap)
            id=r["oid"], title=r["title"], message=message if budget > 0 else r["title"],
            date=gf.rfc3339(r["date"]), parents=r["parents"],
            authors=[pb.CommitAuthor(user=r["author_name"], email=r["author_email"])]))
    return out
