"""Small protocol pieces: pkt-lines, side-band, ref names, repository paths."""
from __future__ import annotations

import pytest

from hangar_common import errors
from services.git import pktline, repo_path
from services.git.receive_pack import ref_problem


async def _chunks(data: bytes, step: int):
    for i in range(0, len(data), step):
        yield data[i:i + step]


@pytest.mark.parametrize("step", [1, 3, 1000])
async def test_pkt_reader_sections_and_rest(step):
    wire = (pktline.pkt("command=fetch\n") + pktline.DELIM + pktline.pkt("want x\n") + pktline.pkt(b"raw")
            + pktline.FLUSH + b"PACKDATA")
    reader = pktline.PktReader(_chunks(wire, step))
    assert await reader.read_section() == ([b"command=fetch"], pktline.DELIM_PKT)
    assert await reader.read_section() == ([b"want x", b"raw"], pktline.FLUSH_PKT)
    assert b"".join([c async for c in reader.rest()]) == b"PACKDATA"


@pytest.mark.parametrize("wire", [b"zzzz", b"0003", b"00ffshort", b"00"])
async def test_pkt_reader_rejects_malformed(wire):
    reader = pktline.PktReader(_chunks(wire, 2))
    with pytest.raises(pktline.ProtocolError):
        await reader.read()


def test_sideband_splits_into_legal_packets():
    data = bytes(range(256)) * 600
    framed = pktline.sideband(pktline.PACK_DATA, data)
    pos, out = 0, b""
    while pos < len(framed):
        size = int(framed[pos:pos + 4], 16)
        assert size <= pktline.MAX_PKT and framed[pos + 4] == 1
        out += framed[pos + 5:pos + size]
        pos += size
    assert out == data
    with pytest.raises(ValueError):
        pktline.pkt(b"x" * pktline.MAX_PKT)


@pytest.mark.parametrize("ref,ok", [
    ("refs/heads/main", True), ("refs/tags/v1.0", True), ("refs/heads/feature/x", True),
    ("refs/notes/x", False), ("HEAD", False), ("refs/heads/a..b", False), ("refs/heads/x.lock", False),
    ("refs/heads/.hidden", False), ("refs/heads/sp ace", False), ("refs/heads/a@{b", False),
    ("refs/heads/", False), ("refs/heads//x", False),
])
def test_ref_names(ref, ok):
    assert (ref_problem(ref) is None) == ok


@pytest.mark.parametrize("path,kind,ns,name,endpoint", [
    ("/alice/model.git/info/refs", "model", "alice", "model", "info/refs"),
    ("/alice/model/git-upload-pack", "model", "alice", "model", "git-upload-pack"),
    ("/datasets/org/data.set.git/git-receive-pack", "dataset", "org", "data.set", "git-receive-pack"),
    ("/spaces/bob/app/info/refs", "space", "bob", "app", "info/refs"),
])
def test_repo_paths(path, kind, ns, name, endpoint):
    parsed = repo_path.parse(path)
    assert (parsed.repo.type, parsed.repo.namespace, parsed.repo.name, parsed.endpoint) == (kind, ns, name, endpoint)


@pytest.mark.parametrize("path", ["/alice/info/refs", "/a/b/c/info/refs", "/alice/x.git/objects/info/packs"])
def test_bad_repo_paths(path):
    with pytest.raises(errors.NotFound):
        repo_path.parse(path)


async def test_reader_parses_what_git_upload_pack_advertises(tmp_path):
    """The pkt-lines git itself writes: its ref advertisement read back line by line."""
    from .gitcli import Git

    git = Git(tmp_path / "repo")
    git.write_files({"a": b"a"})
    git("add", "a")
    git("commit", "-q", "-m", "a")
    git("tag", "v1")
    head = git.text("rev-parse", "HEAD")
    wire = git("upload-pack", "--stateless-rpc", "--advertise-refs", ".")
    lines, end = await pktline.PktReader(_chunks(wire, 5)).read_section()
    assert end is pktline.FLUSH_PKT
    assert lines[0].startswith(f"{head} HEAD\x00".encode())
    assert lines[1:] == [f"{head} refs/heads/main".encode(), f"{head} refs/tags/v1".encode()]
    # And what we frame, git reads: a flush-terminated want list is a valid upload-pack request.
    assert pktline.pkt(lines[1] + b"\n") == wire[wire.index(lines[1]) - 4:wire.index(lines[1]) + len(lines[1]) + 1]
