"""Imports: an upstream repository copied into a local namespace as an ordinary Hangar repository
whose commits, trees and blobs carry the upstream's ids, every LFS object fetched and verified
(issue 18, docs/mirror.md "Imports").

A run (the first import, a sync, or the retry of a failed import) goes through these states, each
recorded in the `imports` row so a restarted service carries on where the last one stopped:

1. `fetching`: the upstream's git smart HTTP through dulwich (gitfetch.py); the selected refs are
   pinned and the pack is kept in S3 (`mirror-imports/`) until the run ends, so a resumed run does
   not fetch it again.
2. `downloading`: every LFS pointer of the pack names an object fetched from the upstream and
   verified by its sha256 (objects.py, lfs AdoptObject), recorded in `import_objects`; a resumed
   run skips what is recorded. Objects the mirror fetched before (a cache read, another import)
   and lfs still holds are not fetched again; bytes that only some local repository holds never
   count, since a pointer proves nothing about who may read them.
3. `storing`: metadata's UpstreamSync creates the repository with its refs in one transaction
   (all or nothing: a failed import leaves no repository), refusing a tree that breaks the path
   rules with the paths named.

A sync moves only refs nobody moved locally since the last run; a branch with local commits the
upstream lacks, or one the upstream rewrote, is reported in `diverged` and left alone.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from hangar_common import errors, lfs_pointer
from hangar_common.grpcio import call
from hangar_protos import common_pb2, lfs_pb2, metadata_pb2, mirror_pb2

from . import gitfetch
from .access import UpstreamAccess
from .objects import ObjectFetcher
from .sync import fetch_pack, list_refs, send_objects
from .upstream import Moved, Upstream

logger = logging.getLogger("hangar.mirror.imports")
ACTIVE = ("queued", "fetching", "downloading", "storing")
PACKS = "mirror-imports/"
PARALLEL = 4
MAX_REDIRECTS = 3
ZERO = gitfetch.ZERO


def _busy() -> errors.HangarError:
    return errors.Conflict("An import of this repository is under way", code="ImportBusy")


class Importer:
    def __init__(self, settings, upstream: Upstream, db, store, metadata, lfs, objects: ObjectFetcher,
                 access: UpstreamAccess) -> None:
        self.settings, self.upstream, self.db, self.store = settings, upstream, db, store
        self.metadata, self.lfs, self.objects, self.access = metadata, lfs, objects, access
        self.tasks: dict[str, asyncio.Task] = {}
        self._scheduler: asyncio.Task | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    async def open(self) -> None:
        """Resume the runs a stopped service left, and start the scheduled syncs (if configured)."""
        async with self.db.connect() as conn:
            rows = await conn.execute(text("SELECT id FROM imports WHERE state = ANY(:active) ORDER BY created_at"),
                                      {"active": list(ACTIVE)})
            for (import_id,) in rows:
                self._spawn(import_id)
        if self.settings.import_sync_every > 0:
            self._scheduler = asyncio.create_task(self._schedule())

    async def close(self) -> None:
        tasks = [t for t in [*self.tasks.values(), self._scheduler] if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, import_id: str) -> None:
        if import_id not in self.tasks:
            self.tasks[import_id] = asyncio.create_task(self._run(import_id))

    async def _schedule(self) -> None:
        every = self.settings.import_sync_every
        while True:
            await asyncio.sleep(min(every, 30))
            try:
                async with self.db.begin() as conn:
                    rows = await conn.execute(text(
                        "UPDATE imports SET kind = 'sync', state = 'queued', updated_at = now() "
                        "WHERE state = 'done' AND synced_at < now() - make_interval(secs => :every) RETURNING id"),
                        {"every": every})
                    due = [r[0] for r in rows]
                for import_id in due:
                    self._spawn(import_id)
            except Exception:
                logger.exception("scheduled import sync failed")

    # --- the RPCs -------------------------------------------------------------------------------

    async def start(self, request: mirror_pb2.StartImportRequest) -> mirror_pb2.ImportStatus:
        if not self.settings.enabled:
            raise errors.BadRequest("No upstream Hub is configured (HANGAR_UPSTREAM_URL)", code="UpstreamDisabled")
        source_type = request.source_type or "model"
        namespace, _, name = request.source_id.partition("/")
        if source_type not in ("model", "dataset", "space") or not namespace or not name:
            raise errors.BadRequest("source must be 'namespace/name' of a model, dataset or space", code="InvalidField")
        if not self.settings.allows(source_type, request.source_id):
            raise errors.RepoNotFound("Repository not found")
        revisions = list(request.revisions)
        if any(not r or len(r) > 255 for r in revisions):
            raise errors.BadRequest("revisions must be branch or tag names", code="InvalidField")
        user_id = request.principal.user_id
        answer = await self._upstream_repo(source_type, namespace, name, user_id)
        source_id = f"{answer.namespace}/{answer.name}"
        if (answer.private or answer.gated) and not await self.access.allowed(user_id, source_type, source_id):
            # The same rule as reads (access.py): only what the upstream serves this user.
            if answer.private:
                raise errors.RepoNotFound("Repository not found")
            raise errors.Forbidden("Access to this repository is restricted on the upstream Hub", code="GatedRepo")
        # Never wider than the upstream: a private or gated upstream repo imports as private unless
        # the owner asked otherwise, and a gated one keeps its gate either way.
        private = request.private if request.HasField("private") else (answer.private or bool(answer.gated))
        if revisions:   # refuse unknown names now rather than in the background
            url = gitfetch.git_url(self.settings.upstream_url, source_type, source_id)
            token = await self.access.token_for(user_id, source_type, source_id)
            _selector(revisions, strict=True)(await list_refs(self.upstream, self.settings, url, token))
        target = request.target
        await self._check_target_free(target)
        import_id = uuid.uuid4().hex
        try:
            async with self.db.begin() as conn:
                await conn.execute(text(
                    """INSERT INTO imports (id, source_type, source_id, target_type, target_namespace, target_name,
                           revisions, private, gated, created_by, created_by_id, kind, state)
                       VALUES (:id, :stype, :sid, :ttype, :tns, :tname, CAST(:revisions AS jsonb), :private, :gated,
                               :by, :by_id, 'import', 'queued')"""),
                    {"id": import_id, "stype": source_type, "sid": source_id, "ttype": target.type or "model",
                     "tns": target.namespace, "tname": target.name,
                     "revisions": json.dumps(revisions) if revisions else None, "private": private,
                     "gated": answer.gated, "by": request.principal.username, "by_id": user_id})
        except IntegrityError:
            raise _busy() from None
        self._spawn(import_id)
        return await self.get(import_id)

    async def get(self, import_id: str) -> mirror_pb2.ImportStatus:
        return _status(await self._row(import_id))

    async def sync(self, import_id: str) -> mirror_pb2.ImportStatus:
        """A sync of a finished import, or the retry of a failed one (what it stored is kept)."""
        await self._row(import_id)
        try:
            async with self.db.begin() as conn:
                row = (await conn.execute(text(
                    """UPDATE imports SET kind = CASE WHEN repo_id = '' THEN 'import' ELSE 'sync' END,
                           state = 'queued', error = '', error_code = '', report = NULL, updated_at = now(),
                           finished_at = NULL, git_bytes = 0, objects_total = 0, objects_done = 0,
                           bytes_total = 0, bytes_done = 0
                       WHERE id = :id AND state IN ('done', 'failed') RETURNING id"""), {"id": import_id})).first()
        except IntegrityError:
            raise _busy() from None
        if row is None:
            raise _busy()
        self._spawn(import_id)
        return await self.get(import_id)

    # --- one run --------------------------------------------------------------------------------

    async def _run(self, import_id: str) -> None:
        try:
            row = await self._row(import_id)
            if row["kind"] == "import":
                await self._import(row)
            else:
                await self._sync(row)
        except asyncio.CancelledError:
            raise   # the service stops: the row keeps its state and the next start resumes it
        except errors.HangarError as exc:
            await self._fail(import_id, exc.code, exc.message)
        except Exception:
            logger.exception("import failed", extra={"fields": {"import": import_id}})
            await self._fail(import_id, "InternalError", "internal error")
        finally:
            self.tasks.pop(import_id, None)

    async def _import(self, row: dict) -> None:
        target = _target(row)
        fetched = await self._pack(row, have=[], strict=True)
        try:
            await self._lfs(row, fetched)
            await self._update(row["id"], state="storing")
            pinned = row["pinned"]
            commands = [metadata_pb2.RefCommand(ref=ref, old_oid=ZERO, new_oid=sha)
                        for ref, sha in sorted(pinned.items())]
            header = metadata_pb2.GitReceiveHeader(repo=target, commands=commands, upstream=metadata_pb2.UpstreamRepo(
                create=True, cache=False, force=False, private=row["private"], gated=row["gated"],
                default_branch=row["head"].removeprefix("refs/heads/")))
            try:
                result = await send_objects(self.metadata, header, fetched)
            except errors.Conflict:
                result = None   # the repository exists: this run stored it before a restart, or someone else
            info = await self._stored(target, pinned, result)
            updated = [{"ref": ref, "local": "", "upstream": sha, "reason": ""} for ref, sha in sorted(pinned.items())]
            await self._finish(row, info.facts.repo_id, synced=pinned, report={"updated": updated, "diverged": []})
        finally:
            await self._drop_pack(row, fetched)

    async def _stored(self, target, pinned: dict, result) -> metadata_pb2.RepoInfo:
        if result is not None and not result.ok:
            raise errors.BadRequest("The upstream repository cannot be imported: " + _reasons(result),
                                    code="ImportRefused")
        info = await call(self.metadata.GetRepo, metadata_pb2.RepoRequest(repo=target))
        if result is None:
            refs = await call(self.metadata.GitListRefs, metadata_pb2.RepoRequest(repo=target))
            if info.upstream_cache or {r.name: r.target for r in refs.refs} != pinned:
                raise errors.Conflict("A repository of this name exists", code="RepoExists")
        return info

    async def _sync(self, row: dict) -> None:
        target = _target(row)
        try:
            info = await call(self.metadata.GetRepo, metadata_pb2.RepoRequest(repo=target))
        except errors.NotFound:
            info = None
        if info is None or info.facts.repo_id != row["repo_id"]:
            raise errors.RepoNotFound("The imported repository no longer exists")
        refs = await call(self.metadata.GitListRefs, metadata_pb2.RepoRequest(repo=target))
        local = {r.name: r.target for r in refs.refs}
        fetched = await self._pack(row, have=sorted(set(local.values())), strict=False)
        try:
            await self._lfs(row, fetched)
            await self._update(row["id"], state="storing")
            commands, report = _plan(local, row["synced"] or {}, row["pinned"])
            while commands:
                header = metadata_pb2.GitReceiveHeader(repo=target, commands=commands,
                                                       upstream=metadata_pb2.UpstreamRepo(cache=False, force=False))
                result = await send_objects(self.metadata, header, fetched)
                if result.ok:
                    break
                refused = {r.ref: r.error for r in result.results if r.error and r.error != "atomic sync failed"}
                if result.error or not refused:
                    raise errors.BadRequest("The upstream's new commits cannot be imported: " + _reasons(result),
                                            code="ImportRefused")
                for cmd in commands:
                    if cmd.ref in refused:
                        report["updated"] = [u for u in report["updated"] if u["ref"] != cmd.ref]
                        report["diverged"].append({"ref": cmd.ref, "local": _oid(cmd.old_oid),
                                                   "upstream": _oid(cmd.new_oid), "reason": _why(refused[cmd.ref])})
                commands = [c for c in commands if c.ref not in refused]
            synced = dict(row["synced"] or {})
            for ref, sha in row["pinned"].items():
                if local.get(ref) == sha or any(u["ref"] == ref for u in report["updated"]):
                    synced[ref] = sha
            for gone in [u["ref"] for u in report["updated"] if not u["upstream"]]:
                synced.pop(gone, None)
            await self._finish(row, row["repo_id"], synced=synced, report=report)
        finally:
            await self._drop_pack(row, fetched)

    # --- the steps ------------------------------------------------------------------------------

    async def _pack(self, row: dict, *, have: list[str], strict: bool) -> gitfetch.Fetched:
        """The run's pack and pinned refs: the one a stopped run kept, or a fresh fetch."""
        spool = os.path.join(self.settings.spool_dir, f"import-{row['id']}.pack")
        if row["pinned"] is not None and row["state"] in ("downloading", "storing"):
            if row["pack_key"] and not os.path.exists(spool):
                await self.store.run(self.store.client.fget_object, self.store.bucket, row["pack_key"], spool)
            return gitfetch.Fetched(refs=row["pinned"], head=row["head"], pack_path=spool if row["pack_key"] else None)
        await self._update(row["id"], state="fetching")
        url = gitfetch.git_url(self.settings.upstream_url, row["source_type"], row["source_id"])
        selector = _selector(row["revisions"], strict=strict)
        fetched = await fetch_pack(self.upstream, self.settings, url, await self._token(row), have, selector)
        key, size = "", 0
        try:
            if fetched.pack_path:
                os.replace(fetched.pack_path, spool)
                fetched.pack_path = spool
                size = os.path.getsize(spool)
                key = f"{PACKS}{row['id']}/{uuid.uuid4().hex}.pack"
                await self.store.run(self.store.client.fput_object, self.store.bucket, key, spool)
        except BaseException:
            await asyncio.to_thread(fetched.close)
            raise
        head = fetched.head if fetched.head in fetched.refs else _default_head(fetched.refs)
        row.update(pinned=fetched.refs, head=head, pack_key=key)
        await self._update(row["id"], state="downloading", pinned=json.dumps(fetched.refs), head=head, pack_key=key,
                           git_bytes=size)
        fetched.head = head
        return fetched

    async def _lfs(self, row: dict, fetched: gitfetch.Fetched) -> None:
        """Every LFS object the pack's pointers name, fetched from the upstream and verified."""
        pointers = await asyncio.to_thread(_pointers, fetched)
        import_id = row["id"]
        async with self.db.begin() as conn:
            if pointers:
                await conn.execute(text(
                    "INSERT INTO import_objects (import_id, oid, size) SELECT :id, o, s "
                    "FROM unnest(CAST(:oids AS text[]), CAST(:sizes AS bigint[])) AS t(o, s) ON CONFLICT DO NOTHING"),
                    {"id": import_id, "oids": list(pointers), "sizes": list(pointers.values())})
            done = {r[0] for r in await conn.execute(text(
                "SELECT oid FROM import_objects WHERE import_id = :id AND done AND oid = ANY(:oids)"),
                {"id": import_id, "oids": list(pointers)})}
        await self._update(import_id, objects_total=len(pointers), bytes_total=sum(pointers.values()),
                           objects_done=len(done), bytes_done=sum(pointers[o] for o in done))
        todo = [o for o in pointers if o not in done]
        for oid in await self._fetched_before(todo, pointers):
            await self._object_done(import_id, oid, pointers[oid])
            todo.remove(oid)
        source_ns, _, source_name = row["source_id"].partition("/")
        facts = common_pb2.RepoFacts(repo=common_pb2.RepoRef(type=row["source_type"], namespace=source_ns,
                                                             name=source_name), repo_id=f"import:{import_id}")
        token = await self._token(row)
        gate = asyncio.Semaphore(PARALLEL)

        async def one(oid: str) -> None:
            async with gate:
                fetch = self.objects.attach(facts, oid, pointers[oid], token, record=False)
                assert fetch.task is not None
                await asyncio.wait([fetch.task])
                if fetch.error is not None:
                    raise errors.HangarError(f"LFS object {oid}: {fetch.error.message}", code=fetch.error.code,
                                             status=fetch.error.status)
                await self._object_done(import_id, oid, pointers[oid])

        results = await asyncio.gather(*(one(oid) for oid in todo), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _fetched_before(self, oids: list[str], sizes: dict[str, int]) -> list[str]:
        """Oids whose bytes the mirror itself fetched from the upstream and verified before (for a
        cache or another import) and lfs still holds."""
        if not oids:
            return []
        async with self.db.connect() as conn:
            seen = {r[0] for r in await conn.execute(text(
                "SELECT oid FROM cached_objects WHERE oid = ANY(:oids) UNION "
                "SELECT oid FROM import_objects WHERE done AND oid = ANY(:oids)"), {"oids": oids})}
        held = []
        for oid in oids:
            if oid in seen:
                try:
                    await call(self.lfs.DownloadUrl, lfs_pb2.DownloadUrlRequest(oid=oid, size=sizes[oid],
                                                                               expires_seconds=60))
                except errors.NotFound:
                    continue
                held.append(oid)
        return held

    async def _object_done(self, import_id: str, oid: str, size: int) -> None:
        async with self.db.begin() as conn:
            await conn.execute(text(
                "UPDATE import_objects SET done = true WHERE import_id = :id AND oid = :oid AND NOT done"),
                {"id": import_id, "oid": oid})
            await conn.execute(text(
                "UPDATE imports SET objects_done = objects_done + 1, bytes_done = bytes_done + :size, "
                "updated_at = now() WHERE id = :id"), {"id": import_id, "size": size})

    async def _drop_pack(self, row: dict, fetched: gitfetch.Fetched) -> None:
        await asyncio.to_thread(fetched.close)

    async def _finish(self, row: dict, repo_id: str, *, synced: dict, report: dict) -> None:
        await self._update(row["id"], state="done", repo_id=repo_id, synced=json.dumps(synced),
                           report=json.dumps(report), pinned=None, pack_key="", head="",
                           finished_at=datetime.now(UTC), synced_at=datetime.now(UTC))
        await self._remove_packs(row["id"])

    async def _fail(self, import_id: str, code: str, message: str) -> None:
        """The run ends; the LFS objects it stored stay recorded (a retry does not fetch them again),
        its pack and pinned refs go (a retry asks the upstream afresh)."""
        try:
            await self._update(import_id, state="failed", error_code=code, error=message[:4000], pinned=None,
                               pack_key="", head="", finished_at=datetime.now(UTC))
            await self._remove_packs(import_id)
            _unlink(os.path.join(self.settings.spool_dir, f"import-{import_id}.pack"))
        except Exception:
            logger.exception("recording a failed import failed", extra={"fields": {"import": import_id}})

    async def _remove_packs(self, import_id: str) -> None:
        def remove() -> None:
            client = self.store.client
            for obj in client.list_objects(self.store.bucket, prefix=f"{PACKS}{import_id}/", recursive=True):
                client.remove_object(self.store.bucket, obj.object_name)
        await self.store.run(remove)

    # --- helpers --------------------------------------------------------------------------------

    async def _upstream_repo(self, source_type: str, namespace: str, name: str, user_id: str):
        for _ in range(MAX_REDIRECTS):
            answer = await self.upstream.repo_info(source_type, namespace, name, await self.access.token_for(
                user_id, source_type, f"{namespace}/{name}"))
            if not isinstance(answer, Moved):
                return answer
            namespace, name = answer.namespace, answer.name   # a renamed upstream repo: import it by its name
        raise errors.HangarError("The upstream Hub redirects too often", code="UpstreamUnavailable", status=502)

    async def _check_target_free(self, target: common_pb2.RepoRef) -> None:
        try:
            info = await call(self.metadata.GetRepo, metadata_pb2.RepoRequest(repo=target))
        except errors.NotFound:
            return
        if not info.upstream_cache and not info.redirected_from.name:   # a cache of that name gives way
            raise errors.Conflict("A repository of this name exists", code="RepoExists")

    async def _token(self, row: dict) -> str:
        """The admin token for an allowlisted repo, else the token the importing user linked."""
        return await self.access.token_for(row.get("created_by_id") or "", row["source_type"], row["source_id"])

    async def _row(self, import_id: str) -> dict:
        async with self.db.connect() as conn:
            found = await conn.execute(text("SELECT * FROM imports WHERE id = :id"), {"id": import_id})
            row = found.mappings().first()
        if row is None:
            raise errors.NotFound("Import not found", code="ImportNotFound")
        return dict(row)

    async def _update(self, import_id: str, **fields: Any) -> None:
        casts = {"pinned": "CAST(:pinned AS jsonb)", "synced": "CAST(:synced AS jsonb)",
                 "report": "CAST(:report AS jsonb)"}
        sets = ", ".join(f"{k} = {casts.get(k, ':' + k)}" for k in fields)
        async with self.db.begin() as conn:
            await conn.execute(text(f"UPDATE imports SET {sets}, updated_at = now() WHERE id = :id"),
                               {**fields, "id": import_id})


def _target(row: dict) -> common_pb2.RepoRef:
    return common_pb2.RepoRef(type=row["target_type"], namespace=row["target_namespace"], name=row["target_name"])


def _selector(revisions: list[str] | None, *, strict: bool):
    """The refs of a run: every branch and tag, or the listed ones (a name is a branch, else a tag,
    or a full ref name). An import refuses a listed name the upstream lacks; a sync skips it."""
    def select(offered: dict[str, str]) -> dict[str, str]:
        if not revisions:
            chosen = dict(offered)
        else:
            chosen, missing = {}, []
            for rev in revisions:
                ref = next((r for r in (f"refs/heads/{rev}", f"refs/tags/{rev}", rev) if r in offered), None)
                if ref is None:
                    missing.append(rev)
                else:
                    chosen[ref] = offered[ref]
            if missing and strict:
                raise errors.RevisionNotFound("Not on the upstream: " + ", ".join(missing))
        if strict and not any(r.startswith("refs/heads/") for r in chosen):
            raise errors.BadRequest("An import needs at least one branch", code="InvalidField")
        return chosen
    return select


def _default_head(refs: dict[str, str]) -> str:
    heads = sorted(r for r in refs if r.startswith("refs/heads/"))
    return "refs/heads/main" if "refs/heads/main" in heads else (heads[0] if heads else "refs/heads/main")


def _pointers(fetched: gitfetch.Fetched) -> dict[str, int]:
    """oid -> size of every LFS pointer blob in the pack (blocking)."""
    found: dict[str, int] = {}
    for _oid, kind, data in fetched.objects():
        if kind == 3 and len(data) < lfs_pointer.MAX_POINTER_SIZE:
            pointer = lfs_pointer.parse(data)
            if pointer is not None:
                found[pointer.oid] = pointer.size
    return found


def _plan(local: dict[str, str], synced: dict[str, str], upstream: dict[str, str]):
    """Ref commands of a sync and its report: a ref moves only when nobody moved it locally since
    the last run; refs that moved on both sides are diverged."""
    commands: list[metadata_pb2.RefCommand] = []
    updated: list[dict] = []
    diverged: list[dict] = []

    def move(ref: str, old: str, new: str) -> None:
        commands.append(metadata_pb2.RefCommand(ref=ref, old_oid=old or ZERO, new_oid=new or ZERO))
        updated.append({"ref": ref, "local": old, "upstream": new, "reason": ""})

    for ref, up in sorted(upstream.items()):
        cur, last = local.get(ref, ""), synced.get(ref, "")
        if cur == up:
            continue
        if not cur and not last:
            move(ref, "", up)                   # new upstream branch or tag
        elif not cur:
            diverged.append({"ref": ref, "local": "", "upstream": up, "reason": "deleted locally; not recreated"})
        elif cur == last:
            move(ref, cur, up)
        elif up == last:
            continue                            # local commits on top of an unchanged upstream
        else:
            reason = "a local ref of this name exists" if not last else "local commits the upstream does not have"
            diverged.append({"ref": ref, "local": cur, "upstream": up, "reason": reason})
    for ref, last in sorted(synced.items()):
        if ref in upstream:
            continue
        cur = local.get(ref, "")
        if cur and cur == last:
            move(ref, cur, "")                  # deleted upstream
        elif cur:
            diverged.append({"ref": ref, "local": cur, "upstream": "",
                             "reason": "deleted upstream; local commits kept"})
    return commands, {"updated": updated, "diverged": diverged}


def _why(error: str) -> str:
    return "the upstream rewrote its history (non-fast-forward)" if "non-fast-forward" in error else error


def _oid(value: str) -> str:
    return "" if value == ZERO else value


def _reasons(result) -> str:
    return "; ".join(sorted({r.error for r in result.results if r.error} | ({result.error} - {""}))) or "refused"


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _status(row: dict) -> mirror_pb2.ImportStatus:
    report = row["report"] or {}
    return mirror_pb2.ImportStatus(
        id=row["id"], source_type=row["source_type"], source_id=row["source_id"], target=_target(row),
        revisions=row["revisions"] or [], kind=row["kind"], state=row["state"], error_code=row["error_code"],
        error=row["error"], objects_total=row["objects_total"], objects_done=row["objects_done"],
        bytes_total=row["bytes_total"], bytes_done=row["bytes_done"], git_bytes=row["git_bytes"],
        updated=[mirror_pb2.RefReport(**r) for r in report.get("updated", [])],
        diverged=[mirror_pb2.RefReport(**r) for r in report.get("diverged", [])],
        private=row["private"], gated=row["gated"], created_by=row["created_by"], created_at=_iso(row["created_at"]),
        updated_at=_iso(row["updated_at"]), finished_at=_iso(row["finished_at"]), synced_at=_iso(row["synced_at"]))


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
