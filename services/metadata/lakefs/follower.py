"""lakeFS follows the Hub's refs (docs/lakefs.md).

The Hub's ref compare-and-swap in PostgreSQL stays the order of record: lakeFS has no "commit only
if the parent is X", and a lakeFS commit takes everything staged on its branch. So no Hub writer
ever stages anything in lakeFS. After a ref moves (a trigger notifies `hangar_lakefs` with the
repository id), this follower — the only writer of lakeFS, one repository at a time under a
PostgreSQL advisory lock, so several metadata replicas never write one repository together —
replays the change:

- every Hub commit on a branch's first-parent chain becomes one lakeFS commit on the matching
  lakeFS branch, staged from the tree diff against its parent and carrying the Hub's 40-hex id,
  parents, author and message in its metadata (`hangar.commit`, ...);
- LFS files are linked by the physical address lfs reports (never copied); a regular file's bytes
  are written once to S3 per git blob id (`lakefs-blobs/…`) and linked from every revision;
- tags become lakeFS tags on the lakeFS commit of the tagged Hub commit; deleted Hub refs and
  repositories are deleted in lakeFS; a moved branch that is not a descendant (force push,
  super-squash, history rewrite) is hard-reset to the nearest commit lakeFS already holds.

Every step is idempotent and recorded (lakefs_refs.synced_oid after each lakeFS commit), so a crash
anywhere is repaired by the next pass: on start, on every notification and every
`HANGAR_LAKEFS_RECONCILE_INTERVAL` seconds. `drift()` reports what lakeFS lags behind.
"""
from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from dataclasses import dataclass

from hangar_common import grpcio
from hangar_protos import lfs_pb2, lfs_pb2_grpc

from .. import gitformat as gf
from .. import indexes, refs, trees
from . import names
from .client import LakefsClient, LakefsError

logger = logging.getLogger("hangar.metadata.lakefs")

LOCK_SPACE = 0x6C616B65  # advisory lock namespace ("lake")
MAX_PARALLEL = 16         # concurrent link calls while staging one commit
CHANNEL = "hangar_lakefs"


@dataclass(frozen=True)
class Drift:
    repo_id: int
    ref: str           # Hub ref, or "" for the repository itself
    hub: str | None    # what the Hub has (None: deleted)
    lakefs: str | None  # what lakeFS follows (None: nothing yet)


