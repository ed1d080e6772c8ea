"""What a file page shows besides text: a safetensors header summary, the first rows of CSV, JSON
Lines and Parquet files. Each reads bounded byte ranges through `FileBytes` (reads.py):

- safetensors: the first 8 bytes (little-endian header length) and the JSON header after them
  (huggingface/safetensors format); never the tensor data.
- CSV/TSV/JSONL: the first PREFIX bytes, cut at the last complete line.
- Parquet: the footer (last 8 bytes: metadata length + `PAR1`, then the metadata), parsed by pyarrow
  through a file object whose reads are range requests; rows come from the first row group only, and
  only when it is small enough.
"""
from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import struct
from dataclasses import dataclass, field

from .reads import FileBytes

MAX_SAFETENSORS_HEADER = 16 * 1024 * 1024
MAX_TENSORS_SHOWN = 300
PREFIX = 64 * 1024
ROWS = 20
MAX_ROW_GROUP_BYTES = 32 * 1024 * 1024
MAX_CELL = 200


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    note: str = ""
    schema: list[tuple[str, str]] = field(default_factory=list)
    total_rows: int | None = None


@dataclass
class SafetensorsSummary:
    tensors: list[tuple[str, str, list[int], int]]  # name, dtype, shape, parameters
    total_tensors: int
    parameters: int
    dtypes: dict[str, int]
    metadata: dict[str, str]


def kind_of(path: str) -> str:
    name = path.lower()
    for suffix, kind in ((".safetensors", "safetensors"), (".parquet", "parquet"), (".csv", "csv"),
                         (".tsv", "tsv"), (".jsonl", "jsonl"), (".ndjson", "jsonl")):
        if name.endswith(suffix):
            return kind
    return ""


async def safetensors_summary(data: FileBytes) -> SafetensorsSummary | str:
    """The header summary, or a sentence saying why there is none."""
    first = await data.read(0, 8)
    if len(first) < 8:
        return "Too short to be a safetensors file."
    (length,) = struct.unpack("<Q", first)
    if length > MAX_SAFETENSORS_HEADER or 8 + length > data.size:
        return "The safetensors header is too large or longer than the file."
    try:
        header = json.loads(await data.read(8, length))
    except (ValueError, UnicodeDecodeError):
        return "The safetensors header is not valid JSON."
    if not isinstance(header, dict):
        return "The safetensors header is not a JSON object."
    meta = header.pop("__metadata__", None)
    tensors: list[tuple[str, str, list[int], int]] = []
    dtypes: dict[str, int] = {}
    total = 0
    for name, spec in header.items():
        if not isinstance(spec, dict):
            continue
        shape = [int(d) for d in spec.get("shape", []) if isinstance(d, int)]
        count = math.prod(shape) if shape else 1
        dtype = str(spec.get("dtype", "?"))
        total += count
        dtypes[dtype] = dtypes.get(dtype, 0) + count
        tensors.append((name, dtype, shape, count))
    tensors.sort(key=lambda t: t[0])
    metadata = {str(k): str(v)[:MAX_CELL] for k, v in meta.items()} if isinstance(meta, dict) else {}
    return SafetensorsSummary(tensors[:MAX_TENSORS_SHOWN], len(tensors), total, dtypes, metadata)


def _cell(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_CELL else text[:MAX_CELL] + "…"


def _complete_lines(raw: bytes, truncated: bool) -> str:
    text = raw.decode("utf-8", errors="replace")
    if truncated and "\n" in text:
        text = text[:text.rindex("\n")]
    return text


async def delimited_rows(data: FileBytes, delimiter: str) -> Table:
    raw, truncated = await data.head(PREFIX)
    rows = list(csv.reader(io.StringIO(_complete_lines(raw, truncated)), delimiter=delimiter))
    if not rows:
        return Table([], [], "Empty file.")
    header, body = rows[0], rows[1:ROWS + 1]
    return Table([_cell(h) for h in header], [[_cell(c) for c in r] for r in body],
                 f"First {len(body)} rows." if truncated or len(rows) > ROWS + 1 else "")


async def jsonl_rows(data: FileBytes) -> Table:
    raw, truncated = await data.head(PREFIX)
    records = []
    for line in _complete_lines(raw, truncated).splitlines():
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            return Table([], [], "Not valid JSON Lines: showing the text instead.")
        if len(records) >= ROWS:
            break
    columns: list[str] = []
    for record in records:
        for key in record if isinstance(record, dict) else ["value"]:
            if key not in columns:
                columns.append(key)
    rows = [[_cell(r.get(c, "")) if isinstance(r, dict) else _cell(r) for c in columns] for r in records]
    return Table([str(c) for c in columns], rows, f"First {len(rows)} rows.")


class _RangeFile(io.RawIOBase):
    """A read-only file for pyarrow whose reads are range requests on the event loop. Used from a
    worker thread (asyncio.to_thread), so the loop never blocks."""

    def __init__(self, data: FileBytes, loop: asyncio.AbstractEventLoop, budget: int) -> None:
        self.data, self.loop, self.pos, self.budget = data, loop, 0, budget

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.data.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.data.size - self.pos
        size = min(size, max(0, self.data.size - self.pos))
        if size > self.budget:
            raise OSError("preview read budget exceeded")
        self.budget -= size
        chunk = asyncio.run_coroutine_threadsafe(self.data.read(self.pos, size), self.loop).result(120)
        self.pos += len(chunk)
        return chunk

    def readinto(self, buffer) -> int:
        chunk = self.read(len(buffer))
        buffer[:len(chunk)] = chunk
        return len(chunk)


def _parquet_table(raw: _RangeFile) -> Table:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(raw, pre_buffer=False)
    meta = parquet.metadata
    schema = [(f.name, str(f.type)) for f in parquet.schema_arrow]
    if meta.num_row_groups == 0:
        return Table([n for n, _ in schema], [], "No rows.", schema, 0)
    group = meta.row_group(0)
    compressed = sum(group.column(i).total_compressed_size for i in range(group.num_columns))
    if compressed > MAX_ROW_GROUP_BYTES:
        return Table([n for n, _ in schema], [], "The first row group is too large to preview.",
                     schema, meta.num_rows)
    batch = next(parquet.iter_batches(batch_size=ROWS, row_groups=[0]), None)
    rows = [] if batch is None else [[_cell(v) for v in row.values()] for row in batch.to_pylist()]
    return Table([n for n, _ in schema], rows, f"First {len(rows)} of {meta.num_rows:,} rows.", schema,
                 meta.num_rows)


async def parquet_rows(data: FileBytes) -> Table:
    raw = _RangeFile(data, asyncio.get_running_loop(), MAX_ROW_GROUP_BYTES + 16 * 1024 * 1024)
    try:
        return await asyncio.to_thread(_parquet_table, raw)
    except Exception as exc:  # a malformed file is shown as "no preview", never a 500
        return Table([], [], f"No preview: {type(exc).__name__}.")
