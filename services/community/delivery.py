"""Webhook delivery (docs/architecture.md "Who owns what"). One loop per replica, three steps, all
state in PostgreSQL so a restart of any service loses nothing:

1. import: claim metadata's outbox events (ListEvents), record them in community's own `events`
   outbox under a unique key (importing twice adds nothing), then acknowledge them (AckEvents);
2. fan out: every new event gets one delivery per enabled webhook that watches its repo or the
   repo's namespace in the event's domain;
3. send: due deliveries are leased (SKIP LOCKED, so replicas share the work), checked (the owner
   may still read the repo, by auth's decision; the target passes the forgery check, pinned to the
   checked address), POSTed without following redirects, and either done or retried with
   exponential backoff until `max_attempts`. The delivery id goes in `X-Webhook-Delivery`, the
   same on every retry, so a receiver drops repeats.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from itertools import groupby

import httpx

from hangar_common import edge
from hangar_common.errors import HangarError
from hangar_common.grpcio import call, check_health
from hangar_protos import auth_pb2, common_pb2, metadata_pb2

from . import events, targets
from .context import Community

logger = logging.getLogger("hangar.community.webhooks")
BATCH = 50
SEND_CONCURRENCY = 32


# --- 1. import metadata's events -------------------------------------------------------------

def _group_key(event):
    return (event.txid, event.repo.repo_id, event.scope, event.action)


def _imported(group: list) -> tuple[dict, dict]:
    """One webhook event from the outbox rows of one transaction, repo and scope."""
    first, last = group[0], group[-1]
    body: dict = {}
    for row in group:
        body.update(json.loads(row.body_json or "{}"))
    if last.head_sha:
        body["headSha"] = last.head_sha
    refs = [{"ref": r.ref, "oldSha": r.old_oid or None, "newSha": r.new_oid or None} for r in group if r.ref]
    if refs:
        body["updatedRefs"] = refs
    return events.repo_snapshot(first.repo), body


async def import_repo_events(ctx: Community) -> bool:
    answer = await call(ctx.metadata.ListEvents, metadata_pb2.ListEventsRequest(limit=BATCH))
    if not answer.events:
        return False
    async with ctx.pool.acquire() as conn, conn.transaction():
        for key, rows in groupby(answer.events, key=_group_key):
            group = list(rows)
            repo, body = _imported(group)
            await events.record(conn, scope=key[2], action=key[3], repo=repo, body=body,
                                source_key=f"metadata:{group[0].id}", occurred_at=group[0].created_at)
            await on_repo_event(conn, key[2], key[3], repo)
    await call(ctx.metadata.AckEvents, metadata_pb2.AckEventsRequest(ids=[e.id for e in answer.events]))
    return True


# Other community features react to repository events in the import transaction (a deleted repo's
# likes and collection items go with it): `async def hook(conn, scope, action, repo)`.
REPO_EVENT_HOOKS: list = []


async def on_repo_event(conn, scope: str, action: str, repo: dict) -> None:
    for hook in REPO_EVENT_HOOKS:
        await hook(conn, scope, action, repo)


# --- 2. fan out ------------------------------------------------------------------------------

_MATCHING = """
    SELECT id FROM webhooks w
    WHERE NOT w.disabled AND $1 = ANY(w.domains) AND w.created_at <= $5 AND EXISTS (
        SELECT 1 FROM jsonb_array_elements(w.watched) x
        WHERE (x->>'type' IN ('user', 'org') AND lower(x->>'name') = lower($2))
           OR (x->>'type' = $3 AND lower(x->>'name') = lower($4)))"""


async def fan_out(ctx: Community) -> bool:
    async with ctx.pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch("SELECT id, scope, repo, created_at FROM events WHERE NOT fanned_out ORDER BY id "
                                "LIMIT $1 FOR UPDATE SKIP LOCKED", BATCH)
        for row in rows:
            repo = json.loads(row["repo"])
            domain = row["scope"].split(".", 1)[0]
            hooks = await conn.fetch(_MATCHING, domain, repo["namespace"], repo["type"],
                                     f"{repo['namespace']}/{repo['name']}", row["created_at"])
            if hooks:
                await conn.executemany(
                    "INSERT INTO deliveries (webhook_id, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    [(h["id"], row["id"]) for h in hooks])
        if rows:
            await conn.execute("UPDATE events SET fanned_out = TRUE WHERE id = ANY($1::bigint[])",
                               [r["id"] for r in rows])
    return bool(rows)


# --- 3. send ---------------------------------------------------------------------------------

def web_url(public: str, repo: dict) -> str:
    prefix = edge.url_prefix(repo["type"])
    return f"{public}/{prefix}{repo['namespace']}/{repo['name']}"


def payload(public: str, event, webhook_id: str) -> dict:
    """The Hub's webhook v3 payload (huggingface.co/docs/hub/webhooks, huggingface_hub WebhookPayload)."""
    repo = json.loads(event["repo"]) if isinstance(event["repo"], str) else event["repo"]
    body = json.loads(event["body"]) if isinstance(event["body"], str) else dict(event["body"])
    full = f"{repo['namespace']}/{repo['name']}"
    out_repo = {"type": repo["type"], "name": full, "id": repo["id"], "private": repo["private"],
                "url": {"web": web_url(public, repo), "api": f"{public}/api/{repo['type']}s/{full}"},
                "owner": {"id": repo["namespace"]}}
    head = body.pop("headSha", None)
    if event["scope"].startswith("repo") and head:
        out_repo["headSha"] = head
    discussion, comment = body.get("discussion"), body.get("comment")
    if isinstance(discussion, dict) and "num" in discussion:
        web = f"{out_repo['url']['web']}/discussions/{discussion['num']}"
        discussion.setdefault("url", {"web": web, "api": f"{out_repo['url']['api']}/discussions/{discussion['num']}"})
        if isinstance(comment, dict) and "id" in comment:
            comment.setdefault("url", {"web": f"{web}#{comment['id']}"})
    return {"event": {"action": event["action"], "scope": event["scope"]}, "repo": out_repo, **body,
            "webhook": {"id": webhook_id, "version": 3}}


