"""What every operation of the git-native engine needs: the database pool, the object store,
the LFS checker and the settings."""
from __future__ import annotations

from dataclasses import dataclass

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

    @classmethod
    async def open(cls, settings: Settings, schema: str, lfs_channel) -> "Engine":
        pool = await asyncpg.create_pool(
            db.asyncpg_dsn(settings.database_url), min_size=2, max_size=20,
            server_settings={"search_path": f"{schema},public", "application_name": "hangar-metadata-engine"})
        return cls(pool, ObjectStore(pool), LfsChecker(lfs_channel), settings)

    async def close(self) -> None:
        await self.pool.close()
