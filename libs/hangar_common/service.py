"""Process entry point shared by every service: logging, uvicorn, graceful shutdown."""
from __future__ import annotations

import asyncio
import logging
import sys

import uvicorn

from .config import Settings
from .logs import configure
from .net import port_is_free

logger = logging.getLogger("hangar.service")


def serve(app, settings: Settings) -> None:
    """Run an ASGI app until SIGTERM/SIGINT. Exits non-zero at once if a port is taken."""
    configure(settings.service, settings.log_level)
    for port in {settings.http_port, settings.grpc_port} - {0}:
        if not port_is_free(port, settings.http_host):
            logger.error("port already in use", extra={"fields": {"port": port}})
            sys.exit(f"hangar-{settings.service}: port {port} on {settings.http_host} is already in use")
    config = uvicorn.Config(
        app, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False,
        # Longer than Traefik's idle pool timeout so the proxy never reuses a closed connection.
        timeout_keep_alive=120, timeout_graceful_shutdown=20, lifespan="on", proxy_headers=True,
        forwarded_allow_ips="*", loop="uvloop", http="httptools",
    )
    server = uvicorn.Server(config)
    asyncio.run(server.serve())
    if not server.started:
        sys.exit(3)
