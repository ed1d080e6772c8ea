"""Redis for every service, set up once so an outage is short and survivable (issue 10, item 3).

- `connect()` builds the one client a service holds. A broken pooled connection is never handed out
  again: idle connections are pinged before use (`health_check_interval`), a failed command is
  retried on a fresh connection with a short exponential backoff, and a connection that fails is
  dropped from the pool and redialled. Timeouts are short, so an unreachable Redis costs a request
  well under a second, not the client library's default of several.
- Redis holds only caches, throttling counters and notifications in Hangar, never data of record.
  Code that can work without it wraps the call in `optional()` (the cache is skipped, the database
  answers); code that cannot lets the error rise: the HTTP and gRPC edges turn it into
  503 + Retry-After (faults.py). `DOWN` is the tuple of errors that mean "Redis is unreachable".
"""
from __future__ import annotations

import logging
import time
from collections.abc import Awaitable
from typing import TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("hangar.redis")

DOWN: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)

HEALTH_CHECK_INTERVAL = 5       # seconds an idle pooled connection may sit before a PING checks it
CONNECT_TIMEOUT = 0.5
COMMAND_TIMEOUT = 2.0
RETRIES = 2                     # a failed command is tried again this many times, on new connections

T = TypeVar("T")


def connect(url: str, **overrides) -> aioredis.Redis:
    """The client of a service (or of a test): reconnecting, health-checked, retrying."""
    options = dict(
        decode_responses=False,
        health_check_interval=HEALTH_CHECK_INTERVAL,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=COMMAND_TIMEOUT,
        socket_keepalive=True,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), RETRIES),
        retry_on_error=[RedisConnectionError, RedisTimeoutError, ConnectionError, OSError],
    )
    options.update(overrides)
    return aioredis.from_url(url, **options)


_last_warning = [0.0]


async def optional(call: Awaitable[T], default: T, what: str) -> T:
    """`await call`, or `default` when Redis is unreachable (logged at most every 10 seconds)."""
    try:
        return await call
    except DOWN as exc:
        now = time.monotonic()
        if now - _last_warning[0] > 10:
            _last_warning[0] = now
            logger.warning("redis unavailable; going on without it", extra={"fields": {
                "what": what, "error": f"{type(exc).__name__}: {exc}"[:300]}})
        return default
