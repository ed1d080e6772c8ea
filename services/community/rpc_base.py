"""What every part of the community service's gRPC surface shares: the service context and small
helpers to ask auth and metadata."""
from __future__ import annotations

from .context import Community


class ServicerBase:
    def __init__(self, ctx: Community) -> None:
        self.ctx = ctx
