"""The cache rules of hotcache.py that the replica tests (tests/hotcache) cannot provoke on demand:
a fill racing an invalidation, concurrent misses, errors, and the fail-closed lifetime while the
invalidation channel is not proven current. The clock is the cache's own `time.monotonic`, moved
by hand; nothing here measures time."""
from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from hangar_common import hotcache
from hangar_common.hotcache import ALL, MISSING, UNSAFE_TTL, Bus, Cache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(hotcache.time, "monotonic", fake)
    return fake


class HealthyBus(Bus):
    """A bus whose channel is, or is not, proven current (no Redis involved)."""

    def __init__(self, healthy: bool) -> None:
        super().__init__("redis://unused")
        self.is_healthy = healthy

    @property
    def healthy(self) -> bool:
        return self.is_healthy


async def test_a_fill_that_raced_an_invalidation_is_not_stored():
    cache = Cache(HealthyBus(True), "t", ["repos"], ttl=60)
    release = asyncio.Event()

    async def slow_read():
        await release.wait()
        return "old"
    fill = asyncio.create_task(cache.get_or_load("k", slow_read, tags=lambda _v: ["7"]))
    await asyncio.sleep(0)
    cache.invalidate(["7"])          # the change lands while the read is in flight
    release.set()
    assert await fill == "old"       # the caller gets what it read...
    assert cache.get("k") is MISSING  # ...but it is not kept


async def test_concurrent_misses_share_one_load_and_errors_are_not_kept():
    cache = Cache(HealthyBus(True), "t", [], ttl=60)
    calls = []

    async def load():
        calls.append(1)
        await asyncio.sleep(0)
        return len(calls)
    assert await asyncio.gather(*(cache.get_or_load("k", load) for _ in range(10))) == [1] * 10
    assert len(calls) == 1

    async def refuse():
        raise PermissionError("no")
    for _ in range(2):
        with pytest.raises(PermissionError):
            await cache.get_or_load("bad", refuse)
    assert cache.get("bad") is MISSING


async def test_invalidation_by_tag_and_all():
    bus = HealthyBus(True)
    repos, principals = Cache(bus, "r", ["repos"], ttl=60), Cache(bus, "p", ["principals"], ttl=60)
    repos.put("a", 1, ["1"])
    repos.put("b", 2, ["2"])
    principals.put("t", "alice", ["1"])
    bus.apply({"repos": ["1"]})
    assert (repos.get("a"), repos.get("b"), principals.get("t")) == (MISSING, 2, "alice")
    bus.apply({"principals": [ALL]})
    assert principals.get("t") is MISSING


def test_entries_live_their_ttl_while_the_channel_is_current(clock):
    cache = Cache(HealthyBus(True), "t", [], ttl=60)
    cache.put("k", "v")
    clock.now += 59
    assert cache.get("k") == "v"
    clock.now += 2
    assert cache.get("k") is MISSING


def test_entries_older_than_the_unsafe_ttl_are_not_served_while_the_channel_is_unproven(clock):
    bus = HealthyBus(True)
    cache, commits = Cache(bus, "t", [], ttl=60), Cache(bus, "c", [], ttl=0, immutable=True)
    cache.put("old", "v")
    commits.put("sha", "tree")
    clock.now += UNSAFE_TTL + 0.5
    cache.put("fresh", "w")
    bus.is_healthy = False
    assert cache.get("old") is MISSING     # from before the channel went quiet: dropped
    assert cache.get("fresh") == "w"        # younger than the bound: still served
    assert commits.get("sha") == "tree"     # immutable: kept
    clock.now += UNSAFE_TTL + 0.5
    assert cache.get("fresh") is MISSING


async def test_resubscribing_empties_the_mutable_caches():
    bus = HealthyBus(True)
    cache, commits = Cache(bus, "t", [], ttl=60), Cache(bus, "c", [], ttl=0, immutable=True)
    cache.put("k", "v")
    commits.put("sha", "tree")
    bus._flush_mutable()   # what _listen does once it is subscribed again
    assert cache.get("k") is MISSING and commits.get("sha") == "tree"


async def test_notes_inside_an_rpc_are_published_when_it_ends():
    published = []

    class Recorder(HealthyBus):
        async def publish(self, notes):
            published.append(notes)
    hotcache.install(Recorder(True))
    try:
        token = hotcache.begin()
        hotcache.note(hotcache.REPOS, "1")
        hotcache.note(hotcache.REPOS, "2")
        hotcache.note(hotcache.DECISIONS, "9")
        assert published == []
        await hotcache.finish(token)
    finally:
        hotcache.install(None)
    assert published == [{"repos": {"1", "2"}, "decisions": {"9"}}]


