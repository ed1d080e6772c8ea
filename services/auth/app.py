"""The auth service: users, tokens, organizations and authorization decisions, over gRPC."""
from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from hangar_common.config import Settings
from hangar_common.http import create_app
from hangar_common.runtime import Resources
from hangar_protos import auth_pb2, auth_pb2_grpc

from .servicer import AuthServicer

SCHEMA = "auth"
MIGRATIONS = Path(__file__).parent / "migrations"


def build(settings: Settings):
    resources = Resources(settings)

    @asynccontextmanager
    async def lifespan(app):
        try:
            await resources.open_database(SCHEMA, MIGRATIONS)
            await resources.open_redis()
            await resources.open_invalidations()
            if settings.mirror_target:   # decisions on gated/private upstream caches (issue 18)
                resources.open_channel("mirror", settings.mirror_target)
            await resources.start_grpc(
                [(auth_pb2_grpc.add_AuthServicer_to_server, AuthServicer(resources))],
                [auth_pb2.DESCRIPTOR.services_by_name["Auth"].full_name])
            app.state.resources = resources
            yield
        finally:
            await resources.close()

    return create_app("auth", lifespan=lifespan, health_checks=lambda app: {
        "postgres": resources.database_up, "redis": resources.redis_up})
