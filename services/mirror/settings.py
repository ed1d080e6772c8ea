"""Mirror settings (HANGAR_UPSTREAM_* / HANGAR_MIRROR_*), one frozen object built from the environment."""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass

from hangar_common.config import env as _env
from hangar_common.config import temp_dir


def _patterns(raw: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in raw.split(",") if p.strip())


@dataclass(frozen=True)
class MirrorSettings:
    upstream_url: str          # "" = the mirror is off
    upstream_token: str        # optional service token (gated/private repos of `token_repos` only)
    token_repos: tuple[str, ...]
    allow: tuple[str, ...]     # repo id patterns (fnmatch, e.g. "openai-community/*"); "*" = all
    deny: tuple[str, ...]
    ttl: int                   # seconds before a branch name is revalidated upstream
    timeout: float             # per upstream request (connect and between bytes)
    down_for: int              # after a failed upstream call, serve from cache without asking for this long
    spool_dir: str
    import_sync_every: int     # seconds between scheduled syncs of finished imports; 0 = on demand only
    cache_max_bytes: int       # bound of cached (not imported) LFS content, LRU eviction; 0 = unbounded
    access_ttl: int            # seconds a user's "the upstream serves me this gated/private repo" is remembered

    @property
    def enabled(self) -> bool:
        return bool(self.upstream_url)

    @classmethod
    def from_env(cls) -> MirrorSettings:
        return cls(
            upstream_url=_env("UPSTREAM_URL").rstrip("/"),
            upstream_token=_env("UPSTREAM_TOKEN"),
            token_repos=_patterns(_env("UPSTREAM_TOKEN_REPOS")),
            allow=_patterns(_env("MIRROR_ALLOW", "*")),
            deny=_patterns(_env("MIRROR_DENY")),
            ttl=int(_env("MIRROR_TTL", "300")),
            timeout=float(_env("MIRROR_TIMEOUT", "10")),
            down_for=int(_env("MIRROR_DOWN_FOR", "30")),
            spool_dir=_env("MIRROR_SPOOL_DIR", os.path.join(temp_dir(), "hangar-mirror")),
            import_sync_every=int(_env("MIRROR_IMPORT_SYNC_EVERY", "0")),
            cache_max_bytes=int(_env("MIRROR_CACHE_MAX_BYTES", "0")),
            access_ttl=int(_env("MIRROR_ACCESS_TTL", "60")),
        )

    def allows(self, repo_type: str, repo_id: str) -> bool:
        """Allow/deny rules match `ns/name` or `type:ns/name` (case-insensitive); deny wins."""
        names = (repo_id.lower(), f"{repo_type}:{repo_id}".lower())
        def hit(patterns):
            return any(fnmatch.fnmatchcase(n, p.lower()) for p in patterns for n in names)
        return hit(self.allow) and not hit(self.deny)

    def service_token_for(self, repo_type: str, repo_id: str) -> str:
        names = (repo_id.lower(), f"{repo_type}:{repo_id}".lower())
        if self.upstream_token and any(fnmatch.fnmatchcase(n, p.lower()) for p in self.token_repos for n in names):
            return self.upstream_token
        return ""
