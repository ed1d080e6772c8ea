"""Webhooks as the Hub keeps them (huggingface_hub `WebhookInfo`): a user's target URL, the repos
and namespaces it watches, its domains (`repo`, `discussion`) and an optional secret sent verbatim
in `X-Webhook-Secret`. This module holds the rules and the table; rpc_webhooks.py the gRPC surface."""
from __future__ import annotations

import json
import secrets as _secrets

from hangar_common import edge
from hangar_common.errors import BadRequest, NotFound
from hangar_common.grpcio import call
from hangar_protos import auth_pb2, common_pb2, metadata_pb2
from hangar_protos import community_pb2 as pb

from . import targets
from .context import Community

DOMAINS = ("repo", "discussion")
REPO_TYPES = edge.REPO_TYPES
WATCH_TYPES = (*REPO_TYPES, "user", "org")
MAX_WATCHED = 100
MAX_WEBHOOKS_PER_USER = 100
MAX_SECRET = 256
_COLUMNS = "id, owner_id, owner_name, url, watched, domains, secret, disabled, created_at, updated_at"


def iso(ts) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z" if ts else ""


def webhook_pb(row) -> pb.Webhook:
    watched = row["watched"] if isinstance(row["watched"], list) else json.loads(row["watched"])
    return pb.Webhook(id=row["id"], url=row["url"], domains=list(row["domains"]), secret=row["secret"],
                      disabled=row["disabled"], owner=row["owner_name"], created_at=iso(row["created_at"]),
                      updated_at=iso(row["updated_at"]),
                      watched=[pb.WatchedItem(type=w["type"], name=w["name"]) for w in watched])


def check_domains(domains) -> list[str]:
    domains = list(dict.fromkeys(domains)) or list(DOMAINS)
    for domain in domains:
        if domain not in DOMAINS:
            raise BadRequest(f"Unknown webhook domain {domain!r}: use 'repo' or 'discussion'", code="InvalidWebhook")
    return domains


def check_secret(secret: str) -> str:
    if len(secret) > MAX_SECRET or any(not (32 <= ord(c) < 127) for c in secret):
        raise BadRequest(f"A webhook secret is printable ASCII of at most {MAX_SECRET} characters",
                         code="InvalidWebhook")
    return secret


async def check_watched(ctx: Community, principal, items) -> list[dict]:
    """Every watched item exists and is visible to the creator (a private repo one may not see
    answers as missing, so webhooks cannot probe for it)."""
    if not items:
        raise BadRequest("A webhook watches at least one repository, user or organization", code="InvalidWebhook")
    if len(items) > MAX_WATCHED:
        raise BadRequest(f"A webhook watches at most {MAX_WATCHED} items", code="InvalidWebhook")
    out: list[dict] = []
    for item in items:
        kind, name = item.type, item.name
        if kind not in WATCH_TYPES or not name or len(name) > 200:
            raise BadRequest(f"Watched items are {{type, name}} with type one of {', '.join(WATCH_TYPES)}",
                             code="InvalidWebhook")
        if kind in REPO_TYPES:
            name = await _visible_repo(ctx, principal, kind, name)
        else:
            name = await _account(ctx, kind, name)
        if {"type": kind, "name": name} not in out:
            out.append({"type": kind, "name": name})
    return out


async def _visible_repo(ctx: Community, principal, kind: str, name: str) -> str:
    namespace, _, repo_name = name.partition("/")
    if not namespace or not repo_name or "/" in repo_name:
        raise BadRequest(f"A watched {kind} is named namespace/name", code="InvalidWebhook")
    info = await call(ctx.metadata.GetRepo, metadata_pb2.RepoRequest(
        repo=common_pb2.RepoRef(type=kind, namespace=namespace, name=repo_name)))
    decision = await call(ctx.auth.Authorize, auth_pb2.AuthorizeRequest(
        principal=principal, repo=info.facts, action="read"))
    if not decision.allowed:
        raise NotFound(f"Repository {name} not found", code="RepoNotFound")
    return f"{info.facts.repo.namespace}/{info.facts.repo.name}"


async def _account(ctx: Community, kind: str, name: str) -> str:
    try:
        account = await call(ctx.auth.GetAccount, auth_pb2.NameRequest(name=name))
    except NotFound:
        account = None
    if account is None or account.kind != kind:
        raise NotFound(f"No {'user' if kind == 'user' else 'organization'} named {name}", code="NotFound")
    return account.name


def new_id() -> str:
    return _secrets.token_hex(12)


async def insert(conn, *, owner_id: int, owner_name: str, url: str, watched: list[dict], domains: list[str],
                 secret: str):
    count = await conn.fetchval("SELECT count(*) FROM webhooks WHERE owner_id = $1", owner_id)
    if count >= MAX_WEBHOOKS_PER_USER:
        raise BadRequest(f"A user has at most {MAX_WEBHOOKS_PER_USER} webhooks", code="TooManyWebhooks")
    return await conn.fetchrow(
        f"""INSERT INTO webhooks (id, owner_id, owner_name, url, watched, domains, secret)
            VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7) RETURNING {_COLUMNS}""",
        new_id(), owner_id, owner_name, url, json.dumps(watched), domains, secret)


async def owned(conn, webhook_id: str, owner_id: int):
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM webhooks WHERE id = $1 AND owner_id = $2",
                              webhook_id, owner_id)
    if row is None:
        raise NotFound("Webhook not found", code="WebhookNotFound")
    return row


async def list_owned(conn, owner_id: int):
    return await conn.fetch(f"SELECT {_COLUMNS} FROM webhooks WHERE owner_id = $1 ORDER BY created_at, id",
                            owner_id)


async def update(conn, webhook_id: str, owner_id: int, *, url: str | None, watched: list[dict] | None,
                 domains: list[str] | None, secret: str | None, disabled: bool | None = None):
    row = await conn.fetchrow(
        f"""UPDATE webhooks SET url = coalesce($3, url), watched = coalesce($4::jsonb, watched),
                   domains = coalesce($5, domains), secret = coalesce($6, secret),
                   disabled = coalesce($7, disabled), updated_at = now()
            WHERE id = $1 AND owner_id = $2 RETURNING {_COLUMNS}""",
        webhook_id, owner_id, url, json.dumps(watched) if watched is not None else None, domains, secret,
        disabled)
    if row is None:
        raise NotFound("Webhook not found", code="WebhookNotFound")
    return row


async def delete(conn, webhook_id: str, owner_id: int) -> None:
    status = await conn.execute("DELETE FROM webhooks WHERE id = $1 AND owner_id = $2", webhook_id, owner_id)
    if not status.endswith(" 1"):
        raise NotFound("Webhook not found", code="WebhookNotFound")


async def check_target(ctx: Community, url: str) -> str:
    await targets.check(url, ctx.config.allowed_networks)
    return url
