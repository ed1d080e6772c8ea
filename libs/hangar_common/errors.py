"""One error family for every service. Each error carries an HTTP status and a stable error code.

Over gRPC an error travels as a status code plus `x-error-code` / `x-error-message` trailing
metadata, so the gateway can answer the client with the same code the owning service chose.
"""
from __future__ import annotations

import grpc


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
    status, code, grpc_status = 503, "ServiceUnavailable", grpc.StatusCode.UNAVAILABLE


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


def grpc_trailers(error: HangarError) -> tuple[tuple[str, str], ...]:
    return (("x-error-code", error.code), ("x-error-message", error.message[:1000]),
            ("x-http-status", str(error.status)))


def from_grpc(exc: grpc.aio.AioRpcError) -> HangarError:
    """Rebuild the HangarError a peer service raised (or a 503 when the peer is unreachable)."""
    trailers = {k: v for k, v in (exc.trailing_metadata() or ())}
    cls = _BY_GRPC.get(exc.code(), HangarError)
    code = trailers.get("x-error-code")
    status = trailers.get("x-http-status")
    if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED) and not code:
        return Unavailable(f"upstream unavailable: {exc.details()}")
    return cls(trailers.get("x-error-message") or exc.details() or "", code=code,
               status=int(status) if status else None)
