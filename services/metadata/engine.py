"""What every operation of the git-native engine needs: the database pool, the object store,
the LFS checker and the settings."""
from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from hangar_common import db
from hangar_common.config import Settings

from .lfscheck import LfsChecker
from .objects import ObjectStore


@dataclass
class Engine:
    pool: asyncpg.Pool
    store: ObjectStore
    lfs: LfsChecker
    settings: Settings
    _pools: tuple = field(default=(), repr=False)

    @classmethod
    async def open(cls, settings: Settings, schema: str, lfs_channel) -> Engine:
        """Two pools: one for requests and their transactions, one that only the object store uses.
        Code holding a request connection (even inside a transaction) may read objects without ever
        waiting for a second connection of its own pool, so load cannot starve the pool."""
        def pool(max_size: int, name: str):
            return asyncpg.create_pool(
                db.asyncpg_dsn(settings.database_url), min_size=1, max_size=max_size,
                server_settings={"search_path": f"{schema},public", "application_name": name})
        requests = await pool(16, "hangar-metadata")
        objects = await pool(8, "hangar-metadata-objects")
        engine = cls(requests, ObjectStore(objects, settings.metadata_cache_mb), LfsChecker(lfs_channel, requests),
                     settings)
        engine._pools = (requests, objects)
        return engine

    async def close(self) -> None:
        for pool in self._pools or (self.pool,):
            await pool.close()
