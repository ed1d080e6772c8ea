"""The upstream Hub's HTTP API as the mirror uses it: repo info (with its redirects), the Git LFS
batch API for an object's download URL, and the object bytes themselves.

Every call has a short timeout; after a failure the upstream counts as down for `down_for` seconds
and calls fail at once (cached answers are then served, uncached ones get UpstreamUnavailable fast,
never a hang). Redirects are not followed blindly: a relative one from the API means a renamed repo.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpx

from hangar_common import edge, errors

from . import metrics
from .settings import MirrorSettings

LFS_JSON = "application/vnd.git-lfs+json"


def unavailable(message: str = "The upstream Hub is unreachable") -> errors.HangarError:
    return errors.HangarError(message, code="UpstreamUnavailable", status=502)


@dataclass(frozen=True)
class RepoAnswer:
    namespace: str
    name: str
    private: bool
    gated: str                 # "" | "auto" | "manual"
    sha: str


@dataclass(frozen=True)
class Moved:
    namespace: str
    name: str


class Upstream:
    def __init__(self, settings: MirrorSettings) -> None:
        self.settings = settings
        self.base = settings.upstream_url
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(settings.timeout, connect=min(3.0, settings.timeout)),
                                      follow_redirects=False, headers={"User-Agent": "hangar-mirror"})
        self.down_until = 0.0

    async def close(self) -> None:
        await self.http.aclose()

    # --- availability ---------------------------------------------------------------------------

    def is_down(self) -> bool:
        return time.monotonic() < self.down_until

    def mark_down(self) -> None:
        metrics.ERRORS.labels("unreachable").inc()
        self.down_until = time.monotonic() + self.settings.down_for

    async def request(self, method: str, url: str, *, token: str = "", **kwargs) -> httpx.Response:
        if self.is_down():
            raise unavailable()
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            resp = await self.http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError:
            self.mark_down()
            raise unavailable() from None
        if resp.status_code >= 500:
            metrics.ERRORS.labels("upstream-5xx").inc()
            raise unavailable(f"The upstream Hub answered {resp.status_code}")
        return resp

    # --- API ------------------------------------------------------------------------------------

    async def repo_info(self, repo_type: str, namespace: str, name: str, token: str) -> RepoAnswer | Moved:
        url = f"{self.base}/api/{edge.plural(repo_type)}/{namespace}/{name}"
        resp = await self.request("GET", url, token=token)
        if resp.status_code in (301, 302, 307, 308):
            return _moved(resp.headers.get("location", ""), repo_type)
        if resp.status_code in (401, 404):
            raise errors.RepoNotFound("Repository not found")
        if resp.status_code == 403:
            raise errors.Forbidden("Access to this repository is restricted on the upstream Hub", code="GatedRepo")
        if resp.status_code != 200:
            metrics.ERRORS.labels("bad-answer").inc()
            raise unavailable(f"The upstream Hub answered {resp.status_code}")
        try:
            body = resp.json()
            namespace, name = body["id"].split("/", 1)
        except (ValueError, KeyError, AttributeError):
            metrics.ERRORS.labels("bad-answer").inc()
            raise unavailable("The upstream Hub sent an unreadable repo info") from None
        gated = body.get("gated") or ""
        return RepoAnswer(namespace, name, bool(body.get("private")),
                          gated if gated in ("auto", "manual") else ("auto" if gated else ""), body.get("sha", ""))

    async def legacy_id(self, repo_type: str, name: str, token: str) -> Moved:
        """Where the upstream sends an id without a namespace (`/api/models/gpt2`): its redirect,
        or the id its answer carries."""
        resp = await self.request("GET", f"{self.base}/api/{edge.plural(repo_type)}/{name}", token=token)
        if resp.status_code in (301, 302, 307, 308):
            return _moved(resp.headers.get("location", ""), repo_type)
        if resp.status_code in (401, 403, 404):
            raise errors.RepoNotFound("Repository not found")
        try:
            namespace, _, real = resp.json()["id"].partition("/") if resp.status_code == 200 else ("", "", "")
        except (ValueError, KeyError, AttributeError):
            namespace, real = "", ""
        if not namespace or not real:
            metrics.ERRORS.labels("bad-answer").inc()
            raise unavailable(f"The upstream Hub answered {resp.status_code} for {name}")
        return Moved(namespace, real)

    async def auth_check(self, repo_type: str, repo_id: str, token: str) -> bool:
        """Would the upstream let `token` download from the repo (`HfApi.auth_check`)?"""
        resp = await self.request("GET", f"{self.base}/api/{edge.plural(repo_type)}/{repo_id}/auth-check",
                                  token=token)
        return resp.status_code == 200

    async def lfs_download(self, repo_type: str, repo_id: str, oid: str, size: int, token: str) -> tuple[str, dict]:
        """The href (and headers) the upstream's LFS batch API gives for downloading one object."""
        prefix = edge.url_prefix(repo_type)
        url = f"{self.base}/{prefix}{repo_id}.git/info/lfs/objects/batch"
        resp = await self.request("POST", url, token=token, headers={"Accept": LFS_JSON, "Content-Type": LFS_JSON},
                                  json={"operation": "download", "transfers": ["basic"],
                                        "objects": [{"oid": oid, "size": size}]})
        if resp.status_code in (401, 403, 404):
            raise errors.EntryNotFound(f"The upstream Hub does not serve LFS object {oid}")
        try:
            obj = resp.json()["objects"][0]
            action = obj["actions"]["download"]
            return action["href"], dict(action.get("header") or {})
        except (ValueError, KeyError, IndexError, TypeError):
            metrics.ERRORS.labels("bad-answer").inc()
            raise errors.EntryNotFound(f"The upstream Hub does not serve LFS object {oid}") from None

    def stream(self, url: str, headers: dict):
        """The bytes at an href (may be another origin; redirects followed, no Hangar credentials)."""
        if self.is_down():
            raise unavailable()
        return self.http.stream("GET", url, headers=headers, follow_redirects=True)


def _moved(location: str, repo_type: str) -> Moved:
    """`/api/models/{ns}/{name}` (relative or absolute) -> the new name."""
    parts = [unquote(p) for p in urlsplit(location).path.split("/") if p]
    if len(parts) >= 4 and parts[0] == "api" and parts[1] == edge.plural(repo_type):
        return Moved(parts[2], parts[3])
    metrics.ERRORS.labels("bad-answer").inc()
    raise unavailable("The upstream Hub redirected somewhere unexpected")
