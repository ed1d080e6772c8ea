"""Settings of the community service that the shared `Settings` does not carry (environment):

    HANGAR_COMMUNITY_POLL_INTERVAL      1.0    seconds between outbox polls when idle
"""
from __future__ import annotations

import os
from dataclasses import dataclass


def _float(name: str, default: float) -> float:
    raw = os.environ.get(f"HANGAR_{name}", "")
    return float(raw) if raw else default


@dataclass(frozen=True)
class CommunitySettings:
    poll_interval: float          # seconds between polls of the outboxes when there is nothing to do

    @classmethod
    def from_env(cls) -> CommunitySettings:
        return cls(poll_interval=_float("COMMUNITY_POLL_INTERVAL", 1.0))
