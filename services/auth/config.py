"""Settings of the auth service beyond the shared ones (HANGAR_* environment variables)."""
from __future__ import annotations

from dataclasses import dataclass

from hangar_common.config import env
from hangar_common.config import env_int as _int


def _throttle_mode() -> str:
    mode = env("LOGIN_THROTTLE_WITHOUT_REDIS", "open").strip().lower() or "open"
    if mode not in ("open", "closed"):
        raise RuntimeError("HANGAR_LOGIN_THROTTLE_WITHOUT_REDIS must be 'open' or 'closed'")
    return mode


@dataclass(frozen=True)
class AuthSettings:
    session_max_age: int          # seconds a login session lives
    login_window: int             # seconds over which failed logins are counted
    login_max_per_account: int    # failed logins per account within the window before 429
    login_max_per_address: int    # failed logins per client address within the window before 429
    principal_cache_ttl: int      # seconds a token/session -> principal lookup may be cached in Redis
    login_throttle_fail_open: bool  # password logins while Redis (the throttle's counters) is down
    upstream_token_key: str       # encrypts linked upstream tokens ("" = derived from the secret key)

    @classmethod
    def from_env(cls) -> AuthSettings:
        return cls(
            session_max_age=_int("SESSION_MAX_AGE", 14 * 24 * 3600),
            login_window=_int("LOGIN_WINDOW", 15 * 60),
            login_max_per_account=_int("LOGIN_MAX_PER_ACCOUNT", 5),
            login_max_per_address=_int("LOGIN_MAX_PER_ADDRESS", 30),
            principal_cache_ttl=_int("PRINCIPAL_CACHE_TTL", 60),
            login_throttle_fail_open=_throttle_mode() == "open",
            upstream_token_key=env("UPSTREAM_TOKEN_KEY"),
        )
