"""git-upload-pack over smart HTTP: what `git clone` and `git fetch` talk to.

Protocol v2 (gitprotocol-v2.txt): `ls-refs` (symrefs, peel, ref-prefix) and `fetch` (want/have/done
negotiation, shallow/deepen, sideband-all, the packfile section). Protocol v0/v1 (gitprotocol-pack.txt
and gitprotocol-http.txt, "Smart Service git-upload-pack"): stateless rounds with multi_ack_detailed,
shallow/deepen, side-band-64k. The server never says "ready": every round acknowledges the common
haves and the client decides when to send "done"; the pack then holds only objects reachable from
the wants and not from the common haves.
"""
from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from hangar_common import errors, grpcio
from hangar_protos import metadata_pb2

from . import pktline
from .packstream import framed_pack
from .refs import GitRefs

logger = logging.getLogger("hangar.git.upload")

AGENT = "agent=hangar/0.1"
V0_CAPABILITIES = ["multi_ack_detailed", "side-band-64k", "ofs-delta", "shallow", "no-progress",
                   "object-format=sha1", AGENT]
V2_ADVERTISEMENT = ["version 2", AGENT, "ls-refs", "fetch=shallow sideband-all", "server-option",
                    "object-format=sha1"]
_OID = re.compile(rb"^[0-9a-f]{40}$")


@dataclass
class FetchArgs:
    wants: list[str] = field(default_factory=list)
    haves: list[str] = field(default_factory=list)
    shallows: list[str] = field(default_factory=list)
    depth: int = 0
    done: bool = False
    no_progress: bool = False
    sideband_all: bool = False
    sideband: bool = True            # v0: side-band-64k asked for; v2 always multiplexes the pack


def _oid(value: bytes) -> str:
    if not _OID.match(value):
        raise errors.BadRequest(f"invalid object id {value[:64]!r}")
    return value.decode()


def _parse_arg(args: FetchArgs, line: bytes) -> None:
    """One request line shared by v0 and v2 fetch (want/have/shallow/deepen/done...)."""
    word, _, rest = line.partition(b" ")
    if word == b"want":
        args.wants.append(_oid(rest.split(b" ")[0]))
    elif word == b"have":
        args.haves.append(_oid(rest))
    elif word == b"shallow":
        args.shallows.append(_oid(rest))
    elif word == b"deepen":
        try:
            args.depth = int(rest)
        except ValueError:
            raise errors.BadRequest("invalid deepen") from None
        if args.depth < 0:
            raise errors.BadRequest("invalid deepen")
    elif word == b"done":
        args.done = True
    elif word == b"no-progress":
        args.no_progress = True
    elif word == b"sideband-all":
        args.sideband_all = True
    elif word in (b"deepen-relative", b"deepen-since", b"deepen-not", b"filter", b"want-ref"):
        raise errors.BadRequest(f"{word.decode()} is not supported; use --depth")
    elif word in (b"thin-pack", b"ofs-delta", b"include-tag", b"wait-for-done"):
        pass                          # we send whole objects, never thin; tags are wanted explicitly
    else:
        raise errors.BadRequest(f"unsupported fetch argument {word.decode(errors='replace')!r}")


