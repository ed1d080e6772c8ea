"""Content-addressed git objects in PostgreSQL.

Storage decision: blob bytes live in PostgreSQL (`objects.data`, bytea, TOASTed), not in S3.
Regular files are small by construction (anything at or above the LFS threshold, or matching an
LFS pattern, is an LFS pointer whose content lives in S3 under the lfs service), so a git object is
typically a few hundred bytes to a few MiB. A commit of 1,000 small files is then ONE batched
`INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING` inside the database that also holds the
refs, instead of 1,000 S3 PUTs at tens of milliseconds each; reads of trees and commits are indexed
lookups; and objects, index rows and the ref move can share one transaction. Type, size and the LFS
pointer's oid/size are columns, so tree listings, paths-info and pack planning never touch blob bytes
(PostgreSQL keeps large `data` values out of line, so reading the other columns stays cheap).
Objects are immutable: parsed trees, commits and object facts are cached in-process without
invalidation, in LRUs bounded by bytes (cache.py): HANGAR_METADATA_CACHE_MB in all, shared as
CACHE_SHARES says.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from . import gitformat as gf
from .cache import LRU, budget_bytes, weigh_text, weigh_tree, weigh_tree_map

BATCH_BYTES = 32 * 1024 * 1024
DEFAULT_CACHE_MB = 256
CACHE_SHARES = {"trees": 0.40, "maps": 0.25, "facts": 0.25, "small": 0.10}


@dataclass(frozen=True, slots=True)
class ObjectFacts:
    type: int
    size: int
    lfs_oid: str | None
    lfs_size: int | None


class ObjectStore:
    def __init__(self, pool, cache_mb: int = DEFAULT_CACHE_MB) -> None:
        self.pool = pool
        share = {name: budget_bytes(cache_mb, part) for name, part in CACHE_SHARES.items()}
        self._trees: LRU[str, tuple[gf.TreeItem, ...]] = LRU(share["trees"], weigh_tree)
        self._facts: LRU[str, ObjectFacts] = LRU(share["facts"])
        self._small: LRU[str, bytes] = LRU(share["small"], weigh_text)   # commits and tags
        self._maps: LRU[str, dict[bytes, gf.TreeItem]] = LRU(share["maps"], weigh_tree_map)

    def cache_bytes(self) -> dict[str, int]:
        """Estimated bytes held by each cache (for tests and the soak benchmark)."""
        return {"trees": self._trees.bytes, "facts": self._facts.bytes, "small": self._small.bytes,
                "maps": self._maps.bytes}

    async def put(self, objects: Iterable[gf.RawObject], conn=None) -> None:
        """Insert objects that are absent, in as few statements as possible."""
        batch, size = [], 0
        for obj in objects:
            batch.append(obj)
            size += len(obj.data)
            if size >= BATCH_BYTES:
                await self._insert(batch, conn)
                batch, size = [], 0
        if batch:
            await self._insert(batch, conn)

    async def _insert(self, batch: list[gf.RawObject], conn) -> None:
        unique = {o.oid: o for o in batch}.values()
        args = ([o.oid for o in unique], [o.type for o in unique], [len(o.data) for o in unique],
                [o.data for o in unique], [o.lfs_oid for o in unique], [o.lfs_size for o in unique])
        sql = """INSERT INTO objects (oid, type, size, data, lfs_oid, lfs_size)
                 SELECT * FROM unnest($1::text[], $2::int2[], $3::int8[], $4::bytea[], $5::text[], $6::int8[])
                 ON CONFLICT (oid) DO NOTHING"""
        if conn is not None:   # inside a caller's transaction: it may roll back, so cache nothing
            await conn.execute(sql, *args)
            return
        async with self.pool.acquire() as c:
            await c.execute(sql, *args)
        for o in unique:
            self._facts.put(o.oid, ObjectFacts(o.type, len(o.data), o.lfs_oid, o.lfs_size))
            if o.type == gf.TREE:
                self._trees.put(o.oid, gf.parse_tree(o.data))

    async def facts(self, oids: Iterable[str]) -> dict[str, ObjectFacts]:
        """Type, size and LFS facts of existing objects (missing ones are absent from the answer)."""
        out, missing = self._facts.get_many(set(oids))
        if missing:
            async with self.pool.acquire() as c:
                rows = await c.fetch("SELECT oid, type, size, lfs_oid, lfs_size FROM objects WHERE oid = ANY($1)",
                                     missing)
            for r in rows:
                facts = ObjectFacts(r["type"], r["size"], r["lfs_oid"], r["lfs_size"])
                self._facts.put(r["oid"], facts)
                out[r["oid"]] = facts
        return out

    async def trees(self, oids: Iterable[str]) -> dict[str, tuple[gf.TreeItem, ...]]:
        """Parsed trees by id (one query for all the uncached ones)."""
        wanted = set(oids)
        empty = gf.EMPTY_TREE in wanted
        wanted.discard(gf.EMPTY_TREE)
        out, missing = self._trees.get_many(wanted)
        if empty:
            out[gf.EMPTY_TREE] = ()
        if missing:
            for oid, (_type, data) in (await self._fetch(missing, gf.TREE)).items():
                items = gf.parse_tree(data)
                self._trees.put(oid, items)
                out[oid] = items
        return out

    async def tree(self, oid: str) -> tuple[gf.TreeItem, ...]:
        items = (await self.trees([oid])).get(oid)
        if items is None:
            raise KeyError(oid)
        return items

    async def tree_map(self, oid: str) -> dict[bytes, gf.TreeItem]:
        """A tree's entries by name (built once per tree: path lookups in wide trees stay O(1))."""
        found = self._maps.get(oid)
        if found is None:
            found = {i.name: i for i in await self.tree(oid)}
            self._maps.put(oid, found)
        return found

    async def small(self, oid: str) -> bytes | None:
        """Raw content of a commit or tag object (cached)."""
        hit = self._small.get(oid)
        if hit is None:
            got = await self._fetch([oid], None)
            if oid not in got:
                return None
            hit = got[oid][1]
            self._small.put(oid, hit)
        return hit

    async def raw(self, oids: list[str]) -> dict[str, tuple[int, bytes]]:
        """Raw (type, content) of objects; callers bound the batch size."""
        return await self._fetch(oids, None)

    async def _fetch(self, oids: list[str], want_type: int | None) -> dict[str, tuple[int, bytes]]:
        async with self.pool.acquire() as c:
            rows = await c.fetch("SELECT oid, type, data FROM objects WHERE oid = ANY($1)", oids)
        return {r["oid"]: (r["type"], r["data"]) for r in rows if want_type is None or r["type"] == want_type}

    async def read_range(self, oid: str, offset: int, length: int) -> bytes:
        """Bytes [offset, offset+length) of an object's content (PostgreSQL substring is 1-based)."""
        async with self.pool.acquire() as c:
            return await c.fetchval("SELECT substring(data FROM $2 FOR $3) FROM objects WHERE oid = $1",
                                    oid, offset + 1, length) or b""
