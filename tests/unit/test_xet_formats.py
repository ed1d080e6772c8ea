"""The Xet format library against hf_xet itself (the client every huggingface_hub 2.x installs)."""
from __future__ import annotations

import hashlib
import os

import hf_xet
import pytest

from services.lfs.xet import chunking, compression, hashing, shard, xorb


def splitmix_bytes(n: int, seed: int) -> bytes:
    """Deterministic test data: SplitMix64, little-endian 64-bit words."""
    out, state, mask = bytearray(), seed, (1 << 64) - 1
    while len(out) < n:
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out += (z ^ (z >> 31)).to_bytes(8, "little")
    return bytes(out[:n])


def test_hash_string_form_is_little_endian_words():
    raw = bytes([22, 175, 58, 132, 4, 75, 131, 214, 190, 153, 138, 66, 226, 3, 153, 242, 204, 86, 80, 234,
                 249, 153, 80, 99, 159, 80, 65, 138, 236, 231, 149, 78])
    text = "d6834b04843aaf16f29903e2428a99be635099f9ea5056cc4e95e7ec8a41509f"
    assert hashing.hash_hex(raw) == text
    assert hashing.hash_from_hex(text) == raw
    for bad in ("D6834B04843AAF16F29903E2428A99BE635099F9EA5056CC4E95E7EC8A41509F", text[:-1], "g" * 64):
        with pytest.raises(hashing.BadHash):
            hashing.hash_from_hex(bad)


def test_chunk_boundaries_respect_the_size_bounds_and_agree_with_hf_xet(tmp_path):
    """Boundaries decide every chunk hash, so equal file hashes with hf_xet (below) prove them; here
    the structural rules: 8 KiB <= chunk <= 128 KiB (but the last), constant data cut at the maximum."""
    data = splitmix_bytes(1_000_000, 0)
    bounds = chunking.chunk_boundaries(data)
    sizes = [b - a for a, b in zip([0, *bounds], bounds)]
    assert bounds[-1] == len(data)
    assert all(8 * 1024 <= s <= 128 * 1024 for s in sizes[:-1])
    assert chunking.chunk_boundaries(bytes([59]) * 1_000_000) == [131072 * i for i in range(1, 8)] + [1000000]
    assert chunking.chunk_boundaries(b"") == []
    assert chunking.chunk_boundaries(b"x" * 100) == [100]
    path = tmp_path / "splitmix.bin"
    path.write_bytes(data)
    [expected] = hf_xet.hash_files([str(path)])
    got = hashing.file_hash([(hashing.chunk_hash(p), len(p)) for p in chunking.chunks(data)])
    assert hashing.hash_hex(got) == expected.hash


def test_xorb_hash_is_the_unsalted_merkle_root_of_the_file_hash():
    """A file hash is the keyed (salted) hash of the same merkle root a xorb hash is; with hf_xet
    checking file hashes, this ties xorb hashes to the reference too."""
    leaves = [(hashing.chunk_hash(bytes([i]) * (1000 + i)), 1000 + i) for i in range(40)]
    assert hashing.xorb_hash(leaves) != hashing.file_hash(leaves)
    assert hashing.xorb_hash(leaves[:1]) == leaves[0][0]
    assert hashing.xorb_hash([]) == bytes(32)


@pytest.mark.parametrize("size", [1, 11, 8191, 70_000, 300_000, 1_500_000])
def test_file_hash_matches_hf_xet(tmp_path, size):
    data = os.urandom(size) if size % 2 else splitmix_bytes(size, size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    [expected] = hf_xet.hash_files([str(path)])
    pieces = chunking.chunks(data)
    assert b"".join(pieces) == data
    got = hashing.file_hash([(hashing.chunk_hash(p), len(p)) for p in pieces])
    assert hashing.hash_hex(got) == expected.hash


def test_verification_range_hash_is_keyed_blake3_of_concatenated_hashes():
    import blake3
    hashes = [hashing.chunk_hash(bytes([i]) * 10) for i in range(3)]
    assert hashing.verification_range_hash(hashes) == blake3.blake3(b"".join(hashes),
                                                                    key=hashing.VERIFICATION_KEY).digest()
    assert hashing.verification_range_hash(hashes) != hashing.verification_range_hash(hashes[:2])


@pytest.mark.parametrize("scheme", list(compression.Scheme))
@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 4099, 65536])
def test_compression_round_trip(scheme, size):
    data = (bytes(range(256)) * 300)[:size]
    assert compression.decompress(scheme, compression.compress(scheme, data), size) == data


def test_bg4_groups_bytes_by_position_mod_4():
    assert compression.bg4_split(b"abcdefghij") == b"aeibfjcgdh"
    assert compression.bg4_regroup(b"aeibfjcgdh") == b"abcdefghij"


