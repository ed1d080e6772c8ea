"""What every part of the community service runs on: its database pool (the `community` schema),
stubs to auth (every access decision) and metadata (repository facts), and its settings."""
from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from hangar_common import db
from hangar_common.runtime import Resources
from hangar_protos import auth_pb2_grpc, metadata_pb2_grpc

from .settings import CommunitySettings


@dataclass
class Community:
    pool: asyncpg.Pool
    auth: auth_pb2_grpc.AuthStub
    metadata: metadata_pb2_grpc.MetadataStub
    resources: Resources
    config: CommunitySettings

    @classmethod
    async def open(cls, resources: Resources, schema: str, config: CommunitySettings) -> Community:
        settings = resources.settings
        pool = await asyncpg.create_pool(
            db.asyncpg_dsn(settings.database_url), min_size=1, max_size=10,
            server_settings={"search_path": f"{schema},public", "application_name": "hangar-community"})
        return cls(pool=pool,
                   auth=auth_pb2_grpc.AuthStub(resources.open_channel("auth", settings.auth_target)),
                   metadata=metadata_pb2_grpc.MetadataStub(
                       resources.open_channel("metadata", settings.metadata_target)),
                   resources=resources, config=config)

    async def close(self) -> None:
        await self.pool.close()
