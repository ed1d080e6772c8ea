"""git-receive-pack over smart HTTP: what `git push` talks to (protocol v0/v1 only, as git pushes).

gitprotocol-pack.txt, "Pushing Data To a Server": the client sends `<old> <new> <ref>` commands
(capabilities after a NUL on the first), a flush, then a pack unless every command is a delete. The
pack is spooled to a temporary file, checked and delta-resolved (packreader), then the commands and
objects stream to metadata's GitReceive, the only writer of refs, which applies them all or none
after its checks (among them the one LFS rule: pointers in the pushed trees must name objects the
pusher may use, metadata/lfscheck.py). The
answer is report-status (`unpack ok`, then `ok <ref>` / `ng <ref> <reason>` per command), on
side-band-64k when the client asked for it, so git shows each ref's fate.
"""
from __future__ import annotations

import asyncio
import logging
import re
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import auth_pb2, metadata_pb2

from . import pktline
from .packreader import PackError, PackReader
from .refs import ZERO_OID, GitRefs
from .upload_pack import AGENT

logger = logging.getLogger("hangar.git.receive")

CAPABILITIES = ["report-status", "delete-refs", "side-band-64k", "atomic", "ofs-delta", "no-thin",
                "quiet", "object-format=sha1", AGENT]
BATCH_BYTES = 2 * 1024 * 1024
PIECE_BYTES = 1024 * 1024
SPOOL_FLUSH = 1024 * 1024
PROGRESS_EVERY = 5.0                 # seconds between progress lines while metadata stores a push
_OID = re.compile(r"^[0-9a-f]{40}$")
_BAD_REF = re.compile(r"(\.\.|@\{|//|[\x00-\x20\x7f~^:?*\[\\])")


@dataclass(frozen=True)
class Command:
    old: str
    new: str
    ref: str

    @property
    def is_delete(self) -> bool:
        return self.new == ZERO_OID


_PR_REF = re.compile(r"^refs/pr/([1-9][0-9]{0,8})$")


def ref_problem(ref: str) -> str | None:
    """Why `ref` may not be pushed to (git-check-ref-format rules; branches, tags, and the pull
    request refs `refs/pr/N` that exist: metadata refuses creating or deleting those)."""
    if _PR_REF.match(ref):
        return None
    if not (ref.startswith("refs/heads/") or ref.startswith("refs/tags/")):
        return "only branches (refs/heads/), tags (refs/tags/) and pull requests (refs/pr/N) can be pushed"
    if (_BAD_REF.search(ref) or ref.endswith(("/", ".", ".lock"))
            or any(part.startswith(".") or not part for part in ref.split("/"))):
        return "invalid ref name"
    return None


def parse_command(line: bytes) -> Command:
    try:
        old, new, ref = line.decode().split(" ", 2)
    except ValueError:
        raise errors.BadRequest("malformed push command") from None
    if not _OID.match(old) or not _OID.match(new):
        raise errors.BadRequest("malformed object id in push command")
    return Command(old=old, new=new, ref=ref)


class Report:
    """report-status, optionally multiplexed with progress messages (side-band-64k)."""

    def __init__(self, caps: set[bytes]) -> None:
        self.sideband = b"side-band-64k" in caps or b"side-band" in caps
        self.wanted = b"report-status" in caps
        self.quiet = b"quiet" in caps
        self.messages: list[str] = []

    def say(self, message: str) -> None:
        self.messages.append(message)

    def render(self, unpack_error: str | None, results: list[tuple[str, str | None]]) -> bytes:
        status = b""
        if self.wanted:
            status = pktline.pkt(f"unpack {unpack_error or 'ok'}\n")
            status += b"".join(pktline.pkt(f"ok {ref}\n" if err is None else f"ng {ref} {_one_line(err)}\n")
                               for ref, err in results)
            status += pktline.FLUSH
        if not self.sideband:
            return status
        out = b"".join(pktline.progress(m) for m in self.messages)
        return out + (pktline.sideband(pktline.PACK_DATA, status) if status else b"") + pktline.FLUSH


