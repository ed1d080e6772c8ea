"""The gRPC side of Xet (protos/hangar_protos/lfs.proto `XetHashes`), as a plain coroutine the lfs
servicer delegates to (errors are mapped by the server's interceptor, hangar_common/grpcio.py):

    async def XetHashes(self, request, context):
        return await xet_hashes(self.resources, request)
"""
from __future__ import annotations

import re

from hangar_common import errors
from hangar_protos import lfs_pb2

from .lfs_bridge import xet_hashes_for_oids

MAX_OIDS = 10_000
_OID = re.compile(r"^[0-9a-f]{64}$")


async def xet_hashes(resources, request: lfs_pb2.XetHashesRequest) -> lfs_pb2.XetHashesResponse:
    oids = list(request.oids)
    if len(oids) > MAX_OIDS:
        raise errors.BadRequest(f"At most {MAX_OIDS} oids per request")
    valid = [oid for oid in oids if _OID.match(oid)]
    return lfs_pb2.XetHashesResponse(xet_hashes=await xet_hashes_for_oids(resources.engine, valid))
