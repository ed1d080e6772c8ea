"""Everything Xet serves over HTTP, as one router the lfs app mounts (`app.include_router`)."""
from __future__ import annotations

from fastapi import APIRouter

from . import cas_routes, file_stream, token_routes

xet_router = APIRouter()
xet_router.include_router(token_routes.router)
xet_router.include_router(cas_routes.router)
xet_router.include_router(file_stream.router)