def _one_line(text: str) -> str:
    return " ".join(text.split())[:400]


class ReceivePack:
    def __init__(self, clients, granted) -> None:
        self.clients = clients
        self.granted = granted

    async def advertise(self) -> bytes:
        refs = await GitRefs.load(self.clients, self.granted.ref)
        return GitRefs(refs=refs.refs, head="").v0_advertisement(CAPABILITIES)

    async def serve(self, reader: pktline.PktReader) -> AsyncIterator[bytes]:
        """Reads the whole request (commands, then the pack into a spool file), then answers with a
        stream: progress every few seconds while metadata stores the push, then the report."""
        commands, caps = await self._read_commands(reader)
        if not commands:
            return _once(b"")         # git's probe request ("0000") before a large POST
        report = Report(caps)
        problems = [(c.ref, ref_problem(c.ref)) for c in commands]
        if self.granted.pr_only and not any(p for _, p in problems):
            problems = [(c.ref, await self._pr_problem(c)) for c in commands]
        if any(p for _, p in problems):
            await _drain(reader)
            return _once(report.render(None, [(ref, p or "atomic push failed") for ref, p in problems]))
        if all(c.is_delete for c in commands):
            return self._applying(commands, None, report, None, Timings())
        timings = Timings()
        spool = await asyncio.to_thread(tempfile.TemporaryFile, prefix="hangar-push-")
        try:
            refusal, pack = await self._unpack(reader, spool, commands, report, timings)
        except BaseException:
            spool.close()
            raise
        if refusal is not None:
            spool.close()
            return _once(refusal)
        return self._applying(commands, pack, report, spool, timings)

    async def _unpack(self, reader: pktline.PktReader, spool, commands: list[Command], report: Report,
                      timings: Timings) -> tuple[bytes | None, PackReader | None]:
        """Spools and checks the pack: (the refusal to answer, None) or (None, the pack)."""
        await _spool(reader.rest(), spool)
        timings.mark("spool")
        pack = PackReader(spool)
        try:
            await asyncio.to_thread(pack.scan)
        except PackError as exc:
            return report.render(str(exc), [(c.ref, "unpacker error") for c in commands]), None
        timings.mark("scan")
        return None, pack

    async def _applying(self, commands, pack: PackReader | None, report: Report, spool,
                        timings: Timings) -> AsyncIterator[bytes]:
        progress = Progress(len(pack.entries) if pack else 0)
        task = asyncio.create_task(self._apply(commands, pack, report, progress))
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=PROGRESS_EVERY)
                if not task.done() and report.sideband and not report.quiet:
                    yield pktline.progress(f"Hangar: storing objects {progress.done}/{progress.total}")
            yield task.result()
        finally:
            if not task.done():
                task.cancel()         # the client went away: metadata applies nothing of this push
            if spool is not None:
                spool.close()
            timings.mark("apply")
            logger.info("push received", extra={"fields": {
                "objects": progress.total, "refs": len(commands), **timings.ms}})

    async def _pr_problem(self, command: Command) -> str | None:
        """For a pusher without write access: only refs/pr/N of pull requests they may push to
        (their own; auth decides with the PR's owner from metadata)."""
        match = _PR_REF.match(command.ref)
        if not match:
            return "you may push only to your own pull requests (refs/pr/N); this needs write access"
        try:
            pull = await call(self.clients.metadata.GetPullRef, metadata_pb2.PullRefRequest(
                repo=self.granted.ref, number=int(match.group(1))))
        except errors.NotFound:
            return "no such pull request"
        decision = await call(self.clients.auth.Authorize, auth_pb2.AuthorizeRequest(
            principal=self.granted.principal, repo=self.granted.repo.facts, action="push-pr",
            owner_user_id=pull.owner_user_id))
        return None if decision.allowed else (decision.message or "not your pull request")

    async def _read_commands(self, reader: pktline.PktReader) -> tuple[list[Command], set[bytes]]:
        lines, _ = await reader.read_section()
        commands: list[Command] = []
        caps: set[bytes] = set()
        for line in lines:
            if line.startswith(b"shallow "):
                continue              # a shallow pusher's boundaries; connectivity is metadata's check
            if not commands and b"\0" in line:
                line, _, raw_caps = line.partition(b"\0")
                caps = set(raw_caps.split())
            commands.append(parse_command(line))
        if len({c.ref for c in commands}) != len(commands):
            raise errors.BadRequest("a ref appears twice in one push")
        return commands, caps

    async def _apply(self, commands: list[Command], pack: PackReader | None, report: Report,
                     progress: Progress) -> bytes:
        header = metadata_pb2.GitReceiveHeader(
            repo=self.granted.ref, pusher=self.granted.principal,
            commands=[metadata_pb2.RefCommand(ref=c.ref, old_oid=c.old, new_oid=c.new) for c in commands])
        try:
            result = await call(self.clients.metadata.GitReceive, _chunks(header, pack, progress),
                                timeout=3600)
        except errors.HangarError as exc:
            # Metadata applies a push whole or not at all: nothing of it landed.
            logger.warning("push refused by metadata", extra={"fields": {"error": exc.message}})
            return report.render(None, [(c.ref, exc.message) for c in commands])
        by_ref = {r.ref: r for r in result.results}
        results = []
        for c in commands:
            r = by_ref.get(c.ref)
            if r is not None and not r.ok:
                results.append((c.ref, r.error or "rejected"))
            elif not result.ok or r is None:
                results.append((c.ref, result.error or "atomic push failed"))
            else:
                results.append((c.ref, None))
        return report.render(None, results)


