"""Building blocks for a service's lifespan: the database with migrations, Redis, the object store,
an optional gRPC server, and channels to peers. Each service composes what it needs."""
from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from . import db, grpcio, hotcache, redis_client
from .config import Settings
from .storage import ObjectStore

logger = logging.getLogger("hangar.runtime")


class DependencyUnreachable(RuntimeError):
    """A dependency needed at start is not reachable; the service exits with this message."""


def _where(url: str) -> str:
    """host:port of a URL, without credentials."""
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


class Resources:
    """What a running service holds; created once in the lifespan and passed to routes/servicers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: AsyncEngine | None = None
        self.redis: aioredis.Redis | None = None
        self.store: ObjectStore | None = None
        self.channels: dict[str, Any] = {}
        self.grpc_server = None
        self.bus: hotcache.Bus | None = None

    async def open_database(self, schema: str, migrations_dir: Path | None) -> None:
        self.engine = db.create_engine(self.settings.database_url, schema)
        try:
            await self.database_up()
        except Exception as exc:
            where = _where(self.settings.database_url)
            raise DependencyUnreachable(f"PostgreSQL unreachable ({where}): {exc}") from None
        if migrations_dir is not None:
            await db.migrate(self.engine, schema, migrations_dir)

    async def open_redis(self) -> None:
        """Redis holds no data of record (redis_client.py): a service starts without it, works on
        without it where it can, and reconnects by itself once it is back."""
        self.redis = redis_client.connect(self.settings.redis_url)
        try:
            await self.redis.ping()
        except redis_client.DOWN as exc:
            logger.warning("redis unreachable at start; going on without it", extra={"fields": {
                "where": _where(self.settings.redis_url), "error": str(exc)[:300]}})

    async def open_store(self) -> None:
        self.store = ObjectStore(self.settings)
        try:
            await self.store.ensure_bucket()
        except Exception as exc:
            raise DependencyUnreachable(f"S3 unreachable ({self.settings.s3_endpoint}): {exc}") from None

    async def open_invalidations(self) -> hotcache.Bus:
        """This process's end of the cache invalidation channel (hotcache.py): it publishes what
        this service's RPCs change and keeps its own caches current. Redis being down at start
        is no error: the caches fail closed until the subscription is up."""
        self.bus = hotcache.Bus(self.settings.redis_url)
        await self.bus.start()
        hotcache.install(self.bus)
        return self.bus

    def open_channel(self, name: str, target: str):
        self.channels[name] = grpcio.channel(target)
        return self.channels[name]

    async def start_grpc(self, servicers, service_names: list[str]) -> None:
        server, health = grpcio.create_server(servicers, service_names)
        bound = server.add_insecure_port(f"{self.settings.http_host}:{self.settings.grpc_port}")
        if not bound:
            raise RuntimeError(f"cannot bind gRPC port {self.settings.grpc_port}")
        await server.start()
        await grpcio.mark_serving(health, service_names)
        self.grpc_server = server
        logger.info("grpc serving", extra={"fields": {"port": bound}})

    async def close(self) -> None:
        if self.grpc_server is not None:
            await self.grpc_server.stop(grace=10)
        if self.bus is not None:
            hotcache.install(None)
            await self.bus.close()
        for ch in self.channels.values():
            await ch.close()
        if self.redis is not None:
            await self.redis.aclose()
        if self.engine is not None:
            await self.engine.dispose()

    # Health checks, each answering True when the dependency is reachable.
    async def database_up(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def redis_up(self) -> bool:
        return bool(await self.redis.ping())

    async def store_up(self) -> bool:
        return await self.store.ping()


async def managed(resources: Resources, stack: AsyncExitStack) -> Resources:
    stack.push_async_callback(resources.close)
    return resources
