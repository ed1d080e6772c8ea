"""The pack writer and reader against the real git: git accepts what we write, we read what git writes."""
from __future__ import annotations

import io
import random

import pytest

from services.git.packreader import PackError, PackReader
from services.git.packwriter import OBJ_BLOB, PackWriteError, PackWriter
from tests.git.gitutil import all_objects, commit_files, git, init_repo, out

TYPES = {"commit": 1, "tree": 2, "blob": 3, "tag": 4}


@pytest.fixture()
def source(tmp_path):
    """A repository with history, similar files (so git makes deltas) and an annotated tag."""
    repo = init_repo(tmp_path / "src")
    rng = random.Random(7)
    base = bytes(rng.getrandbits(8) for _ in range(20000))
    for i in range(5):
        commit_files(repo, {f"dir/file{j}.bin": base + b"v%d-%d" % (i, j) for j in range(4)}
                     | {"README.md": b"hello %d\n" % i}, f"commit {i}")
    git("tag", "-a", "v1", "-m", "release", cwd=repo)
    git("gc", "-q", "--aggressive", cwd=repo)
    return repo


def write_pack(objects, level=1, piece=None) -> bytes:
    w = PackWriter(level)
    out_ = bytearray(w.start(len(objects)))
    for kind, data in objects:
        if piece:
            out_ += w.begin(TYPES[kind], len(data))
            for i in range(0, len(data), piece):
                out_ += w.write(data[i:i + piece])
        else:
            out_ += w.add(TYPES[kind], data)
    out_ += w.finish()
    return bytes(out_)


def test_git_index_pack_accepts_our_pack(source, tmp_path):
    objects = all_objects(source)
    pack = write_pack(list(objects.values()), piece=1000)
    dest = init_repo(tmp_path / "dest")
    git("index-pack", "--stdin", "--strict", cwd=dest, input=pack)
    assert set(all_objects(dest)) == set(objects)
    tip = out("rev-parse", "HEAD", cwd=source)
    git("update-ref", "refs/heads/main", tip, cwd=dest)
    git("fsck", "--full", "--strict", cwd=dest)
    assert out("log", "--format=%H", cwd=dest) == out("log", "--format=%H", cwd=source)


def test_large_object_written_in_pieces(tmp_path):
    data = random.Random(1).randbytes(3 * 1024 * 1024 + 5)
    pack = write_pack([("blob", data)], piece=1 << 20)
    dest = init_repo(tmp_path / "dest")
    oid = git("index-pack", "--stdin", cwd=dest, input=pack)
    (blob_oid,) = all_objects(dest)
    assert all_objects(dest)[blob_oid][1] == data
    assert oid.returncode == 0


def test_writer_refuses_wrong_sizes_and_counts():
    w = PackWriter()
    w.start(1)
    w.begin(OBJ_BLOB, 3)
    with pytest.raises(PackWriteError):
        w.write(b"toolong")
    w = PackWriter()
    w.start(2)
    w.add(OBJ_BLOB, b"x")
    with pytest.raises(PackWriteError):
        w.finish()


@pytest.mark.parametrize("ofs", [True, False], ids=["ofs-delta", "ref-delta"])
def test_reader_parses_git_pack_objects(source, ofs):
    objects = all_objects(source)
    args = ["pack-objects", "--all", "--stdout", "--no-reuse-delta", "--window=10", "--depth=5"]
    if ofs:
        args.append("--delta-base-offset")
    pack = git(*args, cwd=source, input=b"").stdout
    reader = PackReader(io.BytesIO(pack), cache_bytes=1 << 16)
    entries = reader.scan()
    kinds = {e.kind for e in entries}
    assert (6 if ofs else 7) in kinds, "git made no deltas; the test would prove nothing"
    got: dict[str, tuple[int, bytearray]] = {}
    for oid, kind, size, piece, _more in reader.objects(piece_size=4096):
        got.setdefault(oid, (kind, bytearray()))[1].extend(piece)
        assert size == len(objects[oid][1])
    assert set(got) == set(objects)
    for oid, (kind, data) in got.items():
        assert (kind, bytes(data)) == (TYPES[objects[oid][0]], objects[oid][1])