class Follower:
    def __init__(self, engine, client: LakefsClient, lfs_channel, s3, *, interval: float) -> None:
        self.engine = engine
        self.pool = engine.pool
        self.store = engine.store
        self.client = client
        self.lfs = lfs_pb2_grpc.LfsStub(lfs_channel) if lfs_channel is not None else None
        self.s3 = s3
        self.interval = interval
        self._dirty: set[int] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._listener = None

    # --- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        listener = await self.pool.acquire()
        await listener.add_listener(CHANNEL, self._notified)
        self._listener = listener
        self._tasks = [asyncio.create_task(self._run(), name="lakefs-follower")]
        self.kick_all()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.remove_listener(CHANNEL, self._notified)
            await self.pool.release(self._listener)
            self._listener = None

    def _notified(self, _conn, _pid, _channel, payload: str) -> None:
        if payload.isdigit():
            self._dirty.add(int(payload))
            self._wake.set()

    def kick_all(self) -> None:
        self._dirty.add(-1)  # -1: every repository with drift
        self._wake.set()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            if not dirty or -1 in dirty:
                dirty = (dirty - {-1}) | {d.repo_id for d in await self.drift()}
            for repo_id in sorted(dirty):
                try:
                    await self.sync_repo(repo_id)
                except Exception as exc:  # the next pass retries; the Hub's refs are unaffected
                    logger.warning("lakeFS sync failed", extra={"fields": {"repo_id": repo_id, "error": str(exc)}})
                    self._dirty.add(repo_id)
            if self._dirty:
                await asyncio.sleep(1.0)  # back off before retrying failed repositories
                self._wake.set()

    # --- drift ---------------------------------------------------------------------------------
    async def drift(self, repo_id: int | None = None) -> list[Drift]:
        """Hub refs and repositories lakeFS does not follow (yet), and lakeFS state the Hub dropped."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT r.repo_id, r.name AS ref, r.target AS hub, l.synced_oid AS lakefs
                     FROM refs r LEFT JOIN lakefs_refs l ON l.repo_id = r.repo_id AND l.hub_ref = r.name
                    WHERE l.synced_oid IS DISTINCT FROM r.target AND ($1::bigint IS NULL OR r.repo_id = $1)
                   UNION ALL
                   SELECT l.repo_id, l.hub_ref, NULL, l.synced_oid
                     FROM lakefs_refs l LEFT JOIN refs r ON r.repo_id = l.repo_id AND r.name = l.hub_ref
                    WHERE r.repo_id IS NULL AND ($1::bigint IS NULL OR l.repo_id = $1)
                   UNION ALL
                   SELECT k.repo_id, '', NULL, k.lakefs_repo
                     FROM lakefs_repos k LEFT JOIN repos p ON p.id = k.repo_id
                    WHERE p.id IS NULL AND ($1::bigint IS NULL OR k.repo_id = $1)""", repo_id)
        return [Drift(r["repo_id"], r["ref"], r["hub"], r["lakefs"]) for r in rows]

    # --- one repository ---------------------------------------------------------------------------
    async def sync_repo(self, repo_id: int) -> None:
        async with self.pool.acquire() as lock:
            if not await lock.fetchval("SELECT pg_try_advisory_lock($1, $2)", LOCK_SPACE, repo_id):
                self._dirty.add(repo_id)  # another replica is on it; look again later
                return
            try:
                await self._sync_repo(repo_id)
            finally:
                await lock.execute("SELECT pg_advisory_unlock($1, $2)", LOCK_SPACE, repo_id)

    async def _sync_repo(self, repo_id: int) -> None:
        async with self.pool.acquire() as conn:
            repo = await conn.fetchrow("SELECT * FROM repos WHERE id = $1", repo_id)
            mapped = await conn.fetchval("SELECT lakefs_repo FROM lakefs_repos WHERE repo_id = $1", repo_id)
        if repo is None:
            if mapped:
                await self._drop_repository(repo_id, mapped)
            return
        lake = mapped or await self._create_repository(repo)
        async with self.pool.acquire() as conn:
            hub = dict(await refs.all_refs(conn, repo_id))
            followed = {r["hub_ref"]: r for r in await conn.fetch(
                "SELECT hub_ref, lakefs_ref, synced_oid FROM lakefs_refs WHERE repo_id = $1", repo_id)}
        default = f"refs/heads/{repo['default_branch']}"
        # The default branch first: other branches start from its lakeFS commits.
        branches = sorted((n for n in hub if not n.startswith("refs/tags/")), key=lambda n: (n != default, n))
        for ref in branches:
            if followed.get(ref) is None or followed[ref]["synced_oid"] != hub[ref]:
                await self._sync_branch(repo_id, lake, ref, hub[ref], default)
        for ref in (n for n in hub if n.startswith("refs/tags/")):
            if followed.get(ref) is None or followed[ref]["synced_oid"] != hub[ref]:
                await self._sync_tag(repo_id, lake, ref, hub[ref], default)
        for ref, row in followed.items():
            if ref not in hub:
                await self._drop_ref(repo_id, lake, ref, row["lakefs_ref"])

    async def _create_repository(self, repo) -> str:
        lake = names.repository_id(repo["type"], repo["namespace"], repo["name"], repo["id"])
        branch = names.ref_id(f"refs/heads/{repo['default_branch']}")
        await self.client.create_repository(lake, names.storage_namespace(self.s3.bucket, lake), branch)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO lakefs_repos (repo_id, lakefs_repo) VALUES ($1, $2) "
                               "ON CONFLICT (repo_id) DO NOTHING", repo["id"], lake)
            await conn.execute(
                "INSERT INTO lakefs_refs (repo_id, hub_ref, lakefs_ref) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                repo["id"], f"refs/heads/{repo['default_branch']}", branch)
            return await conn.fetchval("SELECT lakefs_repo FROM lakefs_repos WHERE repo_id = $1", repo["id"])

    async def _drop_repository(self, repo_id: int, lake: str) -> None:
        await self.client.delete_repository(lake)
        async with self.pool.acquire() as conn, conn.transaction():
            for table in ("lakefs_links", "lakefs_commits", "lakefs_refs", "lakefs_repos"):
                await conn.execute(f"DELETE FROM {table} WHERE repo_id = $1", repo_id)

    async def _lakefs_ref(self, repo_id: int, hub_ref: str) -> str:
        """The lakeFS id of a Hub ref: the recorded one, or a new unique one recorded now."""
        async with self.pool.acquire() as conn:
            known = await conn.fetchval("SELECT lakefs_ref FROM lakefs_refs WHERE repo_id = $1 AND hub_ref = $2",
                                        repo_id, hub_ref)
            if known:
                return known
            candidate = names.ref_id(hub_ref)
            for salt in range(5):
                name = candidate if salt == 0 else f"{candidate}-{salt}"
                inserted = await conn.fetchval(
                    "INSERT INTO lakefs_refs (repo_id, hub_ref, lakefs_ref) VALUES ($1, $2, $3) "
                    "ON CONFLICT DO NOTHING RETURNING lakefs_ref", repo_id, hub_ref, name)
                if inserted:
                    return inserted
        raise LakefsError(409, f"no free lakeFS name for {hub_ref}")

    async def _drop_ref(self, repo_id: int, lake: str, hub_ref: str, lakefs_ref: str) -> None:
        if hub_ref.startswith("refs/tags/"):
            await self.client.delete_tag(lake, lakefs_ref)
        else:
            await self.client.delete_branch(lake, lakefs_ref)
        async with self.pool.acquire() as conn:
            await conn.execute("DELETE FROM lakefs_refs WHERE repo_id = $1 AND hub_ref = $2", repo_id, hub_ref)

    # --- branches -----------------------------------------------------------------------------
    async def _sync_branch(self, repo_id: int, lake: str, hub_ref: str, target: str, default: str) -> None:
        branch = await self._lakefs_ref(repo_id, hub_ref)
        chain, base = await self._unsynced_chain(repo_id, target)
        head = await self.client.branch_head(lake, branch)
        if head is None:
            source = base[1] if base else await self._any_head(lake, default)
            await self.client.create_branch(lake, branch, source)
            head = source
        else:
            await self.client.drop_staged(lake, branch)  # what a crash mid-staging left behind
            adopted = await self._adopt_head(repo_id, lake, head)
            if adopted and adopted in chain:  # a crash after lakeFS committed, before we recorded it
                chain = chain[chain.index(adopted) + 1:]
                base = (adopted, head)
        head_hub = (await self.client.get_commit(lake, head)).metadata.get("hangar.commit")
        if base is not None and head_hub != base[0]:
            await self.client.hard_reset(lake, branch, base[1])  # not a descendant: force push, squash
            head_hub = base[0]
        previous_tree = await self._tree(repo_id, head_hub) if head_hub else None
        for oid in chain:
            facts = await self._commit(repo_id, oid)
            await self._stage(repo_id, lake, branch, previous_tree, facts["tree"])
            lake_id = await self.client.commit(lake, branch, _message(facts), _metadata(oid, facts),
                                               int(facts["date"].timestamp()))
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute("INSERT INTO lakefs_commits (repo_id, hub_oid, lakefs_id) VALUES ($1, $2, $3) "
                                   "ON CONFLICT (repo_id, hub_oid) DO UPDATE SET lakefs_id = EXCLUDED.lakefs_id",
                                   repo_id, oid, lake_id)
                await conn.execute("UPDATE lakefs_refs SET synced_oid = $3 WHERE repo_id = $1 AND hub_ref = $2",
                                   repo_id, hub_ref, oid)
            previous_tree = facts["tree"]
        if not chain:
            async with self.pool.acquire() as conn:
                await conn.execute("UPDATE lakefs_refs SET synced_oid = $3 WHERE repo_id = $1 AND hub_ref = $2",
                                   repo_id, hub_ref, target)

    async def _any_head(self, lake: str, default: str) -> str:
        """A lakeFS commit to start a branch from when nothing of its history is in lakeFS yet."""
        heads = await self.client.list_branches(lake)
        return heads.get(names.ref_id(default)) or next(iter(heads.values()))

    async def _adopt_head(self, repo_id: int, lake: str, head: str) -> str | None:
        """Record the Hub commit a lakeFS head carries, if we had not (a crash between the two writes)."""
        hub_oid = (await self.client.get_commit(lake, head)).metadata.get("hangar.commit")
        if hub_oid:
            async with self.pool.acquire() as conn:
                await conn.execute("INSERT INTO lakefs_commits (repo_id, hub_oid, lakefs_id) VALUES ($1, $2, $3) "
                                   "ON CONFLICT DO NOTHING", repo_id, hub_oid, head)
        return hub_oid

    async def _unsynced_chain(self, repo_id: int, target: str) -> tuple[list[str], tuple[str, str] | None]:
        """The first-parent chain from `target` back to the newest commit lakeFS holds (oldest first),
        and that commit as (hub oid, lakeFS id), or None when lakeFS holds none of it."""
        chain: list[str] = []
        oid: str | None = target
        async with self.pool.acquire() as conn:
            while oid is not None:
                lake_id = await conn.fetchval(
                    "SELECT lakefs_id FROM lakefs_commits WHERE repo_id = $1 AND hub_oid = $2", repo_id, oid)
                if lake_id:
                    return chain[::-1], (oid, lake_id)
                chain.append(oid)
                row = await indexes.commit_row(conn, repo_id, oid)
                oid = row["parents"][0] if row is not None and row["parents"] else None
        return chain[::-1], None

    async def _commit(self, repo_id: int, oid: str):
        async with self.pool.acquire() as conn:
            row = await indexes.commit_row(conn, repo_id, oid)
        if row is None:
            raise LakefsError(404, f"commit {oid} is not in repository {repo_id}")
        return row

    async def _tree(self, repo_id: int, oid: str) -> str | None:
        async with self.pool.acquire() as conn:
            return await indexes.tree_of(conn, repo_id, oid)

    # --- tags ---------------------------------------------------------------------------------
    async def _sync_tag(self, repo_id: int, lake: str, hub_ref: str, target: str, default: str) -> None:
        commit = await self._peel(target)
        tag = await self._lakefs_ref(repo_id, hub_ref)
        async with self.pool.acquire() as conn:
            lake_id = await conn.fetchval("SELECT lakefs_id FROM lakefs_commits WHERE repo_id = $1 AND hub_oid = $2",
                                          repo_id, commit)
        if lake_id is None:  # a commit no branch brought to lakeFS: write it on a scratch branch
            scratch = f"hangar-tag-{names.ref_id(hub_ref)}"[:200]
            await self.client.delete_branch(lake, scratch)
            scratch_ref = f"refs/hangar-scratch/{scratch}"
            async with self.pool.acquire() as conn:
                await conn.execute("INSERT INTO lakefs_refs (repo_id, hub_ref, lakefs_ref) VALUES ($1, $2, $3) "
                                   "ON CONFLICT DO NOTHING", repo_id, scratch_ref, scratch)
            try:
                await self._sync_branch(repo_id, lake, scratch_ref, commit, default)
                async with self.pool.acquire() as conn:
                    lake_id = await conn.fetchval(
                        "SELECT lakefs_id FROM lakefs_commits WHERE repo_id = $1 AND hub_oid = $2", repo_id, commit)
            finally:
                await self._drop_ref(repo_id, lake, scratch_ref, scratch)
        await self.client.create_tag(lake, tag, lake_id)
        async with self.pool.acquire() as conn:
            await conn.execute("UPDATE lakefs_refs SET synced_oid = $3 WHERE repo_id = $1 AND hub_ref = $2",
                               repo_id, hub_ref, target)

    async def _peel(self, oid: str) -> str:
        """An annotated tag's commit (tags of tags included)."""
        for _ in range(10):
            raw = (await self.store.raw([oid])).get(oid)
            if raw is None or raw[0] != 4:
                return oid
            oid = gf.parse_tag(raw[1])[1]
        return oid

    # --- staging one commit -------------------------------------------------------------------
    async def _stage(self, repo_id: int, lake: str, branch: str, old_tree: str | None, new_tree: str) -> None:
        changes = [c for c in await trees.diff(self.store, old_tree, new_tree)]
        removed = [c.path for c in changes if c.new is None or gf.is_dir(c.new.mode)
                   if c.old is not None and not gf.is_dir(c.old.mode)]
        added = [c for c in changes if c.new is not None and not gf.is_dir(c.new.mode)
                 and not gf.is_gitlink(c.new.mode)]
        if removed:
            await self.client.delete_objects(lake, branch, removed)
        facts = await self.store.facts([c.new.oid for c in added])
        lfs = {f.lfs_oid for f in facts.values() if f.lfs_oid}
        locations = await self._locations(sorted(lfs))
        await self._write_blobs([c.new.oid for c in added if not facts[c.new.oid].lfs_oid], facts)
        gate = asyncio.Semaphore(MAX_PARALLEL)

        async def link(change: trees.Change) -> None:
            item, fact = change.new, facts[change.new.oid]
            meta = {"hangar-mode": f"{item.mode:o}", "hangar-blob": item.oid}
            if fact.lfs_oid:
                where = locations.get(fact.lfs_oid)
                if where is None:
                    raise LakefsError(404, f"LFS object {fact.lfs_oid} has no stored bytes to link")
                address, size, checksum = f"s3://{where.bucket}/{where.key}", where.size, fact.lfs_oid
                meta["hangar-lfs-oid"] = fact.lfs_oid
            else:
                address, size, checksum = f"s3://{self.s3.bucket}/{names.blob_key(item.oid)}", fact.size, item.oid
            async with gate:
                await self.client.link(lake, branch, change.path, address, checksum=checksum, size=size,
                                       metadata=meta)

        await asyncio.gather(*(link(c) for c in added))
        if lfs:
            async with self.pool.acquire() as conn:
                await conn.execute("INSERT INTO lakefs_links (repo_id, lfs_oid) SELECT $1, unnest($2::text[]) "
                                   "ON CONFLICT DO NOTHING", repo_id, sorted(lfs))

    async def _locations(self, oids: list[str]) -> dict[str, lfs_pb2.ObjectLocation]:
        if not oids:
            return {}
        if self.lfs is None:
            raise LakefsError(503, "the lfs service is not configured")
        answer = await grpcio.call(self.lfs.ObjectLocations, lfs_pb2.ObjectLocationsRequest(oids=oids))
        return {loc.oid: loc for loc in answer.locations}

    async def _write_blobs(self, oids: list[str], facts) -> None:
        """Regular files' bytes to S3 once per blob id (content-addressed: a rewrite is harmless)."""
        wanted = sorted(set(oids))
        if not wanted:
            return
        async with self.pool.acquire() as conn:
            known = {r["oid"] for r in await conn.fetch("SELECT oid FROM lakefs_blobs WHERE oid = ANY($1)", wanted)}
        missing = [o for o in wanted if o not in known]
        gate = asyncio.Semaphore(MAX_PARALLEL)

        async def put(oid: str) -> None:
            async with gate:
                data = (await self.store.raw([oid]))[oid][1]
                await self.s3.run(self.s3.client.put_object, self.s3.bucket, names.blob_key(oid),
                                  io.BytesIO(data), len(data))

        await asyncio.gather(*(put(o) for o in missing))
        if missing:
            async with self.pool.acquire() as conn:
                await conn.execute(
                    "INSERT INTO lakefs_blobs (oid, size) SELECT unnest($1::text[]), unnest($2::bigint[]) "
                    "ON CONFLICT DO NOTHING", missing, [facts[o].size for o in missing])


def _message(facts) -> str:
    return facts["message"] or facts["title"] or "(no message)"


def _metadata(oid: str, facts) -> dict[str, str]:
    return {"hangar.commit": oid, "hangar.parents": ",".join(facts["parents"]),
            "hangar.author": f"{facts['author_name']} <{facts['author_email']}>",
            "hangar.synced_at": str(int(time.time()))}