async def test_the_caller_applies_what_the_rpc_changed_before_it_continues():
    """The replica that made a change reads the new state on its next request, even when its
    listener has not heard the published message yet (here: a bus whose channel never delivers).
    A real gRPC server and channel with the project's interceptors, on loopback."""
    import grpc

    from hangar_common import grpcio

    class Silent(HealthyBus):
        async def publish(self, notes):   # sent, but this process's listener is slow to hear it
            pass
    bus = Silent(True)
    repos = Cache(bus, "repos", [hotcache.REPOS], ttl=60)
    hotcache.install(bus)

    async def update_settings(request: bytes, context) -> bytes:
        hotcache.note(hotcache.REPOS, request.decode())
        return b"ok"

    async def read(request: bytes, context) -> bytes:
        return b"ok"
    handler = grpc.method_handlers_generic_handler("t.Repos", {
        "Update": grpc.unary_unary_rpc_method_handler(update_settings),
        "Read": grpc.unary_unary_rpc_method_handler(read)})
    server, _health = grpcio.create_server([], [])
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpcio.channel(f"127.0.0.1:{port}")
    try:
        repos.put("info:7", "public", ["7"])
        repos.put("info:8", "public", ["8"])
        assert await channel.unary_unary("/t.Repos/Read")(b"7") == b"ok"
        assert repos.get("info:7") == "public"            # a read changes nothing
        assert await channel.unary_unary("/t.Repos/Update")(b"7") == b"ok"
        assert repos.get("info:7") is MISSING              # gone before the caller went on
        assert repos.get("info:8") == "public"
    finally:
        await channel.close()
        await server.stop(None)
        hotcache.install(None)


# --- the listener on a real Redis (its own server, so killing its clients touches no other test) --

@pytest.fixture
def redis_url(tmp_path):
    from hangar_stack import infra
    server = infra.start_redis(tmp_path, infra.free_port())
    yield f"redis://127.0.0.1:{server['port']}/0"
    infra.stop_pid(server["pid"])


async def until(condition, what: str, limit: float = 30.0) -> None:
    """Wait for `condition()` (polled; the limit only keeps a broken build from hanging)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.001)


async def listening_bus(redis_url: str) -> tuple[Bus, Cache, Cache]:
    bus = Bus(redis_url)
    principals = Cache(bus, "principals", [hotcache.PRINCIPALS], ttl=60)
    entries = Cache(bus, "entries", [], ttl=0, immutable=True)
    await bus.start()
    await until(lambda: bus.healthy, "subscribed")
    return bus, principals, entries


async def test_a_killed_subscription_empties_the_caches_as_soon_as_it_is_noticed(redis_url):
    """Redis drops the subscriber and a revocation is published while it is away: the listener
    must drop what it holds the moment it sees the loss, not once it has subscribed again (an
    entry younger than UNSAFE_TTL would otherwise be served in between), and take messages
    again afterwards."""
    bus, principals, entries = await listening_bus(redis_url)
    client = aioredis.from_url(redis_url)
    try:
        principals.put("token", "alice", ["1"])
        entries.put("sha:path", "blob")
        await client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        await client.publish(hotcache.CHANNEL, b'{"principals": ["1"]}')   # reaches no one
        await until(lambda: not bus.healthy, "the loss noticed")
        assert principals.get("token") is MISSING
        assert entries.get("sha:path") == "blob"    # immutable: nothing to invalidate
        await until(lambda: bus.healthy, "subscribed again")
        assert bus.gaps == 1
        principals.put("token", "alice", ["1"])
        assert await client.publish(hotcache.CHANNEL, b'{"principals": ["1"]}') == 1
        await until(lambda: principals.get("token") is MISSING, "a message applied after the gap")
    finally:
        await client.aclose()
        await bus.close()


class RetryingBus(Bus):
    """A bus whose subscription client has a retrying policy, as redis-py's own defaults and
    redis_client.connect() do: on a dropped connection redis-py then redials and resubscribes
    inside `get_message` and returns as if nothing happened (issue 16's lost revocations)."""

    async def start(self) -> None:
        await super().start()   # the listener task has not run yet: swap its client first
        assert self._listener is not None
        await self._listener.aclose()
        self._listener = aioredis.from_url(self.redis_url, retry=Retry(NoBackoff(), 3))


async def test_a_redial_behind_the_listeners_back_is_a_gap(redis_url):
    """Whatever redials the subscribed connection, the listener's connect callback makes it a gap:
    caches emptied, subscription made again from scratch."""
    bus = RetryingBus(redis_url)
    principals = Cache(bus, "principals", [hotcache.PRINCIPALS], ttl=60)
    await bus.start()
    client = aioredis.from_url(redis_url)
    try:
        await until(lambda: bus.healthy, "subscribed")
        principals.put("token", "alice", ["1"])
        await client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        await client.publish(hotcache.CHANNEL, b'{"principals": ["1"]}')   # reaches no one
        await until(lambda: bus.gaps == 1, "the redial taken for a gap")
        assert principals.get("token") is MISSING
        await until(lambda: bus.healthy, "subscribed again")
    finally:
        await client.aclose()
        await bus.close()
