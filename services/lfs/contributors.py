"""The upload right of contributors (issue 13): someone signed in who may not write to a repository
may still upload LFS objects and Xet xorbs for a pull request of their own. The bytes land as usual
(staging, verification, a grant for that user and repo), which lets only their own commits to
`refs/pr/N` reference them: commits to branches still need write (auth decides). What they send
counts against HANGAR_LFS_CONTRIBUTOR_REPO_BYTES per user and repository and
HANGAR_LFS_CONTRIBUTOR_USER_BYTES per user, over all repositories."""
from __future__ import annotations

from sqlalchemy import text

from hangar_common.errors import Forbidden


class ContributorQuotaExceeded(Forbidden):
    code = "ContributorQuotaExceeded"


async def reserve(conn, config, *, user_id: str, repo_id: str, items: dict[str, int]) -> None:
    """Count `items` (key -> bytes; a key already counted is free) in the caller's transaction, or
    raise ContributorQuotaExceeded and count nothing. Serialized per user."""
    if not items:
        return
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('lfs-contributor:' || :u))"), {"u": user_id})
    known = {row[0] for row in await conn.execute(text(
        "SELECT item FROM contributor_uploads WHERE user_id = :u AND repo_id = :r AND item = ANY(:items)"),
        {"u": user_id, "r": repo_id, "items": list(items)})}
    new = {k: v for k, v in items.items() if k not in known}
    if not new:
        return
    extra = sum(new.values())
    in_repo = (await conn.execute(text(
        "SELECT coalesce(sum(bytes), 0) FROM contributor_uploads WHERE user_id = :u AND repo_id = :r"),
        {"u": user_id, "r": repo_id})).scalar_one()
    overall = (await conn.execute(text(
        "SELECT coalesce(sum(bytes), 0) FROM contributor_uploads WHERE user_id = :u"), {"u": user_id})).scalar_one()
    if in_repo + extra > config.contributor_repo_bytes:
        raise ContributorQuotaExceeded(
            f"Uploads for pull requests to this repository are limited to {config.contributor_repo_bytes} bytes "
            "per contributor; ask for write access or for a higher limit")
    if overall + extra > config.contributor_user_bytes:
        raise ContributorQuotaExceeded(
            f"Uploads for pull requests are limited to {config.contributor_user_bytes} bytes per contributor")
    await conn.execute(text(
        "INSERT INTO contributor_uploads (user_id, repo_id, item, bytes) "
        "SELECT :u, :r, i, b FROM unnest(CAST(:items AS text[]), CAST(:sizes AS int8[])) AS t(i, b) "
        "ON CONFLICT DO NOTHING"), {"u": user_id, "r": repo_id, "items": list(new), "sizes": list(new.values())})
