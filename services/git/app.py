"""The git service: git smart HTTP. Keeps nothing on disk; refs and objects live in metadata."""
from __future__ import annotations

from contextlib import asynccontextmanager

from hangar_common.config import Settings
from hangar_common.grpcio import check_health
from hangar_common.http import create_app
from hangar_common.runtime import Resources

from .routes import Clients, router


def build(settings: Settings):
    resources = Resources(settings)

    @asynccontextmanager
    async def lifespan(app):
        try:
            resources.open_channel("auth", settings.auth_target)
            resources.open_channel("metadata", settings.metadata_target)
            if settings.mirror_target:
                resources.open_channel("mirror", settings.mirror_target)
            app.state.resources = resources
            app.state.clients = Clients(resources.channels)
            yield
        finally:
            await resources.close()

    app = create_app("git", lifespan=lifespan, health_checks=lambda app: {
        "metadata": lambda: check_health(resources.channels["metadata"]),
        "auth": lambda: check_health(resources.channels["auth"])})
    app.include_router(router)
    return app
