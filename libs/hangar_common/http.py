"""The HTTP face every service has: request ids, Prometheus metrics, /health, and one error shape.

Middleware is pure ASGI so streamed responses stay streams. It is also the last line of defence:
a URL no route can accept is a 400 before any handler runs (inputs.py), a dependency outage is a
503 with Retry-After, and any other failure is a 500 that says "Internal error" and the request id,
nothing else (the traceback goes to the log under the same request id).
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from . import errors, faults, inputs
from .errors import INTERNAL_MESSAGE, BadRequest, HangarError
from .logs import new_request_id, request_id_var

logger = logging.getLogger("hangar.http")
access = logging.getLogger("hangar.access")

REQUESTS = Counter("hangar_http_requests_total", "HTTP requests", ["service", "method", "status"])
LATENCY = Histogram("hangar_http_request_seconds", "HTTP request latency", ["service", "method"])

HealthCheck = Callable[[], Awaitable[bool]]
# Dependencies a service works on without (Redis holds only caches and counters): when one is down,
# /health stays 200 with status "degraded", so a load balancer keeps sending requests that work.
OPTIONAL_CHECKS = frozenset({"redis"})

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Response header values must not hold control characters (a CR/LF or NUL from user input would
# break the response, or split it): each becomes a space.
_HEADER_CONTROLS = bytes.maketrans(bytes(range(32)) + b"\x7f", b" " * 33)


class RequestContextMiddleware:
    """Adopts or creates `X-Request-Id`, echoes it on the response, and records metrics."""

    def __init__(self, app, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = ""
        for key, value in scope.get("headers", ()):
            if key == b"x-request-id":
                rid = value.decode("latin-1")
                break
        rid = rid if _REQUEST_ID.match(rid) else new_request_id()
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status_holder = [500]
        response_started = [False]

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                response_started[0] = True
                message["headers"] = [(k, v.translate(_HEADER_CONTROLS)) for k, v in message.get("headers", ())]
                message["headers"].append((b"x-request-id", rid.encode()))
            await send(message)

        try:
            problem = inputs.url_problem(scope)
            if problem:
                await error_response(BadRequest(problem, code="InvalidRequest"))(scope, receive, send_wrapper)
            else:
                await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            if response_started[0]:  # too late for an error answer: the client sees a cut stream
                logger.exception("error after the response started")
                raise
            await error_response(faults.to_error(exc, scope.get("path", "")))(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            REQUESTS.labels(self.service, scope["method"], str(status_holder[0])).inc()
            LATENCY.labels(self.service, scope["method"]).observe(elapsed)
            if scope["path"] not in ("/health", "/metrics"):
                access.info("request", extra={"fields": {
                    "method": scope["method"], "path": scope["path"], "status": status_holder[0],
                    "ms": round(elapsed * 1000, 1)}})
            request_id_var.reset(token)


def error_response(exc: HangarError) -> Response:
    if exc.status >= 500 and exc.code == HangarError.code:
        return internal_error_response()
    headers = {"X-Error-Code": header_safe(exc.code), "X-Error-Message": header_safe(exc.message),
               **{k: header_safe(v) for k, v in exc.headers.items()}}
    body = exc.body if exc.body is not None else {"error": exc.message}
    return Response(orjson.dumps(body), status_code=exc.status, headers=headers,
                    media_type="application/json")


def internal_error_response() -> Response:
    """A 500 that names nothing internal: the message and the request id to quote to an operator."""
    rid = request_id_var.get()
    message = f"{INTERNAL_MESSAGE} (request id {rid})" if rid else INTERNAL_MESSAGE
    return Response(orjson.dumps({"error": INTERNAL_MESSAGE, "request_id": rid}), status_code=500,
                    headers={"X-Error-Code": HangarError.code, "X-Error-Message": message},
                    media_type="application/json")


def header_safe(text: str, limit: int = 1000) -> str:
    """A header value from any text: printable ASCII, with anything else escaped (`\\u00e9`), so a
    NUL, CR or non-Latin-1 character from user input can never break or split the response."""
    return errors.ascii_escaped(str(text)[:limit])[:limit]


def create_app(service: str, *, lifespan=None,
               health_checks: Callable[[FastAPI], dict[str, HealthCheck]] | None = None) -> FastAPI:
    app = FastAPI(title=f"hangar-{service}", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.add_middleware(RequestContextMiddleware, service=service)

    @app.exception_handler(HangarError)
    async def _hangar_error(_request: Request, exc: HangarError):
        return error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException):
        # Unmatched routes (404) and methods (405) get the same error shape and headers as the rest.
        codes = {404: "NotFound", 405: "MethodNotAllowed"}
        return error_response(HangarError(str(exc.detail), code=codes.get(exc.status_code, "HTTPError"),
                                          status=exc.status_code, headers=dict(exc.headers or {})))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError):
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        return error_response(HangarError(f"Invalid request: {detail}", code="BadRequest", status=400))

    @app.get("/health")
    async def health() -> Response:
        checks = health_checks(app) if health_checks else {}
        results = {name: await _safe(check) for name, check in checks.items()}
        down = [name for name, ok in results.items() if not ok]
        required_down = [name for name in down if name not in OPTIONAL_CHECKS]
        status = "unavailable" if required_down else "degraded" if down else "ok"
        body: dict[str, object] = {"status": status, "service": service,
                "checks": {k: ("up" if v else "down") for k, v in results.items()}}
        if down:
            body["down"] = down
        return JSONResponse(body, status_code=503 if required_down else 200)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


async def _safe(check: HealthCheck) -> bool:
    try:
        return bool(await check())
    except Exception:
        return False


Handler = Callable[[Request], Awaitable[Response]]


class Shortcuts:
    """The hottest routes answered without the framework's middleware, routing and dependency layers,
    which cost more than a cached answer (issue 16). Each shortcut is (methods, path pattern,
    handler): the handler is the route's own endpoint, also mounted on the app, so the answer is the
    same either way; a request no shortcut claims goes to the app. The request still passes through
    RequestContextMiddleware (request id, metrics, access log, the URL check, the 500 shape), and a
    HangarError gets the same error answer as the app's handler gives it. Attributes are the app's."""

    def __init__(self, app: FastAPI, service: str, shortcuts: list[tuple[frozenset[str], re.Pattern, Handler]]):
        self.app, self.shortcuts = app, shortcuts
        self._context = RequestContextMiddleware(self._answer, service=service)

    def __getattr__(self, name: str):
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            for methods, pattern, handler in self.shortcuts:
                if scope["method"] in methods and pattern.match(scope["path"]):
                    scope["app"], scope["hangar.shortcut"] = self.app, handler
                    return await self._context(scope, receive, send)
        await self.app(scope, receive, send)

    @staticmethod
    async def _answer(scope, receive, send):
        try:
            response = await scope["hangar.shortcut"](Request(scope, receive))
        except HangarError as exc:
            response = error_response(exc)
        await response(scope, receive, send)