class Progress:
    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0


async def _once(data: bytes) -> AsyncIterator[bytes]:
    if data:
        yield data


async def _chunks(header, pack: PackReader | None,
                  progress: Progress) -> AsyncIterator[metadata_pb2.GitReceiveChunk]:
    yield metadata_pb2.GitReceiveChunk(header=header)
    if pack is None:
        return
    pieces = pack.objects(piece_size=PIECE_BYTES)
    count = len(pack.entries)
    first, state = True, {"continuing": False}
    while True:
        objects = await asyncio.to_thread(_take, pieces, state)
        if not objects and not first:
            return
        progress.done += sum(1 for o in objects if not o.more)
        batch = metadata_pb2.GitObjectBatch(objects=objects)
        if first:
            batch.object_count = count
            first = False
        yield metadata_pb2.GitReceiveChunk(objects=batch)
        if not objects:
            return


def _take(pieces: Iterator, state: dict) -> list[metadata_pb2.GitObject]:
    """The next batch of object pieces, up to BATCH_BYTES (runs in a worker thread)."""
    batch, size = [], 0
    for oid, obj_type, obj_size, data, more in pieces:
        obj = metadata_pb2.GitObject(oid=oid, type=obj_type, data=data, more=more)
        if not state["continuing"]:
            obj.size = obj_size
        state["continuing"] = more
        batch.append(obj)
        size += len(data) + 64
        if size >= BATCH_BYTES:
            break
    return batch


class Timings:
    """Milliseconds spent in each phase of a push, for the log."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self._last = time.perf_counter()

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        self.ms[f"{phase}_ms"] = round((now - self._last) * 1000, 1)
        self._last = now


async def _spool(chunks: AsyncIterator[bytes], spool) -> int:
    """Writes the pack to the spool file (in worker threads); returns its size."""
    buf = bytearray()
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        buf += chunk
        if len(buf) >= SPOOL_FLUSH:
            data, buf = bytes(buf), bytearray()
            await asyncio.to_thread(spool.write, data)
    if buf:
        await asyncio.to_thread(spool.write, bytes(buf))
    await asyncio.to_thread(spool.flush)
    return total


async def _drain(reader: pktline.PktReader) -> None:
    async for _ in reader.rest():
        pass
