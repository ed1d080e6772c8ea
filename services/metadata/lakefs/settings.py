"""Settings of the lakeFS engine (HANGAR_METADATA_ENGINE=lakefs), from the environment."""
from __future__ import annotations

from dataclasses import dataclass

from hangar_common.config import env as _env
from hangar_common.config import env_int as _int


@dataclass(frozen=True)
class LakefsSettings:
    url: str                    # HANGAR_LAKEFS_URL: lakeFS's API origin (internal, never routed)
    access_key: str             # HANGAR_LAKEFS_ACCESS_KEY / _SECRET_KEY: its admin credentials
    secret_key: str
    reconcile_interval: int     # HANGAR_LAKEFS_RECONCILE_INTERVAL: seconds between full drift passes

    @classmethod
    def from_env(cls) -> LakefsSettings:
        url = _env("LAKEFS_URL")
        if not url:
            raise RuntimeError("HANGAR_METADATA_ENGINE=lakefs needs HANGAR_LAKEFS_URL (the launcher sets it)")
        return cls(url=url.rstrip("/"), access_key=_env("LAKEFS_ACCESS_KEY"), secret_key=_env("LAKEFS_SECRET_KEY"),
                   reconcile_interval=_int("LAKEFS_RECONCILE_INTERVAL", 30))


def engine_name() -> str:
    """HANGAR_METADATA_ENGINE: `git` (default) or `lakefs`; anything else refuses to start."""
    name = _env("METADATA_ENGINE", "git").strip().lower() or "git"
    if name not in ("git", "lakefs"):
        raise RuntimeError(f"HANGAR_METADATA_ENGINE={name!r}: choose 'git' or 'lakefs'")
    return name
