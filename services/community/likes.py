"""Likes (issue 14). A like is a (user, repository) pair; the count lives here and is copied to
metadata's repo row (SetLikes) so listings sort by it. Who may see a like follows who may see the
repository: a liked private repo is left out for viewers auth would not show it to."""
from __future__ import annotations

from hangar_common.errors import NotFound
from hangar_common.grpcio import call
from hangar_protos import auth_pb2, metadata_pb2

from .context import Community


async def set_like(ctx: Community, principal, facts, *, liked: bool, fullname: str = "") -> int:
    async with ctx.pool.acquire() as conn, conn.transaction():
        if liked:
            await conn.execute(
                """INSERT INTO likes (user_id, username, fullname, repo_id, repo_type) VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (user_id, repo_id) DO NOTHING""",
                int(principal.user_id), principal.username, fullname, facts.repo_id, facts.repo.type)
        else:
            await conn.execute("DELETE FROM likes WHERE user_id = $1 AND repo_id = $2",
                               int(principal.user_id), facts.repo_id)
        count = await conn.fetchval("SELECT count(*) FROM likes WHERE repo_id = $1", facts.repo_id)
    # An absolute count: a failed or reordered call is repaired by the next like of the repo.
    await call(ctx.metadata.SetLikes, metadata_pb2.SetLikesRequest(repo_id=facts.repo_id, likes=count))
    return count


async def visible_repos(ctx: Community, principal, repo_ids: list[str]) -> dict[str, metadata_pb2.RepoInfo]:
    """The repos (by metadata id) that exist and that `principal` may see, by auth's decision."""
    if not repo_ids:
        return {}
    found = await call(ctx.metadata.GetReposById, metadata_pb2.GetReposByIdRequest(repo_ids=repo_ids))
    out = {}
    for info in found.repos:
        if info.facts.private or info.facts.gated:
            decision = await call(ctx.auth.Authorize, auth_pb2.AuthorizeRequest(
                principal=principal, repo=info.facts, action="read"))
            if not decision.allowed:
                continue
        out[info.facts.repo_id] = info
    return out


async def user_likes(ctx: Community, principal, username: str) -> tuple[str, list]:
    try:
        account = await call(ctx.auth.GetAccount, auth_pb2.NameRequest(name=username))
    except NotFound:
        account = None
    if account is None or account.kind != "user":
        raise NotFound(f"User {username} not found", code="UserNotFound")
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch("SELECT repo_id, created_at FROM likes WHERE user_id = $1 "
                                "ORDER BY created_at DESC, repo_id", int(account.id))
    repos = await visible_repos(ctx, principal, [r["repo_id"] for r in rows])
    return account.name, [(repos[r["repo_id"]], r["created_at"]) for r in rows if r["repo_id"] in repos]


async def likers(ctx: Community, facts) -> list:
    async with ctx.pool.acquire() as conn:
        return await conn.fetch("SELECT username, fullname, created_at FROM likes WHERE repo_id = $1 "
                                "ORDER BY created_at DESC, username", facts.repo_id)


async def forget_deleted_repo(conn, scope: str, action: str, repo: dict) -> None:
    """A deleted repository's likes go with it (run in the event import's transaction)."""
    if scope == "repo" and action == "delete":
        await conn.execute("DELETE FROM likes WHERE repo_id = $1", repo["id"])
