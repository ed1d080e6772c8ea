"""What every part of the community service's gRPC surface shares: the service context and small
helpers to ask auth and metadata."""
from __future__ import annotations

from hangar_common.errors import Forbidden, Unauthorized

from .context import Community


def caller_id(principal) -> int:
    if principal.anonymous or not principal.user_id.isdigit():
        raise Unauthorized("You must be authenticated to do this")
    return int(principal.user_id)


def writer_id(principal) -> int:
    """The caller's user id for a change; read tokens never change anything."""
    user_id = caller_id(principal)
    if principal.token_role == "read":
        raise Forbidden("This action needs a token with the write role; this one is read-only")
    return user_id


class ServicerBase:
    def __init__(self, ctx: Community) -> None:
        self.ctx = ctx