class UploadPack:
    def __init__(self, clients, repo) -> None:
        self.clients = clients
        self.repo = repo              # canonical RepoRef

    # --- ref advertisement ----------------------------------------------------------------------
    async def advertise(self) -> bytes:
        refs = await GitRefs.load(self.clients, self.repo)
        caps = list(V0_CAPABILITIES)
        if refs.head_oid:
            caps.insert(0, f"symref=HEAD:{refs.head}")
        return refs.v0_advertisement(caps)

    @staticmethod
    def advertise_v2() -> bytes:
        return b"".join(pktline.pkt(line + "\n") for line in V2_ADVERTISEMENT) + pktline.FLUSH

    # --- protocol v2 ----------------------------------------------------------------------------
    async def serve_v2(self, reader: pktline.PktReader) -> AsyncIterator[bytes]:
        caps, end = await reader.read_section()
        command = next((c.split(b"=", 1)[1] for c in caps if c.startswith(b"command=")), None)
        args: list[bytes] = []
        if end is pktline.DELIM_PKT:
            args, end = await reader.read_section()
        if command is None:
            return _empty()
        if command == b"ls-refs":
            return self._ls_refs(args)
        if command == b"fetch":
            fetch = FetchArgs()
            for line in args:
                _parse_arg(fetch, line)
            if not fetch.wants:
                raise errors.BadRequest("fetch without want lines")
            return self._fetch_v2(fetch)
        raise errors.BadRequest(f"unknown command {command.decode(errors='replace')!r}")

    async def _ls_refs(self, args: list[bytes]) -> AsyncIterator[bytes]:
        refs = await GitRefs.load(self.clients, self.repo)
        prefixes = [a[len(b"ref-prefix "):].decode() for a in args if a.startswith(b"ref-prefix ")]
        yield refs.ls_refs(symrefs=b"symrefs" in args, peel=b"peel" in args, prefixes=prefixes)

    async def _fetch_v2(self, args: FetchArgs) -> AsyncIterator[bytes]:
        def line(text: str) -> bytes:
            data = (text + "\n").encode()
            return pktline.pkt(b"\x01" + data if args.sideband_all else data)
        try:
            if not args.done:
                first = await self._negotiate(args)
                acks = [line(f"ACK {oid}") for oid in first.common] or [line("NAK")]
                yield line("acknowledgments") + b"".join(acks) + pktline.FLUSH
                return
            stream = self._fetch_stream(args)
            first = await anext(stream)
        except errors.HangarError as exc:
            yield pktline.pkt(f"ERR {exc.message}\n")
            return
        head = b""
        if args.depth or args.shallows:
            head += line("shallow-info") + self._shallow_lines(first, line) + pktline.DELIM
        head += line("packfile")
        if not args.no_progress:
            head += pktline.progress(f"Hangar: sending {first.object_count} objects")
        yield head
        async for chunk in self._pack(first, stream, sideband=True):
            yield chunk
        yield pktline.FLUSH

    # --- protocol v0/v1 ------------------------------------------------------------------------
    async def serve_v0(self, reader: pktline.PktReader) -> AsyncIterator[bytes]:
        args = FetchArgs(sideband=False)
        first_section, end = await reader.read_section()
        if not first_section:
            return _empty()           # git's probe request ("0000") before a large POST
        for i, raw in enumerate(first_section):
            parts = raw.split(b" ")     # the first want line carries the client's capabilities
            if i == 0 and parts[0] == b"want":
                caps = set(parts[2:])
                args.sideband = b"side-band-64k" in caps or b"side-band" in caps
                args.no_progress = b"no-progress" in caps
                raw = b" ".join(parts[:2])
            _parse_arg(args, raw)
        shallow_only = True
        if end is pktline.FLUSH_PKT:
            haves, end = await reader.read_section()
            shallow_only = not haves and end is None
            for raw in haves:
                _parse_arg(args, raw)
        if not args.wants:
            raise errors.BadRequest("upload-pack request without want lines")
        return self._fetch_v0(args, shallow_only=shallow_only)

    async def _fetch_v0(self, args: FetchArgs, shallow_only: bool) -> AsyncIterator[bytes]:
        """One stateless round. A request that ends right after the want section (a shallow
        fetch's first round) gets only the shallow list: git's upload-pack stops at that EOF."""
        try:
            if not args.done:
                first = await self._negotiate(args)
            else:
                stream = self._fetch_stream(args)
                first = await anext(stream)
        except errors.HangarError as exc:
            yield pktline.pkt(f"ERR {exc.message}\n")
            return
        out = b""
        if args.depth or args.shallows:
            out += self._shallow_lines(first, lambda t: pktline.pkt(t + "\n")) + pktline.FLUSH
        if shallow_only and not args.done:
            yield out
            return
        if not args.done:
            out += b"".join(pktline.pkt(f"ACK {oid} common\n") for oid in first.common)
            yield out + pktline.pkt("NAK\n")
            return
        out += pktline.pkt(f"ACK {first.common[-1]}\n" if first.common else "NAK\n")
        if args.sideband and not args.no_progress:
            out += pktline.progress(f"Hangar: sending {first.object_count} objects")
        yield out
        async for chunk in self._pack(first, stream, sideband=args.sideband):
            yield chunk
        if args.sideband:
            yield pktline.FLUSH

    # --- shared ---------------------------------------------------------------------------------
    @staticmethod
    def _shallow_lines(first: metadata_pb2.GitObjectBatch, line) -> bytes:
        return b"".join([line(f"shallow {oid}") for oid in first.shallow]
                        + [line(f"unshallow {oid}") for oid in first.unshallow])

    def _request(self, args: FetchArgs, negotiate_only: bool) -> metadata_pb2.GitFetchRequest:
        return metadata_pb2.GitFetchRequest(
            repo=self.repo, wants=args.wants, haves=args.haves, depth=args.depth,
            client_shallows=args.shallows, negotiate_only=negotiate_only)

    async def _negotiate(self, args: FetchArgs) -> metadata_pb2.GitObjectBatch:
        stream = self._fetch_stream(args, negotiate_only=True)
        first = await anext(stream)
        await stream.aclose()
        return first

    async def _fetch_stream(self, args: FetchArgs, negotiate_only: bool = False):
        async for batch in grpcio.stream(self.clients.metadata.GitFetchObjects(self._request(args, negotiate_only))):
            yield batch

    async def _pack(self, first, stream, sideband: bool) -> AsyncIterator[bytes]:
        """The pack; a failure after the first byte can only be reported on side-band 3."""
        try:
            async for chunk in framed_pack(first, stream, use_sideband=sideband):
                yield chunk
        except errors.HangarError as exc:
            logger.warning("pack stream failed", extra={"fields": {"error": exc.message}})
            if not sideband:
                raise                 # abort the connection: git sees a truncated pack
            yield pktline.sideband(pktline.FATAL, f"error: {exc.message}\n".encode())


async def _empty() -> AsyncIterator[bytes]:
    return
    yield b""
