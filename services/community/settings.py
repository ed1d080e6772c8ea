"""Settings of the community service that the shared `Settings` does not carry (environment):

    HANGAR_COMMUNITY_POLL_INTERVAL      1.0    seconds between outbox polls when idle
    HANGAR_WEBHOOK_ALLOWED_NETWORKS     ""     comma-separated CIDRs webhook targets may resolve to
                                               although private/loopback/link-local (admin setting)
    HANGAR_WEBHOOK_TIMEOUT              10     seconds a delivery attempt may take
    HANGAR_WEBHOOK_MAX_ATTEMPTS         8      attempts before a delivery is marked failed
    HANGAR_WEBHOOK_RETRY_BASE           10     seconds before the first retry; doubles each time
    HANGAR_WEBHOOK_RETRY_MAX            3600   longest wait between two attempts
    HANGAR_WEBHOOK_LOG_DAYS             30     finished deliveries (and their events) are kept this long
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from hangar_common.config import env
from hangar_common.config import env_float as _float


def _networks(raw: str) -> tuple:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class CommunitySettings:
    poll_interval: float          # seconds between polls of the outboxes when there is nothing to do
    allowed_networks: tuple       # ip_network objects exempt from the private-target refusal
    webhook_timeout: float
    max_attempts: int
    retry_base: float
    retry_max: float
    log_days: float

    @classmethod
    def from_env(cls) -> CommunitySettings:
        return cls(poll_interval=_float("COMMUNITY_POLL_INTERVAL", 1.0),
                   allowed_networks=_networks(env("WEBHOOK_ALLOWED_NETWORKS")),
                   webhook_timeout=_float("WEBHOOK_TIMEOUT", 10.0),
                   max_attempts=int(_float("WEBHOOK_MAX_ATTEMPTS", 8)),
                   retry_base=_float("WEBHOOK_RETRY_BASE", 10.0),
                   retry_max=_float("WEBHOOK_RETRY_MAX", 3600.0),
                   log_days=_float("WEBHOOK_LOG_DAYS", 30.0))
