"""pkt-line framing (git Documentation/gitprotocol-common.txt, "pkt-line Format") and side-band
multiplexing (gitprotocol-pack.txt, "side-band, side-band-64k").

A pkt-line is a 4-hex-digit length (including the 4 bytes themselves) followed by the payload;
"0000" is a flush-pkt, "0001" a delim-pkt (protocol v2) and "0002" a response-end-pkt.
"""
from __future__ import annotations

from collections.abc import AsyncIterator

FLUSH = b"0000"
DELIM = b"0001"
RESPONSE_END = b"0002"
MAX_PKT = 65520                      # LARGE_PACKET_MAX: the largest pkt-line git accepts
MAX_SIDEBAND_DATA = MAX_PKT - 5      # 4 length bytes + 1 band byte

PACK_DATA, PROGRESS, FATAL = 1, 2, 3  # side-band channels


class ProtocolError(ValueError):
    """The client sent something the protocol does not allow."""


class Special:
    """A flush, delim or response-end packet as read from the wire."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


FLUSH_PKT, DELIM_PKT, END_PKT = Special("flush"), Special("delim"), Special("response-end")
_SPECIAL = {0: FLUSH_PKT, 1: DELIM_PKT, 2: END_PKT}


def pkt(data: bytes | str) -> bytes:
    """One pkt-line carrying `data` (text lines should end in LF; the caller decides)."""
    if isinstance(data, str):
        data = data.encode()
    if len(data) + 4 > MAX_PKT:
        raise ValueError("pkt-line payload too long")
    return b"%04x" % (len(data) + 4) + data


def sideband(band: int, data: bytes) -> bytes:
    """`data` on side-band channel `band`, split into as many pkt-lines as side-band-64k allows."""
    out = bytearray()
    for start in range(0, len(data), MAX_SIDEBAND_DATA):
        chunk = data[start:start + MAX_SIDEBAND_DATA]
        out += b"%04x" % (len(chunk) + 5) + bytes([band]) + chunk
    return bytes(out)


def progress(message: str) -> bytes:
    """A message git prints as `remote: <message>`."""
    return sideband(PROGRESS, message.encode() + (b"" if message.endswith("\n") else b"\n"))


class PktReader:
    """Reads pkt-lines from an async stream of byte chunks (an HTTP request body)."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = bytearray()
        self._eof = False

    async def _fill(self, n: int) -> bool:
        while len(self._buf) < n and not self._eof:
            try:
                self._buf += await anext(self._chunks)
            except StopAsyncIteration:
                self._eof = True
        return len(self._buf) >= n

    async def read(self) -> bytes | Special | None:
        """The next payload, a Special packet, or None at the end of the stream."""
        if not await self._fill(4):
            if self._buf:
                raise ProtocolError("truncated pkt-line length")
            return None
        try:
            size = int(self._buf[:4], 16)
        except ValueError:
            raise ProtocolError("invalid pkt-line length") from None
        if size < 4:
            del self._buf[:4]
            if size not in _SPECIAL:
                raise ProtocolError("invalid pkt-line length")
            return _SPECIAL[size]
        if not await self._fill(size):
            raise ProtocolError("truncated pkt-line")
        data = bytes(self._buf[4:size])
        del self._buf[:size]
        return data

    async def read_section(self) -> tuple[list[bytes], Special | None]:
        """Payload lines (trailing LF removed) up to the next flush/delim; returns (lines, end)."""
        lines: list[bytes] = []
        while True:
            item = await self.read()
            if item is None or isinstance(item, Special):
                return lines, item
            lines.append(item[:-1] if item.endswith(b"\n") else item)

    async def rest(self) -> AsyncIterator[bytes]:
        """The raw bytes after the last pkt-line read (a pack that follows the commands)."""
        if self._buf:
            data = bytes(self._buf)
            self._buf.clear()
            yield data
        if self._eof:
            return
        async for chunk in self._chunks:
            yield chunk