def test_reader_refuses_thin_pack(source):
    first = out("rev-list", "--max-parents=0", "HEAD", cwd=source)
    pack = git("pack-objects", "--revs", "--thin", "--stdout", "--no-reuse-delta", cwd=source,
               input=f"HEAD\n^{first}\n".encode()).stdout
    reader = PackReader(io.BytesIO(pack))
    with pytest.raises(PackError, match="thin"):
        reader.scan()


def test_reader_refuses_corrupt_pack(source):
    pack = bytearray(git("pack-objects", "--all", "--stdout", cwd=source, input=b"").stdout)
    pack[40] ^= 0xFF
    with pytest.raises(PackError, match="checksum"):
        PackReader(io.BytesIO(bytes(pack))).scan()
    with pytest.raises(PackError):
        PackReader(io.BytesIO(b"PACK\0\0\0\2\0\0\0\1" + b"\0" * 20)).scan()


def test_reader_streams_large_whole_objects(tmp_path):
    data = random.Random(2).randbytes(2 * 1024 * 1024 + 17)
    pack = write_pack([("blob", data), ("blob", b"small")])
    reader = PackReader(io.BytesIO(pack))
    reader.scan()
    pieces = list(reader.objects(piece_size=1 << 19))
    big = [p for p in pieces if p[2] == len(data)]
    assert len(big) == 5 and all(len(p[3]) <= 1 << 19 for p in big)
    assert [p[4] for p in big] == [True] * 4 + [False]
    assert b"".join(p[3] for p in big) == data


async def _framed(batches, sideband):
    from services.git.packstream import framed_pack

    async def rest():
        for batch in batches[1:]:
            yield batch
    return b"".join([chunk async for chunk in framed_pack(batches[0], rest(), use_sideband=sideband)])


def _pieces(oid, data, piece, announce_size=True):
    from hangar_protos import metadata_pb2 as pb
    out = []
    for start in range(0, len(data), piece):
        obj = pb.GitObject(oid=oid, type=OBJ_BLOB, data=data[start:start + piece],
                           more=start + piece < len(data))
        if start == 0 and announce_size:
            obj.size = len(data)
        out.append(pb.GitObjectBatch(objects=[obj]))
    return out


async def test_streamed_pack_from_object_batches_is_valid(tmp_path):
    """Metadata's stream -> pack: incompressible data stored, compressible deflated, an object whose
    size was not announced buffered; git accepts the result and the sideband framing is well formed."""
    from hangar_protos import metadata_pb2 as pb
    noise = random.Random(3).randbytes(3 * 1024 * 1024)
    text = b"compressible line of text\n" * 100000
    batches = [pb.GitObjectBatch(object_count=4)]
    batches += _pieces("1" * 40, noise, 1 << 20)
    batches += _pieces("2" * 40, text, 1 << 20, announce_size=False)
    batches.append(pb.GitObjectBatch(objects=[pb.GitObject(oid="3" * 40, type=OBJ_BLOB, data=b"small"),
                                              pb.GitObject(oid="4" * 40, type=OBJ_BLOB, data=b"")]))
    raw = await _framed(batches, sideband=False)
    assert len(raw) < len(noise) + len(text) // 4          # text deflated, noise stored
    dest = init_repo(tmp_path / "dest")
    git("index-pack", "--stdin", "--strict", cwd=dest, input=raw)
    got = {data for _kind, data in all_objects(dest).values()}
    assert got == {noise, text, b"small", b""}
    framed = await _framed(batches, sideband=True)
    unframed, pos = bytearray(), 0
    while pos < len(framed):
        size = int(framed[pos:pos + 4], 16)
        assert framed[pos + 4] == 1 and size <= 65520
        unframed += framed[pos + 5:pos + size]
        pos += size
    assert bytes(unframed) == raw
