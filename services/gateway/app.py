"""The gateway: the Hugging Face-compatible REST surface. Stateless; talks gRPC to auth, metadata,
lfs and community, and reports the health of the whole hub."""
from __future__ import annotations

from contextlib import asynccontextmanager

import httpx

from hangar_common.config import Settings
from hangar_common.grpcio import check_health
from hangar_common.http import Shortcuts, create_app
from hangar_common.runtime import Resources
from hangar_common.storage import ObjectStore

from .deps import Clients
from .routes import ROUTERS, resolve


def build(settings: Settings):
    resources = Resources(settings)

    @asynccontextmanager
    async def lifespan(app):
        try:
            for name, target in (("auth", settings.auth_target), ("metadata", settings.metadata_target),
                                 ("lfs", settings.lfs_target),
                                 ("community", settings.community_target)):
                resources.open_channel(name, target)
            if settings.mirror_target:
                resources.open_channel("mirror", settings.mirror_target)
            # The gateway owns no tables; it opens the shared dependencies only to report on them.
            await resources.open_database("public", None)
            await resources.open_redis()
            await resources.open_invalidations()
            resources.store = ObjectStore(settings)
            app.state.http = httpx.AsyncClient(timeout=5.0)
            app.state.clients = Clients(resources.channels, resources.bus)
            app.state.resources = resources
            yield
        finally:
            await app.state.http.aclose()
            await resources.close()

    app = create_app("gateway", lifespan=lifespan, health_checks=lambda app: _hub_checks(app, resources))
    for router in ROUTERS:
        app.include_router(router)
    return Shortcuts(app, "gateway", [resolve.SHORTCUT])


def _hub_checks(app, resources: Resources):
    settings = resources.settings

    def grpc_check(name):
        return lambda: check_health(resources.channels[name])

    def http_check(url):
        async def check():
            resp = await app.state.http.get(f"{url}/health")
            return resp.status_code == 200
        return check

    checks = {
        "auth": grpc_check("auth"),
        "metadata": grpc_check("metadata"),
        "lfs": grpc_check("lfs"),
        "community": grpc_check("community"),
        "lfs-http": http_check(settings.lfs_http_url),
        "git": http_check(settings.git_http_url),
        "postgres": resources.database_up,
        "redis": resources.redis_up,
        "s3": resources.store_up,
    }
    if settings.web_http_url:
        checks["web"] = http_check(settings.web_http_url)
    return checks
