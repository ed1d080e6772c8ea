"""gRPC helpers: an aio server with the standard health service, and channels whose calls carry
the current request id (metadata key `x-request-id`) and turn peer errors back into HangarError."""
from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from . import errors, faults, hotcache
from .logs import new_request_id, request_id_var

logger = logging.getLogger("hangar.grpc")

MAX_MESSAGE = 4 * 1024 * 1024
_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE),
    ("grpc.max_send_message_length", MAX_MESSAGE),
    ("grpc.keepalive_time_ms", 30_000),
    # A peer that was down (or not up yet at start) is dialled again within seconds, not after gRPC's
    # default backoff of up to two minutes during which every call fails at once with UNAVAILABLE.
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 5_000),
]
# A target naming several replicas (`ipv4:a:1,b:2`, or `dns:///svc` of a headless Kubernetes
# service) spreads calls over all of them, not only the first that answers. A single address keeps
# gRPC's default (pick_first), which redials at once on the first call after the peer restarted.
_BALANCED = [*_OPTIONS, ("grpc.service_config", json.dumps({"loadBalancingConfig": [{"round_robin": {}}]}))]


def _balanced(target: str) -> bool:
    return "," in target or target.startswith("dns:")


class _RequestIdServerInterceptor(grpc.aio.ServerInterceptor):
    """Adopts the caller's request id for the duration of the handler, and is the one place that
    maps errors for every servicer of every service: whatever a handler raises reaches the caller
    only as a HangarError's status, code and message (error trailers); any other exception becomes
    an internal error (or a 503 for a dependency outage) whose details are logged, never sent."""

    async def intercept_service(self, continuation, handler_call_details):
        md = dict(handler_call_details.invocation_metadata or ())
        request_id_var.set(md.get("x-request-id") or new_request_id())
        method = handler_call_details.method
        if not method.startswith("/grpc.health"):
            logger.info("rpc", extra={"fields": {"method": method}})
        handler = await continuation(handler_call_details)
        return _guarded(handler, method) if handler is not None else None


async def _abort(context, exc: BaseException, where: str):
    if context.cancelled() or context.done():  # the caller went away: no one to answer
        raise asyncio.CancelledError()
    error = faults.to_error(exc, where)
    # Messages may quote paths with NUL or UTF-8: they travel in `-bin` trailers.
    context.set_trailing_metadata(errors.grpc_trailers(error))
    await context.abort(error.grpc_status, errors.ascii_escaped(error.message)[:1000])


def _guard_coroutine(behavior, where: str):
    """A unary-reply handler, or a streaming one that writes with `context.write()`."""
    async def guarded(request_or_iterator, context):
        # Cache invalidations the handler noted go out when it returns: after its transaction
        # committed, before the caller sees the answer (hotcache.py).
        # They also travel back to the caller in a trailer, which the caller's channel applies to
        # its own caches before the caller continues: the replica that made a change reads the new
        # state on its very next request, whatever its listener of the channel is still doing.
        pending: contextvars.Token | None = hotcache.begin()
        try:
            result = await behavior(request_or_iterator, context)
            notes = await hotcache.finish(pending)
            pending = None
            if notes:
                context.set_trailing_metadata((hotcache.trailer(notes),))
            return result
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort(context, exc, where)
        finally:
            if pending is not None:
                await hotcache.finish(pending)
    return guarded


def _guard_generator(behavior, where: str):
    async def guarded(request_or_iterator, context):
        try:
            async for item in behavior(request_or_iterator, context):
                yield item
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort(context, exc, where)
    return guarded


_FACTORIES = (("unary_unary", grpc.unary_unary_rpc_method_handler),
              ("stream_unary", grpc.stream_unary_rpc_method_handler),
              ("unary_stream", grpc.unary_stream_rpc_method_handler),
              ("stream_stream", grpc.stream_stream_rpc_method_handler))


