"""Route modules of the gateway, grouped by resource. `ROUTERS` is what app.py mounts."""
from __future__ import annotations

ROUTERS: list = []
