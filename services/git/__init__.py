"""Git smart HTTP for Hangar (gitprotocol-http.txt): clone, fetch and push, with nothing on disk.

Refs and objects come from, and go to, the metadata service (GitListRefs, GitFetchObjects,
GitReceive); who may do what is the auth service's decision. Modules, by concept:

- routes.py        the three endpoints and their HTTP framing
- access.py        Authenticate + GetRepo + Authorize, 401/403/404 the way git expects them
- repo_path.py     which repository a URL names
- body.py          request bodies (gzip)
- pktline.py       pkt-line and side-band framing
- refs.py          ref advertisement (v0) and ls-refs (v2)
- upload_pack.py   fetch: v2 ls-refs/fetch and v0 stateless negotiation, shallow
- packstream.py    metadata's object stream -> a pack, streamed
- packwriter.py    pack entries (zlib per object, SHA-1 trailer)
- receive_pack.py  push: commands, spooled pack, report-status
- packreader.py    reading a pushed pack (ofs/ref deltas)
"""
