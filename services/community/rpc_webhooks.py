"""Webhooks of community.proto: CRUD for their owner, the delivery log and replays."""
from __future__ import annotations

import json
import uuid

from hangar_common.callers import caller_id, writer_id
from hangar_common.errors import NotFound
from hangar_protos import community_pb2 as pb

from . import webhooks
from .delivery import payload
from .rpc_base import ServicerBase


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("Delivery not found", code="DeliveryNotFound") from None


class WebhooksRpc(ServicerBase):

    async def CreateWebhook(self, request, context):
        owner = writer_id(request.principal)
        url = await webhooks.check_target(self.ctx, request.url)
        watched = await webhooks.check_watched(self.ctx, request.principal, request.watched)
        domains = webhooks.check_domains(request.domains)
        secret = webhooks.check_secret(request.secret)
        async with self.ctx.pool.acquire() as conn, conn.transaction():
            row = await webhooks.insert(conn, owner_id=owner, owner_name=request.principal.username, url=url,
                                        watched=watched, domains=domains, secret=secret)
        return webhooks.webhook_pb(row)

    async def ListWebhooks(self, request, context):
        owner = caller_id(request.principal)
        async with self.ctx.pool.acquire() as conn:
            rows = await webhooks.list_owned(conn, owner)
        return pb.ListWebhooksResponse(webhooks=[webhooks.webhook_pb(r) for r in rows])

    async def GetWebhook(self, request, context):
        owner = caller_id(request.principal)
        async with self.ctx.pool.acquire() as conn:
            return webhooks.webhook_pb(await webhooks.owned(conn, request.id, owner))

    async def UpdateWebhook(self, request, context):
        owner = writer_id(request.principal)
        async with self.ctx.pool.acquire() as conn:
            await webhooks.owned(conn, request.id, owner)
        url = await webhooks.check_target(self.ctx, request.url) if request.HasField("url") else None
        watched = await webhooks.check_watched(self.ctx, request.principal, request.watched) \
            if request.watched else None
        domains = webhooks.check_domains(request.domains) if request.domains else None
        secret = webhooks.check_secret(request.secret) if request.HasField("secret") else None
        async with self.ctx.pool.acquire() as conn:
            row = await webhooks.update(conn, request.id, owner, url=url, watched=watched, domains=domains,
                                        secret=secret)
        return webhooks.webhook_pb(row)

    async def SetWebhookDisabled(self, request, context):
        owner = writer_id(request.principal)
        async with self.ctx.pool.acquire() as conn:
            row = await webhooks.update(conn, request.id, owner, url=None, watched=None, domains=None,
                                        secret=None, disabled=request.disabled)
        return webhooks.webhook_pb(row)

    async def DeleteWebhook(self, request, context):
        owner = writer_id(request.principal)
        async with self.ctx.pool.acquire() as conn:
            await webhooks.delete(conn, request.id, owner)
        return pb.Empty()

    async def ListDeliveries(self, request, context):
        owner = caller_id(request.principal)
        limit = min(request.limit, 500) if request.limit > 0 else 100
        async with self.ctx.pool.acquire() as conn:
            await webhooks.owned(conn, request.webhook_id, owner)
            rows = await conn.fetch(
                f"{_DELIVERIES} WHERE d.webhook_id = $1 ORDER BY d.created_at DESC, d.id LIMIT $2",
                request.webhook_id, limit)
            log = await _attempts(conn, [r["id"] for r in rows])
        public = self.ctx.resources.settings.public_url
        return pb.ListDeliveriesResponse(deliveries=[_delivery_pb(r, log, public) for r in rows])

    async def ReplayDelivery(self, request, context):
        owner = writer_id(request.principal)
        async with self.ctx.pool.acquire() as conn, conn.transaction():
            await webhooks.owned(conn, request.webhook_id, owner)
            new_id = await conn.fetchval(
                """INSERT INTO deliveries (webhook_id, event_id, replay_of)
                   SELECT webhook_id, event_id, id FROM deliveries WHERE id = $1 AND webhook_id = $2
                   RETURNING id""", _uuid(request.delivery_id), request.webhook_id)
            if new_id is None:
                raise NotFound("Delivery not found", code="DeliveryNotFound")
            row = await conn.fetchrow(f"{_DELIVERIES} WHERE d.id = $1", new_id)
        return _delivery_pb(row, {}, self.ctx.resources.settings.public_url)


_DELIVERIES = """SELECT d.*, e.scope, e.action, e.repo, e.body FROM deliveries d JOIN events e ON e.id = d.event_id"""


async def _attempts(conn, ids) -> dict:
    log: dict = {}
    for row in await conn.fetch("SELECT * FROM delivery_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY id",
                                ids):
        log.setdefault(row["delivery_id"], []).append(pb.DeliveryAttempt(
            at=webhooks.iso(row["at"]), status_code=row["status_code"], error=row["error"]))
    return log


def _delivery_pb(row, log: dict, public: str) -> pb.Delivery:
    return pb.Delivery(
        id=str(row["id"]), webhook_id=row["webhook_id"], scope=row["scope"], action=row["action"],
        status=row["status"], attempts=row["attempts"], last_status_code=row["last_status"] or 0,
        last_error=row["last_error"], created_at=webhooks.iso(row["created_at"]),
        next_attempt_at=webhooks.iso(row["next_attempt_at"]) if row["status"] == "pending" else "",
        payload_json=json.dumps(payload(public, row, row["webhook_id"])),
        replay_of=str(row["replay_of"]) if row["replay_of"] else "", log=log.get(row["id"], []))