def _guarded(handler, where: str):
    """The same handler, its behavior wrapped (async ones only; the sync health service is left)."""
    for kind, factory in _FACTORIES:
        behavior = getattr(handler, kind)
        if behavior is None:
            continue
        if inspect.isasyncgenfunction(behavior):
            guarded = _guard_generator(behavior, where)
        elif inspect.iscoroutinefunction(behavior):
            guarded = _guard_coroutine(behavior, where)
        else:
            return handler
        return factory(guarded, request_deserializer=handler.request_deserializer,
                       response_serializer=handler.response_serializer)
    return handler


def create_server(servicers: list[tuple[Callable[[Any, grpc.aio.Server], None], Any]],
                  service_names: list[str]) -> tuple[grpc.aio.Server, health.HealthServicer]:
    server = grpc.aio.server(interceptors=[_RequestIdServerInterceptor()], options=_OPTIONS)
    for add, servicer in servicers:
        add(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    return server, health_servicer


async def mark_serving(health_servicer, service_names: list[str]) -> None:
    for name in ["", *service_names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)


def _with_request_id(client_call_details):
    md = list(client_call_details.metadata or [])
    rid = request_id_var.get()
    if rid and not any(k == "x-request-id" for k, _ in md):
        md.append(("x-request-id", rid))
    return client_call_details._replace(metadata=md) if hasattr(client_call_details, "_replace") else \
        grpc.aio.ClientCallDetails(client_call_details.method, client_call_details.timeout, md,
                                   client_call_details.credentials, client_call_details.wait_for_ready)


async def _applying_invalidations(call):
    """The call, once finished, with the cache invalidations its server sent back applied to this
    process's caches (hotcache.py); a failed call is left for its caller to raise."""
    if not hotcache.listening():
        return call
    try:
        await call
        hotcache.apply_trailer(await call.trailing_metadata())
    except grpc.aio.AioRpcError:
        pass
    return call


async def reply(call):
    """The response of a client-streaming call fed with `write()`, once `done_writing()` was sent,
    with the cache invalidations its server sent back applied to this process's caches."""
    response = await call
    if hotcache.listening():
        hotcache.apply_trailer(await call.trailing_metadata())
    return response


class _UnaryUnary(grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, details, request):
        return await _applying_invalidations(await continuation(_with_request_id(details), request))


class _UnaryStream(grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation, details, request):
        return await continuation(_with_request_id(details), request)


class _StreamUnary(grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation, details, request_iterator):
        # Not awaited here: the writes of a call fed with write() wait for this interceptor. Its
        # caller finishes it with `reply()`, which applies the trailer.
        return await continuation(_with_request_id(details), request_iterator)


class _StreamStream(grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation, details, request_iterator):
        return await continuation(_with_request_id(details), request_iterator)


def channel(target: str) -> grpc.aio.Channel:
    """A channel to a peer service. Create it inside the app's lifespan (grpc is not fork-safe)."""
    return grpc.aio.insecure_channel(
        target, options=_BALANCED if _balanced(target) else _OPTIONS,
        interceptors=[_UnaryUnary(), _UnaryStream(), _StreamUnary(), _StreamStream()])


async def call(rpc: Callable[..., Awaitable[Any]], request: Any, *, timeout: float = 30.0) -> Any:
    """Call a unary RPC; a peer's error comes back as the HangarError it described."""
    try:
        return await rpc(request, timeout=timeout)
    except grpc.aio.AioRpcError as exc:
        raise errors.from_grpc(exc) from None


async def stream(rpc_call):
    """Iterate a server-streaming call; a peer error becomes the HangarError it described, and the
    call is cancelled when the consumer stops early."""
    try:
        async for message in rpc_call:
            yield message
    except grpc.aio.AioRpcError as exc:
        raise errors.from_grpc(exc) from None
    finally:
        rpc_call.cancel()


async def check_health(ch: grpc.aio.Channel, service: str = "", timeout: float = 2.0) -> bool:
    stub = health_pb2_grpc.HealthStub(ch)
    try:
        resp = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
    except grpc.aio.AioRpcError:
        return False
    return resp.status == health_pb2.HealthCheckResponse.SERVING
