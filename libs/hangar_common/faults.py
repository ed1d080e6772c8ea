"""What an exception that is not a HangarError means for the client: a dependency outage (503), input
the database refused (400), or an internal error (500). One place, used by every HTTP and gRPC edge.

- PostgreSQL, Redis or S3 not reachable (refused, reset, timed out, shutting down, a pool whose
  connections died): `Unavailable`, 503 with `Retry-After`. The next request reconnects (pools
  ping/replace dead connections), so nothing needs a restart once the dependency is back.
- PostgreSQL's "data exception" class (SQLSTATE 22xxx: a NUL byte in text, a number out of range,
  invalid text for a type) is caused by the values a request carried: 400. The edges refuse such
  input before it gets this far; this keeps a missed case a clear 4xx rather than a 500.
- Anything else is a bug: 500 "Internal error", details in the log only.
"""
from __future__ import annotations

import asyncio
import logging
import socket

from . import errors

logger = logging.getLogger("hangar.faults")

# PostgreSQL SQLSTATE classes: 08 connection exception, 57P shutdown/cannot connect now, 53 insufficient
# resources (too many connections), 22 data exception.
_PG_UNAVAILABLE = ("08", "57P", "53")
_PG_BAD_INPUT = ("22",)


def _chain(exc: BaseException):
    """The failure, what it wraps, and what it was raised while handling: asyncpg's pool, releasing
    a connection that died mid-query, raises "cannot switch to state ...; another operation is in
    progress" while handling the lost connection, and that is the outage, not a bug."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__


def _sqlstate(exc: BaseException) -> str:
    for attr in ("sqlstate", "pgcode"):
        value = getattr(exc, attr, None)
        if isinstance(value, str) and value:
            return value
    return ""


def _module(exc: BaseException) -> str:
    return type(exc).__module__ or ""


def _dependency_down(exc: BaseException) -> bool:
    if isinstance(exc, (ConnectionError, socket.gaierror, asyncio.TimeoutError, TimeoutError)):
        return True
    name, module = type(exc).__name__, _module(exc)
    if module.startswith("redis") and name in ("ConnectionError", "TimeoutError", "BusyLoadingError",
                                               "MaxConnectionsError"):
        return True
    if module.startswith("asyncpg") and name in ("ConnectionDoesNotExistError", "ConnectionFailureError"):
        return True
    if module.startswith("asyncpg") and name in ("InterfaceError", "InternalClientError"):
        text = str(exc).lower()
        # "cannot switch to state N; another operation is in progress": a pooled connection whose
        # last operation was cut by the server going away. The pool terminates it on release and
        # the next acquire gets a fresh one; this request is a 503 like the others of the outage.
        return ("connection" in text and ("closed" in text or "lost" in text)) or \
            ("another operation" in text and "in progress" in text)
    if module.startswith("sqlalchemy") and getattr(exc, "connection_invalidated", False):
        return True
    if module.startswith("urllib3") and name in ("MaxRetryError", "ProtocolError", "NewConnectionError",
                                                 "ReadTimeoutError", "ConnectTimeoutError"):
        return True
    if module.startswith("minio") and name == "ServerError":  # S3 answered 5xx
        return True
    if module.startswith("minio") and name == "S3Error" and getattr(exc, "code", "") in (
            "ServiceUnavailable", "SlowDown", "InternalError"):
        return True
    return any(_sqlstate(exc).startswith(p) for p in _PG_UNAVAILABLE)


def classify(exc: BaseException) -> errors.HangarError | None:
    """The HangarError a failure stands for, or None when it is an internal error."""
    for link in _chain(exc):
        if isinstance(link, errors.HangarError):
            return link
        if _dependency_down(link):
            return errors.Unavailable()
        if any(_sqlstate(link).startswith(p) for p in _PG_BAD_INPUT):
            return errors.BadRequest("The request holds a value the hub cannot store "
                                     "(for example a NUL character, or a number out of range)",
                                     code="InvalidInput")
    return None


def to_error(exc: BaseException, where: str) -> errors.HangarError:
    """classify(), logging what the client will not see. `where` names the handler for the log."""
    known = classify(exc)
    if known is None:
        logger.error("unhandled error", exc_info=exc, extra={"fields": {"where": where}})
        return errors.internal()
    if isinstance(known, errors.Unavailable) and known is not exc:
        logger.warning("dependency unavailable", extra={"fields": {
            "where": where, "error": f"{type(exc).__name__}: {exc}"[:500]}})
    elif known is not exc:
        logger.info("input refused by a dependency", extra={"fields": {
            "where": where, "error": f"{type(exc).__name__}: {exc}"[:300]}})
    return known
