"""In-process caches of hot reads with explicit invalidation over Redis pub/sub (issue 16,
docs/architecture.md "Streaming and speed").

A service keeps answers it reads on every request (token → principal, repo → facts, (repo, rev) →
commit, authorization decisions) in a `Cache`; the service that changes the underlying data says so
with `note(topic, tag)` inside the RPC that changed it. The server interceptor (grpcio.py) publishes
what an RPC noted once the handler has finished, that is after its transaction committed and
before the caller gets the answer, on one Redis channel every replica of every service listens
to. Each replica then drops the entries carrying that tag, so the next request anywhere reads the
new state.

Rules that keep it safe:
- A fill that started before an invalidation of its cache is not stored (a generation counter), so a
  read racing with a change can never put the old answer back.
- Fail closed. The listener pings through its own subscription every `HEARTBEAT` seconds; a pong
  proves every message published before that ping was seen. While the last proven moment is older
  than `STALE_AFTER` (Redis down, subscription lost, or the listener lagging) every mutable cache
  serves nothing older than `UNSAFE_TTL` seconds, so a change is seen within two seconds at worst.
  A broken subscription (however it broke, even if redis-py redialled it by itself) empties all
  mutable caches at once, and again when the new subscription is confirmed: messages sent
  meanwhile are lost.
  Immutable caches (an entry under a commit id, a blob by its id) need no invalidation and are kept.
- Entries also expire after their cache's TTL, whatever the channel says.
- Negative answers (not found, denied credentials) are not cached by callers, except in immutable
  caches where "no such path at this commit" is as permanent as a path.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from typing import Any

import orjson
import redis.asyncio as aioredis
from prometheus_client import Counter, Gauge
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

logger = logging.getLogger("hangar.hotcache")

CHANNEL = "hangar:invalidate"
HEARTBEAT = 0.25
STALE_AFTER = 2.0
UNSAFE_TTL = 1.0
ALL = "*"

# Topics: who publishes them and what a tag is.
PRINCIPALS = "principals"   # auth: a credential or an account changed; tag user id (or ALL)
DECISIONS = "decisions"     # auth: memberships or access grants changed; tag user id (or ALL)
REPOS = "repos"             # metadata: a repo's settings, refs, name or existence changed; tag repo id

LOOKUPS = Counter("hangar_cache_lookups_total", "In-process cache lookups", ["cache", "result"])
INVALIDATIONS = Counter("hangar_cache_invalidations_total", "Invalidations applied", ["cache"])
CHANNEL_UP = Gauge("hangar_invalidation_channel_up", "1 while the invalidation channel is proven current")


class Cache:
    """A bounded LRU map whose entries carry tags and expire; `bus` invalidates them by tag."""

    def __init__(self, bus: Bus | None, name: str, topics: Iterable[str], *, ttl: float,
                 max_entries: int = 10_000, immutable: bool = False) -> None:
        self.bus, self.name, self.topics = bus, name, frozenset(topics)
        self.ttl, self.max_entries, self.immutable = ttl, max_entries, immutable
        self.generation = 0
        self._inflight: dict[Hashable, tuple[int, asyncio.Future]] = {}
        self._entries: OrderedDict[Hashable, tuple[float, frozenset[str], Any]] = OrderedDict()
        self._hit, self._miss = LOOKUPS.labels(name, "hit"), LOOKUPS.labels(name, "miss")
        self._invalidated = INVALIDATIONS.labels(name)
        if bus is not None:
            bus.register(self)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Any:
        """The cached value, or `MISSING`."""
        entry = self._entries.get(key)
        if entry is None:
            self._miss.inc()
            return MISSING
        stored, _tags, value = entry
        age = time.monotonic() - stored
        if not self.immutable and (age > self.ttl or (age > UNSAFE_TTL and not self._channel_ok())):
            del self._entries[key]
            self._miss.inc()
            return MISSING
        self._entries.move_to_end(key)
        self._hit.inc()
        return value

    def put(self, key: Hashable, value: Any, tags: Iterable[str] = (), *, generation: int | None = None) -> None:
        """Store unless the cache was invalidated since `generation` (taken before the read)."""
        if generation is not None and generation != self.generation:
            return
        self._entries[key] = (time.monotonic(), frozenset(tags), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[Any]],
                          tags: Callable[[Any], Iterable[str]] | None = None,
                          keep: Callable[[Any], bool] | None = None) -> Any:
        """The cached value, or `load()`'s (stored with `tags(value)` when `keep(value)` allows).
        Concurrent misses of one key share one load, unless the cache was invalidated meanwhile."""
        value = self.get(key)
        if value is not MISSING:
            return value
        generation = self.generation
        flight = self._inflight.get(key)
        if flight is not None and flight[0] == generation:
            try:
                return await asyncio.shield(flight[1])
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not flight[1].cancelled() or (task is not None and task.cancelling()):
                    raise
                # the loading request went away: load for ourselves
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._inflight[key] = (generation, future)
        try:
            value = await load()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()   # retrieved: no "never retrieved" warning when no one waited
            raise
        finally:
            if self._inflight.get(key, (0, None))[1] is future:
                del self._inflight[key]
        future.set_result(value)
        if keep is None or keep(value):
            self.put(key, value, tags(value) if tags else (), generation=generation)
        return value

    def invalidate(self, tags: Iterable[str]) -> None:
        self.generation += 1
        self._invalidated.inc()
        wanted = set(tags)
        if ALL in wanted:
            self._entries.clear()
            return
        for key in [k for k, (_s, entry_tags, _v) in self._entries.items() if entry_tags & wanted]:
            del self._entries[key]

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    def _channel_ok(self) -> bool:
        return self.bus is not None and self.bus.healthy


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Bus:
    """This process's end of the invalidation channel: it publishes notes and feeds every cache
    registered with it the messages of its topics.

    The subscription is reconnected here, never by redis-py. Its client would otherwise redial a
    dropped pub/sub connection and resubscribe on it inside `get_message` (the retry's failure
    callback in `PubSub._execute`, and `parse_response`/`connect` on a closed connection), so a
    gap in which messages were lost could pass unnoticed. So the subscription's connections retry
    nothing (an error reaches `_listen` as it happens), and a connect callback on the subscribed
    connection catches any redial that still happens behind our back: either is a gap, and a gap
    empties the mutable caches at once, then again when the new subscription is confirmed."""

    def __init__(self, redis_url: str, *, heartbeat: float = HEARTBEAT, stale_after: float = STALE_AFTER) -> None:
        self.redis_url, self.heartbeat, self.stale_after = redis_url, heartbeat, stale_after
        self._caches: list[Cache] = []
        self._redis: aioredis.Redis | None = None       # publishes
        self._listener: aioredis.Redis | None = None    # subscribes; never retries or redials by itself
        self._task: asyncio.Task | None = None
        self._proven = 0.0           # every message published before this moment was applied
        self._subscribed = False     # the current subscription is confirmed and unbroken
        self._redialled = False      # redis-py reconnected the subscribed connection by itself
        self._connection: Any = None  # the connection the current subscription was made on
        self.gaps = 0                # subscriptions lost (each emptied the mutable caches)
        CHANNEL_UP.set_function(lambda: 1.0 if self.healthy else 0.0)

    def register(self, cache: Cache) -> None:
        self._caches.append(cache)

    @property
    def healthy(self) -> bool:
        return self._subscribed and time.monotonic() - self._proven < self.stale_after

    async def start(self) -> None:
        options: dict[str, Any] = dict(decode_responses=False, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._redis = aioredis.from_url(self.redis_url, **options)
        # No error is "supported" by this Retry: redis-py neither retries nor redials (its failure
        # callback reconnects and resubscribes before it gives up, even with 0 retries).
        self._listener = aioredis.from_url(self.redis_url, retry=Retry(NoBackoff(), 0, supported_errors=()),
                                           **options)
        self._task = asyncio.create_task(self._listen(), name="hotcache-listener")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        for client in (self._redis, self._listener):
            if client is not None:
                await client.aclose()

    async def publish(self, notes: dict[str, set[str]]) -> None:
        """Send what an RPC changed. A failure is logged, not raised: the change is committed, and
        the listeners of a Redis that cannot be reached are failing closed already."""
        if not notes or self._redis is None:
            return
        payload = orjson.dumps({topic: sorted(tags) for topic, tags in notes.items()})
        for attempt in range(3):
            try:
                await self._redis.publish(CHANNEL, payload)
                self.apply(notes)  # this process too, even before its own listener hears it
                return
            except Exception as exc:
                if attempt == 2:
                    logger.warning("invalidation not published", extra={"fields": {"error": str(exc)}})
                await asyncio.sleep(0.05 * (attempt + 1))
        self.apply(notes)

    def apply(self, notes: Mapping[str, Iterable[str]]) -> None:
        for topic, tags in notes.items():
            tags = list(tags)
            for cache in self._caches:
                if topic in cache.topics:
                    cache.invalidate(tags)

    def _flush_mutable(self) -> None:
        for cache in self._caches:
            if not cache.immutable:
                cache.clear()

    def _lost(self) -> None:
        """The subscription broke: whatever was published from now until it is confirmed again
        never arrives, so nothing cached so far may be trusted."""
        if self._subscribed:
            self.gaps += 1
        self._subscribed = False
        self._flush_mutable()

    async def _on_redial(self, connection) -> None:
        """redis-py's connect callback: the subscribed connection was dialled again."""
        self._redialled = True
        self._lost()

    async def _listen(self) -> None:
        assert self._listener is not None
        backoff = 0.1
        while True:
            pubsub = self._listener.pubsub()
            connection = self._connection = None
            try:
                self._redialled = False
                await pubsub.subscribe(CHANNEL)   # sent; confirmed by the "subscribe" message
                connection = self._connection = pubsub.connection
                assert connection is not None
                connection.register_connect_callback(self._on_redial)
                await self._pump(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._subscribed or self._redialled:
                    logger.warning("invalidation channel lost", extra={"fields": {"error": str(exc)}})
            finally:
                self._lost()
                if connection is not None:
                    connection.deregister_connect_callback(self._on_redial)
                self._connection = None
                try:
                    await pubsub.aclose()
                except Exception:
                    pass
            if self._redialled:
                backoff = 0.1   # a redial behind our back means Redis answers: subscribe again now
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    async def _pump(self, pubsub) -> None:
        last_ping = 0.0
        while True:
            if self._redialled:
                raise ConnectionError("the subscription was redialled: messages may have been lost")
            now = time.monotonic()
            if now - last_ping >= self.heartbeat:
                await pubsub.ping(message=repr(now).encode())
                last_ping = now
            message = await pubsub.get_message(timeout=self.heartbeat)
            if self._redialled:
                continue
            if message is None:
                if time.monotonic() - last_ping > self.stale_after + self.heartbeat:
                    raise ConnectionError("no pong from Redis")
                continue
            kind = message["type"]
            if kind == "subscribe":
                # From here on every message reaches us; what was published before may not have:
                # empty what was cached (a fill that began earlier is refused by the generation).
                self._flush_mutable()
                self._subscribed = True
            elif kind == "unsubscribe":
                raise ConnectionError("unsubscribed by the server")
            elif kind == "pong":
                if self._subscribed:
                    self._proven = max(self._proven, float(message["data"]))
            elif kind == "message" and self._subscribed:
                self._on_message(message["data"])

    def _on_message(self, data: bytes) -> None:
        try:
            notes = orjson.loads(data)
        except orjson.JSONDecodeError:
            logger.warning("malformed invalidation dropped")
            return
        self.apply(notes)


# --- noting changes inside an RPC ---------------------------------------------------------------

_pending: contextvars.ContextVar[dict[str, set[str]] | None] = contextvars.ContextVar(
    "hotcache_pending", default=None)
_bus: Bus | None = None


def install(bus: Bus | None) -> None:
    """Make `bus` the one this process publishes notes through."""
    global _bus
    _bus = bus


def note(topic: str, *tags: str) -> None:
    """Record that data under `topic`/`tags` changed; published when the current RPC ends. Call it
    inside the transaction (or right after it) of the change."""
    pending = _pending.get()
    if pending is None:   # outside an RPC (a CLI, a background job): nothing to batch with
        if _bus is not None:
            asyncio.get_running_loop().create_task(_bus.publish({topic: set(tags)}))
        return
    pending.setdefault(topic, set()).update(tags)


def begin() -> contextvars.Token:
    return _pending.set({})


async def finish(token: contextvars.Token) -> dict[str, set[str]]:
    """Publish what was noted since `begin()` (the interceptor calls it when a handler returns);
    the notes are returned for the reply's trailer."""
    notes = _pending.get() or {}
    _pending.reset(token)
    if notes and _bus is not None:
        await _bus.publish(notes)
    return notes


TRAILER = "hangar-invalidate-bin"


def trailer(notes: Mapping[str, Iterable[str]]) -> tuple[str, bytes]:
    return TRAILER, orjson.dumps({topic: sorted(tags) for topic, tags in notes.items()})


def listening() -> bool:
    """Whether this process keeps caches that invalidations apply to."""
    return _bus is not None


def apply_trailer(metadata) -> None:
    """Apply the invalidations a peer's reply carried (grpcio's client interceptor calls it)."""
    if _bus is None or not metadata:
        return
    for key, value in metadata:
        if key == TRAILER:
            _bus._on_message(value)
