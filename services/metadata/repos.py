"""Repositories: lookup (with redirects of moved repos), create, delete, move, settings, listing."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from hangar_common import hotcache
from hangar_common.errors import BadRequest, Conflict, RepoNotFound

from . import names, outbox

COLUMNS = "r.id, r.type, r.namespace, r.name, r.private, r.gated, r.default_branch, r.space_sdk, " \
          "r.created_at, r.last_modified, r.likes, r.protected_branches"
WITH_SHA = f"""SELECT {COLUMNS}, (SELECT target FROM refs f WHERE f.repo_id = r.id
                 AND f.name = 'refs/heads/' || r.default_branch) AS sha FROM repos r"""


@dataclass(frozen=True, slots=True)
class Repo:
    id: int
    type: str
    namespace: str
    name: str
    private: bool
    gated: str
    default_branch: str
    space_sdk: str
    created_at: datetime
    last_modified: datetime
    sha: str = ""
    redirected_from: tuple[str, str, str] | None = None
    likes: int = 0                      # kept by the community service (SetLikes)
    protected_branches: tuple[str, ...] = ()   # force pushes refused there (forcedupdates.py)

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def from_row(cls, row, redirected_from=None) -> Repo:
        return cls(row["id"], row["type"], row["namespace"], row["name"], row["private"], row["gated"],
                   row["default_branch"], row["space_sdk"], row["created_at"], row["last_modified"],
                   row["sha"] or "", redirected_from, row["likes"], tuple(row["protected_branches"]))


def _not_found(repo_type: str, namespace: str, name: str) -> RepoNotFound:
    return RepoNotFound(f"Repository {namespace}/{name} ({repo_type}) not found")


async def get(conn, repo_type: str, namespace: str, name: str, *, follow_redirects: bool = True) -> Repo:
    repo_type = repo_type or "model"
    row = await conn.fetchrow(
        WITH_SHA + " WHERE r.type = $1 AND lower(r.namespace) = lower($2) AND lower(r.name) = lower($3)",
        repo_type, namespace, name)
    if row is not None:
        return Repo.from_row(row)
    if follow_redirects:
        row = await conn.fetchrow(
            WITH_SHA + """ JOIN repo_redirects d ON d.repo_id = r.id
            WHERE d.type = $1 AND d.namespace_lower = lower($2) AND d.name_lower = lower($3)""",
            repo_type, namespace, name)
        if row is not None:
            return Repo.from_row(row, (repo_type, namespace, name))
    raise _not_found(repo_type, namespace, name)


async def get_by_id(conn, repo_id: int) -> Repo:
    row = await conn.fetchrow(WITH_SHA + " WHERE r.id = $1", repo_id)
    if row is None:
        raise RepoNotFound("Repository not found")
    return Repo.from_row(row)


async def get_many(conn, repo_ids: list[int]) -> list[Repo]:
    rows = await conn.fetch(WITH_SHA + " WHERE r.id = ANY($1::bigint[]) ORDER BY r.id", repo_ids)
    return [Repo.from_row(row) for row in rows]


async def insert(conn, repo_type: str, namespace: str, name: str, *, private: bool, space_sdk: str) -> int:
    """A new repository row (the caller's transaction adds its initial commit)."""
    names.validate_repo(repo_type, namespace, name)
    try:
        repo_id = await conn.fetchval(
            """INSERT INTO repos (type, namespace, name, private, space_sdk) VALUES ($1, $2, $3, $4, $5)
               RETURNING id""", repo_type, namespace, name, private, space_sdk)
    except asyncpg.UniqueViolationError:
        raise Conflict(f"You already created this {repo_type} repo: {namespace}/{name}", code="RepoExists") from None
    # A new repository takes its name back from any redirect of a moved one.
    await conn.execute("DELETE FROM repo_redirects WHERE type = $1 AND namespace_lower = lower($2) "
                       "AND name_lower = lower($3)", repo_type, namespace, name)
    await outbox.repo_changed(conn, repo_id, "repo", "create")
    return repo_id


async def delete(conn, repo: Repo) -> None:
    async with conn.transaction():
        await outbox.repo_changed(conn, repo.id, "repo", "delete")
        await conn.execute("DELETE FROM repos WHERE id = $1", repo.id)


async def move(conn, repo: Repo, namespace: str, name: str) -> None:
    names.validate_repo(repo.type, namespace, name)
    # The event names the repository as it was; `movedTo` says where it went (Hub webhook v3).
    await outbox.repo_changed(conn, repo.id, "repo", "move",
                              {"movedTo": {"name": f"{namespace}/{name}", "owner": {"id": namespace}}})
    try:
        await conn.execute("UPDATE repos SET namespace = $2, name = $3 WHERE id = $1", repo.id, namespace, name)
    except asyncpg.UniqueViolationError:
        raise Conflict(f"A {repo.type} repository called {namespace}/{name} already exists",  # the Hub's wording
                       code="RepoExists") from None
    await conn.execute("DELETE FROM repo_redirects WHERE type = $1 AND namespace_lower = lower($2) "
                       "AND name_lower = lower($3)", repo.type, namespace, name)
    if (repo.namespace.lower(), repo.name.lower()) != (namespace.lower(), name.lower()):
        await conn.execute(
            """INSERT INTO repo_redirects (type, namespace_lower, name_lower, repo_id)
               VALUES ($1, lower($2), lower($3), $4)
               ON CONFLICT (type, namespace_lower, name_lower) DO UPDATE SET repo_id = EXCLUDED.repo_id""",
            repo.type, repo.namespace, repo.name, repo.id)


MAX_PROTECTED_BRANCHES = 100


async def update_settings(conn, repo: Repo, *, private: bool | None, gated: str | None,
                          protected_branches: list[str] | None = None) -> None:
    if gated is not None and gated not in ("", "auto", "manual"):
        raise BadRequest(f"Invalid gated value '{gated}': use auto, manual or nothing", code="InvalidSetting")
    if protected_branches is not None:
        if len(protected_branches) > MAX_PROTECTED_BRANCHES:
            raise BadRequest(f"At most {MAX_PROTECTED_BRANCHES} protected branches", code="InvalidSetting")
        for branch in protected_branches:
            names.validate_ref_name(branch, "branch")
        protected_branches = sorted(set(protected_branches))
    changed = {key: value for key, value in (("private", private), ("gated", gated)) if value is not None}
    async with conn.transaction():
        await conn.execute(
            """UPDATE repos SET private = coalesce($2, private), gated = coalesce($3, gated),
                                protected_branches = coalesce($4::text[], protected_branches) WHERE id = $1""",
            repo.id, private, gated, protected_branches)
        await outbox.repo_changed(conn, repo.id, "repo.config", "update", {"updatedConfig": changed})


async def set_likes(conn, repo_id: int, likes: int) -> None:
    """The like count the community service computed (it owns the likes themselves)."""
    status = await conn.execute("UPDATE repos SET likes = $2 WHERE id = $1", repo_id, max(0, likes))
    hotcache.note(hotcache.REPOS, str(repo_id))
    if not status.endswith(" 1"):
        raise RepoNotFound("Repository not found")


async def touch(conn, repo_id: int) -> None:
    """Lock the repository row for this transaction and mark it modified; every ref change of a
    repository goes through here first, so ref updates and pruning of one repo are serialized."""
    await conn.execute("UPDATE repos SET last_modified = now() WHERE id = $1", repo_id)
    hotcache.note(hotcache.REPOS, str(repo_id))


SORTS = {"lastModified": "r.last_modified", "createdAt": "r.created_at",
         "id": "lower(r.namespace || '/' || r.name)", "likes": "r.likes"}


def _encode_cursor(value, repo_id: int) -> str:
    raw = value.isoformat() if isinstance(value, datetime) else value
    return base64.urlsafe_b64encode(json.dumps([raw, repo_id]).encode()).decode()


def _decode_cursor(cursor: str, sort: str):
    try:
        raw, repo_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        value = str(raw) if sort == "id" else int(raw) if sort == "likes" else datetime.fromisoformat(raw)
        return value, int(repo_id)
    except Exception:
        raise BadRequest("Invalid cursor", code="InvalidCursor") from None


async def list_repos(conn, *, repo_type: str, author: str, search: str, sort: str, direction: int,
                     limit: int, cursor: str, private_namespaces: list[str],
                     include_all_private: bool) -> tuple[list[Repo], str]:
    sort = sort if sort in SORTS else "lastModified"
    column = SORTS[sort]
    desc = direction != 1
    limit = min(limit if limit > 0 else 100, 1000)
    clauses = ["($1 OR NOT r.private OR lower(r.namespace) = ANY($2::text[]))"]
    args: list = [include_all_private, [n.lower() for n in private_namespaces]]
    if repo_type:
        args.append(repo_type)
        clauses.append(f"r.type = ${len(args)}")
    if author:
        args.append(author.lower())
        clauses.append(f"lower(r.namespace) = ${len(args)}")
    if search:
        args.append("%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        clauses.append(f"lower(r.namespace || '/' || r.name) LIKE ${len(args)}")
    if cursor:
        value, last_id = _decode_cursor(cursor, sort)
        args += [value, last_id]
        clauses.append(f"({column}, r.id) {'<' if desc else '>'} (${len(args) - 1}, ${len(args)})")
    order = "DESC" if desc else "ASC"
    args.append(limit + 1)
    rows = await conn.fetch(
        f"{WITH_SHA} WHERE {' AND '.join(clauses)} ORDER BY {column} {order}, r.id {order} LIMIT ${len(args)}",
        *args)
    repos = [Repo.from_row(r) for r in rows[:limit]]
    next_cursor = ""
    if len(rows) > limit:
        last = rows[limit - 1]
        value = last["last_modified"] if sort == "lastModified" else last["created_at"] if sort == "createdAt" \
            else last["likes"] if sort == "likes" else f"{last['namespace']}/{last['name']}".lower()
        next_cursor = _encode_cursor(value, last["id"])
    return repos, next_cursor
