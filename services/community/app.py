"""The community service: webhooks, likes, collections, discussions and pull requests, over gRPC.
It owns the `community` schema; background workers (started here) move events from the outboxes
to webhook deliveries."""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from hangar_common.config import Settings
from hangar_common.http import create_app
from hangar_common.runtime import Resources
from hangar_protos import community_pb2, community_pb2_grpc

from . import collections, delivery, likes
from .context import Community
from .servicer import CommunityServicer
from .settings import CommunitySettings

SCHEMA = "community"
MIGRATIONS = Path(__file__).parent / "migrations"
logger = logging.getLogger("hangar.community")

# Background loops started with the service: each is `async def loop(ctx)` and runs until cancelled.
WORKERS: list = [delivery.run]
# What other features do when a repository event is imported (a deleted repo's likes and collection items go with it).
delivery.REPO_EVENT_HOOKS += [likes.forget_deleted_repo, collections.forget_deleted_repo]


def build(settings: Settings):
    resources = Resources(settings)
    config = CommunitySettings.from_env()
    state: dict = {}

    @asynccontextmanager
    async def lifespan(app):
        tasks: list[asyncio.Task] = []
        try:
            await resources.open_database(SCHEMA, MIGRATIONS)
            await resources.open_redis()
            state["ctx"] = ctx = await Community.open(resources, SCHEMA, config)
            await resources.start_grpc(
                [(community_pb2_grpc.add_CommunityServicer_to_server, CommunityServicer(ctx))],
                [community_pb2.DESCRIPTOR.services_by_name["Community"].full_name])
            tasks = [asyncio.create_task(worker(ctx)) for worker in WORKERS]
            app.state.resources = resources
            yield
        finally:
            for task in tasks:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await resources.close()
            if "ctx" in state:
                await state["ctx"].close()

    return create_app("community", lifespan=lifespan, health_checks=lambda app: {
        "postgres": resources.database_up, "redis": resources.redis_up})
