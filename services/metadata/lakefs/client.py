"""The part of lakeFS's REST API (api/swagger.yml of lakeFS v1) the engine uses, over async httpx.

lakeFS's own Python packages are synchronous (urllib3), so the engine speaks HTTP itself. Every call
is idempotent from the engine's point of view: "already exists" and "not found" on delete are
answered as success where the engine wants the state, not the act.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx


class LakefsError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"lakeFS answered {status}: {message}")
        self.status = status


@dataclass(frozen=True)
class LakefsCommit:
    id: str
    metadata: dict[str, str]


def _q(value: str) -> str:
    return quote(value, safe="")


class LakefsClient:
    def __init__(self, url: str, access_key: str, secret_key: str, *, timeout: float = 60.0) -> None:
        self.http = httpx.AsyncClient(base_url=url.rstrip("/") + "/api/v1", auth=(access_key, secret_key),
                                      timeout=timeout, limits=httpx.Limits(max_connections=32))

    async def close(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, *, ok: tuple[int, ...] = (), **kwargs) -> httpx.Response:
        response = await self.http.request(method, path, **kwargs)
        if response.status_code < 300 or response.status_code in ok:
            return response
        try:
            message = response.json().get("message", response.text)
        except ValueError:
            message = response.text
        raise LakefsError(response.status_code, str(message)[:500])

    async def healthy(self) -> bool:
        try:
            return (await self.http.get("/healthcheck")).status_code in (200, 204)
        except httpx.HTTPError:
            return False

    # --- repositories -----------------------------------------------------------------------
    async def repository_exists(self, repo: str) -> bool:
        return (await self._call("GET", f"/repositories/{_q(repo)}", ok=(404,))).status_code == 200

    async def create_repository(self, repo: str, storage_namespace: str, default_branch: str) -> None:
        await self._call("POST", "/repositories", ok=(409,), json={
            "name": repo, "storage_namespace": storage_namespace, "default_branch": default_branch})

    async def delete_repository(self, repo: str) -> None:
        await self._call("DELETE", f"/repositories/{_q(repo)}", ok=(404,))

    async def list_repositories(self) -> list[str]:
        return [r["id"] for r in await self._paged("/repositories")]

    # --- branches and tags --------------------------------------------------------------------
    async def branch_head(self, repo: str, branch: str) -> str | None:
        response = await self._call("GET", f"/repositories/{_q(repo)}/branches/{_q(branch)}", ok=(404,))
        return response.json()["commit_id"] if response.status_code == 200 else None

    async def create_branch(self, repo: str, branch: str, source: str) -> None:
        await self._call("POST", f"/repositories/{_q(repo)}/branches", json={"name": branch, "source": source})

    async def delete_branch(self, repo: str, branch: str) -> None:
        await self._call("DELETE", f"/repositories/{_q(repo)}/branches/{_q(branch)}", ok=(404,))

    async def hard_reset(self, repo: str, branch: str, ref: str) -> None:
        await self._call("PUT", f"/repositories/{_q(repo)}/branches/{_q(branch)}/hard_reset",
                         params={"ref": ref, "force": "true"})

    async def drop_staged(self, repo: str, branch: str) -> None:
        """Throw away uncommitted changes (a crash may have left some)."""
        await self._call("PUT", f"/repositories/{_q(repo)}/branches/{_q(branch)}", json={"type": "reset"})

    async def list_branches(self, repo: str) -> dict[str, str]:
        return {b["id"]: b["commit_id"] for b in await self._paged(f"/repositories/{_q(repo)}/branches")}

    async def tag_target(self, repo: str, tag: str) -> str | None:
        response = await self._call("GET", f"/repositories/{_q(repo)}/tags/{_q(tag)}", ok=(404,))
        return response.json()["commit_id"] if response.status_code == 200 else None

    async def create_tag(self, repo: str, tag: str, commit_id: str) -> None:
        await self._call("POST", f"/repositories/{_q(repo)}/tags", json={"id": tag, "ref": commit_id, "force": True})

    async def delete_tag(self, repo: str, tag: str) -> None:
        await self._call("DELETE", f"/repositories/{_q(repo)}/tags/{_q(tag)}", ok=(404,))

    # --- objects and commits --------------------------------------------------------------------
    async def link(self, repo: str, branch: str, path: str, physical_address: str, *, checksum: str,
                   size: int, metadata: dict[str, str]) -> None:
        """Stage `path` as the object at `physical_address` (linked, never copied)."""
        await self._call("PUT", f"/repositories/{_q(repo)}/branches/{_q(branch)}/staging/backing",
                         params={"path": path}, json={
                             "staging": {"physical_address": physical_address}, "checksum": checksum,
                             "size_bytes": size, "user_metadata": metadata, "force": True})

    async def delete_objects(self, repo: str, branch: str, paths: list[str]) -> None:
        for start in range(0, len(paths), 1000):  # the API's limit per call
            await self._call("POST", f"/repositories/{_q(repo)}/branches/{_q(branch)}/objects/delete",
                             json={"paths": paths[start:start + 1000], "force": True})

    async def commit(self, repo: str, branch: str, message: str, metadata: dict[str, str], date: int) -> str:
        response = await self._call("POST", f"/repositories/{_q(repo)}/branches/{_q(branch)}/commits", json={
            "message": message, "metadata": metadata, "date": date, "allow_empty": True, "force": True})
        return response.json()["id"]

    async def get_commit(self, repo: str, commit_id: str) -> LakefsCommit:
        body = (await self._call("GET", f"/repositories/{_q(repo)}/commits/{_q(commit_id)}")).json()
        return LakefsCommit(body["id"], body.get("metadata") or {})

    async def list_objects(self, repo: str, ref: str) -> dict[str, dict]:
        """path -> object stats of every object at `ref` (tests and the drift report)."""
        return {o["path"]: o for o in await self._paged(f"/repositories/{_q(repo)}/refs/{_q(ref)}/objects/ls")}

    async def _paged(self, path: str) -> list[dict]:
        out, after = [], ""
        while True:
            body = (await self._call("GET", path, params={"after": after, "amount": 1000})).json()
            out.extend(body["results"])
            if not body["pagination"]["has_more"]:
                return out
            after = body["pagination"]["next_offset"]
