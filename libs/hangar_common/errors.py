"""One error family for every service. Each error carries an HTTP status and a stable error code.

Over gRPC an error travels as a status code plus `x-error-code` / `x-error-message-bin` trailing
metadata, so the gateway can answer the client with the same code the owning service chose. gRPC
text metadata is printable ASCII only, so the message (which may quote a user's non-ASCII name or
path) travels as UTF-8 in a `-bin` key; `x-error-message` keeps an ASCII-escaped copy for humans.

Only a HangarError's message ever reaches a client. Anything else a peer reports (an unexpected
exception's details, a transport error naming an internal address) stays in the logs.
"""
from __future__ import annotations

import logging

import grpc

logger = logging.getLogger("hangar.errors")

INTERNAL_MESSAGE = "Internal error"
UNAVAILABLE_MESSAGE = "A service the hub depends on is temporarily unavailable; retry shortly"
RETRY_AFTER_SECONDS = 5


class HangarError(Exception):
    status: int = 500
    code: str = "InternalError"
    grpc_status: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str = "", *, code: str | None = None, status: int | None = None,
                 headers: dict[str, str] | None = None, body: dict | None = None) -> None:
        super().__init__(message or self.__class__.__name__)
        self.message = message or self.code
        if code:
            self.code = code
        if status:
            self.status = status
        self.headers = headers or {}
        self.body = body


class BadRequest(HangarError):
    status, code, grpc_status = 400, "BadRequest", grpc.StatusCode.INVALID_ARGUMENT


class Unauthorized(HangarError):
    status, code, grpc_status = 401, "Unauthorized", grpc.StatusCode.UNAUTHENTICATED


class Forbidden(HangarError):
    status, code, grpc_status = 403, "Forbidden", grpc.StatusCode.PERMISSION_DENIED


class NotFound(HangarError):
    status, code, grpc_status = 404, "NotFound", grpc.StatusCode.NOT_FOUND


class RepoNotFound(NotFound):
    code = "RepoNotFound"


class RevisionNotFound(NotFound):
    code = "RevisionNotFound"


class EntryNotFound(NotFound):
    code = "EntryNotFound"


class Conflict(HangarError):
    status, code, grpc_status = 409, "Conflict", grpc.StatusCode.ALREADY_EXISTS


class PreconditionFailed(HangarError):
    status, code, grpc_status = 412, "PreconditionFailed", grpc.StatusCode.FAILED_PRECONDITION


class UnprocessableEntity(HangarError):
    status, code, grpc_status = 422, "UnprocessableEntity", grpc.StatusCode.INVALID_ARGUMENT


class InvalidPath(UnprocessableEntity):
    """A path inside a repository that is not acceptable: 422, as the Hub answers."""
    code = "InvalidPath"


class PayloadTooLarge(HangarError):
    status, code, grpc_status = 413, "PayloadTooLarge", grpc.StatusCode.RESOURCE_EXHAUSTED


class TooManyRequests(HangarError):
    status, code, grpc_status = 429, "TooManyRequests", grpc.StatusCode.RESOURCE_EXHAUSTED


class Unavailable(HangarError):
    """A dependency (a peer service, PostgreSQL, Redis, S3) cannot be reached: 503 with Retry-After."""
    status, code, grpc_status = 503, "ServiceUnavailable", grpc.StatusCode.UNAVAILABLE

    def __init__(self, message: str = UNAVAILABLE_MESSAGE, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))


def internal() -> HangarError:
    """The only thing a client learns about an unexpected failure (its details go to the log)."""
    return HangarError(INTERNAL_MESSAGE)


_BY_GRPC = {
    grpc.StatusCode.INVALID_ARGUMENT: BadRequest,
    grpc.StatusCode.UNAUTHENTICATED: Unauthorized,
    grpc.StatusCode.PERMISSION_DENIED: Forbidden,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: Conflict,
    grpc.StatusCode.ABORTED: Conflict,
    grpc.StatusCode.FAILED_PRECONDITION: Conflict,
    grpc.StatusCode.RESOURCE_EXHAUSTED: PayloadTooLarge,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
}


def ascii_escaped(text: str) -> str:
    """Printable ASCII only (gRPC text metadata): anything else as a Python-style escape."""
    return "".join(ch if " " <= ch <= "~" else ascii(ch)[1:-1] for ch in text)


def grpc_trailers(error: HangarError) -> tuple[tuple[str, str | bytes], ...]:
    message = error.message[:1000]
    return (("x-error-code", ascii_escaped(error.code)),
            ("x-error-message-bin", message.encode("utf-8", "replace")),
            ("x-error-message", ascii_escaped(message)[:1000]),
            ("x-http-status", str(error.status)))


def from_grpc(exc: grpc.aio.AioRpcError) -> HangarError:
    """Rebuild the HangarError a peer service raised; a peer that could not answer is a 503, and
    any other failure is an internal error whose details are logged here, never passed on."""
    trailers = dict(exc.trailing_metadata() or ())
    code = trailers.get("x-error-code")
    if not code or code == HangarError.code:
        if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                          grpc.StatusCode.CANCELLED):
            logger.warning("peer unavailable", extra={"fields": {"grpc_status": exc.code().name,
                                                                 "details": exc.details()}})
            return Unavailable()
        if not code:
            logger.error("peer failed", extra={"fields": {"grpc_status": exc.code().name,
                                                          "details": exc.details()}})
        return internal()
    raw = trailers.get("x-error-message-bin")
    message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else trailers.get("x-error-message", "")
    status = trailers.get("x-http-status")
    cls = _BY_GRPC.get(exc.code(), HangarError)
    return cls(message, code=code, status=int(status) if status and status.isdigit() else None)
