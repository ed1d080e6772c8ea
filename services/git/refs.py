"""A repository's refs as git advertises them (gitprotocol-pack.txt "Reference Discovery",
gitprotocol-v2.txt "ls-refs"), loaded from metadata's GitListRefs."""
from __future__ import annotations

from dataclasses import dataclass

from hangar_common.grpcio import call
from hangar_protos import metadata_pb2

from . import pktline

ZERO_OID = "0" * 40


@dataclass
class GitRefs:
    refs: list[metadata_pb2.GitRef]
    head: str                       # "refs/heads/main"

    @classmethod
    async def load(cls, clients, repo) -> GitRefs:
        answer = await call(clients.metadata.GitListRefs, metadata_pb2.RepoRequest(repo=repo))
        return cls(refs=sorted(answer.refs, key=lambda r: r.name), head=answer.head)

    @property
    def head_oid(self) -> str:
        return next((r.target for r in self.refs if r.name == self.head), "")

    def v0_advertisement(self, capabilities: list[str]) -> bytes:
        """`<oid> <ref>` lines, HEAD first, capabilities after a NUL on the first; peeled tags as
        `<ref>^{}`; an empty repository advertises `capabilities^{}` with the zero id."""
        lines: list[tuple[str, str]] = []
        if self.head_oid:
            lines.append((self.head_oid, "HEAD"))
        for ref in self.refs:
            lines.append((ref.target, ref.name))
            if ref.peeled and ref.peeled != ref.target:
                lines.append((ref.peeled, ref.name + "^{}"))
        if not lines:
            lines.append((ZERO_OID, "capabilities^{}"))
        caps = " ".join(capabilities)
        out = [pktline.pkt(f"{lines[0][0]} {lines[0][1]}\0{caps}\n")]
        out += [pktline.pkt(f"{oid} {name}\n") for oid, name in lines[1:]]
        return b"".join(out) + pktline.FLUSH

    def ls_refs(self, *, symrefs: bool, peel: bool, prefixes: list[str]) -> bytes:
        """The v2 ls-refs answer (prefixes are only an optimization: the client filters too)."""
        def wanted(name: str) -> bool:
            return not prefixes or any(name.startswith(p) for p in prefixes)
        out = []
        if self.head_oid and wanted("HEAD"):
            attrs = f" symref-target:{self.head}" if symrefs else ""
            out.append(pktline.pkt(f"{self.head_oid} HEAD{attrs}\n"))
        for ref in self.refs:
            if not wanted(ref.name):
                continue
            attrs = f" peeled:{ref.peeled}" if peel and ref.peeled and ref.peeled != ref.target else ""
            out.append(pktline.pkt(f"{ref.target} {ref.name}{attrs}\n"))
        return b"".join(out) + pktline.FLUSH
