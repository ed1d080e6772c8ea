"""hangar_common.lfs_pointer: the one decision of what is an LFS pointer. It accepts at least what
git-lfs accepts (lfs/pointer.go), so no pointer a client would follow passes as a regular file."""
from __future__ import annotations

import pytest

from hangar_common import lfs_pointer

OID = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
CANONICAL = f"version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\nsize 12345\n".encode()
EXT = "ext-0-foo sha256:" + "1" * 64


def test_canonical_form_round_trips():
    assert lfs_pointer.encode(OID, 12345) == CANONICAL
    assert lfs_pointer.parse(CANONICAL) == lfs_pointer.Pointer(OID, 12345)


@pytest.mark.parametrize("text", [
    CANONICAL.replace(b"\n", b"\r\n"),                                   # CRLF
    CANONICAL.rstrip(b"\n"),                                             # no final newline
    b"\n\n  \t" + CANONICAL + b"\n\n   \r\n",                            # white space around it
    "\u00a0".encode() + CANONICAL + "\u2028".encode(),                   # Unicode white space (Go's TrimSpace)
    CANONICAL.replace(b"\noid", b"\n\n\noid"),                           # empty lines inside
    CANONICAL.replace(b"spec/v1", b"spec/v1", 1).replace(b"git-lfs.github.com/spec/v1",
                                                          b"hawser.github.com/spec/v1"),   # pre-release alias
    CANONICAL.replace(b"https://git-lfs.github.com/spec/v1", b"http://git-media.io/v/2"),  # alpha alias
    CANONICAL.replace(b"\noid", f"\n{EXT}\noid".encode()),               # an extension
    CANONICAL.replace(b"\noid", f"\n{EXT}\next-1-bar sha256:{'2' * 64}\noid".encode()),
    CANONICAL.replace(b"\noid", f"\n{EXT}\n{EXT}\noid".encode()),        # a repeated key replaces its value
    CANONICAL.replace(OID.encode(), OID.upper().encode()),               # older git-lfs took any case
    CANONICAL.replace(b"size 12345", b"size +12345"),                    # strconv.ParseInt syntax
    CANONICAL.replace(b"size 12345", b"size 0012345"),
])
def test_what_git_lfs_accepts_is_a_pointer(text):
    assert lfs_pointer.parse(text) == lfs_pointer.Pointer(OID, 12345)


@pytest.mark.parametrize("text", [
    b"", b"just text\n",
    CANONICAL.replace(b"size 12345", b"size x"),
    CANONICAL.replace(b"size 12345", b"size -1"),
    CANONICAL.replace(b"size 12345", b"size 9223372036854775808"),      # beyond int64
    CANONICAL.replace(b"sha256:", b"md5:"),
    CANONICAL.replace(OID.encode(), OID[:-1].encode()),
    CANONICAL.replace(b"v1\n", b"v2\n"),
    CANONICAL.replace(b"version ", b"version  "),                        # exact version comparison
    CANONICAL + b"extra line\n",                                         # nothing after size
    CANONICAL + f"{EXT}\n".encode(),
    b"oid sha256:" + OID.encode() + b"\nversion https://git-lfs.github.com/spec/v1\nsize 12345\n",  # order
    CANONICAL.replace(b"\noid", b"\nfoo bar\noid"),                      # unknown key
    CANONICAL.replace(b"\noid", f"\n{EXT}\next-0-bar sha256:{'2' * 64}\noid".encode()),  # same priority
    CANONICAL.replace(b"\noid", b"\next-0-foo not-an-oid\noid"),
    CANONICAL + b" " * 1100,                                             # a pointer blob is < 1024 bytes
    CANONICAL.replace(b"size", b"\xffsize"),
])
def test_what_git_lfs_refuses_is_not_a_pointer(text):
    assert lfs_pointer.parse(text) is None


def test_pointers_git_lfs_writes_parse_to_their_object(tmp_path):
    """`git lfs pointer --file` (git-lfs itself) writes the canonical form; parse reads it back and
    encode writes the same bytes."""
    import hashlib
    import subprocess

    data = b"some large content\n" * 1000
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    done = subprocess.run(["git", "lfs", "pointer", f"--file={source}"], capture_output=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    oid = hashlib.sha256(data).hexdigest()
    assert lfs_pointer.parse(done.stdout) == lfs_pointer.Pointer(oid, len(data))
    assert lfs_pointer.encode(oid, len(data)) == done.stdout