def test_decompression_is_bounded_and_exact():
    bomb = compression.compress(compression.Scheme.LZ4, bytes(10_000_000))
    with pytest.raises(compression.CompressionError):
        compression.decompress(compression.Scheme.LZ4, bomb, 1000)
    good = compression.compress(compression.Scheme.LZ4, b"hello" * 100)
    with pytest.raises(compression.CompressionError):
        compression.decompress(compression.Scheme.LZ4, good[:-3], 500)
    with pytest.raises(compression.CompressionError):
        compression.decompress(compression.Scheme.LZ4, good + b"junk", 500)
    with pytest.raises(compression.CompressionError):
        compression.decompress(7, good, 500)


def _chunks(n=5):
    return chunking.chunks(splitmix_bytes(n * 65536, 7))


@pytest.mark.parametrize("footer", [False, True])
@pytest.mark.parametrize("scheme", list(compression.Scheme))
def test_xorb_parse_verifies_and_describes_chunks(footer, scheme):
    pieces = _chunks()
    body, info = xorb.build_xorb(pieces, scheme, footer=footer)
    parsed = xorb.parse_xorb(body, info.hash)
    assert parsed == info
    assert parsed.chunk_sizes == [len(p) for p in pieces]
    assert b"".join(xorb.iter_chunks(body, 0, parsed.data_length)) == b"".join(pieces)
    first, last = parsed.byte_range(1, 3)
    assert b"".join(xorb.iter_chunks(body, first, last + 1)) == pieces[1] + pieces[2]


def test_xorb_rejects_wrong_name_corruption_and_malformed_input():
    pieces = _chunks(3)
    body, info = xorb.build_xorb(pieces, compression.Scheme.NONE)
    with pytest.raises(xorb.XorbError, match="hash"):
        xorb.parse_xorb(body, hashing.chunk_hash(b"other"))
    corrupt = bytearray(body)
    corrupt[100] ^= 1
    with pytest.raises(xorb.XorbError):
        xorb.parse_xorb(bytes(corrupt), info.hash)
    with pytest.raises(xorb.XorbError):
        xorb.parse_xorb(body[:-1], info.hash)
    with pytest.raises(xorb.XorbError):
        xorb.parse_xorb(b"", info.hash)
    oversized = xorb.chunk_header(0, 200_000, 200_000) + bytes(200_000)
    with pytest.raises(xorb.XorbError, match="maximum"):
        xorb.parse_xorb(oversized, info.hash)
    with pytest.raises(xorb.XorbError, match="too large"):
        xorb.parse_xorb(bytes(xorb.MAX_XORB_BYTES + 1), info.hash)
    with_footer, _ = xorb.build_xorb(pieces, compression.Scheme.NONE, footer=True)
    bad_footer = bytearray(with_footer)
    bad_footer[-30] ^= 1
    with pytest.raises(xorb.XorbError, match="footer"):
        xorb.parse_xorb(bytes(bad_footer), info.hash)


def _sample_shard() -> shard.Shard:
    pieces = _chunks(4)
    _, info = xorb.build_xorb(pieces)
    data = b"".join(pieces)
    chunks = [shard.ChunkEntry(h, sum(info.chunk_sizes[:i]), s) for i, (h, s)
              in enumerate(zip(info.chunk_hashes, info.chunk_sizes))]
    segs = [shard.Segment(info.hash, sum(info.chunk_sizes[:2]), 0, 2),
            shard.Segment(info.hash, sum(info.chunk_sizes[2:]), 2, len(pieces))]
    f = shard.FileEntry(hashing.file_hash(list(zip(info.chunk_hashes, info.chunk_sizes))), segs,
                        [hashing.verification_range_hash(info.chunk_hashes[:2]),
                         hashing.verification_range_hash(info.chunk_hashes[2:])],
                        hashlib.sha256(data).digest())
    return shard.Shard([f], [shard.XorbEntry(info.hash, chunks)])


@pytest.mark.parametrize("footer", [False, True])
def test_shard_round_trip(footer):
    original = _sample_shard()
    parsed = shard.parse_shard(shard.serialize_shard(original, footer=footer))
    assert parsed.files == original.files
    assert [x.chunks for x in parsed.xorbs] == [x.chunks for x in original.xorbs]
    assert parsed.files[0].size == original.files[0].size


def test_keyed_shard_hides_chunk_hashes_behind_the_key():
    original = _sample_shard()
    original.hmac_key = os.urandom(32)
    parsed = shard.parse_shard(shard.serialize_shard(original))
    assert parsed.hmac_key == original.hmac_key
    raw = original.xorbs[0].chunks[0].hash
    assert parsed.xorbs[0].chunks[0].hash == hashing.keyed_hash(original.hmac_key, raw) != raw


def test_shard_rejects_malformed_input():
    good = shard.serialize_shard(_sample_shard(), footer=False)
    for bad in (b"", good[:10], b"X" + good[1:], good[:-1], good + b"\0" * 7):
        with pytest.raises(shard.ShardError):
            shard.parse_shard(bad)
    # A file header claiming a billion entries is refused before anything is allocated for them.
    huge = bytearray(good)
    huge[48 + 36:48 + 40] = (10**9).to_bytes(4, "little")
    with pytest.raises(shard.ShardError, match="count"):
        shard.parse_shard(bytes(huge))