_LEASE = """
    UPDATE deliveries d SET lease_until = now() + make_interval(secs => $2)
    FROM events e, webhooks w
    WHERE d.id IN (SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= now()
                     AND (lease_until IS NULL OR lease_until < now())
                   ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
      AND e.id = d.event_id AND w.id = d.webhook_id
    RETURNING d.id, d.attempts, d.webhook_id, e.scope, e.action, e.repo, e.body,
              w.url, w.secret, w.owner_id, w.owner_name, w.disabled"""


async def send_due(ctx: Community, http: httpx.AsyncClient) -> bool:
    async with ctx.pool.acquire() as conn:
        due = await conn.fetch(_LEASE, SEND_CONCURRENCY, ctx.config.webhook_timeout + 5)
    if not due:
        return False
    try:
        allowed = await owners_may_read(ctx, due)
    except HangarError as exc:   # auth or metadata unreachable: not the target's fault, not an attempt
        await asyncio.gather(*(_record(ctx, row, "later", 0, f"delivery deferred: {exc.message}"[:500])
                               for row in due))
        return True
    await asyncio.gather(*(_send_one(ctx, http, row, allowed[_owner_repo(row)]) for row in due))
    return True


def _owner_repo(row) -> tuple[int, str]:
    return row["owner_id"], json.loads(row["repo"])["id"]


async def _send_one(ctx: Community, http: httpx.AsyncClient, row, allowed: bool) -> None:
    try:
        outcome = await _attempt(ctx, http, row, allowed)
    except Exception as exc:     # never lose a delivery to an unexpected error: retry it later
        logger.exception("webhook attempt failed")
        outcome = ("retry", 0, f"internal error: {type(exc).__name__}")
    await _record(ctx, row, *outcome)


async def _attempt(ctx: Community, http: httpx.AsyncClient, row, allowed: bool) -> tuple[str, int, str]:
    """(what next: done | retry | fail | skip | later, HTTP status or 0, error)."""
    if row["disabled"]:
        return "skip", 0, "webhook disabled"
    if not allowed:
        return "skip", 0, "the webhook's owner may not read this repository"
    try:
        pinned = await targets.check(row["url"], ctx.config.allowed_networks)
    except HangarError as exc:
        return "fail", 0, exc.message
    headers = {"Content-Type": "application/json", "User-Agent": "Hangar-Webhooks/1.0",
               "Host": pinned.host_header, "X-Webhook-Delivery": str(row["id"]),
               "X-Webhook-Event": f"{row['scope']}.{row['action']}"}
    if row["secret"]:
        headers["X-Webhook-Secret"] = row["secret"]
    body = json.dumps(payload(ctx.resources.settings.public_url, row, row["webhook_id"])).encode()
    extensions = {"sni_hostname": pinned.sni} if pinned.url.startswith("https:") else {}
    try:
        resp = await http.post(pinned.url, content=body, headers=headers, extensions=extensions,
                               timeout=ctx.config.webhook_timeout)
    except httpx.HTTPError as exc:
        return "retry", 0, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= resp.status_code < 300:
        return "done", resp.status_code, ""
    if 300 <= resp.status_code < 400:
        return "fail", resp.status_code, "the target answered with a redirect; redirects are not followed"
    return "retry", resp.status_code, f"HTTP {resp.status_code}"


