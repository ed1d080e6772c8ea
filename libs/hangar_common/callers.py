"""Who is calling a gRPC method, from the Principal every request carries (common.proto): the same
answer in every service that changes something on a user's behalf."""
from __future__ import annotations

from .errors import Forbidden, Unauthorized


def caller_id(principal) -> int:
    """The signed-in caller's user id; anonymous callers are refused."""
    if principal.anonymous or not principal.user_id.isdigit():
        raise Unauthorized("You must be authenticated to do this")
    return int(principal.user_id)


def writer_id(principal) -> int:
    """The caller's user id for a change; read tokens never change anything."""
    user_id = caller_id(principal)
    if principal.token_role == "read":
        raise Forbidden("This action needs a token with the write role; this one is read-only")
    return user_id