async def owners_may_read(ctx: Community, due) -> dict[tuple[int, str], bool]:
    """auth's decision, once per (webhook owner, repo) of a batch, on each repo as it is now (as it
    was, once deleted): may the owner read it (download it, when gated)?"""
    snapshots = {}
    owners = {}
    for row in due:
        repo = json.loads(row["repo"])
        snapshots[repo["id"]] = repo
        owners[(row["owner_id"], repo["id"])] = row["owner_name"]
    found = await call(ctx.metadata.GetReposById, metadata_pb2.GetReposByIdRequest(repo_ids=list(snapshots)))
    facts = {info.facts.repo_id: info.facts for info in found.repos}
    for repo_id, repo in snapshots.items():
        facts.setdefault(repo_id, common_pb2.RepoFacts(
            repo=common_pb2.RepoRef(type=repo["type"], namespace=repo["namespace"], name=repo["name"]),
            repo_id=repo_id, private=repo["private"], gated=repo.get("gated", "")))

    async def decide(owner_id: int, repo_id: str) -> bool:
        repo = facts[repo_id]
        decision = await call(ctx.auth.Authorize, auth_pb2.AuthorizeRequest(
            principal=common_pb2.Principal(user_id=str(owner_id), username=owners[(owner_id, repo_id)]),
            repo=repo, action="download" if repo.gated else "read"))
        return decision.allowed

    keys = list(owners)
    return dict(zip(keys, await asyncio.gather(*(decide(*key) for key in keys))))


async def _record(ctx: Community, row, what: str, status_code: int, error: str) -> None:
    attempts = row["attempts"] + (0 if what in ("skip", "later") else 1)
    if what == "retry" and attempts >= ctx.config.max_attempts:
        what = "fail"
    status = {"done": "delivered", "fail": "failed", "skip": "skipped", "retry": "pending", "later": "pending"}[what]
    delay = min(ctx.config.retry_base * 2 ** max(attempts - 1, 0), ctx.config.retry_max)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """UPDATE deliveries SET status = $2, attempts = $3, last_status = $4, last_error = $5,
                   lease_until = NULL, next_attempt_at = now() + make_interval(secs => $6)
               WHERE id = $1""", row["id"], status, attempts, status_code or None, error, delay)
        await conn.execute("INSERT INTO delivery_attempts (delivery_id, status_code, error) VALUES ($1, $2, $3)",
                           row["id"], status_code, error or ("skipped" if what == "skip" else ""))


# --- the loop --------------------------------------------------------------------------------

PRUNE_EVERY = 3600.0   # seconds between two prunings of the delivery log by one replica


async def prune(ctx: Community) -> None:
    """Finished deliveries older than the retention go, then the events nothing refers to any more
    (an event waiting for its fan-out or a pending delivery always stays)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM deliveries WHERE status <> 'pending' "
                           "AND created_at < now() - make_interval(secs => $1)", ctx.config.log_days * 86400)
        await conn.execute(
            """DELETE FROM events e WHERE e.fanned_out AND e.created_at < now() - make_interval(secs => $1)
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)""", ctx.config.log_days * 86400)


async def _peers_up(ctx: Community) -> None:
    """Services start together: the first import waits until metadata and auth answer."""
    for name in ("metadata", "auth"):
        while not await check_health(ctx.resources.channels[name]):
            await asyncio.sleep(0.5)


async def run(ctx: Community) -> None:
    await _peers_up(ctx)
    pruned_at = 0.0
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as http:
        while True:
            if time.monotonic() - pruned_at > PRUNE_EVERY:
                pruned_at = time.monotonic()
                try:
                    await prune(ctx)
                except Exception:
                    logger.exception("pruning the delivery log failed")
            busy = False
            for step in (import_repo_events, fan_out):
                try:
                    busy = await step(ctx) or busy
                except Exception:
                    logger.exception("webhook step failed", extra={"fields": {"step": step.__name__}})
            try:
                busy = await send_due(ctx, http) or busy
            except Exception:
                logger.exception("webhook sending failed")
            if not busy:
                await asyncio.sleep(ctx.config.poll_interval)
